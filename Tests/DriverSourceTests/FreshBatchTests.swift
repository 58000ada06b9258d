import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// Several sequences in one pipelined batch, a `RESET` line before each (a pooled harness
/// process, `perform(batch:freshBefore:…)`), answer as the same sequences on fresh processes
/// one by one do; a crash in the middle names its operation.
extension DriverSourceTests {
    /// Sequences that change what a fresh device would not show: memory, position, handle, peer.
    static let stateful: [[Operation]] = [
        [.pwrite(offset: 0, count: 16, pattern: 3, fault: .none), .seek(offset: 100, whence: .set), .recoverHandle,
         .attachPeer(failPool: false), .read(count: 8, fault: .none), .pread(offset: 0, count: 24, fault: .none)],
        [.pread(offset: 0, count: 24, fault: .none), .seek(offset: 0, whence: .current), .checkResources,
         .attachPeer(failPool: false), .pwrite(offset: 8, count: 8, pattern: 9, fault: .none), .read(count: 16, fault: .none)],
        [.read(count: 16, fault: .none), .checkResources, .pread(offset: 0, count: 24, fault: .none), .regionInfo(index: 0, argsz: 32)],
    ]

    static func flat(_ seqs: [[Operation]]) -> (ops: [Operation], starts: [Int]) {
        var starts: [Int] = []
        var ops: [Operation] = []
        for s in seqs { starts.append(ops.count); ops += s }
        return (ops, starts)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func sequencesInOneBatchAnswerAsFreshProcessesDo(order: ByteOrder) throws {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: order == .big ? .big : .little)
        let config = DeviceConfig.ism(hostByteOrder: order)
        let (ops, starts) = Self.flat(Self.stateful)
        let pool = IdleProcessPool()
        var batched = try WireAccess(harness: bin, config: config, reuse: pool)
        #expect(batched.resetsInBatch)
        let b1 = BatchBuffers()
        var r1 = BatchResults()
        batched.perform(batch: ops[...], freshBefore: Array(starts.dropFirst()), buffers: b1, maxTransfer: Limits.maxTransfer, into: &r1)
        #expect(pool.resets == 2)
        // The same sequences, each on a process of its own, one operation at a time, through one buffer.
        let b2 = BatchBuffers()
        var r2 = BatchResults()
        for s in Self.stateful {
            var single = try WireAccess(harness: bin, config: config)
            single.performOneByOne(batch: s[...], buffers: b2, maxTransfer: Limits.maxTransfer, into: &r2)
        }
        #expect(r1.count == ops.count && r2.count == ops.count)
        #expect(r1.outcomes == r2.outcomes)
        for i in 0..<min(r1.count, r2.count) {
            #expect(r1.withReadBytes(i) { Array($0) } == r2.withReadBytes(i) { Array($0) }, "operation \(i)")
            #expect(Array(r1.trace(i)) == Array(r2.trace(i)), "operation \(i)")
        }
        // Without the RESET lines (the mutant) the later sequences see the earlier ones' device.
        var carried = try WireAccess(harness: bin, config: config)
        var r3 = BatchResults()
        carried.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: Limits.maxTransfer, into: &r3)
        #expect(r3.outcomes != r2.outcomes || (0..<r3.count).contains { r3.withReadBytes($0) { Array($0) } != r2.withReadBytes($0) { Array($0) } })
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aCrashInALaterSequenceOfABatchNamesItsOperation(order: ByteOrder) throws {
        let v = Self.breakingVariants[0].variant  // segv on a 3-byte read
        let path = try Self.variant(of: "merged", replacing: v.original, with: v.replacement, name: "fresh-batch-segv")
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        let config = DeviceConfig.ism(hostByteOrder: order)
        let (ops, starts) = Self.flat([Self.window(triggerAt: 99), Self.window(triggerAt: 99), Self.window(triggerAt: 6)])
        var batched = try WireAccess(harness: bin, config: config, reuse: IdleProcessPool())
        var results = BatchResults()
        batched.perform(batch: ops[...], freshBefore: Array(starts.dropFirst()), buffers: BatchBuffers(), maxTransfer: Limits.maxTransfer, into: &results)
        let expected = starts[2] + 6
        #expect(results.count == expected + 1, "stopped after operation \(results.count - 1), expected \(expected)")
        if results.count == expected + 1, case .failed(.broken(let b)) = results.outcomes[expected] {
            #expect(b.kind == "crash", "\(b)")
        } else {
            Issue.record("operation \(expected) did not break")
        }
        #expect((0..<min(results.count, expected)).allSatisfy { !results.outcomes[$0].isFailure })
    }
}
