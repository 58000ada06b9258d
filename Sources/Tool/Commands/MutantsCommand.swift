import ArgumentParser
import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMSimulator

/// `ismkit mutants`: runs the harness against every mutant and prints the kill table.
struct Mutants: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the differential harness against every catalog mutant and print the kill table.",
        discussion: "Each mutant is one unit, run with --seed: --jobs N deals the mutants to N worker processes, --shard I/N runs the mutants at positions k (0-based, in catalog or --only order) with k % N == I-1. Exit 0 when every mutant is killed, 1 when one survives."
    )

    @OptionGroup var seedOption: SeedOptions
    var seed: UInt64 { seedOption.seed }

    @Option(help: "Operation budget per mutant and byte order.")
    var operations: Int = 200_000

    @Option(help: "Only these mutants (repeatable).")
    var only: [String] = []

    @Option(help: "Table format: text, markdown or json.")
    var format: TableFormat = .text

    @Option(name: .customLong("save-reproducers"), help: "Write each kill's shrunk reproducer into this folder.")
    var saveReproducers: String?

    @OptionGroup var reports: ReportOptions

    @OptionGroup var parallel: ParallelOptions

    @Flag(help: "List the catalog (name, rule, origin) and exit.")
    var list = false

    enum TableFormat: String, ExpressibleByArgument, CaseIterable { case text, markdown, json }

    mutating func validate() throws {
        guard (1...1_000_000_000).contains(operations) else { throw ValidationError("--operations must be a whole number in 1...1000000000") }
    }

    func run() throws {
        let chosen: [Mutant] = try only.isEmpty ? Mutant.allCases : only.map { name throws(UsageError) in
            guard let m = try Targets.mutant(named: name) else { throw UsageError("unknown mutant \"\(name)\"") }
            return m
        }
        if list {
            for m in chosen {
                print("\(m.rawValue.padding(toLength: 30, withPad: " ", startingAt: 0)) \(m.rule.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(m.summary)\(m.origin.map { " [\($0)]" } ?? "")")
            }
            return
        }
        let units = parallel.units(of: chosen.count)
        let worker = parallel.worker != nil
        if !worker { reports.begin() }
        let clock = ContinuousClock()
        let runStart = clock.now
        let progress = ProgressLine(quiet: format == .json || worker)
        let records = try UnitRun.run(units, parallel, progress: progress, show: { done, elapsed in
            "[\(Int(elapsed.seconds)) s] \(done.count) mutant(s) run, \(done.filter(\.killed).count) killed"
        }) { k -> MutantRecord in
            let m = chosen[k]
            if format != .json && !worker { printError("[\((units.firstIndex(of: k) ?? 0) + 1)/\(units.count)] \(m.rawValue)") }
            let clock = ContinuousClock()
            let started = clock.now
            let row = MutantKillRun.run(mutant: m, seed: seed, operationsPerMutant: operations)
            return MutantRecord(row, seconds: (clock.now - started).seconds)
        }
        guard let rows = records else { return }  // a worker: its results are in its result file
        let seconds = rows.map(\.seconds)
        if let dir = saveReproducers {
            for row in rows {
                guard let r = row.reproducer else { continue }
                let kind = MutantKillRun.kind(mutant: row.mutant)
                do {
                    try ReproducerStore(directory: dir).save(r, stem: kind.fileStem, finding: r.divergence.map { $0.headline + "-" + $0.aspect.rawValue } ?? "",
                                                             discriminator: ReproducerStore.discriminator(seed: seed))
                } catch { throw UsageError(error.description) }
            }
        }
        print(render(rows))
        var report = Report(command: "mutants", title: "the catalog mutants of the simulated device, seed \(seed), \(operations) operations per byte order",
                            seconds: (clock.now - runStart).seconds, interruptedBy: Interruption.requestedBy)
        var suite = Report.Suite(name: "mutant kill table (seed \(seed))")
        for (row, s) in zip(rows, seconds) {
            let name = "\(row.mutant.rawValue) (\(row.mutant.rule.rawValue)) is killed"
            if row.killed {
                suite.checks.append(.init(name: name, status: .pass, seconds: s,
                                          diagnostics: ["killed after \(row.operationsToKill ?? 0) operations, shrunk to \(row.shrunkLength ?? 0)"]))
            } else {
                let survivor = Finding(check: "mutant kill", divergence: nil, rule: row.mutant.rule, operations: [],
                                       detail: "\(row.mutant.rawValue) survived \(operations) operations per byte order (seed \(seed)): \(row.mutant.summary)",
                                       layout: DeviceConfig.ism().layout)
                suite.checks.append(.init(name: name, status: .fail([survivor]), seconds: s))
            }
        }
        let ran = Set(rows.map(\.mutant))
        for m in units.map({ chosen[$0] }) where !ran.contains(m) { suite.checks.append(.init(name: "\(m.rawValue) (\(m.rule.rawValue)) is killed", status: .skip("the run was asked to stop"))) }
        report.suites = [suite]
        let survivors = rows.filter { !$0.killed }
        if !survivors.isEmpty {
            FileHandle.standardError.write(Data("ismkit: \(survivors.count) mutant(s) survived: \(survivors.map(\.mutant.rawValue).joined(separator: ", "))\n".utf8))
        }
        try conclude(report, reports)
    }

    private func render(_ rows: [MutantRecord]) -> String {
        let killed = rows.filter(\.killed).count
        switch format {
        case .json:
            struct Row: Encodable { let mutant, rule: String; let killed: Bool; let byteOrder: String?; let operationsToKill, shrunkLength: Int?; let foundRule: String? }
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? e.encode(rows.map { Row(mutant: $0.mutant.rawValue, rule: $0.mutant.rule.rawValue, killed: $0.killed, byteOrder: $0.byteOrder?.rawValue, operationsToKill: $0.operationsToKill, shrunkLength: $0.shrunkLength, foundRule: $0.divergence?.rule.rawValue) })) ?? Data()
            return String(decoding: data, as: UTF8.self)
        case .markdown, .text:
            let header = ["mutant", "rule", "killed", "byte order", "ops to first kill", "shrunk length", "divergence rule", "rule on path"]
            let body = rows.map { r in
                [r.mutant.rawValue, r.mutant.rule.rawValue, r.killed ? "yes" : "NO", r.byteOrder?.rawValue ?? "-",
                 r.operationsToKill.map(String.init) ?? "-", r.shrunkLength.map(String.init) ?? "-", r.divergence?.rule.rawValue ?? "-",
                 r.divergence.map { ($0.cited ?? [$0.rule]).contains(r.mutant.rule) ? "yes" : "no" } ?? "-"]
            }
            let summary = "killed \(killed)/\(rows.count) (\(rows.isEmpty ? 0 : killed * 100 / rows.count)%), seed \(seed)"
            if format == .markdown {
                let lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
                    + body.map { "| " + $0.joined(separator: " | ") + " |" }
                return (lines + ["", summary]).joined(separator: "\n")
            }
            let widths = header.indices.map { c in ([header[c]] + body.map { $0[c] }).map(\.count).max()! }
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            }
            return ([line(header)] + body.map(line) + [summary]).joined(separator: "\n")
        }
    }
}
