import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import Testing

/// A store block the device rejects: each mutant that mishandles the rejection is caught with
/// store-block rejections drawn (device faults on writes, strict devices) and missed without them.
extension DriverSourceTests {
    @Test(arguments: SourceMutant.storeRejection)
    func storeRejectionMutantNeedsRejections(_ m: SourceMutant) throws {
        let path = try Self.mutate(m)
        let with = try Self.verdict(path, .little)
        let writes = with.findings.filter { [.write3, .write4].contains($0.rule) }
        #expect(!writes.isEmpty, "mutant \(m.name) (\(m.intent)) not caught with store-block rejections: \(with.headlines)")
        var off = Self.options()
        off.storeRejections = false
        let without = try Self.verdict(path, .little, options: off)
        #expect(without.conforming, "mutant \(m.name) is caught without store-block rejections too: \(without.headlines)")
        let first = writes.first
        print("mutant-table | \(m.name) | \(m.intent) | caught with: \(first?.headline ?? "-") \(first?.operations.last.map { $0.summary(in: first!.layout) } ?? "") | without: \(without.conforming ? "conforming (missed)" : "caught")")
    }

    /// Without rejections the merged revision still conforms (the switch removes checks, adds no noise).
    @Test func mergedConformsWithoutRejections() throws {
        var off = Self.options()
        off.storeRejections = false
        #expect(try Self.verdict(try Shared.driver("merged"), .little, options: off).conforming)
    }
}
