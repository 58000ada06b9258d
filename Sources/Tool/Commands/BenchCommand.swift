import ArgumentParser
import ISMAccess
import ISMChecks
import ISMEngine
import ISMModel
import ISMSimulator

/// `ismkit bench`: differential operations per second, against the model alone as the
/// baseline measured in the same run (build with -c release).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure differential operations per second: model alone vs model + simulator, one run.",
        discussion: "Build with 'swift build -c release'. Reports each rate and their ratio; one core."
    )

    @Option(help: "Operations per measurement.")
    var operations: Int = 2_000_000

    @OptionGroup var seedOption: SeedOptions
    var seed: UInt64 { seedOption.seed }

    @Option(help: "Repetitions; the best of each is reported.")
    var repeats: Int = 3

    mutating func validate() throws {
        guard operations > 0, repeats > 0 else { throw ValidationError("--operations and --repeats must be positive") }
    }

    func run() throws {
        let device = DeviceConfig.ism()
        var modelBest = 0.0
        var diffBest = 0.0
        for _ in 0..<repeats {
            modelBest = max(modelBest, Throughput.modelAlone(config: device, seed: seed, operations: operations))
            diffBest = max(diffBest, try Bench.rate(operations: operations) {
                Campaign(differential: MutantKillRun.differential(config: device, mutant: nil),
                         options: GeneratorOptions(), seed: seed, budget: .operations(operations), shrink: false)
            })
        }
        print("operations per run:                 \(operations) (seed \(seed), best of \(repeats))")
        print("model alone (generate + model):     \(Int(modelBest)) ops/s")
        print("differential (model + simulator):   \(Int(diffBest)) ops/s")
        print("ratio differential / model alone:   \(String(format: "%.2f", diffBest / modelBest))")
        print("target 1,000,000 differential ops/s: \(diffBest >= 1_000_000 ? "met" : "not met")")
    }

    static func rate<I: ISMAccess>(operations: Int, _ make: () -> Campaign<I>) throws -> Double {
        let r = try make().run()
        if let d = r.divergence { throw UsageError("benchmark run diverged: \(d.rule.rawValue)") }
        return r.operationsPerSecond
    }
}

