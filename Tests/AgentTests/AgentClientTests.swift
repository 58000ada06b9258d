import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import ISMVFIO
import SystemPackage
import Testing

/// The agent's fake-device test build (`ISMKIT_AGENT_FAKE_DEVICE=FILE`: region i at i * 0x10000,
/// BAR0 0x100 bytes, BAR2 0x4000, config 0x100), built once into .build-hw/agent-test/.
enum Fake {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let fileSize = 9 * 0x10000
    static let bar2: UInt64 = 0x20000

    /// The fake agent binary (built by native/agent/build.sh native), or the reason there is none.
    /// `ISMKIT_TEST_AGENT_FAKE=PATH` runs the suite against another build instead (a mutant:
    /// `build.sh mutant` makes one whose guard lets everything through; the suite must fail).
    static let binary: Result<String, BuildFailure> = {
        if let path = ProcessInfo.processInfo.environment["ISMKIT_TEST_AGENT_FAKE"], !path.isEmpty { return .success(path) }
        let dir = root + "/.build-hw/agent-test"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [root + "/native/agent/build.sh", "native"]
        p.environment = ProcessInfo.processInfo.environment.merging(["AGENT_BUILD_DIR": dir]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return .failure(BuildFailure(description: "\(error)")) }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return .failure(BuildFailure(description: "build.sh exited \(p.terminationStatus)")) }
        return .success(dir + "/native/ismkit-agent-fake")
    }()

    struct BuildFailure: Error, CustomStringConvertible { var description: String }

    /// A fresh device file with random contents.
    static func device() -> (path: String, bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "ismkit-agent-test-\(UUID().uuidString).bin"
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<fileSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (path, bytes)
    }

    /// The shell command that serves `device` with the fake agent.
    static func command(device: String, options: String = "--allow-write 2:0x0-0xfff") throws -> String {
        "ISMKIT_AGENT_FAKE_DEVICE='\(device)' exec '\(try binary.get())' \(options) 0000:00:01.0"
    }

    static func file(_ path: String, at offset: Int, count: Int) -> [UInt8] {
        let d = FileManager.default.contents(atPath: path) ?? Data()
        return Array(d[offset..<offset + count])
    }

    /// A scripted "agent": greets like one and answers DEVICE and REGIONS, then runs `then`.
    static func scripted(greeting: String = "ISMKIT-WIRE 1 little 16 vfio-agent", then: String) -> String {
        "echo '\(greeting)'; read a; echo 'OK 0 1af4.1110.9.2 -'; read b; echo 'OK 2 0.0.256.3,2.131072.16384.3 -'; \(then)"
    }
}

/// An `AgentError` or `AccessError.broken` as one line.
private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let e as AgentError { return e.description } catch let e as AccessError {
        if case .broken(let b) = e { return "broken: " + b.description }
        return "errno: \(e)"
    } catch { return "\(error)" }
}

private func pread(_ d: AgentDevice, _ offset: UInt64, _ count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    let n = try out.withUnsafeMutableBytes { try d.pread(into: $0, offset: offset, fault: .none) }
    return Array(out[0..<n])
}

private func pwrite(_ d: AgentDevice, _ offset: UInt64, _ bytes: [UInt8]) throws -> Int {
    try bytes.withUnsafeBytes { try d.pwrite(from: $0, offset: offset, fault: .none) }
}

private func errno(_ body: () throws -> Void) -> Errno? {
    do { try body(); return nil } catch let e as AccessError {
        if case .errno(let n) = e { return n }
        return nil
    } catch { return nil }
}

@Suite struct AgentClientTests {
    static let allow = WriteAllowList([.init(region: 2, first: 0, last: 0xFFF)])

