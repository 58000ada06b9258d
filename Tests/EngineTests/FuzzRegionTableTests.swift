import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMSimulator
import Testing

/// diff-sim on a device whose region bases come from a table: fuzz inputs decoded for that
/// device name the table's regions, the diff-sim path finds the two mutants that only show on
/// such a device (and misses them on the shift layout), and a raw artifact replays on the same
/// device. Expected offsets are the drawn table's bases plus the position the input encodes.
@Suite struct FuzzRegionTableTests {
    static let table = DeviceShapes.regionTable(seed: FuzzDevice.regionTableSeed)
    /// Short inputs that show each table mutant: a read of 8 bytes at BAR2's base, and region
    /// info for BAR2 (docs/fuzz-encoding.md).
    static let inputs: [(Mutant, [UInt8])] = [(.offsetFromShift, [0x00, 0x02, 0x08]), (.regionInfoShiftBase, [0x0A, 0x02])]

    @Test func diffSimsDeviceHasTheFixedTableWhenAMutantNeedsOne() {
        #expect(FuzzDevice.ism.config(byteOrder: .little).regionTable == nil)
        #expect(FuzzDevice.ism.config(byteOrder: .big, needsRegionTable: true).regionTable == Self.table)
        #expect(FuzzDevice.table.config(byteOrder: .little).regionTable == Self.table)
        #expect(FuzzDevice.table.config(byteOrder: .big).hostByteOrder == .big)
        #expect(Self.table.problem == nil)
    }

