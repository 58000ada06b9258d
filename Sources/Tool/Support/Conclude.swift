import ArgumentParser
import Foundation

/// Ends a command the same way everywhere: writes the requested reports, then exits 1 when
/// something was found, 128 + the signal when a stop request cut the run short, else 0 (or
/// kselftest's codes when asked for).
func conclude(_ report: Report, _ options: ReportOptions) throws {
    if let code = try options.write(report), code != 0 { throw ExitCode(code) }
    if !report.findings.isEmpty { throw FindingExit() }
    if report.interruptedBy != 0 { throw ExitCode(128 + report.interruptedBy) }
}

/// The JSON of a command's own report fields, for `Report.details`.
func detailsJSON<T: Encodable>(_ value: T) -> Data? {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try? e.encode(value)
}