    @Test func greetingAndDevice() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)), timeout: .seconds(10))
        #expect(c.byteOrder == .native)
        #expect(c.seekSupported)  // a regular file's lseek works
        #expect(c.vendor == 0x1AF4 && c.deviceID == 0x1110)
        #expect(c.numRegions == 9)
        try c.quit()
    }

    @Test func regionsAndOffsetTranslation() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        #expect(c.regions.count == 9)
        #expect(c.regions[2] == RegionInfo(index: 2, offset: 0x20000, size: 0x4000, flags: RegionFlags(rawValue: 3)))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        #expect(d.deviceConfig.barLength(2) == 0x4000 && d.deviceConfig.configSize == 0x100)
        #expect(d.map.kernelOffset(model: 2 << 40 | 0x10) == 0x20010)
        // INFO is the agent's ioctl, untranslated: on the fake's regular file that is ENOTTY.
        #expect(errno { _ = try d.regionInfo(index: 2, argsz: 32) } == Errno(rawValue: ENOTTY))
    }

    @Test func readsComeFromTheDevice() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        for (pos, n) in [(0x123, 16), (0, 1), (0x3FF8, 8), (0x200, 100)] {
            #expect(try pread(d, 2 << 40 | UInt64(pos), n) == Array(dev.bytes[0x20000 + pos..<0x20000 + pos + n]))
        }
        #expect(try pread(d, 2 << 40, 0) == [])
    }

    @Test func writeInsideTheListLandsAndIsRecorded() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let journal = WriteJournal()
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow,
                                record: { journal.record(region: $0, position: $1, bytes: $2) })
        #expect(try pwrite(d, 2 << 40 | 0x100, [1, 2, 3, 4]) == 4)
        #expect(Fake.file(dev.path, at: 0x20100, count: 4) == [1, 2, 3, 4])
        #expect(journal.entries.map { [$0.region == 2, $0.position == 0x100, $0.bytes == [1, 2, 3, 4]] } == [[true, true, true]])
        #expect(try c.counters() == (entries: 1, bytes: 4, refused: 0))
    }

    @Test func writeOutsideTheListIsHeldBackByTheHost() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        #expect(d.refuses(.pwrite(offset: 2 << 40 | 0x1000, count: 4, pattern: 0, fault: .none)))
        #expect(errno { _ = try pwrite(d, 2 << 40 | 0x1000, [9, 9, 9, 9]) } == .notPermitted)
        #expect(errno { _ = try pwrite(d, 7 << 40 | 0x4, [7, 0]) } == .notPermitted)
        #expect(d.refusedWrites == 2)
        #expect(try c.counters().refused == 0)  // never sent
        #expect(Fake.file(dev.path, at: 0x21000, count: 4) == Array(dev.bytes[0x21000..<0x21004]))
    }

    @Test func withTheHostGuardOffTheAgentRefusesByItself() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let journal = WriteJournal()
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow, hostGuard: false,
                                record: { journal.record(region: $0, position: $1, bytes: $2) })
        #expect(!d.refuses(.pwrite(offset: 2 << 40 | 0x1000, count: 4, pattern: 0, fault: .none)))
        #expect(errno { _ = try pwrite(d, 2 << 40 | 0x1000, [9, 9, 9, 9]) } == .notPermitted)
        #expect(errno { _ = try pwrite(d, 2 << 40 | 0xFFE, [9, 9, 9, 9]) } == .notPermitted)  // straddles the end
        #expect(d.refusedWrites == 0)
        #expect(try c.counters() == (entries: 0, bytes: 0, refused: 2))
        #expect(journal.entries.isEmpty)
        #expect(Fake.file(dev.path, at: 0x20FFE, count: 6) == Array(dev.bytes[0x20FFE..<0x21004]))
    }

    @Test func aMalformedReplyBreaksTheSession() throws {
        let c = try AgentConnection(endpoint: .command(Fake.scripted(then: "read c; echo 'OK 4 zz -'; cat >/dev/null")))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        let first = message { _ = try pread(d, 2 << 40, 4) }
        #expect(first == "broken: protocol: 1 data bytes for a 4-byte buffer")
        #expect(message { _ = try pread(d, 2 << 40, 4) } == first)  // stays broken
        #expect(c.brokenReason != nil)
    }

    @Test func aBADAnswerIsAProtocolError() throws {
        let c = try AgentConnection(endpoint: .command(Fake.scripted(then: "read c; echo 'BAD unknown request'; cat >/dev/null")))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        #expect(message { _ = try d.regionInfo(index: 2, argsz: 32) } == "broken: protocol: unexpected reply \"BAD unknown request\"")
    }

    @Test func anAgentThatDiesMidRun() throws {
        let dev = Fake.device()
        // The agent's input ends after 5 requests (DEVICE, REGIONS and 3 more).
        let cmd = "n=0; while read l; do n=$((n+1)); [ $n -gt 5 ] && exit 0; echo \"$l\"; done | " + (try Fake.command(device: dev.path))
        let c = try AgentConnection(endpoint: .command(cmd))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        for _ in 0..<3 { _ = try pread(d, 2 << 40, 4) }
        let m = message { _ = try pread(d, 2 << 40, 4) }
        #expect(m?.hasPrefix("broken: the implementation ") == true && m?.contains("PREAD") == true, "\(m ?? "no error")")
    }

    @Test func anotherProtocolVersionIsRefused() {
        let m = message { _ = try AgentConnection(endpoint: .command("echo 'ISMKIT-WIRE 2 little 0 vfio-agent'; cat >/dev/null")) }
        #expect(m?.contains("speaks wire protocol version 2; this ismkit speaks version 1") == true, "\(m ?? "no error")")
    }

    @Test func notAnAgentIsRefused() {
        let m = message { _ = try AgentConnection(endpoint: .command("echo 'ISMKIT-WIRE 1 big 31 driver-source'; cat >/dev/null")) }
        #expect(m?.contains("not ismkit-agent") == true, "\(m ?? "no error")")
    }

    @Test func unreachableCommandSocketAndSilence() {
        let m1 = message { _ = try AgentConnection(endpoint: .command("/nonexistent/ismkit-agent 0000:00:01.0")) }
        #expect(m1?.contains("exited (status 127)") == true && m1?.contains("not found") == true, "\(m1 ?? "no error")")
        let m2 = message { _ = try AgentConnection(endpoint: .unixSocket(path: "/nonexistent/agent.sock")) }
        #expect(m2 == "cannot connect to unix:/nonexistent/agent.sock: No such file or directory")
        let m3 = message { _ = try AgentConnection(endpoint: .command("sleep 30"), timeout: .milliseconds(300)) }
        #expect(m3?.contains("hang: no answer within 0.3 s to the greeting") == true, "\(m3 ?? "no error")")
        #expect(throws: AgentError.self) { try AgentEndpoint.parseConnect("/tmp/x.sock") }
    }

    @Test func anAgentPreflightFailureIsQuoted() throws {
        let agent = try Fake.binary.get()
        let m = message { _ = try AgentConnection(endpoint: .command("ISMKIT_AGENT_SYSFS=/nonexistent '\(agent)' 0000:00:01.0")) }
        #expect(m?.contains("(its stderr: ismkit-agent: no PCI device 0000:00:01.0") == true, "\(m ?? "no error")")
    }

    @Test func nothingIsLeftRunning() throws {
        let dev = Fake.device()
        let pidFile = NSTemporaryDirectory() + "ismkit-agent-test-\(UUID().uuidString).pid"
        // The command leaves a grandchild behind; dropping the session must end it too.
        var c: AgentConnection? = try AgentConnection(endpoint: .command("sleep 300 & echo $! > '\(pidFile)'; " + (try Fake.command(device: dev.path))))
        #expect(c != nil)
        let pid = Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(kill(pid, 0) == 0)
        c = nil
        var gone = false
        for _ in 0..<100 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if stat.isEmpty || stat.contains(") Z ") { gone = true; break }
            usleep(20_000)
        }
        #expect(gone)
    }

    @Test func theSocketTransport() throws {
        let dev = Fake.device()
        let sock = NSTemporaryDirectory() + "ismkit-agent-\(UUID().uuidString.prefix(8)).sock"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import os, socket, subprocess, sys
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
            c, _ = s.accept()
            subprocess.run(["/bin/sh", "-c", sys.argv[2]], stdin=c.fileno(), stdout=c.fileno())
            """, sock, try Fake.command(device: dev.path)]
        try server.run()
        defer { server.terminate(); try? FileManager.default.removeItem(atPath: sock) }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: sock) { usleep(20_000) }
        let c = try AgentConnection(endpoint: try AgentEndpoint.parseConnect("unix:" + sock))
        let d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        #expect(try pread(d, 2 << 40 | 0x40, 8) == Array(dev.bytes[0x20040..<0x20048]))
        try c.quit()
        server.waitUntilExit()
    }

    @Test func reopenGivesAFreshFilePosition() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let a = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        var buf = [UInt8](repeating: 0, count: 8)
        _ = try buf.withUnsafeMutableBytes { try a.read(into: $0, fault: .none) }
        #expect(try a.seek(offset: 0, whence: .current) == 8)
        let b = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)  // REOPEN
        #expect(try b.seek(offset: 0, whence: .current) == 0)
    }
}

@Suite struct AgentHardwareRunTests {
    @Test func theHardwareRunThroughTheAgent() throws {
        let dev = Fake.device()
        let agentJournal = NSTemporaryDirectory() + "ismkit-agent-test-\(UUID().uuidString).journal"
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path, options: "--allow-write 2:0x0-0xfff --journal '\(agentJournal)'")))
        let journal = WriteJournal()
        let allow = WriteAllowList([.init(region: 2, first: 0, last: 0xFFF)])
        var hw = HardwareRun(agent: c, profile: .vfioPCI, allowList: allow, journal: journal, seed: 3,
                             budget: .operations(400), sequenceLength: 16, fixed: nil)
        hw.shrinkChecks = 20
        let r = try hw.run()
        #expect(c.brokenReason == nil)
        #expect(r.operations == 400)
        #expect(r.regions.count == 9)
        #expect(r.config.barLength(2) == 0x4000)
        #expect(!journal.entries.isEmpty)
        // The fake is a plain file, not a kernel: past a region's end it still answers, so the
        // run finds differences (a finding each, never a broken agent).
        #expect(r.findings.allSatisfy { $0.divergence?.aspect != .broken })
        let counters = try c.counters()
        #expect(counters.entries == journal.entries.count && counters.refused == 0)
        try c.quit()
        #expect((try String(contentsOfFile: agentJournal, encoding: .utf8)) == journal.text())
        // Reproducers name the agent; replaying one says how (on the device).
        let kind = hw.kind
        #expect(kind.target.kind == "agent" && kind.fileStem == "agent-vfio-pci")
        #expect(try ImplementationKind(kind.target, device: r.config) == kind)
        let m: String? = {
            do throws(ImplementationKind.Unknown) { _ = try kind.differential(device: r.config); return nil } catch { return error.description }
        }()
        #expect(m?.contains("ismkit hw --agent '") == true && m?.contains("--operations-file FILE") == true, "\(m ?? "no error")")
    }

    @Test func theHostGuardOffShowsTheAgentRefusing() throws {
        let dev = Fake.device()
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: dev.path)))
        let journal = WriteJournal()
        let wide = WriteAllowList([.init(region: 2, first: 0, last: 0x3FFF)])
        let ops: [Operation] = [
            .pwrite(offset: 2 << 40 | 0x100, count: 16, pattern: 7, fault: .none),
            .pwrite(offset: 2 << 40 | 0x2000, count: 16, pattern: 9, fault: .none),
            .pwrite(offset: 2 << 40 | 0xFF8, count: 16, pattern: 11, fault: .none),
        ]
        var hw = HardwareRun(agent: c, profile: .vfioPCI, allowList: wide, journal: journal, hostGuard: false, seed: 1,
                             budget: .operations(10), sequenceLength: 16, fixed: ops)
        hw.shrinkChecks = 0  // shrinking would send the writes again
        let r = try hw.run()
        #expect(r.refused == 0)
        #expect(try c.counters().refused == 2)
        #expect(journal.entries.count == 1)
        #expect(r.findings.contains { $0.divergence?.aspect == .result })  // EPERM where the model expects a write
        #expect(Fake.file(dev.path, at: 0x22000, count: 16) == Array(dev.bytes[0x22000..<0x22010]))
    }

    @Test func anAgentDyingMidRunStopsTheRun() throws {
        let dev = Fake.device()
        let cmd = "n=0; while read l; do n=$((n+1)); [ $n -gt 30 ] && exit 0; echo \"$l\"; done | " + (try Fake.command(device: dev.path))
        let c = try AgentConnection(endpoint: .command(cmd))
        let hw = HardwareRun(agent: c, profile: .vfioPCI, allowList: WriteAllowList(), journal: WriteJournal(), seed: 1,
                             budget: .operations(300), sequenceLength: 8, fixed: nil)
        // Either the run throws (a fresh device could not be had) or the session is broken: the
        // command reports exit 2 either way, never a finding.
        let threw = (try? hw.run()) == nil
        #expect(threw || c.brokenReason != nil)
        #expect(c.brokenReason != nil)
    }
}

/// `ismkit hw --agent/--connect` as a command: exit codes and the one stderr line.
@Suite struct AgentCommandTests {
    /// The ismkit executable built beside this test bundle.
    static let ismkit: String? = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("ismkit").path, Fake.root + "/.build-hw/debug/ismkit"]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return nil
    }()

    /// Runs ismkit with `arguments` in a temporary folder: exit status, stdout, stderr.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let bin = try #require(ismkit, "ismkit is not built beside the tests")
        let dir = NSTemporaryDirectory() + "ismkit-agent-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Exit 2 with exactly one line `ismkit: ...` containing `text` (without progress lines: --quiet).
    static func expectBadInput(_ arguments: [String], _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try run(arguments + ["--quiet"])
        #expect(r.status == 2, "exit \(r.status): \(r.err)", sourceLocation: sourceLocation)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("ismkit: ") && lines[0].contains(text), "\(r.err)", sourceLocation: sourceLocation)
    }

    @Test func badInputIsExitTwoWithOneLine() throws {
        let dev = Fake.device()
        try Self.expectBadInput(["hw", "--agent", "/nonexistent/ismkit-agent 0000:00:01.0"], "not found")
        try Self.expectBadInput(["hw", "--connect", "unix:/nonexistent/agent.sock"], "cannot connect to unix:/nonexistent/agent.sock")
        try Self.expectBadInput(["hw", "--agent", "echo 'ISMKIT-WIRE 2 little 0 vfio-agent'; cat >/dev/null"], "version 2")
        try Self.expectBadInput(["hw", "--agent", Fake.scripted(then: "read c; echo 'what?'; cat >/dev/null"), "--operations", "20"],
                                "protocol: unexpected reply \"what?\"")
        let dying = "n=0; while read l; do n=$((n+1)); [ $n -gt 12 ] && exit 0; echo \"$l\"; done | " + (try Fake.command(device: dev.path))
        try Self.expectBadInput(["hw", "--agent", dying, "--operations", "200"], "the run stopped")
        try Self.expectBadInput(["hw", "--agent", "sleep 30", "--timeout", "0.5"], "no answer within 0.5 s")
        try Self.expectBadInput(["hw", "--agent", "x", "--device", "0000:00:01.0"], "exactly one of")
        try Self.expectBadInput(["hw", "--agent", try Fake.command(device: dev.path), "--dry-run"], "--dry-run needs --device")
    }

    @Test func aRunThroughTheAgentReportsAndJournals() throws {
        let dev = Fake.device()
        let dir = NSTemporaryDirectory() + "ismkit-agent-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try Self.run(["hw", "--agent", try Fake.command(device: dev.path, options: "--allow-write 2:0x0-0xfff --journal \(dir)/agent.journal"),
                              "--allow-write", "2:0x0-0xfff", "--operations", "300", "--quiet", "--journal", dir + "/host.journal",
                              "--report", dir + "/r.json", "--output", dir + "/repro"])
        // The fake device is a plain file, not a kernel: differences from the model are findings (exit 1).
        #expect(r.status == 1, "\(r.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
        let agent = try #require(report["agent"] as? [String: Any])
        #expect(agent["refusedWrites"] as? Int == 0 && agent["hostGuard"] as? Bool == true)
        #expect((agent["writesJournaled"] as? Int) == (report["writesJournaled"] as? Int))
        #expect(try String(contentsOfFile: dir + "/host.journal", encoding: .utf8) == String(contentsOfFile: dir + "/agent.journal", encoding: .utf8))
        let repros = try FileManager.default.contentsOfDirectory(atPath: dir + "/repro")
        #expect(!repros.isEmpty && repros.allSatisfy { $0.hasPrefix("agent-vfio-pci-") })
    }
}

@Suite struct AgentReopenTests {
    @Test func anAgentWithoutREOPENIsNamed() throws {
        let c = try AgentConnection(endpoint: .command(Fake.scripted(then: "read c; echo 'OK 4 00000000 -'; read d; echo 'BAD unknown request'; cat >/dev/null")))
        let a = try AgentDevice(connection: c, profile: .vfioPCI, allowList: WriteAllowList())
        _ = try pread(a, 2 << 40, 4)
        let m = message { _ = try AgentDevice(connection: c, profile: .vfioPCI, allowList: WriteAllowList()) }
        #expect(m == "broken: protocol: the agent does not know REOPEN (an older build: rebuild it with native/agent/build.sh)")
    }
}