    @Test func regionSelectorsNameTheTablesRegions() {
        let t = Self.table, b = t.bases
        for i in 0..<8 {
            // Selector i, position 0; selector 15 with the 2-byte index i; selector i, mode 8 + 5.
            let bytes: [UInt8] = [0x00, UInt8(i), 0x08, 0x00, 0x0F, UInt8(i), 0x00, 0x08, 0x00, UInt8(0xD0 | i), 0x08]
            let ops = FuzzEncoding.decode(bytes, regionTable: t)
            #expect(ops == [.pread(offset: b[i], count: 8, fault: .none), .pread(offset: b[i], count: 8, fault: .none),
                            .pread(offset: b[i] + 5, count: 8, fault: .none)], "region \(i)")
            #expect(Self.regionsAndPositions(bytes) == [[UInt64(i), 0], [UInt64(i), 0], [UInt64(i), 5]])
        }
        // The documented examples, on the table device.
        #expect(FuzzEncoding.decode([0x00, 0xB7, 0x04], regionTable: t) == [.pread(offset: b[7] + 3, count: 4, fault: .none)])
        #expect(FuzzEncoding.decode([0x04, 0x32, 0x01, 0x00, 0x2C, 0xAB], regionTable: t)
                == [.pwrite(offset: b[2] + 4096, count: 4096, pattern: 0xAB, fault: .none)])
        #expect(FuzzEncoding.decode([0x09, 0x92], regionTable: t) == [.seek(offset: Int64(b[2] + 1), whence: .set)])
        // BAR0's anchor 2^48 + 20: past region 0's span, in the gap after it (no region).
        let past = b[0] + (1 << 48) + 20
        #expect(FuzzEncoding.decode([0x00, 0x40, 0x0F, 0x14], regionTable: t) == [.pread(offset: past, count: 0, fault: .none)])
        #expect(t.decode(past) == nil)
        // Indexes the table does not list, the 40-bit-shift form, negative and literal offsets
        // stay as decoded; index 9 and 0x7FFF lie past every region of the table.
        #expect(FuzzEncoding.decode([0x00, 0x08, 0x00, 0x00, 0x09, 0x00, 0x00, 0x0A, 0x00], regionTable: t)
                == [.pread(offset: 8 << 48, count: 0, fault: .none), .pread(offset: 9 << 48, count: 0, fault: .none),
                    .pread(offset: 0x7FFF << 48, count: 0, fault: .none)])
        #expect(t.decode(9 << 48) == nil && t.decode(0x7FFF << 48) == nil)
        #expect(FuzzEncoding.decode([0x00, 0xDB, 0x01, 0x00, 0x0C, 0x00, 0x00, 0x0D, 0x00], regionTable: t)
                == [.pread(offset: 2 << 40 | 5, count: 1, fault: .none), .pread(offset: 1 << 63, count: 0, fault: .none),
                    .pread(offset: .max, count: 0, fault: .none)])
        #expect(FuzzEncoding.decode([0x00, 0x0E, 0x02, 0, 0, 0, 0, 0, 2, 0, 0x08], regionTable: t)
                == [.pread(offset: 2 << 48 | 2, count: 8, fault: .none)])
        // Without a table, and for a shift-layout device: the encoding's own `index << 48`.
        #expect(FuzzEncoding.decode([0x00, 0x02, 0x08]) == [.pread(offset: 2 << 48, count: 8, fault: .none)])
        #expect(FuzzEncoding.decode([0x00, 0x02, 0x08], for: .ism()) == [.pread(offset: 2 << 48, count: 8, fault: .none)])
    }

    /// Any position below the span, in any listed region, decodes back to that region and position.
    @Test func everyPositionOfEveryRegionLandsInItsRegion() {
        var rng = SplitMix64(seed: TestSeed.value)
        for _ in 0..<2_000 {
            let i = UInt64.random(in: 0..<8, using: &rng), p = UInt64.random(in: 0..<(1 << 48), using: &rng)
            var bytes: [UInt8] = [0x00, 0x50 | UInt8(i)]  // pread, place: selector i, u48 position
            for k in 0..<6 { bytes.append(UInt8(truncatingIfNeeded: p >> (8 * k))) }
            #expect(Self.regionsAndPositions(bytes) == [[i, p]])
        }
    }

    /// The diff-sim path (`FuzzTarget`'s check on diff-sim's device) finds each table mutant from
    /// a short input, reports it on the table device in the region the input chose, and the
    /// same input on the shift-layout device (and on the correct simulator) shows nothing.
    @Test(arguments: inputs.map(\.0))
    func diffSimFindsTheTableMutantsOnlyOnTheTableDevice(_ m: Mutant) throws {
        #expect(m.needsRegionTable)
        let input = try #require(Self.inputs.first { $0.0 == m }?.1)
        let device = FuzzDevice.ism.config(byteOrder: .native, needsRegionTable: m.needsRegionTable)
        let target = MutantKillRun.kind(mutant: m).target
        let found = try #require(Self.check(input, device: device, mutant: m, target: target), "\(m.rawValue) not found")
        #expect(found.device.regionTable == Self.table)
        let d = try #require(found.divergence)
        #expect((d.cited ?? [d.rule]).contains(m.rule), "\(d.description)")
        // The shrunk operation addresses BAR2 (region 2) through the table.
        switch found.operations.last {
        case let .pread(o, _, _)?: #expect(Self.table.decode(o)?.index == 2, "\(found.operations)")
        case .regionInfo?: break
        default: Issue.record("unexpected shrunk operations \(found.operations)")
        }
        #expect(Self.check(input, device: .ism(), mutant: m, target: target) == nil, "\(m.rawValue) shows on the shift layout")
        #expect(Self.check(input, device: device, mutant: nil, target: MutantKillRun.kind(mutant: nil).target) == nil)
    }

    /// A raw artifact replays as `ismkit replay FILE --artifact --mutant M` loads it (decoded on
    /// diff-sim's device for the mutant), and as it loads with the reproducer diff-sim writes
    /// beside it, which carries the table even when the caller names the shift-layout device.
    @Test(arguments: inputs.map(\.0))
    func aTableArtifactReplays(_ m: Mutant) throws {
        let input = try #require(Self.inputs.first { $0.0 == m }?.1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ismkit-fuzz-table-\(getpid())-\(m.rawValue)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = MutantKillRun.kind(mutant: m).target
        let raw = dir + "/crash-raw"
        #expect(FileManager.default.createFile(atPath: raw, contents: Data(input)))

        let device = FuzzDevice.ism.config(byteOrder: .native, needsRegionTable: m.needsRegionTable)
        let loaded = try Reproducer.load(path: raw, orFuzzArtifactOf: target, device: device)
        #expect(loaded.device.regionTable == Self.table)
        // Decoded for the table: BAR2's base, as diff-sim ran it.
        if m == .offsetFromShift {
            #expect(loaded.operations == [.pread(offset: Self.table.bases[2], count: 8, fault: .none)])
        } else {
            #expect(loaded.operations == [.regionInfo(index: 2, argsz: 32)])
        }
        #expect(try Self.replay(loaded) != nil, "the raw artifact does not reproduce")
        // The same artifact read for the shift layout does not: the device is what makes it show.
        #expect(try Self.replay(Reproducer.load(path: raw, orFuzzArtifactOf: target, device: .ism())) == nil)

        let beside = dir + "/crash-beside"
        #expect(FileManager.default.createFile(atPath: beside, contents: Data(input)))
        let written = try #require(Self.check(input, device: device, mutant: m, target: target))
        _ = try ReproducerStore.saveBeside(artifact: beside, written)
        let fromJSON = try Reproducer.load(path: beside, orFuzzArtifactOf: target, device: .ism())
        #expect(fromJSON.device == device)
        let d = try #require(try Self.replay(fromJSON), "the reproducer beside the artifact does not reproduce")
        #expect(written.divergence.map { d.sameFinding(as: $0) } == true)
    }

    /// `bytes` decoded for the table: each pread's region index and position in the table (nil:
    /// no region, or no pread).
    static func regionsAndPositions(_ bytes: [UInt8]) -> [[UInt64]?] {
        FuzzEncoding.decode(bytes, regionTable: table).map { op -> [UInt64]? in
            guard case let .pread(o, _, _) = op, let (i, p) = table.decode(o) else { return nil }
            return [i, p]
        }
    }

    static func check(_ input: [UInt8], device: DeviceConfig, mutant: Mutant?, target: Reproducer.Target) -> Reproducer? {
        let diff = MutantKillRun.differential(config: device, mutant: mutant)
        return input.withUnsafeBytes { FuzzTarget.reproducer(for: $0, differential: diff, target: target, shrinkChecks: 200) }
    }

    /// What `ismkit replay` does with a loaded reproducer: the implementation it names, on its device.
    static func replay(_ r: Reproducer) throws -> Divergence? {
        try ImplementationKind(r.target, device: r.device).differential(device: r.device).check(r.operations)
    }
}
