import ISMAccess
import ISMChecks
import ISMEngine
import ISMSimulator
import Testing

/// The simulator mutants of the mid-operation fault and device-shape classes: each is killed
/// with its check and survives the same budget without it (the old generator on the one device).
@Suite struct ReachMutantKillTests {
    static let cases: [(Mutant, String)] = [
        (.handleCachedPerRead, "midOperation"), (.handleReadBeforeCopy, "midOperation"),
        (.barEndU32, "shapes"), (.regionIndexU8, "shapes"),
    ]

    @Test(arguments: cases.map(\.0))
    func killedWithItsCheckAndMissedWithout(_ m: Mutant) {
        let check = Self.cases.first { $0.0 == m }!.1
        let with = MutantKillRun.run(mutant: m, seed: TestSeed.value, operationsPerMutant: 20_000)
        #expect(with.killed, "\(m.rawValue) survived with \(check)")
        var off = GeneratorOptions()
        if check == "midOperation" { off.midOperation = false } else { off.shapeEdges = false }
        let without = MutantKillRun.run(mutant: m, seed: TestSeed.value, operationsPerMutant: 20_000, options: off,
                                        shapes: check == "shapes" ? 0 : MutantKillRun.drawnShapes)
        #expect(!without.killed, "\(m.rawValue) is killed without \(check) after \(without.operationsToKill ?? -1) ops: \(without.divergence?.description ?? "")")
        print("reach-kill-table | \(m.rawValue) | \(m.rule.rawValue) | \(check) | killed after \(with.operationsToKill ?? -1) ops | without: survives 20000 ops per device")
    }

    /// The correct simulator agrees with the model on every drawn shape, both profiles.
    @Test(arguments: [ByteOrder.little, .big], [Profile.ism, .vfioPCI])
    func correctSimulatorOnDrawnShapes(order: ByteOrder, profile: Profile) throws {
        for (i, config) in DeviceShapes.draw(seed: TestSeed.value, count: 8, byteOrder: order, profile: profile).enumerated() {
            let r = try Campaign(differential: MutantKillRun.differential(config: config, mutant: nil), options: GeneratorOptions(),
                                 seed: TestSeed.value &+ UInt64(i), budget: .operations(10_000)).run()
            #expect(r.divergence == nil, "\(config.shapeSummary): \(r.divergence?.description ?? "")")
        }
    }

    /// Draws cover what the shape class promises.
    @Test func drawsCoverTheShapes() {
        let all = DeviceShapes.draw(seed: 1, count: 400, byteOrder: .little)
        let lengths = all.flatMap(\.barLengths)
        #expect(lengths.contains { $0 > 1 << 32 && $0 <= (1 << 32) + 4096 })
        #expect(lengths.contains { $0 > 1 << 40 && $0 <= (1 << 40) + 4096 })
        #expect(lengths.contains(4096) && lengths.contains(1 << 48))
        #expect(lengths.allSatisfy { $0 <= 1 << 48 })
        #expect(all.contains { $0.maxstbl == 128 } && all.contains { $0.maxstbl == 4096 })
        #expect(all.allSatisfy { (128...4096).contains($0.maxstbl) })
        #expect(Set(all.map(\.configSize)) == [256, 4096])
        #expect(all.contains { $0.storeBlocks == .strict } && all.contains { $0.storeBlocks == .relaxed })
        for bar in 0..<6 { #expect(all.contains { $0.barLengths[bar] == 0 } && all.contains { $0.barLengths[bar] > 0 }) }
        #expect(all.contains { $0.barLengths[0] == 0 && $0.barLengths.contains { $0 > 0 } })
        #expect(DeviceShapes.draw(seed: 7, count: 3, byteOrder: .big) == DeviceShapes.draw(seed: 7, count: 3, byteOrder: .big))
    }
}
