import ArgumentParser
import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMModel
import ISMOutOfProcess
import ISMSimulator

/// `ismkit bench`: differential operations per second, against the model alone as the
/// baseline measured in the same run (build with -c release); with `--driver-source`, checked
/// driver-source conformance operations per second against a plain C loop of the same
/// operations through the same driver build, per byte order.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure differential operations per second against a baseline measured in the same run.",
        discussion: """
            Build with 'swift build -c release'. Without --driver-source: model alone vs model + simulator. \
            With --driver-source main.c: for each byte order, the driver-source conformance campaign \
            (checked operations/s, as 'ismkit conform --no-lifecycle --concurrency-pairs 0' runs it: the \
            differential campaigns, not the fixed-cost checks) vs the same operations run by \
            the same harness build in a plain C loop with no checking (ISMKIT_WIRE_LOOP); each rate and their \
            ratio. --operations defaults to 200000 there.
            """
    )

    @Option(help: "Operations per measurement (default 2000000; with --driver-source 200000).")
    var operations: Int?

    @Option(name: .customLong("driver-source"), help: "A driver main.c: benchmark driver-source conformance against a C loop.")
    var driverSource: String?

    @Option(name: .customLong("byte-order"), help: "With --driver-source: little, big or both.")
    var byteOrder: Conform.Orders = .both

    @OptionGroup var seedOption: SeedOptions
    var seed: UInt64 { seedOption.seed }

    @Option(help: "Repetitions; the best of each is reported.")
    var repeats: Int = 3

    mutating func validate() throws {
        guard operations ?? 1 > 0, repeats > 0 else { throw ValidationError("--operations and --repeats must be positive") }
        if let driverSource, !FileManager.default.isReadableFile(atPath: driverSource) {
            throw ValidationError("\(driverSource): cannot read the driver source")
        }
    }

    func run() throws {
        if let driverSource { return try driverSourceBench(driverSource) }
        let operations = operations ?? 2_000_000
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

    /// Checked conformance operations/s vs the C loop of the same operations, per byte order.
    func driverSourceBench(_ path: String) throws {
        let operations = operations ?? 200_000
        print("driver source: \(path), \(operations) operations per byte order (seed \(seed), best of \(repeats))")
        for order in byteOrder.values {
            let bin: HarnessBinary
            do { bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little) } catch {
                throw UsageError("\(error)")
            }
            var checked = 0.0
            var loop = 0.0
            var loopNoReset = 0.0
            for _ in 0..<repeats {
                var options = ConformanceOptions(budget: .operations(operations), seed: seed, reproducerDirectory: nil, lifecycle: false)
                options.concurrencyPairs = 0  // its pair runs are not the campaign's operations (make conform-concurrency-bench times it)
                let r = try Conformance.run(.driverSource(path: path), byteOrder: order, options: options)
                if let f = r.findings.first { throw UsageError("benchmark run found something (\(f.headline)): benchmark a conforming source") }
                checked = max(checked, r.operationsPerSecond)
                // The same operations: the campaigns' devices, seeds, budget shares and sequence length.
                let devices = Conformance.devices(order)
                var ops = 0
                var seconds = 0.0
                var opsNoReset = 0
                var secondsNoReset = 0.0
                for (i, device) in devices.enumerated() {
                    var generator = OperationGenerator(config: device, options: GeneratorOptions(), seed: seed &+ UInt64(i))
                    var left = max(1, operations / devices.count)
                    var sequences: [[Operation]] = []
                    while left > 0 {
                        let n = min(options.sequenceLength, left)
                        sequences.append((0..<n).map { _ in generator.next() })
                        left -= n
                    }
                    let m = try WireLoop.run(bin, script: WireLoop.script(config: device, sequences: sequences))
                    ops += m.operations
                    seconds += m.seconds
                    let one = try WireLoop.run(bin, script: WireLoop.script(config: device, sequences: [sequences.flatMap { $0 }]))
                    opsNoReset += one.operations
                    secondsNoReset += one.seconds
                }
                loop = max(loop, Double(ops) / seconds)
                loopNoReset = max(loopNoReset, Double(opsNoReset) / secondsNoReset)
            }
            let name = order == .big ? "big-endian (s390x, qemu-user)" : "little-endian (native)"
            let target = order == .big ? 0.35 : 0.1
            print("\(name):")
            print("  C loop, same operations, same build (a fresh device per sequence, as checked): \(Int(loop)) ops/s")
            print("  C loop, same operations, one device throughout:                             \(Int(loopNoReset)) ops/s")
            print("  conformance, checked:                                                        \(Int(checked)) ops/s")
            print("  ratio checked / loop (fresh device per sequence): \(String(format: "%.4f", checked / loop)) (target \(target): \(checked / loop >= target ? "met" : "not met"))")
            print("  ratio checked / loop (one device throughout):     \(String(format: "%.4f", checked / loopNoReset))")
        }
    }

    static func rate<I: ISMAccess>(operations: Int, _ make: () -> Campaign<I>) throws -> Double {
        let r = try make().run()
        if let d = r.divergence { throw UsageError("benchmark run diverged: \(d.rule.rawValue)") }
        return r.operationsPerSecond
    }
}

