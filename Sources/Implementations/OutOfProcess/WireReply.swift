import ISMAccess

/// One reply line of the wire protocol (docs/wire-protocol.md), parsed without side effects:
/// `OK|ERR VALUE DATA TRACE`, or `BROKEN KIND reason`. Any other line is a protocol error, never a crash.
public struct WireReply: Equatable, Sendable {
    public enum Status: Sendable, Equatable { case ok, err }

    public var status: Status
    /// The count or result (OK), or the errno (ERR, 1...4095).
    public var value: Int64
    /// The data field (`-` or hex), unparsed: its meaning depends on the request.
    public var data: Substring
    public var trace: [TraceEvent]

    /// Why a line is not a usable reply: the implementation broke (a `BROKEN` line, whose first
    /// word says the kind: `overrun`, `misuse`, `harness`), or the line does not follow the
    /// protocol (`.protocolError`).
    public typealias Problem = Breakage

    public static func parse(_ line: String) throws(Breakage) -> WireReply {
        if line.hasPrefix("BROKEN ") {
            let rest = line.dropFirst(7)
            let word = rest.prefix { $0 != " " }
            let reason = String(rest.dropFirst(word.count).drop { $0 == " " })
            switch word {
            case "overrun": throw .overrun(reason)
            case "misuse": throw .misuse(reason)
            case "harness": throw .cannotStart(reason)
            default: throw .misuse(String(rest))
            }
        }
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 4, f[0] == "OK" || f[0] == "ERR", let value = Int64(f[1]) else {
            throw .protocolError("unexpected reply \"\(line.prefix(80))\"")
        }
        let status: Status = f[0] == "OK" ? .ok : .err
        if status == .err, !(1..<4096).contains(value) { throw .protocolError("errno \(value)") }
        return WireReply(status: status, value: value, data: f[2], trace: try parseTrace(f[3]))
    }

    /// `-`, or comma-separated `Kbar.position.size.generation` with K = L (load), B (store block), S (store).
    static func parseTrace(_ s: Substring) throws(Breakage) -> [TraceEvent] {
        guard s != "-" else { return [] }
        var events: [TraceEvent] = []
        for item in s.split(separator: ",") {
            let kind = item.first
            let parts = item.dropFirst().split(separator: ".")
            guard parts.count == 4, let bar = UInt8(parts[0]), let pos = UInt64(parts[1]),
                  let size = UInt32(parts[2]), let gen = UInt32(parts[3]) else {
                throw .protocolError("bad trace event \"\(item.prefix(40))\"")
            }
            switch kind {
            case "L": events.append(.load(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            case "B": events.append(.storeBlock(bar: bar, position: pos, length: size, handle: gen))
            case "S": events.append(.store(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            default: throw .protocolError("bad trace event \"\(item.prefix(40))\"")
            }
        }
        return events
    }
}
