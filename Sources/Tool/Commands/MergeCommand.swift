import ArgumentParser
import Foundation

/// `ismkit merge A.json B.json ... [--json OUT]`: one report from the JSON reports of several
/// runs (CI matrix jobs, shards, repeated runs): suites and checks with the same name are one, a
/// check fails when it failed anywhere, and findings are deduplicated by their signature (the
/// kind or rule, the shrunk operations and a sanitizer's top frame), their occurrences added.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine JSON reports (--json of run, conform, mutants, replay, fuzz) into one, findings deduplicated.",
        discussion: "Exit 0: no finding in any report. Exit 1: at least one finding. Exit 2: a file is missing or not an ismkit report."
    )

    @Argument(help: "JSON reports written with --json.")
    var files: [String]

    @Option(help: ArgumentHelp("Write the merged JSON report to FILE.", valueName: "file"))
    var json: String?

    mutating func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one JSON report") }
        if let json, let problem = ReportOptions.unwritable(json) { throw ValidationError("--json \(json): \(problem)") }
    }

    func run() throws {
        var suites: [(name: String, artifact: Any?, checks: [(name: String, check: [String: Any])])] = []
        var seconds = 0.0
        var operations = 0
        var commands = Set<String>()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("\(file): no such file") }
            guard let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  doc["format"] as? String == JSONReport.format, doc["version"] as? Int == JSONReport.version,
                  let docSuites = doc["suites"] as? [[String: Any]] else {
                throw UsageError("\(file): not an ismkit report (format \(JSONReport.format) version \(JSONReport.version))")
            }
            commands.insert(doc["command"] as? String ?? "?")
            seconds += doc["seconds"] as? Double ?? 0
            operations += doc["operations"] as? Int ?? 0
            for s in docSuites {
                let name = s["name"] as? String ?? "?"
                var k = suites.firstIndex { $0.name == name }
                if k == nil { suites.append((name, s["artifact"], [])); k = suites.count - 1 }
                for c in (s["checks"] as? [[String: Any]]) ?? [] {
                    let cname = c["name"] as? String ?? "?"
                    if let j = suites[k!].checks.firstIndex(where: { $0.name == cname }) {
                        suites[k!].checks[j].check = Self.combine(suites[k!].checks[j].check, c)
                    } else {
                        suites[k!].checks.append((cname, c))
                    }
                }
            }
        }
        var totals = ["pass": 0, "fail": 0, "skip": 0]
        var findings = 0
        var outSuites: [[String: Any]] = []
        for s in suites {
            var passed = true
            for c in s.checks {
                let status = c.check["status"] as? String ?? "pass"
                totals[status, default: 0] += 1
                if status == "fail" { passed = false }
                findings += (c.check["findings"] as? [Any])?.count ?? 0
            }
            var o: [String: Any] = ["name": s.name, "passed": passed, "checks": s.checks.map(\.check)]
            if let a = s.artifact { o["artifact"] = a }
            outSuites.append(o)
        }
        print("merged \(files.count) report(s) (\(commands.sorted().joined(separator: ", "))): \(suites.count) suite(s), "
            + "\(totals["pass"]!) passed, \(totals["fail"]!) failed, \(totals["skip"]!) not made; \(findings) distinct finding(s)")
        for s in outSuites {
            for c in (s["checks"] as? [[String: Any]]) ?? [] {
                for f in (c["findings"] as? [[String: Any]]) ?? [] {
                    print("  [\(f["headline"] ?? "?")] \(s["name"] ?? "?"): \(c["name"] ?? "?") (\(f["occurrences"] ?? 1) occurrence(s), signature \(f["signature"] ?? "?"))")
                }
            }
        }
        if let json {
            var doc: [String: Any] = [
                "format": JSONReport.format, "version": JSONReport.version, "command": "merge",
                "title": "\(files.count) reports: " + files.joined(separator: " "), "verdict": totals["fail"]! > 0 ? "findings" : "clean",
                "seconds": seconds, "interruptedBy": 0, "totals": totals, "suites": outSuites,
            ]
            if operations > 0 { doc["operations"] = operations }
            let data = try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try ReportOptions.atomicWrite(data, to: json, what: "merged JSON report")
        }
        if totals["fail"]! > 0 { throw FindingExit() }
    }

    /// One check from two runs of it: failed if either failed (findings by signature, occurrences
    /// added), not made only if neither made it, else passed.
    static func combine(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] {
        var out = a
        out["seconds"] = (a["seconds"] as? Double ?? 0) + (b["seconds"] as? Double ?? 0)
        let sa = a["status"] as? String ?? "pass", sb = b["status"] as? String ?? "pass"
        if sa == "fail" || sb == "fail" {
            var merged: [[String: Any]] = (a["findings"] as? [[String: Any]]) ?? []
            SignatureMerge.add((b["findings"] as? [[String: Any]]) ?? [], to: &merged)
            out["status"] = "fail"
            out["findings"] = merged
            out.removeValue(forKey: "reason")
        } else if sa == "skip" && sb == "skip" {
            out["status"] = "skip"
        } else {
            out["status"] = "pass"
            out.removeValue(forKey: "reason")
            out.removeValue(forKey: "findings")
        }
        return out
    }
}
