import Foundation

/// The report as KTAP version 1 (the kernel's Documentation/dev-tools/ktap.rst): a version line,
/// a plan, one `ok`/`not ok` line per suite with the suite's checks as a nested test list
/// indented two spaces (`# Subtest:` header, its own version line and plan), `# SKIP reason` for
/// checks that could not be made, `#` diagnostics under the line they explain, and a kselftest
/// style totals line.
enum KTAPReport {
    static func text(_ r: Report) -> String {
        var out = "KTAP version 1\n# ismkit \(r.command): \(clean(r.title))\n1..\(r.suites.count)\n"
        for (i, suite) in r.suites.enumerated() {
            out += "  KTAP version 1\n  # Subtest: \(clean(suite.name))\n  1..\(suite.checks.count)\n"
            for d in suite.diagnostics { out += "  # \(clean(d))\n" }
            for (k, check) in suite.checks.enumerated() {
                switch check.status {
                case .pass:
                    out += "  ok \(k + 1) \(clean(check.name))\n"
                case .skip(let why):
                    out += "  ok \(k + 1) \(clean(check.name)) # SKIP \(clean(why))\n"
                case .fail(let findings):
                    out += "  not ok \(k + 1) \(clean(check.name))\n"
                    for f in findings {
                        for line in f.description.split(separator: "\n") { out += "  # \(clean(String(line)))\n" }
                    }
                }
                for d in check.diagnostics { out += "  # \(clean(d))\n" }
            }
            out += "\(suite.passed ? "ok" : "not ok") \(i + 1) \(clean(suite.name))\n"
        }
        if r.interruptedBy != 0 { out += "# interrupted by signal \(r.interruptedBy): the results above are what ran before it\n" }
        let t = r.totals
        out += "# Totals: pass:\(t.pass) fail:\(t.fail) xfail:0 xpass:0 skip:\(t.skip) error:0\n"
        return out
    }

    /// One line without `#` (it starts a directive) and without line breaks.
    static func clean(_ s: String) -> String {
        String(s.map { $0 == "#" ? "_" : ($0 == "\n" || $0 == "\r" ? " " : $0) }).trimmingCharacters(in: .whitespaces)
    }

    /// kselftest's exit codes: 0 all passed, 1 a failure, 4 everything was skipped.
    static func kselftestExitCode(_ r: Report) -> Int32 {
        let t = r.totals
        if t.fail > 0 { return 1 }
        if t.pass == 0 && t.skip > 0 { return 4 }
        return 0
    }
}
