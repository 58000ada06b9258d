import ArgumentParser
import Foundation
import ISMAccess
import ISMHarness
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

    @Option(name: .customLong("sequence-length"), help: "Operations per sequence (each sequence starts from a fresh device).")
    var sequenceLength: Int = 32

    @Option(help: "Folder for reproducer files.")
    var output: String = "reproducers"

    @Option(help: "Also write the run's summary as JSON to this file.")
    var report: String?

    @Option(help: "Also write a JUnit XML report (one test case: the run) to this file.")
    var junit: String?

    @Flag(help: "No progress line.")
    var quiet = false

    mutating func validate() throws {
        guard sequenceLength > 0 else { throw ValidationError("--sequence-length must be positive") }
    }

    func run() throws {
        let m = try Targets.mutant(named: mutant)
        var device = DeviceConfig.ism(hostByteOrder: byteOrder.value)
        device.profile = profile.value
        let diff = MutantKillRun.differential(config: device, mutant: m)
        let target = MutantKillRun.target(mutant: m)
        let b = budget.budget(defaultSeconds: 10)
        if !quiet {
            printError("ismkit run: \(target) vs model, \(device.profile.rawValue) profile, \(device.hostByteOrder.rawValue)-endian host, seed \(budget.seed), \(b)")
        }
        let campaign = Campaign(
            differential: diff, options: GeneratorOptions(), seed: budget.seed, budget: b,
            sequenceLength: sequenceLength,
            progress: quiet ? nil : { p in
                printError("  [\(Int(p.elapsed.seconds)) s] \(p.operations) operations, \(p.sequences) sequences, no divergence")
            })
        let result = try campaign.run()
        try finish(result: result, target: target, device: device, seed: budget.seed, output: output, report: report,
                   junit: junit, capabilities: SimulatedDevice(config: device).capabilities, compareTrace: true)
    }
}

/// Prints the report, writes the reproducer and JSON report, and turns a divergence into exit 1.
func finish(result: CampaignResult, target: Reproducer.Target, device: DeviceConfig, seed: UInt64, output: String,
            report: String?, junit: String? = nil, capabilities: Capabilities, compareTrace: Bool) throws {
    var path: String?
    if let d = result.divergence, let ops = result.shrunk {
        let repro = Reproducer(target: target, device: device, seed: seed, operations: ops, divergence: d)
        let name = "\(target.kind)-\(target.parameters["mutant"] ?? target.parameters["byte-order"] ?? "main")-\(d.rule.rawValue)-seed\(seed).json"
        let p = (output as NSString).appendingPathComponent(name)
        do { try repro.save(path: p) } catch { throw UsageError(error.description) }
        path = p
    }
    let r = RunReport(result: result, target: target, device: device, seed: seed,
                      checksNotMade: RunReport.checksNotMade(capabilities, compareTrace: compareTrace), reproducer: path)
    r.printText()
    if let report { try r.write(to: report) }
    if let junit {
        var j = JUnitReport(suite: "ismkit run")
        let name = "\(target) vs model, \(device.profile.rawValue), \(device.hostByteOrder.rawValue)-endian, seed \(seed)"
        j.cases.append(.init(name: name, seconds: r.seconds, failure: result.divergence.map { d in
            ("\(d.rule.rawValue) \(d.aspect.rawValue) differs at \(d.operation.summary)",
             d.description + (path.map { "\nreproducer: \($0)" } ?? ""))
        }))
        try j.write(to: junit)
    }
    if result.divergence != nil { throw Finding() }
}
