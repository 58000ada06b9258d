import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// A driver that hangs, crashes, or does not compile is a finding or a build error, never a
/// crash or hang of ismkit.
extension DriverSourceTests {
    static func variant(of revision: String, replacing original: String, with replacement: String, name: String) throws -> String {
        let source = try String(contentsOfFile: try Shared.driver(revision), encoding: .utf8)
        try #require(source.components(separatedBy: original).count == 2)
        let path = try Self.temporaryFolder(name) + "/main.c"
        try source.replacingOccurrences(of: original, with: replacement).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [ByteOrder.little, .big])
    func doIoWLoopingForeverIsAFindingWithinTheTimeOut(order: ByteOrder) throws {
        let path = try Self.variant(of: "merged", replacing: " if (count > zdev->maxstbl)",
                                    with: " while (READ_ONCE(zdev->maxstbl)) ; if (count > zdev->maxstbl)", name: "hang")
        let clock = ContinuousClock()
        let start = clock.now
        let r = try Self.verdict(path, order, options: Self.options(operations: 400, timeout: .seconds(3)))
        let elapsed = clock.now - start
        let f = try #require(r.findings.first)
        // The headline is the hang and its time-out, not the rule of the write that hung.
        #expect(f.headline == "hang (no answer within 3 s)", "\(f)")
        #expect(f.rule == nil && r.violatedRules.isEmpty, "\(f)")
        guard case .hang(let t, _)? = f.divergence?.failure else { Issue.record("not a hang: \(f)"); return }
        #expect(t == 3)
        // The first write hangs once, the shrinker re-runs it at most 8 times: bounded by time-outs.
        #expect(elapsed < .seconds(60))
    }

    /// The first finding of a short conformance run (no lifecycle checks) on a one-line variant of merged.
    static func firstFinding(replacing original: String, with replacement: String, name: String, order: ByteOrder) throws -> Finding {
        let path = try Self.variant(of: "merged", replacing: original, with: replacement, name: name)
        let r = try Self.verdict(path, order, options: Self.options(operations: 3000, timeout: .seconds(5), lifecycle: false))
        let f = try #require(r.findings.first)
        #expect(f.rule == nil && r.violatedRules.isEmpty, "a breakage is not reported as the rule of the operation it happened in: \(f)")
        return f
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aSegfaultIsACrashWithItsSignal(order: ByteOrder) throws {
        let f = try Self.firstFinding(replacing: " ssize_t done = 0;\n int ret;",
                                      with: " ssize_t done = 0; if (count == 3) *(volatile int *)0 = 0;\n int ret;", name: "segv", order: order)
        #expect(f.headline == "crash (SIGSEGV)", "\(f)")
        guard case .crash(let signal, _)? = f.divergence?.failure else { Issue.record("not a crash: \(f)"); return }
        #expect(signal == 11)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aOneByteOverrunOfTheUserBufferIsAnOverrun(order: ByteOrder) throws {
        let f = try Self.firstFinding(replacing: " if (copy_from_user(data, buf, count)) {",
                                      with: " if (copy_from_user(data, buf, count + 1)) {", name: "overrun", order: order)
        #expect(f.headline == "buffer overrun", "\(f)")
        guard case .overrun(let what)? = f.divergence?.failure else { Issue.record("not an overrun: \(f)"); return }
        #expect(what.contains("outside the"), "\(what)")
    }

    @Test(arguments: [ByteOrder.little, .big])
    func strayDriverOutputIsAProtocolError(order: ByteOrder) throws {
        let f = try Self.firstFinding(replacing: " ssize_t done = 0;\n int ret;",
                                      with: " ssize_t done = 0; if (count == 3) printf(\"debug: read of 3\\n\");\n int ret;", name: "stray", order: order)
        #expect(f.headline == "protocol error", "\(f)")
        guard case .protocolError(let what)? = f.divergence?.failure else { Issue.record("not a protocol error: \(f)"); return }
        #expect(what.contains("debug: read of 3"), "\(what)")
    }

    @Test func aSourceThatDoesNotBuildShowsTheFirstCompilerError() throws {
        let path = try Self.variant(of: "merged", replacing: " if (pos >= end)", with: " if (pos >= end_of_bar)", name: "nobuild")
        #expect {
            _ = try Conformance.run(.driverSource(path: path), byteOrder: .little, options: Self.options(operations: 10))
        } throws: { e in
            guard case .sourceDoesNotBuild(let first) = e as? HarnessBuildError else { return false }
            return first.contains(path) && first.contains("end_of_bar") && first.contains("error")
        }
    }
}
