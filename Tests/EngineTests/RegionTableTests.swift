import Foundation
import ISMAccess
import ISMChecks
@testable import ISMEngine
import ISMModel
import ISMSimulator
import Testing

/// Devices whose region bases come from a table (the dynamic region offsets class): the model
/// and the simulator decode through the table, region info answers its bases, the generator
/// and shrinker work in it, and the class's mutants are killed on a table device and survive
/// every shift-layout device.
@Suite struct RegionTableTests {
    static let table = DeviceShapes.regionTable(seed: 7)
    static let device = DeviceShapes.withRegionTable(.ism(), seed: 7)

    @Test func drawnTablesAreValidShuffledAndNotShiftSpaced() {
        for seed: UInt64 in [1, 2, 7, 99, 12345] {
            let t = DeviceShapes.regionTable(seed: seed)
            #expect(t.problem == nil)
            #expect(t.span == 1 << 48)
            #expect(t.bases != t.bases.sorted(), "bases grow with the index: \(t.bases)")
            // No base is index << 48 for its own index, nor a multiple of the span.
            for (i, b) in t.bases.enumerated() { #expect(b != UInt64(i) << 48 && b % t.span != 0) }
        }
        #expect(DeviceShapes.regionTable(seed: 7) == DeviceShapes.regionTable(seed: 7))
        #expect(DeviceShapes.regionTable(seed: 7, profile: .vfioPCI).span == 1 << 40)
    }

    @Test func tableProblemsAreNamed() {
        let b = Self.table.bases
        #expect(RegionTable(bases: Array(b.prefix(7)), span: 1 << 48).problem != nil)
        #expect(RegionTable(bases: b, span: (1 << 48) + 4096).problem != nil)
        var overlapping = b
        overlapping[3] = overlapping[5] + 4096
        #expect(RegionTable(bases: overlapping, span: 1 << 48).problem?.contains("overlap") == true)
    }

    @Test func theModelDecodesThroughTheTable() throws {
        var model = GoldenModel(config: Self.device)
        let b = Self.table.bases
        // Region info answers the table's bases.
        #expect(try model.regionInfo(index: 2, argsz: 32).offset == b[2])
        #expect(try model.regionInfo(index: 7, argsz: 32).offset == b[7])
        // A read at BAR2's base + 8 is BAR2 position 8: one 8-byte load there.
        var buf = [UInt8](repeating: 0, count: 8)
        let n = try buf.withUnsafeMutableBytes { p throws(AccessError) in try model.pread(into: p, offset: b[2] + 8, fault: .none) }
        #expect(n == 8)
        var trace: [TraceEvent] = []
        model.takeTrace(into: &trace)
        #expect(trace == [.load(bar: 2, position: 8, width: 8, handle: 0)])
        // A shift-layout offset that lies in no region of this table: EINVAL under R-OFF-3.
        let outside = try #require((0..<8).map { UInt64($0) << 48 | 8 }.first { Self.table.decode($0) == nil })
        #expect(throws: AccessError.einval) {
            try buf.withUnsafeMutableBytes { p throws(AccessError) in try model.pread(into: p, offset: outside, fault: .none) }
        }
        #expect(model.lastDecision.rule == .off3)
        // One byte past BAR2's span is no region either, and one below its base.
        #expect(Self.table.decode(b[2] + Self.table.span) == nil)
        #expect(Self.table.decode(b[2] - 1) == nil)
    }

    @Test func theCorrectSimulatorAgreesOnTableDevices() throws {
        var configs = [Self.device, DeviceShapes.withRegionTable(.ism(hostByteOrder: .big), seed: 3)]
        var generic = DeviceShapes.withRegionTable(.ism(), seed: 5)
        generic.profile = .vfioPCI
        generic.barLengths = [1 << 20, 0, 8192, 0, 0, 0]
        generic.regionTable = DeviceShapes.regionTable(seed: 5, profile: .vfioPCI)
        configs.append(generic)
        configs += DeviceShapes.draw(seed: TestSeed.value, count: 3, byteOrder: .little).map { DeviceShapes.withRegionTable($0, seed: 11) }
        for (i, config) in configs.enumerated() {
            let r = try Campaign(differential: MutantKillRun.differential(config: config, mutant: nil), options: GeneratorOptions(shapeEdges: true),
                                 seed: TestSeed.value &+ UInt64(i), budget: .operations(20_000)).run()
            #expect(r.divergence == nil, "\(config.shapeSummary): \(r.divergence?.description ?? "")")
        }
    }

