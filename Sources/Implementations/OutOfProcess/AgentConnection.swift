#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ISMAccess
import SystemPackage

/// Where an `ismkit-agent` (native/agent/) serves its device.
public enum AgentEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A command run through `/bin/sh -c`; the agent talks on the command's stdin/stdout
    /// (`ssh root@z1 /usr/local/bin/ismkit-agent 0000:00:00.0`).
    case command(String)
    /// A unix stream socket with the agent behind it (a VM's virtio-serial port that QEMU
    /// exposes with `-chardev socket,path=PATH,server=on`).
    case unixSocket(path: String)

    /// `unix:PATH`, as `ismkit hw --connect` takes it.
    public static func parseConnect(_ text: String) throws(AgentError) -> AgentEndpoint {
        guard text.hasPrefix("unix:"), text.count > 5 else {
            throw AgentError("--connect '\(text)': expected unix:PATH (a unix socket with ismkit-agent behind it)")
        }
        return .unixSocket(path: String(text.dropFirst(5)))
    }

    /// `command 'CMD'` or `unix:PATH`.
    public var description: String {
        switch self {
        case .command(let c): "command '\(c)'"
        case .unixSocket(let p): "unix:\(p)"
        }
    }
}

/// Why an agent cannot be used: one line, for `ismkit: ...` and exit 2.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One session with an `ismkit-agent` that serves a real VFIO device over the wire protocol
/// (docs/wire-protocol.md; the device subset in native/agent/README.md).
///
/// Promises:
/// - Every exchange has the time-out given at start; an agent that hangs, dies, closes the
///   connection or answers outside the protocol makes the session broken (`brokenReason`),
///   and every later call throws that same reason. A broken or dropped session leaves
///   nothing running: a spawned command's whole process group is killed.
/// - `init` succeeds only for an agent that greets with version 1 and `vfio-agent` and
///   answers `DEVICE` and `REGIONS`; anything else is an `AgentError` naming the reason and,
///   for a command, the first line it wrote to stderr.
public final class AgentConnection {
    let process: WireProcess
    public let endpoint: AgentEndpoint
    public let timeout: Duration
    /// The byte order the agent runs in (its greeting).
    public let byteOrder: ByteOrder
    /// Whether `lseek` works on the agent's device fd (the greeting's capability bit 16).
    public let seekSupported: Bool
    /// Vendor and device ID from the agent's sysfs (nil when it could not read them).
    public let vendor: UInt16?
    public let deviceID: UInt16?
    /// `VFIO_DEVICE_GET_INFO` on the agent's side.
    public let numRegions: UInt32
    public let deviceFlags: UInt32
    /// Every region the agent recorded at open (`REGIONS`), in the kernel's offsets.
    public let regions: [UInt32: RegionInfo]
    /// False once a request touched the device fd since it was last opened (see `reopen`).
    var fresh = true
    /// Whether the agent takes compact frames (`COMPACT 1`), once asked (`compactFrames()`).
    var compact: Bool?

    /// Starts (or connects to) the agent, reads its greeting and asks for `DEVICE` and `REGIONS`.
    public init(endpoint: AgentEndpoint, timeout: Duration = .seconds(10)) throws(AgentError) {
        self.endpoint = endpoint
        self.timeout = timeout
        let p: WireProcess
        switch endpoint {
        case .command(let command):
            do { p = try WireProcess(arguments: ["/bin/sh", "-c", command], timeout: timeout) } catch {
                throw AgentError("cannot start the agent command '\(command)': \(Self.reason(error))")
            }
        case .unixSocket(let path):
            p = WireProcess(socket: try Self.connect(path: path), timeout: timeout)
        }
        process = p
        func failed(_ what: String, _ error: AccessError) -> AgentError {
            var line = "agent \(endpoint): \(what): \(Self.reason(error))"
            if let said = p.stderrText().split(separator: "\n").first(where: { !$0.allSatisfy(\.isWhitespace) }) {
                line += " (its stderr: \(said.prefix(300)))"
            }
            return AgentError(line)
        }
        do { try p.greet() } catch { throw failed("no usable greeting", error) }
        guard p.hello[4] == "vfio-agent" else {
            _ = p.fail(.protocolError("not an agent"))
            throw AgentError("agent \(endpoint): the other side is '\(p.hello[4].prefix(40))', not ismkit-agent (vfio-agent)")
        }
        byteOrder = p.hello[2] == "big" ? .big : .little
        seekSupported = (UInt32(p.hello[3]) ?? 0) & 0x10 != 0
        do throws(AccessError) {
            let d = try Self.call(p, "DEVICE")
            let f = d.data.split(separator: ".")
            guard f.count == 4, let v = UInt16(f[0], radix: 16), let dev = UInt16(f[1], radix: 16),
                  let n = UInt32(f[2]), let flags = UInt32(f[3]) else {
                throw p.fail(.protocolError("bad DEVICE answer \"\(d.data.prefix(60))\""))
            }
            vendor = v == 0xFFFF ? nil : v
            deviceID = dev == 0xFFFF ? nil : dev
            numRegions = n
            deviceFlags = flags
            let r = try Self.call(p, "REGIONS")
            regions = try Self.parseRegions(r, process: p)
        } catch {
            throw failed("cannot ask it about the device", error)
        }
    }

