import Foundation
import ISMAccess
import ISMChecks
import Testing

extension DriverSourceTests {
    /// Writes the merged revision with `m` applied (one changed line) into a fresh temporary folder.
    static func mutate(_ m: ReachMutant) throws -> String {
        let source = try String(contentsOfFile: try Shared.driver("merged"), encoding: .utf8)
        let occurrences = source.components(separatedBy: m.original).count - 1
        try #require(occurrences == 1, "mutant \(m.name): its text occurs \(occurrences) times in merged/main.c")
        let mutated = source.replacingOccurrences(of: m.original, with: m.replacement)
        let changed = zip(source.split(separator: "\n", omittingEmptySubsequences: false),
                          mutated.split(separator: "\n", omittingEmptySubsequences: false)).filter { $0 != $1 }.count
        try #require(changed == 1, "mutant \(m.name) changes \(changed) lines")
        let path = try Self.temporaryFolder("reach-\(m.name)") + "/main.c"
        try mutated.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Each mutant is caught with its check and survives the same budget without it.
    @Test(arguments: ReachMutant.all)
    func reachMutantNeedsItsCheck(_ m: ReachMutant) throws {
        let path = try Self.mutate(m)
        let with = try Self.verdict(path, .little, options: Self.options(operations: 4000, lifecycle: false))
        #expect(!with.conforming, "mutant \(m.name) (\(m.intent)) survived \(with.operations) operations with \(m.check.rawValue)")
        var without = Self.options(operations: 4000, lifecycle: false)
        switch m.check {
        case .midOperationFaults: without.midOperationFaults = false
        case .deviceShapes: without.deviceShapes = false
        }
        let plain = try Self.verdict(path, .little, options: without)
        #expect(plain.conforming, "mutant \(m.name) is caught without \(m.check.rawValue): \(plain.headlines)")
        print("reach-mutant-table | \(m.name) | \(m.intent) | \(m.check.rawValue) | caught as \(with.violatedRules.map(\.rawValue).joined(separator: " ")) after \(with.operations) ops | without: conforming after \(plain.operations) ops")
    }

    /// The merged revision meets every drawn shape and the mid-operation faults without a finding.
    @Test func mergedConformsOnEveryShape() throws {
        let r = try Self.verdict(try Shared.driver("merged"), .little, options: Self.options(operations: 16_000, lifecycle: false))
        #expect(r.conforming, "\(r.headlines)")
        #expect(Conformance.campaignDevices(.little, seed: 1).count >= 8)
    }
}
