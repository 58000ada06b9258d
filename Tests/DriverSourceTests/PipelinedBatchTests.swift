import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// A pipelined batch (all requests written before the answers are read) gives what running the
/// same operations one by one gives, and a crash, hang or sanitizer report in the middle of it
/// names the operation that caused it, not the first or the last of the batch.
extension DriverSourceTests {
    /// A window whose operation `at` is a 3-byte read (the trigger of the breaking variants
    /// below) and a write (the trigger of the hanging one) at `writeAt`; everything else is a
    /// harmless 8-byte read or a seek, which never trigger them.
    static func window(triggerAt: Int, length: Int = 12, write: Bool = false) -> [Operation] {
        (0..<length).map { i in
            if i == triggerAt {
                return write ? .pwrite(offset: 8, count: 8, pattern: 5, fault: .none) : .pread(offset: 16, count: 3, fault: .none)
            }
            return i % 4 == 1 ? .seek(offset: 0, whence: .set) : .pread(offset: UInt64(8 * i), count: 8, fault: .none)
        }
    }

    /// Runs `ops` as one batch on a fresh process and again one by one on another, and checks
    /// that both stop at operation `expected` with a breakage of `kind`, every earlier operation
    /// answered (so the batch counted answers, not guessed).
    static func expectBreakage(_ bin: HarnessBinary, _ ops: [Operation], at expected: Int, kind: String,
                               timeout: Duration = .seconds(5)) throws {
        let config = DeviceConfig.ism(hostByteOrder: bin.byteOrder)
        var batched = try WireAccess(harness: bin, config: config, timeout: timeout)
        #expect(batched.pipelines, "the harness offers the carry feature")
        var results = BatchResults()
        batched.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: Limits.maxTransfer, into: &results)
        var single = try WireAccess(harness: bin, config: config, timeout: timeout)
        var one = BatchResults()
        single.performOneByOne(batch: ops[...], buffers: BatchBuffers(), maxTransfer: Limits.maxTransfer, into: &one)

        for r in [results, one] {
            #expect(r.count == expected + 1, "stopped after operation \(r.count - 1), expected \(expected)")
            guard r.count == expected + 1 else { continue }
            guard case .failed(.broken(let b)) = r.outcomes[expected] else {
                Issue.record("operation \(expected) answered \(r.outcomes[expected])"); continue
            }
            #expect(b.kind == kind, "\(b)")
            for i in 0..<expected {
                #expect(!r.outcomes[i].isFailure, "operation \(i): \(r.outcomes[i])")
            }
        }
        // The answers before the breakage are the same, byte for byte and event for event.
        for i in 0..<min(results.count, one.count, expected) {
            #expect(results.outcomes[i] == one.outcomes[i])
            #expect(results.withReadBytes(i) { Array($0) } == one.withReadBytes(i) { Array($0) })
            #expect(Array(results.trace(i)) == Array(one.trace(i)))
        }
    }

    @Test(arguments: [ByteOrder.little, .big], [3, 9])
    func aCrashInTheMiddleOfABatchNamesItsOperation(order: ByteOrder, at k: Int) throws {
        let v = Self.breakingVariants[0].variant  // segv on a 3-byte read
        let path = try Self.variant(of: "merged", replacing: v.original, with: v.replacement, name: "batch-segv")
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        try Self.expectBreakage(bin, Self.window(triggerAt: k), at: k, kind: "crash")
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aHangInTheMiddleOfABatchNamesItsOperation(order: ByteOrder) throws {
        let path = try Self.variant(of: "merged", replacing: " if (count > zdev->maxstbl)",
                                    with: " while (READ_ONCE(zdev->maxstbl)) ; if (count > zdev->maxstbl)", name: "batch-hang")
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        try Self.expectBreakage(bin, Self.window(triggerAt: 6, write: true), at: 6, kind: "hang", timeout: .seconds(1))
    }

    @Test func aSanitizerReportInTheMiddleOfABatchNamesItsOperation() throws {
        let path = try Self.variant(of: "merged", replacing: " ssize_t done = 0;\n int ret;",
                                    with: " ssize_t done = 0; { volatile char s[2]; if (count == 3) s[count] = 1; }\n int ret;",
                                    name: "batch-asan")
        let bin = try HarnessBuilder.build(driverSource: path, variant: .littleSanitized)
        try Self.expectBreakage(bin, Self.window(triggerAt: 7), at: 7, kind: "sanitizer")
    }

    /// The read buffer a pipelined batch leaves, and every read's bytes, equal those of running
    /// the same reads one by one through the same buffer, including a read that fails after its
    /// first loads (its buffer keeps earlier bytes) and reads longer than the previous ones
    /// (they start from the guard bytes the previous read's buffer had behind it); and the bytes
    /// a write sent as its pattern stores are those its hex stores.
    @Test(arguments: [ByteOrder.little, .big])
    func aBatchLeavesTheReadBufferAsOneByOneDoes(order: ByteOrder) throws {
        let ops: [Operation] = [
            .pread(offset: 3, count: 13, fault: .none), .pread(offset: 40, count: 29, fault: .device(nth: 1, errno: .ioError)),
            .pwrite(offset: 8, count: 5, pattern: 9, fault: .none), .read(count: 4, fault: .none),
            .pread(offset: 100, count: 64, fault: .device(nth: 2, errno: .ioError)), .seek(offset: 7, whence: .set),
            .read(count: 50, fault: .userBuffer(from: 20)), .regionInfo(index: 0, argsz: 32), .pread(offset: 1, count: 90, fault: .none),
            // A write sent as its pattern (feature `pattern`) stores the bytes the hex of one by one does.
            .pwrite(offset: 4096 + 8, count: 700, pattern: 201, fault: .none), .seek(offset: 4096, whence: .set),
            .write(count: 8, pattern: 3, fault: .none), .pread(offset: 4096, count: 708, fault: .none),
        ]
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: order == .big ? .big : .little)
        let config = DeviceConfig.ism(hostByteOrder: order)
        var batched = try WireAccess(harness: bin, config: config)
        var single = try WireAccess(harness: bin, config: config)
        let (b1, b2) = (BatchBuffers(), BatchBuffers())
        // Something other than zeros in both buffers first, as a previous sequence leaves them.
        for b in [b1, b2] { for i in 0..<200 { b.read[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 1) } }
        var r1 = BatchResults(), r2 = BatchResults()
        batched.perform(batch: ops[...], buffers: b1, maxTransfer: Limits.maxTransfer, into: &r1)
        single.performOneByOne(batch: ops[...], buffers: b2, maxTransfer: Limits.maxTransfer, into: &r2)
        #expect(r1.count == ops.count && r2.count == ops.count)
        #expect(r1.outcomes == r2.outcomes)
        #expect(r1.outcomes.contains { $0.isFailure }, "the sequence has failing reads")
        for i in 0..<min(r1.count, r2.count) {
            #expect(r1.withReadBytes(i) { Array($0) } == r2.withReadBytes(i) { Array($0) }, "operation \(i)")
            #expect(Array(r1.trace(i)) == Array(r2.trace(i)), "operation \(i)")
        }
        #expect(Array(b1.read[0..<300]) == Array(b2.read[0..<300]))
    }
}
