import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The concurrency check: the reference driver is linearizable on both byte orders, and each
/// concurrency source mutant is caught by it and by nothing else (the sequential conformance
/// run, differential and lifecycle checks, passes it).
extension DriverSourceTests {
    /// Writes the merged revision with `m` applied into a fresh temporary folder.
    static func mutate(_ m: ConcurrencyMutant) throws -> String {
        var source = try String(contentsOfFile: try Shared.driver("merged"), encoding: .utf8)
        for e in m.edits {
            let occurrences = source.components(separatedBy: e.original).count - 1
            try #require(occurrences == 1, "mutant \(m.name): its text occurs \(occurrences) times in merged/main.c")
            source = source.replacingOccurrences(of: e.original, with: e.replacement)
        }
        let dir = try Self.temporaryFolder("concurrency-mutant-\(m.name)")
        try source.write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        return dir + "/main.c"
    }

    /// The concurrency check alone on a driver source.
    static func concurrencySearch(_ path: String, _ order: ByteOrder, pairs: Int = 40, freeRuns: Int = 0) throws -> (finding: Finding?, runs: Int) {
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        let device = Conformance.devices(order)[0]
        let pool = IdleProcessPool()
        return ConcurrencyCheck.search(device: device, options: .init(pairs: pairs, seed: 1, freeRuns: freeRuns)) { () throws(AccessError) in
            try WireAccess(harness: bin, config: device, reuse: pool)
        }
    }

    @Test func mergedIsLinearizableOnBothByteOrders() throws {
        let path = try Shared.driver("merged")
        for order in ByteOrder.allCases {
            let freeRuns = order == .big ? 2 : 8
            let (finding, runs) = try Self.concurrencySearch(path, order, pairs: 400, freeRuns: freeRuns)
            #expect(finding == nil, "merged \(order): \(finding?.description ?? "")")
            #expect(runs >= 2000 + 400 * freeRuns, "merged \(order): only \(runs) interleavings")
            print("concurrency | merged | \(order.rawValue) | \(runs) interleavings (\(400 * freeRuns) free-running) | \(finding == nil ? "linearizable" : "FINDING")")
        }
    }

    /// v4 refuses narrow reads (R-READ-2) whether or not another call runs beside it: that is
    /// the differential check's finding, and the concurrency check must not report it again.
    @Test func sequentialDivergenceIsNoConcurrencyFinding() throws {
        let (finding, runs) = try Self.concurrencySearch(try Shared.driver("v4"), .little)
        #expect(finding == nil, "\(finding?.description ?? "")")
        #expect(runs >= 40)
    }

    @Test(arguments: ConcurrencyMutant.all)
    func concurrencyMutantIsCaughtOnlyByTheConcurrencyCheck(_ m: ConcurrencyMutant) throws {
        let path = try Self.mutate(m)
        var sequentialOnly = Self.options()
        sequentialOnly.concurrencyPairs = 0
        let without = try Self.verdict(path, .little, options: sequentialOnly)
        #expect(without.conforming, "mutant \(m.name) is caught without the concurrency check: \(without.headlines)")
        #expect(!without.checks.contains { $0.name == ConcurrencyCheck.name })
        let with = try Self.verdict(path, .little)
        let f = with.findings.first { $0.check == ConcurrencyCheck.name }
        #expect(f?.headline == "not linearizable", "mutant \(m.name) (\(m.intent)) survived the concurrency check")
        #expect(f?.pair != nil)
        print("concurrency-mutant-table | \(m.name) | \(m.intent) | without: \(without.conforming ? "conforming" : "caught") (\(without.operations) ops) "
              + "| with: \(f.map { g in "caught, " + (g.pair.map { $0.summary(in: g.layout) } ?? "") } ?? "missed") (\(with.operations) ops)")
    }

    /// A race between two boundaries: the forced interleavings (every hold of 60 pairs) miss
    /// it, the sequential checks too, and free-running runs of the same pairs catch it.
    @Test(arguments: ConcurrencyMutant.freeRunning)
    func freeRunningMutantIsCaughtOnlyByFreeRuns(_ m: ConcurrencyMutant) throws {
        let path = try Self.mutate(m)
        let (forced, forcedRuns) = try Self.concurrencySearch(path, .little, pairs: 60)
        #expect(forced == nil, "mutant \(m.name) is caught by the forced interleavings: \(forced?.description ?? "")")
        #expect(forcedRuns >= 300)
        var sequentialOnly = Self.options()
        sequentialOnly.concurrencyPairs = 0
        let without = try Self.verdict(path, .little, options: sequentialOnly)
        #expect(without.conforming, "mutant \(m.name) is caught without the concurrency check: \(without.headlines)")
        let (free, freeRuns) = try Self.concurrencySearch(path, .little, pairs: 60, freeRuns: 8)
        #expect(free?.headline == "not linearizable", "mutant \(m.name) (\(m.intent)) survived \(freeRuns) runs")
        #expect(free?.pair?.isFreeRunning == true, "\(free?.pair.map { "\($0)" } ?? "no pair")")
        print("concurrency-free-mutant-table | \(m.name) | forced: \(forced == nil ? "missed" : "caught") (\(forcedRuns) runs) "
              + "| free-running: \(free.map { g in "caught, " + (g.pair.map { $0.summary(in: g.layout) } ?? "") } ?? "missed") (\(freeRuns) runs)")
    }

