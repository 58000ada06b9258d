import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

extension DriverSourceTests {
    /// Writes the merged revision with `m` applied into a fresh temporary folder.
    static func mutate(_ m: SourceMutant) throws -> String {
        let source = try String(contentsOfFile: try Shared.driver("merged"), encoding: .utf8)
        let occurrences = source.components(separatedBy: m.original).count - 1
        try #require(occurrences == 1, "mutant \(m.name): its line occurs \(occurrences) times in merged/main.c")
        let mutated = source.replacingOccurrences(of: m.original, with: m.replacement)
        // Each mutant is one changed line.
        let changed = zip(source.split(separator: "\n", omittingEmptySubsequences: false),
                          mutated.split(separator: "\n", omittingEmptySubsequences: false)).filter { $0 != $1 }.count
        try #require(changed == 1, "mutant \(m.name) changes \(changed) lines")
        let dir = try Self.temporaryFolder("mutant-\(m.name)")
        let path = dir + "/main.c"
        try mutated.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func twentySourceMutants() {
        #expect(SourceMutant.all.count >= 20)
        #expect(Set(SourceMutant.all.map(\.name)).count == SourceMutant.all.count)
    }

    @Test(arguments: SourceMutant.all)
    func sourceMutantIsCaught(_ m: SourceMutant) throws {
        let path = try Self.mutate(m)
        let r = try Self.verdict(path, .little)
        #expect(!r.conforming, "mutant \(m.name) (\(m.intent)) survived \(r.operations) operations")
        print("mutant-table | \(m.name) | intended \(m.intent) | caught as \(r.violatedRules.map(\.rawValue).joined(separator: " ")) | \(r.operations) ops")
    }
}
