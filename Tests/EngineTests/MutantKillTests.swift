import ISMAccess
import ISMChecks
import ISMEngine
import ISMModel
import ISMSimulator
import Testing

/// The harness must catch every catalog mutant, and must not flag the correct simulator.
@Suite struct MutantKillTests {
    @Test(arguments: Mutant.allCases)
    func everyMutantIsKilledAndShrinksSmall(mutant: Mutant) throws {
        let row = MutantKillRun.run(mutant: mutant, seed: TestSeed.value, operationsPerMutant: 200_000)
        #expect(row.killed, "\(mutant.rawValue) survived 200,000 operations (seed \(TestSeed.value))")
        #expect((row.shrunkLength ?? .max) <= 3, "\(mutant.rawValue) shrank only to \(row.shrunkLength ?? -1) operations")
        // The report names the broken rule: it is on the model's decision path for the divergence.
        if let d = row.divergence {
            #expect((d.cited ?? [d.rule]).contains(mutant.rule), "\(mutant.rawValue): divergence cites \(d.cited ?? [d.rule]), not \(mutant.rule.rawValue)")
        }
        // The shrunk reproducer shows the finding again from a fresh start.
        if let repro = row.reproducer, let d = repro.divergence {
            let replay = try MutantKillRun.differential(config: repro.device, mutant: mutant).check(repro.operations)
            #expect(replay == d)
        }
    }

    @Test(arguments: [ByteOrder.little, .big], [Profile.ism, .vfioPCI])
    func theCorrectSimulatorAgreesWithTheModel(order: ByteOrder, profile: Profile) throws {
        var config = DeviceConfig.ism(hostByteOrder: order)
        config.profile = profile
        if profile == .vfioPCI { config.msix = MSIXTable(bar: 2, start: 0x1000, length: 0x200) }
        let campaign = Campaign(differential: MutantKillRun.differential(config: config, mutant: nil),
                                options: GeneratorOptions(), seed: TestSeed.value, budget: .operations(150_000))
        let result = try campaign.run()
        #expect(result.divergence == nil, "\(result.divergence?.description ?? "")")
        #expect(result.operations == 150_000)
    }

    /// A run that cannot see traces (nor inject device faults, which expose the instruction
    /// count) must still catch what results and bytes show, and must not claim trace-only mutants.
    @Test func withoutTracesOnlyTraceMutantsSurvive() throws {
        let config = DeviceConfig.ism(hostByteOrder: .big)
        let noFaults = GeneratorOptions(faults: false)
        for mutant in [Mutant.writeFragmented, .unalignedLoads] {
            let diff = Differential(config: config, compareTrace: false) { SimulatedDevice(config: config, mutant: mutant) }
            let r = try Campaign(differential: diff, options: noFaults, seed: TestSeed.value, budget: .operations(20_000)).run()
            #expect(r.divergence == nil, "\(mutant.rawValue) is only visible in the trace")
        }
        let diff = Differential(config: config, compareTrace: false) { SimulatedDevice(config: config, mutant: .readCopiesU64Prefix) }
        let r = try Campaign(differential: diff, options: noFaults, seed: TestSeed.value, budget: .operations(20_000)).run()
        #expect(r.divergence?.rule == .read3)
    }
}
