import ISMAccess
import ISMEngine
import ISMModel
import ISMSimulator

/// One row of the kill table: whether a campaign against the mutated simulator found the
/// mutant, on which byte order, after how many operations, and how short the shrunk
/// reproducer is.
public struct MutantKill: Sendable {
    public var mutant: Mutant
    public var killed: Bool
    public var byteOrder: ByteOrder?
    public var operationsToKill: Int?
    public var shrunkLength: Int?
    public var divergence: Divergence?
    public var reproducer: Reproducer?
}

/// Runs a campaign against every mutant (on each byte order where it should show) and
/// reports which were killed.
public enum MutantKillRun {
    /// The simulator with `mutant`, as the registry names it.
    public static func kind(mutant: Mutant?) -> ImplementationKind { .simulator(mutant: mutant) }

    public static func differential(config: DeviceConfig, mutant: Mutant?) -> Differential<SimulatedDevice> {
        ImplementationKind.simulator(config: config, mutant: mutant)
    }

    /// Device shapes (`DeviceShapes`) a mutant that survives the first device meets next, each
    /// with `operationsPerMutant / shapes` operations.
    public static let drawnShapes = 4

    /// Campaigns on `config(order)`, then on `shapes` drawn devices, then (with `regionTables`)
    /// on the first device with its region bases from a table drawn from the seed, for each
    /// byte order the mutant should show on, until one finds it.
    public static func run(
        mutant: Mutant, seed: UInt64, operationsPerMutant: Int, sequenceLength: Int = 32,
        config: (ByteOrder) -> DeviceConfig = { DeviceConfig.ism(hostByteOrder: $0) },
        options: GeneratorOptions = GeneratorOptions(), shapes: Int = drawnShapes, regionTables: Bool = true
    ) -> MutantKill {
        var used = 0
        for order in mutant.byteOrders {
            let first = config(order)
            var devices = [first] + DeviceShapes.draw(seed: seed, count: shapes, byteOrder: order, profile: first.profile)
            if regionTables && first.regionTable == nil { devices.append(DeviceShapes.withRegionTable(first, seed: seed)) }
            for (i, cfg) in devices.enumerated() {
                let budget = i == 0 ? operationsPerMutant : max(1, operationsPerMutant / max(1, shapes))
                let campaign = Campaign(differential: differential(config: cfg, mutant: mutant), options: options,
                                        seed: seed &+ UInt64(i), budget: .operations(budget), sequenceLength: sequenceLength)
                guard let result = try? campaign.run() else { continue }
                if let f = result.findings.first, let d = f.divergence {
                    let repro = Reproducer(target: kind(mutant: mutant).target, device: cfg, seed: seed &+ UInt64(i),
                                           operations: f.operations, divergence: d)
                    return MutantKill(mutant: mutant, killed: true, byteOrder: order,
                                      operationsToKill: used + (f.operationsBefore ?? result.operations),
                                      shrunkLength: f.operations.count, divergence: d, reproducer: repro)
                }
                used += result.operations
            }
        }
        return MutantKill(mutant: mutant, killed: false, byteOrder: nil, operationsToKill: nil, shrunkLength: nil,
                          divergence: nil, reproducer: nil)
    }
}
