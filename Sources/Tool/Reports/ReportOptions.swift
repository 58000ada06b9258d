import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--ktap FILE|-`, `--json FILE` (alias `--report`), `--junit FILE`, `--sarif FILE` and
/// `--kselftest-exit-codes`: the report files every command can write. Each path is checked
/// before any work (its folder exists and is writable, it is not a folder); each file is
/// written whole or not at all (a temporary file beside it, then a rename). `--ktap -` puts KTAP
/// on standard output and the human report on standard error.
struct ReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write KTAP version 1 to FILE ('-': standard output; the human report then goes to standard error).", valueName: "file"))
    var ktap: String?

    @Option(name: [.customLong("json"), .customLong("report")],
            help: ArgumentHelp("Write the JSON report (docs/report-format.md) to FILE; --report is the same.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write a JUnit XML report (one test case per check) to FILE.", valueName: "file"))
    var junit: String?

    @Option(help: ArgumentHelp("Write SARIF 2.1.0 (one result per finding) to FILE, for code scanning.", valueName: "file"))
    var sarif: String?

    @Flag(name: .customLong("kselftest-exit-codes"), help: "Exit as kselftest does: 0 all passed, 1 a failure, 4 all skipped (bad input stays 2).")
    var kselftestExitCodes = false

    mutating func validate() throws {
        for (flag, path) in [("--ktap", ktap), ("--json", json), ("--junit", junit), ("--sarif", sarif)] {
            guard let path, !(flag == "--ktap" && path == "-") else { continue }
            if let problem = Self.unwritable(path) { throw ValidationError("\(flag) \(path): \(problem)") }
        }
    }

    /// Why `path` cannot be written as a report file, or nil when it can.
    static func unwritable(_ path: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return "is a folder" }
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else { return "folder \(folder) does not exist" }
        // The file is written beside itself and renamed: the folder must take new files.
        return writeProbe(folder: folder)
    }

    /// The standard output saved for KTAP when `--ktap -` sent the human report to standard error.
    nonisolated(unsafe) static var ktapOut: Int32 = -1

    /// Call before the run: with `--ktap -`, standard output becomes standard error until `write`.
    func begin() {
        guard ktap == "-", Self.ktapOut < 0 else { return }
        fflush(nil)
        Self.ktapOut = dup(1)
        dup2(2, 1)
    }

    /// Writes every requested report; the exit code kselftest would give, when asked for.
    func write(_ r: Report) throws(UsageError) -> Int32? {
        if let ktap {
            let text = KTAPReport.text(r)
            if ktap == "-" {
                fflush(nil)
                let fd = Self.ktapOut >= 0 ? Self.ktapOut : 1
                let bytes = Array(text.utf8)
                let ok = bytes.withUnsafeBytes { p in Glibc.write(fd, p.baseAddress, p.count) == p.count }
                if !ok { throw UsageError("cannot write KTAP to standard output: \(String(cString: strerror(errno)))") }
            } else {
                try Self.atomicWrite(Data(text.utf8), to: ktap, what: "KTAP report")
            }
        }
        if let json { try Self.atomicWrite(JSONReport.data(r), to: json, what: "JSON report") }
        if let junit { try Self.atomicWrite(Data(JUnitReport(r).xml().utf8), to: junit, what: "JUnit report") }
        if let sarif { try Self.atomicWrite(SARIFReport.data(r), to: sarif, what: "SARIF report") }
        return kselftestExitCodes ? KTAPReport.kselftestExitCode(r) : nil
    }

    /// Writes `data` to a temporary file beside `path`, then renames it over `path`.
    static func atomicWrite(_ data: Data, to path: String, what: String) throws(UsageError) {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
            guard rename(tmp, path) == 0 else {
                let e = String(cString: strerror(errno))
                try? FileManager.default.removeItem(atPath: tmp)
                throw UsageError("\(path): cannot write the \(what): \(e)")
            }
        } catch let e as UsageError {
            throw e
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw UsageError("\(path): cannot write the \(what): \(error.localizedDescription)")
        }
    }
}
