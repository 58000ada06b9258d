import Foundation
import ISMAccess
import ISMEngine

/// One command's run as every report format sees it (KTAP, JSON, JUnit, SARIF): suites (one per
/// implementation, byte order or mutant group) of checks, each passed, failed with its findings,
/// or not made with the reason. The human report is printed by each command; this is what files get.
struct Report {
    /// A check's result.
    enum Status {
        case pass
        case fail([Finding])
        case skip(String)
    }

    struct Check {
        var name: String
        var status: Status
        var seconds: Double = 0
        /// Lines of context (`#` diagnostics in KTAP).
        var diagnostics: [String] = []
    }

    struct Suite {
        var name: String
        var checks: [Check] = []
        /// The code under test, for SARIF locations (a driver `main.c`), when there is one.
        var artifact: String?
        var diagnostics: [String] = []
        var passed: Bool { !checks.contains { if case .fail = $0.status { true } else { false } } }
    }

    /// The subcommand (`run`, `conform`, …).
    var command: String
    /// One line saying what ran.
    var title: String
    var seconds: Double = 0
    var suites: [Suite] = []
    /// Command-specific fields the JSON report carries at its top level (documented per command).
    var details: Data?
    /// The run stopped early at a signal.
    var interruptedBy: Int32 = 0

    var findings: [Finding] {
        suites.flatMap { $0.checks.flatMap { c -> [Finding] in if case .fail(let f) = c.status { f } else { [] } } }
    }

    struct Totals: Codable, Equatable {
        var pass = 0, fail = 0, skip = 0
    }

    var totals: Totals {
        var t = Totals()
        for c in suites.flatMap(\.checks) {
            switch c.status {
            case .pass: t.pass += 1
            case .fail: t.fail += 1
            case .skip: t.skip += 1
            }
        }
        return t
    }

    /// `findings` when a check failed, else `clean` (`interrupted` when a signal stopped it first).
    var verdict: String {
        if totals.fail > 0 { return "findings" }
        return interruptedBy != 0 ? "interrupted" : "clean"
    }
}

extension Report.Check {
    /// A check that passed unless it has findings.
    init(name: String, findings: [Finding], seconds: Double = 0, diagnostics: [String] = []) {
        self.init(name: name, status: findings.isEmpty ? .pass : .fail(findings), seconds: seconds, diagnostics: diagnostics)
    }
}
