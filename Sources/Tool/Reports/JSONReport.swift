import Foundation
import ISMAccess
import ISMEngine

/// The report as JSON, format `ismkit-report` version 1 (docs/report-format.md, schema
/// docs/report.schema.json): the run's envelope (command, verdict, totals, suites of checks with
/// their findings) and the command's own fields at the top level beside it.
enum JSONReport {
    static let format = "ismkit-report"
    static let version = 1

    static func object(_ r: Report) -> [String: Any] {
        var o: [String: Any] = [:]
        if let details = r.details, let extra = (try? JSONSerialization.jsonObject(with: details)) as? [String: Any] {
            o = extra
        }
        let t = r.totals
        o["format"] = format
        o["version"] = version
        o["command"] = r.command
        o["title"] = r.title
        o["verdict"] = r.verdict
        o["seconds"] = r.seconds
        o["interruptedBy"] = Int(r.interruptedBy)
        o["totals"] = ["pass": t.pass, "fail": t.fail, "skip": t.skip]
        o["suites"] = r.suites.map { s -> [String: Any] in
            var so: [String: Any] = ["name": s.name, "passed": s.passed, "checks": s.checks.map(check)]
            if let a = s.artifact { so["artifact"] = a }
            if !s.diagnostics.isEmpty { so["diagnostics"] = s.diagnostics }
            return so
        }
        return o
    }

    static func check(_ c: Report.Check) -> [String: Any] {
        var o: [String: Any] = ["name": c.name, "seconds": c.seconds]
        switch c.status {
        case .pass: o["status"] = "pass"
        case .skip(let why): o["status"] = "skip"; o["reason"] = why
        case .fail(let findings): o["status"] = "fail"; o["findings"] = findings.map(finding)
        }
        if !c.diagnostics.isEmpty { o["diagnostics"] = c.diagnostics }
        return o
    }

    static func finding(_ f: Finding) -> [String: Any] {
        var o: [String: Any] = [
            "headline": f.headline, "check": f.check, "detail": f.detail, "occurrences": f.occurrences, "signature": f.signature,
            "operations": f.operations.map { $0.summary(in: f.layout) },
        ]
        if let rule = f.rule { o["rule"] = rule.rawValue }
        if let b = f.failure ?? f.divergence?.failure { o["kind"] = b.kind; o["failure"] = b.description }
        if let p = f.reproducer { o["reproducer"] = p }
        if let d = f.divergence, let data = try? JSONEncoder().encode(d), let dj = try? JSONSerialization.jsonObject(with: data) {
            o["divergence"] = dj
        }
        return o
    }

    static func data(_ r: Report) -> Data {
        (try? JSONSerialization.data(withJSONObject: object(r), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}