    /// What a broken session broke of, if it did.
    public var brokenReason: Breakage? { process.brokenReason }

    /// `REOPEN`: the agent closes its device fd and opens a fresh one (file position 0), so
    /// that each sequence starts as on a freshly opened device. Skipped while nothing has
    /// touched the current fd. An agent that cannot open the device again breaks the session.
    public func reopen() throws(AccessError) {
        guard !fresh else { return }
        let line = try process.exchange("REOPEN")
        if line.hasPrefix("BAD ") {
            throw process.fail(.protocolError("the agent does not know REOPEN (an older build: rebuild it with native/agent/build.sh)"))
        }
        let reply: WireReply
        do { reply = try WireReply.parse(line) } catch { throw process.fail(error) }
        if reply.status == .err {
            throw process.fail(.cannotStart("the agent cannot open the device again: errno \(reply.value)"))
        }
        fresh = true
    }

    /// Whether the agent takes compact frames with the carry buffer (`COMPACT 1`; an older
    /// build answers `BAD` and is driven one request at a time). Asked once per session; the
    /// agent is back on text requests afterwards (`END`). An unusable answer breaks the session.
    func compactFrames() -> Bool {
        if let compact { return compact }
        do throws(AccessError) {
            let line = try process.exchange("COMPACT 1")
            if line.hasPrefix("BAD ") {
                compact = false
            } else if line == "OK 1 - -" {
                let end = try process.exchange("\u{0}")  // END; the newline after it is an empty line, which has no answer
                guard end == "OK 0 - -" else { throw process.fail(.protocolError("compact END answered \"\(end.prefix(60))\"")) }
                compact = true
            } else {
                do throws(Breakage) { _ = try WireReply.parse(line) } catch { throw process.fail(error) }  // outside the protocol
                throw process.fail(.protocolError("COMPACT 1 answered \"\(line.prefix(60))\""))
            }
        } catch {
            compact = false  // broken: every later request says why
        }
        return compact!
    }

    /// What the agent counted itself: writes journaled (entries, bytes) and writes its own
    /// guard refused.
    public func counters() throws(AccessError) -> (entries: Int, bytes: Int, refused: Int) {
        let j = try call("JOURNAL")
        guard let bytes = Int(j.data) else { throw process.fail(.protocolError("bad JOURNAL answer \"\(j.data.prefix(40))\"")) }
        let r = try call("REFUSED")
        return (Int(j.value), bytes, Int(r.value))
    }

    /// `QUIT`, then waits for a spawned command to exit (the agent writes its journal's
    /// trailer before it exits); a non-zero exit is reported as broken.
    public func quit() throws(AccessError) { try process.finish() }

    /// Everything a spawned command wrote to stderr so far.
    public func stderrText() -> String { process.stderrText() }

    // MARK: requests

    /// Sends a request: the OK reply, the errno of an ERR reply, or broken for anything else.
    func call(_ request: String) throws(AccessError) -> WireReply { try Self.call(process, request) }

    static func call(_ p: WireProcess, _ request: String) throws(AccessError) -> WireReply {
        let reply = try parsed(p, request)
        if reply.status == .err { throw .errno(Errno(rawValue: CInt(reply.value))) }
        return reply
    }

    /// The reply, OK or ERR; broken for a line outside the protocol (`BAD` included).
    static func parsed(_ p: WireProcess, _ request: String) throws(AccessError) -> WireReply {
        let line = try p.exchange(request)
        do { return try WireReply.parse(line) } catch { throw p.fail(error) }
    }

    static func parseRegions(_ r: WireReply, process p: WireProcess) throws(AccessError) -> [UInt32: RegionInfo] {
        var out: [UInt32: RegionInfo] = [:]
        if r.data != "-" {
            for item in r.data.split(separator: ",") {
                let f = item.split(separator: ".")
                guard f.count == 4, let i = UInt32(f[0]), let off = UInt64(f[1]), let size = UInt64(f[2]), let flags = UInt32(f[3]) else {
                    throw p.fail(.protocolError("bad REGIONS entry \"\(item.prefix(60))\""))
                }
                out[i] = RegionInfo(index: i, offset: off, size: size, flags: RegionFlags(rawValue: flags))
            }
        }
        guard out.count == Int(r.value) else { throw p.fail(.protocolError("REGIONS counts \(r.value) regions but lists \(out.count)")) }
        return out
    }

    static func reason(_ e: AccessError) -> String {
        if case .broken(let b) = e { return b.description }
        return e.description
    }

    /// A connected unix stream socket, or the reason there is none.
    static func connect(path: String) throws(AgentError) -> Int32 {
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else { throw AgentError("cannot connect to unix:\(path): socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            close(fd)
            throw AgentError("cannot connect to unix:\(path): the path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw AgentError("cannot connect to unix:\(path): \(String(cString: strerror(e)))")
        }
        return fd
    }
}
