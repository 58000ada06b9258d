import Foundation

/// A JUnit XML report (`--junit FILE`), the format CI systems (GitLab, Jenkins, GitHub
/// test reporters) read: one test case per check, a failure element per finding.
struct JUnitReport {
    struct Case {
        var name: String
        var seconds: Double
        /// nil when the check passed; else a one-line message and the full details.
        var failure: (message: String, details: String)?
        /// A check that could not be made.
        var skipped = false
    }

    var suite: String
    var cases: [Case] = []

    init(suite: String) { self.suite = suite }

    func xml() -> String {
        let failures = cases.filter { $0.failure != nil }.count
        let skipped = cases.filter(\.skipped).count
        let total = cases.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"ismkit\" tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(Self.time(total))\">\n"
        out += "  <testsuite name=\"\(Self.escape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"\(Self.time(total))\">\n"
        for c in cases {
            out += "    <testcase classname=\"\(Self.escape(suite))\" name=\"\(Self.escape(c.name))\" time=\"\(Self.time(c.seconds))\""
            if let f = c.failure {
                out += ">\n      <failure message=\"\(Self.escape(f.message))\" type=\"finding\">\(Self.escape(f.details))</failure>\n    </testcase>\n"
            } else if c.skipped {
                out += ">\n      <skipped/>\n    </testcase>\n"
            } else {
                out += "/>\n"
            }
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// One test case per check (class name: its suite); a failed check's failure names its findings.
    init(_ r: Report) {
        suite = "ismkit \(r.command)"
        for s in r.suites {
            for c in s.checks {
                var failure: (message: String, details: String)?
                if case .fail(let findings) = c.status {
                    failure = (findings.map(\.headline).joined(separator: ", "), findings.map(\.description).joined(separator: "\n\n"))
                }
                var name = s.name + ": " + c.name
                if case .skip(let why) = c.status { name += " (not made: \(why))" }
                cases.append(Case(name: name, seconds: c.seconds, failure: failure, skipped: { if case .skip = c.status { true } else { false } }()))
            }
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t": out.unicodeScalars.append(ch)
            default:
                // XML 1.0 has no encoding for other control characters.
                if ch.value < 0x20 { out += "?" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    static func time(_ s: Double) -> String { String(format: "%.3f", s) }
}
