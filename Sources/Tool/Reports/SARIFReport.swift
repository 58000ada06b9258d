import Foundation
import ISMAccess
import ISMEngine

/// The report as SARIF 2.1.0, for code scanning (GitHub, GitLab): one result per finding, its
/// rule the SPEC rule ID (or `ismkit/<kind>` for a breakage: a hang, a crash, an overrun), the
/// reproducer as a property, and a location in the code under test where one is known (a
/// sanitizer's top frame `file:line`, else the driver source file itself).
enum SARIFReport {
    static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    static func ruleID(_ f: Finding) -> String {
        if f.title != nil { return "ismkit/" + f.slug }  // a callback-contract finding: its own rule
        if let b = f.failure ?? f.divergence?.failure { return "ismkit/" + b.kind }
        return f.rule?.rawValue ?? f.divergence?.rule.rawValue ?? "ismkit/finding"
    }

    static func object(_ r: Report) -> [String: Any] {
        var rules: [String: [String: Any]] = [:]
        var results: [[String: Any]] = []
        for suite in r.suites {
            for check in suite.checks {
                guard case .fail(let findings) = check.status else { continue }
                for f in findings {
                    let id = ruleID(f)
                    if rules[id] == nil {
                        let text = f.title ?? Rule(rawValue: id)?.summary ?? (f.failure ?? f.divergence?.failure)?.headline ?? id
                        rules[id] = ["id": id, "shortDescription": ["text": text]]
                    }
                    var result: [String: Any] = [
                        "ruleId": id, "level": "error",
                        "message": ["text": "\(suite.name): \(f.headline) in \(check.name)" + (f.detail.isEmpty ? "" : ": \(f.detail)")],
                        "partialFingerprints": ["ismkitFinding/v1": fingerprint(f, suite: suite.name)],
                    ]
                    var props: [String: Any] = ["check": f.check, "operations": f.operations.map { $0.summary(in: f.layout) }]
                    if let p = f.reproducer { props["reproducer"] = p }
                    if let d = f.divergence { props["expected"] = d.expected; props["actual"] = d.actual }
                    result["properties"] = props
                    if let loc = location(f, artifact: suite.artifact) { result["locations"] = [loc] }
                    results.append(result)
                }
            }
        }
        let driver: [String: Any] = [
            "name": "ismkit", "informationUri": "https://www.kernel.org/doc/html/latest/driver-api/vfio.html",
            "rules": rules.keys.sorted().map { rules[$0]! },
        ]
        let run: [String: Any] = [
            "tool": ["driver": driver], "results": results,
            "invocations": [["executionSuccessful": true, "commandLine": CommandLine.arguments.joined(separator: " ")]],
        ]
        return ["$schema": schema, "version": "2.1.0", "runs": [run]]
    }

    /// `path:line` from a sanitizer frame (`#3 0x… in fn /path/main.c:123:5`), else the artifact.
    static func location(_ f: Finding, artifact: String?) -> [String: Any]? {
        var frame: String?
        if case .sanitizer(_, let top)? = f.failure ?? f.divergence?.failure { frame = top }
        if let frame, let token = frame.split(separator: " ").last {
            let parts = token.split(separator: ":")
            if parts.count >= 2, let line = Int(parts[1]), line > 0 {
                return ["physicalLocation": ["artifactLocation": ["uri": uri(String(parts[0]))], "region": ["startLine": line]]]
            }
        }
        guard let artifact else { return nil }
        return ["physicalLocation": ["artifactLocation": ["uri": uri(artifact)]]]
    }

    static func uri(_ path: String) -> String {
        path.hasPrefix("/") ? URL(fileURLWithPath: path).absoluteString : path
    }

    /// What identifies the same finding across runs (`Finding.signature`), per suite.
    static func fingerprint(_ f: Finding, suite: String) -> String {
        var h = FNV1a()
        h.add(suite + "|" + f.signature)
        return h.hex
    }

    static func data(_ r: Report) -> Data {
        (try? JSONSerialization.data(withJSONObject: object(r), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}
