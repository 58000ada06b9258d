import ISMAccess
import enum ISMAccess.Operation
import ISMEngine

/// A `Finding` as a worker process hands it to the coordinating process: every field, so the
/// finding the coordinator reports is the one the worker found.
struct FindingRecord: Codable {
    var check: String
    var divergence: Divergence?
    var failure: Breakage?
    var rule: Rule?
    var operations: [Operation]
    var original: [Operation]
    var occurrences: Int
    var operationsBefore: Int?
    var detail: String
    var regionShift: UInt64
    var regionTable: RegionTable?
    var reproducer: String?

    init(_ f: Finding) {
        check = f.check
        divergence = f.divergence
        failure = f.failure
        rule = f.rule
        operations = f.operations
        original = f.original
        occurrences = f.occurrences
        operationsBefore = f.operationsBefore
        detail = f.detail
        regionShift = f.layout.regionShift
        regionTable = f.layout.table
        reproducer = f.reproducer
    }

    var finding: Finding {
        Finding(check: check, divergence: divergence, failure: failure, rule: rule, operations: operations, original: original,
                occurrences: occurrences, operationsBefore: operationsBefore, detail: detail,
                layout: OffsetLayout(regionShift: regionShift, table: regionTable), reproducer: reproducer)
    }
}
