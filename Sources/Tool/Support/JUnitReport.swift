import Foundation

/// A JUnit XML report (`--junit FILE`), the format CI systems (GitLab, Jenkins, GitHub
/// test reporters) read: one test case per check, a failure element per finding.
struct JUnitReport {
    struct Case {
        var name: String
        var seconds: Double
        /// nil when the check passed; else a one-line message and the full details.
        var failure: (message: String, details: String)?
    }

    var suite: String
    var cases: [Case] = []

    func xml() -> String {
        let failures = cases.filter { $0.failure != nil }.count
        let total = cases.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"ismkit\" tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(Self.time(total))\">\n"
        out += "  <testsuite name=\"\(Self.escape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(Self.time(total))\">\n"
        for c in cases {
            out += "    <testcase classname=\"\(Self.escape(suite))\" name=\"\(Self.escape(c.name))\" time=\"\(Self.time(c.seconds))\""
            if let f = c.failure {
                out += ">\n      <failure message=\"\(Self.escape(f.message))\" type=\"finding\">\(Self.escape(f.details))</failure>\n    </testcase>\n"
            } else {
                out += "/>\n"
            }
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    func write(to path: String) throws(UsageError) {
        do {
            try Data(xml().utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw UsageError("\(path): cannot write the JUnit report: \(error.localizedDescription)")
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