    @Test func freeRunningMutantCaughtOnBigEndian() throws {
        let m = try #require(ConcurrencyMutant.freeRunning.first { $0.name == "shared-write-result" })
        // A free run shows this race about once in seven tries of a write beside a write (1000
        // runs of one such pair): 8 runs of each of 60 pairs make a miss about as likely as never.
        let (finding, runs) = try Self.concurrencySearch(try Self.mutate(m), .big, pairs: 60, freeRuns: 8)
        #expect(finding?.pair?.isFreeRunning == true, "big-endian: \(m.name) survived \(runs) runs")
    }

    /// The check runs pairs on every conformance device (the fixed two and the drawn shapes):
    /// the reference driver is linearizable on each, and a forced-interleaving mutant is caught
    /// by the forced interleavings alone (no free runs: deterministic) of 80 pairs on each device
    /// that has a BAR to pair on (on a strict device with a small maxstbl, 40 pairs do not hold
    /// two writes at the right boundary).
    @Test func pairsRunOnEveryConformanceDevice() throws {
        let plan = ConcurrencyCheck.plan(.little, seed: 1, pairs: 60, shapes: true)
        #expect(plan.map(\.device) == Conformance.campaignDevices(.little, seed: 1))
        #expect(plan.count == 2 + Conformance.drawnShapes)
        let merged = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: .little)
        let mutant = try HarnessBuilder.build(driverSource: try Self.mutate(try #require(ConcurrencyMutant.all.first { $0.name == "shared-store-block-buffer" })),
                                              variant: .little)
        var caught = 0, pairable = 0
        for (i, step) in plan.enumerated() {
            let pool = IdleProcessPool()
            func search(_ bin: HarnessBinary, _ pairs: Int, freeRuns: Int) -> (finding: Finding?, runs: Int) {
                ConcurrencyCheck.search(device: step.device, options: .init(pairs: pairs, seed: step.seed, freeRuns: freeRuns)) { () throws(AccessError) in
                    try WireAccess(harness: bin, config: step.device, reuse: pool)
                }
            }
            let clean = search(merged, step.pairs, freeRuns: 4)
            #expect(clean.finding == nil, "merged on device \(i): \(clean.finding?.description ?? "")")
            guard !ConcurrencyCheck.cases(device: step.device, seed: step.seed, count: 1).isEmpty else { continue }
            pairable += 1
            let found = search(mutant, 80, freeRuns: 0)
            if found.finding?.headline == "not linearizable" { caught += 1 }
            print("concurrency-devices | device \(i) | \(step.pairs) pairs, \(clean.runs) runs: \(clean.finding == nil ? "linearizable" : "FINDING") "
                  + "| shared-store-block-buffer: \(found.finding == nil ? "missed" : "caught") (\(found.runs) runs)")
        }
        #expect(pairable >= 4, "only \(pairable) devices have a BAR to pair on")
        #expect(caught == pairable, "the mutant was caught on \(caught) of \(pairable) devices")
    }

    @Test func concurrencyMutantCaughtOnBigEndian() throws {
        let m = try #require(ConcurrencyMutant.all.first { $0.name == "shared-store-block-buffer" })
        let (finding, runs) = try Self.concurrencySearch(try Self.mutate(m), .big)
        #expect(finding?.headline == "not linearizable", "big-endian: \(m.name) survived \(runs) interleavings")
    }

    @Test func concurrencyReproducerReplaysAndShrinks() throws {
        let m = try #require(ConcurrencyMutant.all.first { $0.name == "shared-store-block-buffer" })
        let path = try Self.mutate(m)
        let (found, _) = try Self.concurrencySearch(path, .little)
        let finding = try #require(found)
        let pair = try #require(finding.pair)
        // Shrunk: no set-up operation is needed, and both sides are writes.
        #expect(finding.operations.isEmpty, "\(finding.operations)")
        #expect(pair.first.isWrite && pair.second.isWrite, "\(pair)")
        let device = Conformance.devices(.little)[0]
        let repro = Reproducer(target: ImplementationKind.driverSource(path: path, byteOrder: .little).target, device: device,
                               seed: 1, operations: finding.operations, divergence: nil, pair: pair)
        let loaded = try Reproducer.decode(repro.encoded())
        #expect(loaded == repro)
        let again = try ConcurrencyCheck.replay(loaded, pair: pair).get()
        #expect(again?.judgement.explained == false, "the reproducer does not reproduce on the mutant")
        var fixed = loaded
        fixed.target = ImplementationKind.driverSource(path: try Shared.driver("merged"), byteOrder: .little).target
        let onMerged = try ConcurrencyCheck.replay(fixed, pair: pair).get()
        #expect(onMerged?.judgement.explained == true, "the reference driver does not explain it: \(onMerged?.judgement.differences ?? [])")
    }
}
