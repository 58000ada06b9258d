import ArgumentParser
import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMSimulator

/// `ismkit run`: the main job — differential fuzzing of the simulated device against the model.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Differential fuzzing of the simulated device (optionally a mutant) against the golden model.",
        discussion: "Budget: --seconds 10 unless --seconds or --operations is given. An operation budget runs in slices of 250000 operations (--slice-operations), slice k with a seed derived from (--seed, k), slice 0 with --seed itself; each slice stops at its first divergence, findings are deduplicated by signature. --jobs N deals the slices to N worker processes, --shard I/N runs slices k with k % N == I-1; with --seconds every job runs until the deadline. Exit 0: no divergence. Exit 1: divergence found, shrunk, reproducer written. Exit 2: bad input. 130/143: stopped by SIGINT/SIGTERM (reports written)."
    )

    @OptionGroup var budget: BudgetOptions

    @Option(help: "Run against the simulator with this mutant (see 'ismkit mutants --list').")
    var mutant: String?

    @Option(name: .customLong("byte-order"), help: "Host byte order the simulated driver runs with: little, big.")
    var byteOrder: ByteOrderArgument = .native

    @Option(help: "Driver profile: ism or vfio-pci.")
    var profile: ProfileArgument = .ism

    @Option(help: "Device: ism (BAR0 256 TiB, BAR2 8 KiB, maxstbl 4096, relaxed store blocks) or drawn (a shape drawn from --seed: any BARs present, lengths from 4 KiB to 256 TiB, maxstbl 128...4096, config space 256 or 4096, relaxed or strict store blocks) or table (the ism device with its region bases from a table drawn from --seed, not index << shift: shuffled, no power of two apart, gaps between regions).")
    var device: DeviceShapeArgument = .ism

    @OptionGroup var sequence: SequenceOptions

    @OptionGroup var output: ReproducerOutputOptions

    @OptionGroup var reports: ReportOptions

    @OptionGroup var parallel: ParallelOptions

    @OptionGroup var slice: SliceOptions

    @Flag(help: "No progress line.")
    var quiet = false

    /// Operations per unit of an operation budget: slice k runs this many with a seed from (--seed, k).
    static let sliceOperations = 250_000

    func run() throws {
        let m = try Targets.mutant(named: mutant)
        var device = DeviceConfig.ism(hostByteOrder: byteOrder.value)
        device.profile = profile.value
        if self.device == .drawn {
            device = DeviceShapes.draw(seed: budget.seed, count: 1, byteOrder: byteOrder.value, profile: profile.value)[0]
        }
        if self.device == .table { device = DeviceShapes.withRegionTable(device, seed: budget.seed) }
        let diff = MutantKillRun.differential(config: device, mutant: m)
        let kind = MutantKillRun.kind(mutant: m)
        let b = budget.budget(defaultSeconds: 10)
        let slices = Units.slices(budget: b, seed: budget.seed, sliceOperations: slice.sliceOperations ?? Self.sliceOperations, jobs: parallel.jobs,
                                  shards: parallel.shard?.count ?? 1)
        let units = parallel.units(of: slices.count)
        let worker = parallel.worker != nil
        if !worker { reports.begin() }
        let progress = ProgressLine(quiet: quiet || worker)
        if !quiet && !worker {
            printError("ismkit run: \(kind) vs model, \(device.profile.rawValue) profile, \(device.hostByteOrder.rawValue)-endian host, seed \(budget.seed), \(b)\(parallel.note)")
            if self.device != .ism { printError("device: \(device.shapeSummary)") }
        }
        let clock = ContinuousClock()
        let started = clock.now
        var before = 0  // operations of the units this process already ran, for its progress line
        let records = try UnitRun.run(units, parallel, progress: progress, show: { done, elapsed in
            let ops = done.reduce(0) { $0 + $1.operations }
            return "[\(Int(elapsed.seconds)) s] \(ops) operations, \(elapsed.seconds > 0 ? Int(Double(ops) / elapsed.seconds) : 0) ops/s, "
                + "\(done.reduce(0) { $0 + $1.findings.count }) finding(s)"
        }) { k -> CampaignRecord in
            let slice = slices[k]
            let base = before
            var campaign = Campaign(differential: diff, options: GeneratorOptions(), seed: slice.seed, budget: slice.budget,
                                    sequenceLength: sequence.sequenceLength,
                                    progress: progress.callback.map { show in { p in var p = p; p.operations += base; p.elapsed = clock.now - started; show(p) } })
            campaign.progressInterval = progress.interval
            let result = try campaign.run()
            before += result.operations
            return CampaignRecord(result, seed: slice.seed)
        }
        guard let records else { return }  // a worker: its results are in its result file
        progress.end()
        let (result, findingSeed) = CampaignRecord.combine(records, elapsed: clock.now - started)
        try finish(result: result, kind: kind, device: device, seed: budget.seed, findingSeed: findingSeed, output: output.output, reports: reports,
                   capabilities: SimulatedDevice(config: device).capabilities, compareTrace: true)
    }
}

/// Prints the report, writes the reproducer and the report files, and turns a divergence into exit 1.
func finish(result: CampaignTotals, kind: ImplementationKind, device: DeviceConfig, seed: UInt64, findingSeed: UInt64? = nil, output: String,
            reports: ReportOptions, capabilities: Capabilities, compareTrace: Bool) throws {
    var findings = result.findings
    if let f = findings.first {
        // The seed of the unit that found it (--seed itself for unit 0).
        let found = findingSeed ?? seed
        let repro = Reproducer(target: kind.target, device: device, seed: found, operations: f.operations, divergence: f.divergence)
        do {
            findings[0].reproducer = try ReproducerStore(directory: output).save(
                repro, stem: kind.fileStem, finding: f.slug, discriminator: ReproducerStore.discriminator(seed: found))
        } catch { throw UsageError(error.description) }
    }
    let notMade = RunReport.checksNotMade(capabilities, compareTrace: compareTrace)
    let r = RunReport(result: result, target: kind.target, device: device, seed: seed, checksNotMade: notMade,
                      reproducer: findings.first?.reproducer)
    r.printText()
    if result.interrupted { print("interrupted by signal \(Interruption.requestedBy): the summary covers what ran before it") }
    var report = Report(command: "run", title: "\(kind) vs model, \(device.profile.rawValue) profile, \(device.hostByteOrder.rawValue)-endian, seed \(seed)",
                        seconds: result.elapsed.seconds, details: detailsJSON(r), interruptedBy: Interruption.requestedBy)
    var suite = Report.Suite(name: kind.description)
    suite.checks.append(.init(name: "differential against the golden model", findings: findings,
                              seconds: result.elapsed.seconds,
                              diagnostics: ["\(result.operations) operations, \(Int(result.operationsPerSecond)) ops/s", "rules exercised: \(r.rulesExercised.joined(separator: " "))"]))
    for what in notMade { suite.checks.append(.init(name: what, status: .skip("the implementation cannot show it"))) }
    report.suites = [suite]
    try conclude(report, reports)
}
