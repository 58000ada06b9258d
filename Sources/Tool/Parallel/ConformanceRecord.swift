import ISMAccess
import ISMChecks
import ISMEngine

/// One unit of `conform` (a byte order's slice), or the units of one byte order merged: the
/// checks made with their findings, as a worker hands it back and as the command prints it.
struct ConformanceRecord: Codable {
    struct Check: Codable {
        var name: String
        var findings: [FindingRecord]
        var notMade: String?
        var seconds: Double
    }

    var byteOrder: ByteOrder
    var operations: Int
    var seconds: Double
    var findingRecords: [FindingRecord]
    var checks: [Check]
    var interrupted: Bool

    init(_ r: ConformanceReport) {
        byteOrder = r.byteOrder
        operations = r.operations
        seconds = r.seconds
        findingRecords = r.findings.map(FindingRecord.init)
        checks = r.checks.map { Check(name: $0.name, findings: $0.findings.map(FindingRecord.init), notMade: $0.notMade, seconds: $0.seconds) }
        interrupted = r.interrupted
    }

    var findings: [Finding] { findingRecords.map(\.finding) }
    var conforming: Bool { findingRecords.isEmpty }
    var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
    /// What was found, one headline each, without repeats.
    var headlines: [String] {
        var seen = Set<String>()
        return findings.map(\.headline).filter { seen.insert($0).inserted }
    }

    /// The units of one byte order as one: operations and seconds added, findings deduplicated
    /// by signature (`SignatureMerge`), a check made when any unit made it.
    static func combine(_ units: [ConformanceRecord]) -> ConformanceRecord {
        var out = units[0]
        for u in units.dropFirst() {
            out.operations += u.operations
            out.seconds += u.seconds
            out.interrupted = out.interrupted || u.interrupted
            var all = out.findings
            SignatureMerge.add(u.findings, to: &all)
            out.findingRecords = all.map(FindingRecord.init)
            for c in u.checks {
                guard let k = out.checks.firstIndex(where: { $0.name == c.name }) else { out.checks.append(c); continue }
                var found = out.checks[k].findings.map(\.finding)
                SignatureMerge.add(c.findings.map(\.finding), to: &found)
                out.checks[k].findings = found.map(FindingRecord.init)
                out.checks[k].seconds += c.seconds
                if c.notMade == nil { out.checks[k].notMade = nil }
            }
        }
        return out
    }
}
