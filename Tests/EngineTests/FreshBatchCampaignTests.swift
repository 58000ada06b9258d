import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMModel
import ISMSimulator
import Testing

/// A simulator that makes its device fresh inside a batch (`ISMAccess.resetsInBatch`), as a
/// pooled harness process does with `RESET` lines; after `freshStarts` fresh starts it cannot
/// make another (as a process whose `RESET` failed), and `resetsInBatch` says so when told to.
struct FreshInBatchSimulator: ISMAccess {
    var device: SimulatedDevice
    let make: () -> SimulatedDevice
    var freshStarts = Int.max
    var resetsWork = true
    var capabilities: Capabilities { device.capabilities }
    mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo { try device.regionInfo(index: index, argsz: argsz) }
    mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try device.pread(into: buffer, offset: offset, fault: fault)
    }
    mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try device.pwrite(from: buffer, offset: offset, fault: fault)
    }
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int { try device.read(into: buffer, fault: fault) }
    mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int { try device.write(from: buffer, fault: fault) }
    mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 { try device.seek(offset: offset, whence: whence) }
    mutating func recoverHandle() throws(AccessError) { try device.recoverHandle() }
    mutating func attachPeer(failPool: Bool) throws(AccessError) { try device.attachPeer(failPool: failPool) }
    mutating func detachPeer() throws(AccessError) { try device.detachPeer() }
    mutating func resources() throws(AccessError) -> ResourceCounts { try device.resources() }
    mutating func takeTrace(into events: inout [TraceEvent]) { device.takeTrace(into: &events) }

    var resetsInBatch: Bool { resetsWork }
    mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                          into results: inout BatchResults) {
        for (j, op) in operations.enumerated() {
            if freshBefore.contains(j) {
                guard freshStarts > 0 else { resetsWork = false; return }
                freshStarts -= 1
                device = make()
            }
            performRecording(op, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            if results.broke { return }
        }
    }
}

/// A campaign that hands several sequences to an implementation at once (each from a fresh
/// device) finds what one sequence at a time finds: the same first divergence, after the same
/// operations, with the same sequence recorded, and runs the same operations when nothing diverges.
struct FreshBatchCampaignTests {
    static func campaign<I: ISMAccess>(_ config: DeviceConfig, budget: Int, _ make: @escaping () -> I) -> Campaign<I> {
        let diff = Differential(config: config) { () throws(AccessError) in make() }
        return Campaign(differential: diff, options: GeneratorOptions(), seed: TestSeed.value, budget: .operations(budget), shrink: false)
    }

    static func summary(_ r: CampaignResult) -> String {
        let d = r.findings.first?.divergence
        return "ops \(r.operations) seqs \(r.sequences) before \(r.operationsToFirstDivergence ?? -1) at \(d?.index ?? -1) "
            + "\(d?.rule.rawValue ?? "-") \(d?.aspect.rawValue ?? "-") seq \(r.original.map { "\($0)" } ?? "-")"
    }

    @Test(arguments: [Mutant?.none] + Mutant.allCases.prefix(12).map(Optional.some))
    func severalSequencesPerBatchFindWhatOneAtATimeFinds(mutant: Mutant?) throws {
        let config = DeviceConfig.ism(hostByteOrder: .big)
        let make = { SimulatedDevice(config: config, mutant: mutant) }
        let one = try Self.campaign(config, budget: 6000, make).run()
        let grouped = try Self.campaign(config, budget: 6000) { FreshInBatchSimulator(device: make(), make: make) }.run()
        #expect(Self.summary(grouped) == Self.summary(one))
        if mutant == nil { #expect(one.divergence == nil && one.operations == 6000) }
    }

    /// Without a fresh device per sequence inside the batch, the grouped run differs: the
    /// fresh starts are what makes it equal (the check above is not vacuous).
    @Test func withoutFreshStartsTheGroupedRunDiffers() throws {
        let config = DeviceConfig.ism(hostByteOrder: .big)
        let make = { SimulatedDevice(config: config, mutant: nil) }
        struct NoFreshStart: ISMAccess {
            var inner: FreshInBatchSimulator
            var capabilities: Capabilities { inner.capabilities }
            mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo { try inner.regionInfo(index: index, argsz: argsz) }
            mutating func pread(into b: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int { try inner.pread(into: b, offset: offset, fault: fault) }
            mutating func pwrite(from b: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int { try inner.pwrite(from: b, offset: offset, fault: fault) }
            mutating func read(into b: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int { try inner.read(into: b, fault: fault) }
            mutating func write(from b: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int { try inner.write(from: b, fault: fault) }
            mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 { try inner.seek(offset: offset, whence: whence) }
            mutating func recoverHandle() throws(AccessError) { try inner.recoverHandle() }
            mutating func attachPeer(failPool: Bool) throws(AccessError) { try inner.attachPeer(failPool: failPool) }
            mutating func detachPeer() throws(AccessError) { try inner.detachPeer() }
            mutating func resources() throws(AccessError) -> ResourceCounts { try inner.resources() }
            mutating func takeTrace(into events: inout [TraceEvent]) { inner.takeTrace(into: &events) }
            var resetsInBatch: Bool { true }
            mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                                  into results: inout BatchResults) {
                inner.perform(batch: operations, freshBefore: [], buffers: buffers, maxTransfer: maxTransfer, into: &results)  // the mutant: no fresh start
            }
        }
        let r = try Self.campaign(config, budget: 6000) { NoFreshStart(inner: FreshInBatchSimulator(device: make(), make: make)) }.run()
        #expect(r.divergence != nil, "a device carried over from the previous sequence diverges from a fresh model")
    }

    /// A fresh start the implementation cannot make ends the batch there, uncounted; the
    /// campaign goes on from a new implementation with the same operations (drawn again), so it
    /// finds what one sequence at a time finds.
    @Test(arguments: [Mutant?.none] + Mutant.allCases.prefix(12).map(Optional.some))
    func aFreshStartThatFailsGoesOnWithANewImplementation(mutant: Mutant?) throws {
        let config = DeviceConfig.ism(hostByteOrder: .big)
        let make = { SimulatedDevice(config: config, mutant: mutant) }
        var made = 0
        let grouped = try Self.campaign(config, budget: 6000) { () -> FreshInBatchSimulator in
            made += 1
            return FreshInBatchSimulator(device: make(), make: make, freshStarts: 3)
        }.run()
        let one = try Self.campaign(config, budget: 6000, make).run()
        #expect(Self.summary(grouped) == Self.summary(one))
        if grouped.operations > 4 * 32 { #expect(made > 1, "a new implementation after the failed fresh start") }
    }
}
