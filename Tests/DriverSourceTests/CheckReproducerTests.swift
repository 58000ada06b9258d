import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import Testing

/// A lifecycle-walk and a callback-contract finding each write a reproducer that names its
/// check point; replaying it runs that point alone: the same finding on the mutant, nothing on
/// the merged revision.
extension DriverSourceTests {
    /// Every error-path mutant (a walk finding) and callback-contract mutant (a contract finding).
    @Test(arguments: SourceMutant.errorPaths + SourceMutant.callbackContract)
    func checkFindingReplaysFromItsReproducer(_ m: SourceMutant) throws {
        let walk = SourceMutant.errorPaths.contains { $0.name == m.name }
        let c = (check: walk ? "lifecycle error paths" : "driver callback contract",
                 mode: walk ? HarnessCheckPoint.Mode.lifecycleWalk : .callbackContract)
        let name = m.name
        let path = try Self.mutate(m)
        var options = Self.options(operations: 200)
        options.reproducerDirectory = try Self.temporaryFolder("check-repro-\(name)")
        let report = try Self.verdict(path, .little, options: options)
        let found = report.findings.filter { $0.check.hasPrefix(c.check) }
        let f = try #require(found.first, "\(name): no \(c.check) finding")
        let file = try #require(f.reproducer, "\(name): the finding wrote no reproducer")
        let repro = try Reproducer.load(path: file)
        let point = try #require(repro.check, "\(file) names no check point")
        #expect(point.mode == c.mode)
        #expect(point == f.checkPoint)
        #expect(repro.version == 1 && repro.operations.isEmpty)

        let again = try HarnessCheckReplay.run(repro, point: point)
        let same = try #require(again.recorded, "\(name): the point does not show \(point.finding) again: \(again.findings.map(\.detail))")
        #expect(same.headline == f.headline)
        #expect(same.checkPoint == point)
        // Only that point ran: one failure point walked, or one call made.
        #expect(same.detail.contains(c.mode == .lifecycleWalk ? "over 1 failure points" : "of 1 calls"), "\(same.detail)")

        let fixed = try HarnessCheckReplay.run(repro, point: point, driverSource: try Shared.driver("merged"))
        #expect(fixed.findings.isEmpty, "merged main.c at \(point): \(fixed.findings.map(\.detail))")
        #expect(fixed.cutShort == nil)
        print("check-reproducer | \(name) | \(point) | replays on the mutant: \(same.headline) | on merged: clean")
    }
}
