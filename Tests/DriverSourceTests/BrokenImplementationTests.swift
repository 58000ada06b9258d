import Foundation
import ISMAccess
import ISMDriverSource
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
        #expect(f.divergence?.actual.contains("hang: no answer within 3") == true, "\(f)")
        // The first write hangs once, the shrinker re-runs it at most 8 times: bounded by time-outs.
        #expect(elapsed < .seconds(60))
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aSegfaultIsAFinding(order: ByteOrder) throws {
        let path = try Self.variant(of: "merged", replacing: " ssize_t done = 0;\n int ret;",
                                    with: " ssize_t done = 0; if (count == 3) *(volatile int *)0 = 0;\n int ret;", name: "segv")
        let r = try Self.verdict(path, order, options: Self.options(operations: 3000, timeout: .seconds(5), lifecycle: false))
        let f = try #require(r.findings.first)
        #expect(f.divergence?.actual.contains("crash: SIGSEGV") == true, "\(f)")
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
