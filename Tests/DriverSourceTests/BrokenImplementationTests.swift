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

    /// One-line variants of merged that break the implementation (each `intent` is the headline
    /// its finding must have), the breakage's kind, and a text its description must contain.
    static let breakingVariants: [(variant: SourceMutant, kind: String, says: String)] = [
        (.init(name: "segv", intent: "crash (SIGSEGV)", original: " ssize_t done = 0;\n int ret;",
               replacement: " ssize_t done = 0; if (count == 3) *(volatile int *)0 = 0;\n int ret;"), "crash", "SIGSEGV"),
        (.init(name: "overrun", intent: "buffer overrun", original: " if (copy_from_user(data, buf, count)) {",
               replacement: " if (copy_from_user(data, buf, count + 1)) {"), "overrun", "outside the"),
        (.init(name: "stray-output", intent: "protocol error", original: " ssize_t done = 0;\n int ret;",
               replacement: " ssize_t done = 0; if (count == 3) printf(\"debug: read of 3\\n\");\n int ret;"), "protocol-error", "debug: read of 3"),
    ]

    /// A NULL dereference is a crash with its signal, a one-byte overrun of the user buffer an
    /// overrun, stray driver output a protocol error: each finding's headline is the breakage,
    /// never the rule of the operation it happened in.
    @Test(arguments: breakingVariants, [ByteOrder.little, .big])
    func aBrokenDriverIsReportedAsWhatBroke(_ v: (variant: SourceMutant, kind: String, says: String), order: ByteOrder) throws {
        let path = try Self.variant(of: "merged", replacing: v.variant.original, with: v.variant.replacement, name: v.variant.name)
        let r = try Self.verdict(path, order, options: Self.options(operations: 3000, timeout: .seconds(5), lifecycle: false))
        let f = try #require(r.findings.first)
        #expect(f.headline == v.variant.intent, "\(f)")
        #expect(f.rule == nil && r.violatedRules.isEmpty, "\(f)")
        let failure = try #require(f.divergence?.failure, "\(f)")
        #expect(failure.kind == v.kind && failure.description.contains(v.says), "\(failure)")
        if case .crash(let signal, _) = failure { #expect(signal == 11) }
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
