import ArgumentParser
import Foundation
import ISMAccess
import ISMOutOfProcess
import ISMChecks
import ISMEngine

/// `ismkit conform`: does this driver source (or this ismkit_access.h library) conform?
/// Builds it (cached by content hash), runs the differential engine against the golden model
/// with traces compared, then the lifecycle checks of SPEC §8, per byte order.
struct Conform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a driver main.c (built in user space, little- and big-endian) or an ismkit_access.h library against the model.",
        discussion: """
            The driver source is compiled unmodified against the harness's stand-in kernel headers: natively \
            (little-endian, plus an AddressSanitizer/LeakSanitizer build for the lifecycle checks) and for s390x \
            (big-endian, run under qemu-s390x). Exit 0: conforming. Exit 1: non-conforming (violated rule IDs and \
            reproducer paths are printed). Exit 2: the source does not build (the compiler's first error is shown), \
            a tool is missing, or bad input. 130/143: stopped by SIGINT/SIGTERM (reports written). \
            Budget: --operations 4000 per byte order unless --seconds or --operations is given; --seconds is \
            the whole run's time box (both byte orders, lifecycle checks included). --byte-order defaults to both. \
            Units: each byte order's operation budget runs in slices of 4000 operations (--slice-operations), slice k \
            with a seed derived from (--seed, k), slice 0 with --seed itself and the lifecycle checks; with --seconds one \
            unit per byte order. Units are numbered little-endian first; --jobs N deals them to N worker processes, \
            --shard I/N runs units k with k % N == I-1.
            """
    )

    enum Orders: String, ExpressibleByArgument, CaseIterable {
        case little, big, both
        var values: [ByteOrder] {
            switch self {
            case .little: [.little]
            case .big: [.big]
            case .both: [.little, .big]
            }
        }
    }

    @Option(name: .customLong("driver-source"), help: "A driver main.c (for example ../shared/kernel/merged/main.c).")
    var driverSource: String?

    @Option(help: "A shared library implementing include/ismkit_access.h.")
    var library: String?

    @Option(name: .customLong("byte-order"), help: "little, big or both (default: both; a library: this machine's order only).")
    var byteOrder: Orders?

    @OptionGroup var budget: BudgetOptions

    @Option(help: "Time-out of every call into the implementation, in seconds.")
    var timeout: Double = 10

    @OptionGroup var output: ReproducerOutputOptions

    @Flag(name: .customLong("no-lifecycle"), help: "Skip the lifecycle checks (benchmarks).")
    var noLifecycle = false

    @OptionGroup var sequence: SequenceOptions

    @Option(name: .customLong("concurrency-pairs"),
            help: "Pairs of operations the concurrency check runs at once in each slice, each held at every boundary of the first (driver sources: all on the fixed ISM device, an eighth as many on each other conformance device; 0 skips the check).")
    var concurrencyPairs = 20

    @Option(name: .customLong("free-runs"),
            help: "Free-running runs the concurrency check makes per pair (both released together, neither held; the big-endian harness a quarter as many, at least one; all of them run on the fixed ISM device's pairs; 0: none).")
    var freeRuns = 8

    @Option(help: ArgumentHelp("Regression mode: report only findings this driver source does not have (each re-checked on it).", valueName: "old-main.c"))
    var baseline: String?

    @OptionGroup var reports: ReportOptions

    @OptionGroup var parallel: ParallelOptions

    @OptionGroup var slice: SliceOptions

    @Flag(help: "No progress line.")
    var quiet = false

    /// Operations per unit of an operation budget (per byte order): the default budget is one unit.
    static let sliceOperations = 4000

    mutating func validate() throws {
        guard (driverSource == nil) != (library == nil) else {
            throw ValidationError("give exactly one of --driver-source PATH or --library PATH")
        }
        let path = driverSource ?? library!
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw ValidationError("\(path): no such file")
        }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be a number of seconds in (0, 3600]") }
        guard (0...100_000).contains(concurrencyPairs) else { throw ValidationError("--concurrency-pairs must be 0...100000") }
        guard (0...10_000).contains(freeRuns) else { throw ValidationError("--free-runs must be 0...10000") }
        if let baseline {
            guard driverSource != nil else { throw ValidationError("--baseline compares two driver sources: give --driver-source too") }
            guard FileManager.default.fileExists(atPath: baseline) else { throw ValidationError("--baseline \(baseline): no such file") }
        }
        for source in [driverSource, baseline].compactMap({ $0 }) {
            // Not a driver at all: say so instead of listing what a non-driver fails.
            guard let text = try? String(contentsOfFile: source, encoding: .utf8) else { throw ValidationError("\(source): cannot read it as text") }
            guard text.contains("vfio_device_ops") || text.contains("pci_driver") else {
                throw ValidationError("\(source): no vfio_device_ops / pci_driver found: this is not a driver source")
            }
        }
        if library != nil, let o = byteOrder, o != .both, o.values != [ByteOrder.native] {
            throw ValidationError("a library runs in this machine's byte order (\(ByteOrder.native.rawValue)) only")
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let target: ConformanceTarget = driverSource.map { .driverSource(path: $0) } ?? .library(path: library!)
        let orders = library != nil ? [ByteOrder.native] : (byteOrder ?? .both).values
        let b: Budget = budget.operations.map { .operations($0) } ?? budget.seconds.map { .seconds($0 / Double(orders.count)) } ?? .operations(4000)
        // The units: each byte order's slices of an operation budget (slice 0 with the lifecycle
        // checks), or one unit per byte order with a time box.
        let slices: [Units.Slice] = budget.seconds != nil ? [Units.Slice(index: 0, seed: budget.seed, budget: b)]
            : Units.slices(budget: b, seed: budget.seed, sliceOperations: slice.sliceOperations ?? Self.sliceOperations, jobs: 1, shards: 1)
        let all = orders.flatMap { o in slices.map { (order: o, slice: $0) } }
        let units = parallel.units(of: all.count)
        let worker = parallel.worker != nil
        if !worker { reports.begin() }
        let progress = ProgressLine(quiet: quiet || worker)
        var options = ConformanceOptions(
            budget: b, seed: budget.seed, timeout: .milliseconds(Int64(timeout * 1000)),
            reproducerDirectory: output.output, lifecycle: !noLifecycle, sequenceLength: sequence.sequenceLength)
        options.progress = progress.callback
        options.progressInterval = progress.interval
        options.concurrencyPairs = concurrencyPairs
        options.concurrencyFreeRuns = freeRuns
        let name = driverSource ?? library!
        if !quiet && !worker && Units.deal(units, jobs: parallel.jobs).count > 1 {
            printError("ismkit conform: \(name), \(units.count) unit(s) (\(orders.map { "\($0.rawValue)-endian" }.joined(separator: " and ")), \(slices.count) slice(s) each), seed \(budget.seed)\(parallel.note)")
        }
        var position = 0  // of the units this process runs, for its share of a time box
        let ran = try UnitRun.run(units, parallel, progress: progress, show: { done, elapsed in
            "[\(Int(elapsed.seconds)) s] \(done.reduce(0) { $0 + $1.operations }) operations, \(done.reduce(0) { $0 + $1.findingRecords.count }) finding(s)"
        }) { k -> ConformanceRecord in
            let (order, slice) = all[k]
            position += 1
            var options = options
            options.seed = slice.seed
            options.budget = slice.budget
            options.lifecycle = options.lifecycle && slice.index == 0
            if let s = budget.seconds {  // each unit gets its share of the time box, lifecycle checks included
                let mine = parallel.worker?.units.count ?? units.count
                options.budget = .seconds(s / Double(mine))
                options.deadline = started + .milliseconds(Int64(s * 1000 * Double(position) / Double(mine)))
                // A call into a hanging implementation gives up when the box is over.
                Interruption.deadline = options.deadline!
            }
            if !quiet && !worker {
                printError("ismkit conform: \(name), \(order.rawValue)-endian, seed \(slice.seed), \(options.budget)\(slices.count > 1 ? ", slice \(slice.index + 1)/\(slices.count)" : "")\(parallel.note)")
            }
            var report: ConformanceReport
            do {
                report = try Conformance.run(target, byteOrder: order, options: options)
            } catch let error as HarnessBuildError {
                switch error {
                case .sourceDoesNotBuild(let first): throw UsageError("\(name) does not build: \(first)")
                case .missingKernelSymbols: throw UsageError("\(name) does not build: \(error)")
                case .toolMissing(let t): throw UsageError(t)
                case .io(let e): throw UsageError(e)
                }
            }
            progress.end()
            if let baseline { report = try Self.onlyNew(report, baseline: baseline, order: order, options: options, quiet: quiet) }
            return ConformanceRecord(report)
        }
        guard let ran else { return }  // a worker: its results are in its result file
        let results = orders.compactMap { o -> ConformanceRecord? in
            let mine = ran.filter { $0.byteOrder == o }
            return mine.isEmpty ? nil : ConformanceRecord.combine(mine)
        }
        for report in results {
            let order = report.byteOrder
            let rate = "\(report.operations) operations in \(String(format: "%.1f", report.seconds)) s, \(Int(report.operationsPerSecond)) ops/s"
            if report.conforming {
                print("\(order.rawValue)-endian: conforming (\(rate))")
            } else {
                print("\(order.rawValue)-endian: NON-CONFORMING: \(report.headlines.joined(separator: ", ")) (\(rate))")
                for f in report.findings { print("  " + f.description.replacingOccurrences(of: "\n", with: "\n  ")) }
            }
            let notMade = report.checks.filter { $0.notMade != nil }
            if !notMade.isEmpty { print("  checks not made: " + notMade.map { "\($0.name) (\($0.notMade!))" }.joined(separator: "; ")) }
        }
        if results.count == 2, results[0].operationsPerSecond > 0 {
            print(String(format: "ops/s big-endian / little-endian: %.3f (%d / %d)",
                         results[1].operationsPerSecond / results[0].operationsPerSecond,
                         Int(results[1].operationsPerSecond), Int(results[0].operationsPerSecond)))
        }
        var report = Report(command: "conform", title: "\(name)\(baseline.map { " against the baseline \($0)" } ?? ""), seed \(budget.seed), \(b)", seconds: (clock.now - started).seconds,
                            interruptedBy: Interruption.requestedBy)
        report.suites = results.map { r in
            Report.Suite(name: "\(name) \(r.byteOrder.rawValue)-endian", checks: r.checks.map { c in
                c.notMade.map { Report.Check(name: c.name, status: .skip($0)) } ?? Report.Check(name: c.name, findings: c.findings.map { $0.finding }, seconds: c.seconds)
            }, artifact: driverSource.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? library,
            diagnostics: ["\(r.operations) operations, \(Int(r.operationsPerSecond)) ops/s"])
        }
        var seen = Set<String>()
        let found = results.flatMap(\.headlines).filter { seen.insert($0).inserted }
        let inconclusive = results.contains { $0.checks.contains { $0.notMade?.hasPrefix("the implementation did not answer") == true } }
        if found.isEmpty && report.interruptedBy == 0 {
            print(inconclusive ? "verdict: inconclusive (a check was cut short by the time box: see the checks not made)" : "verdict: conforming")
        }
        if !found.isEmpty { FileHandle.standardError.write(Data("ismkit: non-conforming: \(found.joined(separator: ", "))\n".utf8)) }
        try conclude(report, reports)
    }

    /// Regression mode: the findings of `report` that the baseline source does not have. A finding
    /// with operations is re-run on the baseline from its reproducer (same device, same
    /// operations); one the baseline shows too is dropped. A finding without operations (a leak
    /// at exit, a start-up failure) is dropped when the baseline's own run has the same check and
    /// headline.
    static func onlyNew(_ report: ConformanceReport, baseline: String, order: ByteOrder, options: ConformanceOptions,
                        quiet: Bool) throws -> ConformanceReport {
        var out = report
        var baselineRun: ConformanceReport?
        func keep(_ f: Finding) throws -> Bool {
            if let path = f.reproducer, let repro = try? Reproducer.load(path: path), let pair = repro.pair {
                var old = repro
                old.target = ImplementationKind.driverSource(path: baseline, byteOrder: order).target
                let again = try? ConcurrencyCheck.replay(old, pair: pair).get()
                return again?.judgement.explained != true  // new unless the baseline explains the same interleaving
            }
            if let path = f.reproducer, let repro = try? Reproducer.load(path: path), !repro.operations.isEmpty,
               let recorded = repro.divergence {
                let old = try Targets.differential(for: ImplementationKind.driverSource(path: baseline, byteOrder: order).target, device: repro.device)
                let again = (try? old.check(repro.operations)) ?? nil
                return !(again.map { $0.sameFinding(as: recorded) } ?? false)
            }
            if baselineRun == nil {
                var o = options
                o.reproducerDirectory = nil
                o.progress = nil
                do { baselineRun = try Conformance.run(.driverSource(path: baseline), byteOrder: order, options: o) } catch {
                    throw UsageError("--baseline \(baseline) does not build: \(error.description)")
                }
            }
            return !baselineRun!.findings.contains { $0.check == f.check && $0.headline == f.headline }
        }
        var dropped: [String] = []
        out.findings = try report.findings.filter { f in
            let k = try keep(f)
            if !k { dropped.append(f.headline) }
            return k
        }
        out.checks = report.checks.map { c in
            var c = c
            c.findings = c.findings.filter { f in out.findings.contains { $0.check == f.check && $0.signature == f.signature } }
            return c
        }
        if !dropped.isEmpty && !quiet {
            printError("  baseline \(baseline) has these too (not reported): \(dropped.joined(separator: ", "))")
        }
        return out
    }
}