    /// Generated offsets land in every present region, near both of its edges, and in the gaps.
    @Test func generatedOffsetsHitTheTablesRegionsAndGaps() {
        var g = OperationGenerator(config: Self.device, options: GeneratorOptions(), seed: TestSeed.value)
        var regions = Set<UInt64>(), nearEnd = Set<UInt64>(), outside = 0
        for _ in 0..<20_000 {
            let o = g.offset()
            guard o >> 63 == 0 else { continue }
            if let (i, pos) = Self.table.decode(o) {
                regions.insert(i)
                if let len = Self.device.barLength(i), len > 0, pos >= len - 16, pos <= len + 16 { nearEnd.insert(i) }
            } else {
                outside += 1
            }
        }
        #expect(regions.isSuperset(of: [0, 2, 7]))
        #expect(nearEnd.isSuperset(of: [0, 2]))
        #expect(outside > 100)
    }

    @Test func shrinkingAndPrintingWorkInTheTable() {
        let layout = Self.device.layout
        let b = Self.table.bases
        #expect(layout.describe(b[2] + 0x1f) == "[2]+0x1f")
        let outside = b.max()! + Self.table.span + 8
        #expect(layout.describe(outside) == "0x" + String(outside, radix: 16))
        let simpler = Shrinker<SimulatedDevice>.simplifications(of: .pread(offset: b[2] + 0x1235, count: 4, fault: .none), layout: layout)
        let offsets = simpler.compactMap { if case let .pread(o, 4, _) = $0 { o } else { nil } }
        #expect(offsets.contains(b[2]) && offsets.contains(b[2] + 0x1230))
        #expect(offsets.allSatisfy { Self.table.decode($0)?.index == 2 })
    }

    @Test func aReproducerCarriesTheTableAndOldFilesStayAsTheyWere() throws {
        let repro = Reproducer(target: MutantKillRun.kind(mutant: nil).target, device: Self.device, seed: 1,
                               operations: [.pread(offset: Self.table.bases[2], count: 8, fault: .none)], divergence: nil)
        let back = try Reproducer.decode(repro.encoded())
        #expect(back.device.regionTable == Self.table)
        let plain = Reproducer(target: repro.target, device: .ism(), seed: 1, operations: repro.operations, divergence: nil)
        #expect(!String(decoding: plain.encoded(), as: UTF8.self).contains("regionTable"))
        var json = String(decoding: repro.encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"span\"", with: "\"spam\"")
        #expect(throws: ReproducerError.self) { try Reproducer.decode(Data(json.utf8)) }
    }

    /// The class's mutants: killed once the kill run reaches a table device, missed by the same
    /// run without it (the fixed device and the drawn shapes all use the shift layout).
    @Test(arguments: [Mutant.offsetFromShift, .regionInfoShiftBase])
    func killedOnATableDeviceAndMissedWithout(_ m: Mutant) throws {
        #expect(m.needsRegionTable)
        let with = MutantKillRun.run(mutant: m, seed: TestSeed.value, operationsPerMutant: 20_000)
        #expect(with.killed, "\(m.rawValue) survived the table device")
        #expect(with.reproducer?.device.regionTable != nil)
        if let d = with.divergence { #expect((d.cited ?? [d.rule]).contains(m.rule)) }
        if let repro = with.reproducer, let d = repro.divergence {
            #expect(try MutantKillRun.differential(config: repro.device, mutant: m).check(repro.operations) == d)
        }
        let without = MutantKillRun.run(mutant: m, seed: TestSeed.value, operationsPerMutant: 20_000, regionTables: false)
        #expect(!without.killed, "\(m.rawValue) is killed without a table device: \(without.divergence?.description ?? "")")
        print("table-kill-table | \(m.rawValue) | \(m.rule.rawValue) | killed after \(with.operationsToKill ?? -1) ops, shrunk to \(with.shrunkLength ?? -1) | without tables: survives 20000 ops on the ism device + \(MutantKillRun.drawnShapes) shapes")
    }
}
