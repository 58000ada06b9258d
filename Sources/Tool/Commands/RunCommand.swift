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
        discussion: "Exit 0: no divergence. Exit 1: divergence found, shrunk, reproducer written. Exit 2: bad input."
    )

    @OptionGroup var budget: BudgetOptions

    @Option(help: "Run against the simulator with this mutant (see 'ismkit mutants --list').")
    var mutant: String?

    @Option(name: .customLong("byte-order"), help: "Host byte order the simulated driver runs with: little, big.")
    var byteOrder: ByteOrderArgument = .native

    @Option(help: "Driver profile: ism or vfio-pci.")
    var profile: ProfileArgument = .ism

    @OptionGroup var sequence: SequenceOptions

    @OptionGroup var output: ReproducerOutputOptions

    @OptionGroup var report: JSONReportOptions

    @OptionGroup var junit: JUnitOptions

    @Flag(help: "No progress line.")
    var quiet = false

    func run() throws {
        let m = try Targets.mutant(named: mutant)
        var device = DeviceConfig.ism(hostByteOrder: byteOrder.value)
        device.profile = profile.value
        let diff = MutantKillRun.differential(config: device, mutant: m)
        let kind = MutantKillRun.kind(mutant: m)
        let b = budget.budget(defaultSeconds: 10)
        if !quiet {
            printError("ismkit run: \(kind) vs model, \(device.profile.rawValue) profile, \(device.hostByteOrder.rawValue)-endian host, seed \(budget.seed), \(b)")
        }
        let campaign = Campaign(
            differential: diff, options: GeneratorOptions(), seed: budget.seed, budget: b,
            sequenceLength: sequence.sequenceLength,
            progress: quiet ? nil : { p in
                printError("  [\(Int(p.elapsed.seconds)) s] \(p.operations) operations, \(p.sequences) sequences, no divergence")
            })
        let result = try campaign.run()
        try finish(result: result, kind: kind, device: device, seed: budget.seed, output: output.output, report: report.report,
                   junit: junit.junit, capabilities: SimulatedDevice(config: device).capabilities, compareTrace: true)
    }
}

/// Prints the report, writes the reproducer and JSON report, and turns a divergence into exit 1.
func finish(result: CampaignResult, kind: ImplementationKind, device: DeviceConfig, seed: UInt64, output: String,
            report: String?, junit: String? = nil, capabilities: Capabilities, compareTrace: Bool) throws {
    var path: String?
    if let f = result.findings.first {
        let repro = Reproducer(target: kind.target, device: device, seed: seed, operations: f.operations, divergence: f.divergence)
        do {
            path = try ReproducerStore(directory: output).save(repro, stem: kind.fileStem, finding: f.slug,
                                                               discriminator: ReproducerStore.discriminator(seed: seed))
        } catch { throw UsageError(error.description) }
    }
    let r = RunReport(result: result, target: kind.target, device: device, seed: seed,
                      checksNotMade: RunReport.checksNotMade(capabilities, compareTrace: compareTrace), reproducer: path)
    r.printText()
    if let report { try r.write(to: report) }
    if let junit {
        var j = JUnitReport(suite: "ismkit run")
        let name = "\(kind) vs model, \(device.profile.rawValue), \(device.hostByteOrder.rawValue)-endian, seed \(seed)"
        j.cases.append(.init(name: name, seconds: r.seconds, failure: result.divergence.map { d in
            ("\(d.headline) \(d.aspect.rawValue) differs at \(d.operation.summary(in: d.layout))",
             d.description + (path.map { "\nreproducer: \($0)" } ?? ""))
        }))
        try j.write(to: junit)
    }
    if result.divergence != nil { throw FindingExit() }
}
