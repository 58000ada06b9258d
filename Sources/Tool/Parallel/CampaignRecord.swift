import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel

/// One unit of a campaign as a worker hands it back: how much it ran, what it found (every
/// field of each finding), the rules it reached and the seed it ran with.
struct CampaignRecord: Codable {
    var seed: UInt64
    var operations: Int
    var sequences: Int
    var seconds: Double
    var findings: [FindingRecord]
    var rules: [Rule]
    var interrupted: Bool

    init(_ r: CampaignResult, seed: UInt64) {
        self.seed = seed
        operations = r.operations
        sequences = r.sequences
        seconds = r.elapsed.seconds
        findings = r.findings.map(FindingRecord.init)
        rules = r.rulesExercised.map { $0 }
        interrupted = r.interrupted
    }

    /// The units of one run as one campaign result, units in order: operations and sequences
    /// added, findings deduplicated by signature (`SignatureMerge`), rules joined, `elapsed`
    /// the run's wall-clock time. Also the seed of the unit the first finding came from.
    static func combine(_ units: [CampaignRecord], elapsed: Duration) -> (result: CampaignTotals, findingSeed: UInt64?) {
        var r = CampaignTotals(elapsed: elapsed)
        var findingSeed: UInt64?
        for u in units {
            r.operations += u.operations
            r.sequences += u.sequences
            r.rulesExercised.formUnion(RuleSet(u.rules))
            if findingSeed == nil, !u.findings.isEmpty { findingSeed = u.seed }
            SignatureMerge.add(u.findings.map(\.finding), to: &r.findings)
            r.interrupted = r.interrupted || u.interrupted
        }
        return (r, findingSeed)
    }
}

/// What a run's units ran and found together, as its summary and reports show it.
struct CampaignTotals {
    var operations = 0
    var sequences = 0
    var elapsed: Duration
    var findings: [Finding] = []
    var rulesExercised = RuleSet()
    var interrupted = false

    var operationsPerSecond: Double {
        let s = elapsed.seconds
        return s > 0 ? Double(operations) / s : 0
    }
    var divergence: Divergence? { findings.first?.divergence }
    var shrunk: [Operation]? { findings.first?.operations }
}
