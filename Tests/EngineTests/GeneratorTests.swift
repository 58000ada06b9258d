import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel
import Testing

/// The generator reaches the edges the SPEC cares about, and the same seed gives the same sequence.
@Suite struct GeneratorTests {
    static let sample: [Operation] = {
        var g = OperationGenerator(config: .ism(), options: GeneratorOptions(), seed: TestSeed.value)
        return g.sequence(length: 20_000)
    }()

    @Test func sameSeedSameSequence() {
        var a = OperationGenerator(config: .ism(), options: GeneratorOptions(), seed: 7)
        var b = OperationGenerator(config: .ism(), options: GeneratorOptions(), seed: 7)
        #expect(a.sequence(length: 500) == b.sequence(length: 500))
    }

    @Test func everyEdgeSizeAppears() {
        let counts = Set(Self.sample.compactMap { (op: Operation) -> Int? in op.count })
        for size in [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 4095, 4096, 4097] {
            #expect(counts.contains(size), "size \(size) never generated")
        }
    }

    @Test func everyAlignmentAndBoundaryAppears() {
        let offsets = Self.sample.compactMap { op -> UInt64? in
            switch op {
            case .pread(let o, _, _), .pwrite(let o, _, _, _): o
            default: nil
            }
        }
        let positions: [DecodedOffset] = offsets.filter { $0 >> 63 == 0 }.map { DecodedOffset(offset: $0, profile: .ism) }
        let alignments = Set(positions.map { (d: DecodedOffset) -> UInt64 in d.position % 8 })
        #expect(alignments.count == 8)
        let tib: UInt64 = 1 << 40
        let top: UInt64 = (1 << 48) - 16
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 0 && d.position >= tib && d.position < tib + 16 })
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 0 && d.position >= top })
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 2 && d.position == 8192 })
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 7 })
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 1 })
        #expect(positions.contains { (d: DecodedOffset) -> Bool in d.index == 6 || d.index >= 8 })
        #expect(offsets.contains { (o: UInt64) -> Bool in o >> 63 == 1 })
    }

    @Test func readOnlyOptionsGenerateNoWrites() {
        var g = OperationGenerator(config: .ism(), options: GeneratorOptions(faults: false, lifecycle: false, writes: false), seed: 3)
        let ops = g.sequence(length: 5000)
        #expect(!ops.contains { $0.isWrite })
        #expect(!ops.contains { if case .attachPeer = $0 { true } else { false } })
    }
}

/// `storeRejections` off removes exactly the device faults of writes: every other draw, and so
/// every other operation of the sequence, stays the same.
@Suite struct StoreRejectionDrawTests {
    static func fault(_ op: Operation) -> Fault? {
        switch op {
        case .pread(_, _, let f), .pwrite(_, _, _, let f), .read(_, let f), .write(_, _, let f): f
        default: nil
        }
    }

    @Test(arguments: [Profile.ism, .vfioPCI])
    func offRemovesOnlyWriteDeviceFaults(_ profile: Profile) {
        var config = DeviceConfig.ism(hostByteOrder: .little)
        if profile == .vfioPCI { config.profile = profile; config.barLengths[0] = 1 << 40 }
        var on = OperationGenerator(config: config, options: GeneratorOptions(), seed: TestSeed.value)
        var options = GeneratorOptions()
        options.storeRejections = false
        var off = OperationGenerator(config: config, options: options, seed: TestSeed.value)
        var removed = 0, readDeviceFaults = 0
        for (a, b) in zip(on.sequence(length: 20_000), off.sequence(length: 20_000)) {
            if a == b {
                if a.isRead, case .device? = Self.fault(a) { readDeviceFaults += 1 }
                if a.isWrite, case .device? = Self.fault(a) { Issue.record("a write kept its device fault: \(a)") }
                continue
            }
            // The only difference: a write's device fault became none.
            guard a.isWrite, case .device? = Self.fault(a), Self.fault(b) == Fault.none else {
                Issue.record("\(a) became \(b)")
                continue
            }
            removed += 1
        }
        #expect(removed > 20, "only \(removed) write device faults drawn")
        #expect(readDeviceFaults > 20, "reads keep their device faults")
    }
}
