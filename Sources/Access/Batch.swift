/// The memory a caller runs operations with, reused from one operation (and one batch) to the
/// next as a program reuses one buffer for its system calls: the read buffer, whose bytes a read
/// starts from (what earlier reads left there), with `guardSize` guard bytes written after a
/// read's `count` bytes before it runs; and the write source, filled with a write's pattern.
///
/// Promise: every implementation that runs a batch (`ISMAccess.perform(batch:…)`) leaves the read
/// buffer exactly as running the same operations one by one through it would, so results never
/// depend on whether the operations ran singly or in a batch.
public final class BatchBuffers {
    /// Bytes written after a read's buffer before the read, to see a write past its end (R-READ-5).
    public static let guardSize = 16
    /// The guard bytes' value.
    public static let guardByte: UInt8 = 0xE7
    /// The read buffer's capacity without the guard (it grows, to zeros, for a larger transfer).
    public private(set) var capacity: Int
    /// The read buffer (`capacity + guardSize` bytes).
    public private(set) var read: UnsafeMutableRawBufferPointer
    /// The write source (`capacity + guardSize` bytes).
    public private(set) var write: UnsafeMutableRawBufferPointer

    public init(capacity: Int = 16384) {
        self.capacity = capacity
        read = Self.zeros(capacity + Self.guardSize)
        write = Self.zeros(capacity + Self.guardSize)
    }

    deinit {
        read.deallocate()
        write.deallocate()
    }

    private static func zeros(_ n: Int) -> UnsafeMutableRawBufferPointer {
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 16)
        b.initializeMemory(as: UInt8.self, repeating: 0)
        return b
    }

    /// Whether a transfer of `count` bytes would grow (and so zero) the buffers.
    public func wouldGrow(_ count: Int) -> Bool { count > capacity }

    /// Grows both buffers (rarely, to zeros) so a transfer of `count` bytes plus guard fits.
    public func ensureCapacity(_ count: Int) {
        guard wouldGrow(count) else { return }
        read.deallocate()
        write.deallocate()
        capacity = count
        read = Self.zeros(count + Self.guardSize)
        write = Self.zeros(count + Self.guardSize)
    }

    /// Writes the guard bytes after a `count`-byte read buffer.
    public func armGuard(after count: Int) {
        (read.baseAddress! + count).initializeMemory(as: UInt8.self, repeating: Self.guardByte, count: Self.guardSize)
    }

    /// The index (from the buffer's end) of the first overwritten guard byte after a `count`-byte read, or nil.
    public func guardDamage(after count: Int) -> Int? {
        UnsafeRawBufferPointer(rebasing: read[count..<(count + Self.guardSize)]).firstIndex { $0 != Self.guardByte }
    }

    /// Fills the write source with a write's pattern bytes (`DeviceContents.patternByte`).
    public func fillPattern(_ op: Operation, count: Int) {
        let pattern: UInt8
        switch op {
        case .pwrite(_, _, let p, _), .write(_, let p, _): pattern = p
        default: return
        }
        let out = write.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count { out[i] = DeviceContents.patternByte(pattern, i) }
    }

    /// The transfer size `op` runs with (its count, at most `maxTransfer`).
    public static func transferCount(_ op: Operation, maxTransfer: Int) -> Int { min(op.count ?? 0, maxTransfer) }
}

/// What a window of operations returned on one implementation, in order: for each operation
/// that ran, its outcome, the bytes a read left in its buffer (all `count` of them, also on an
/// error), whether the guard bytes after the read's buffer survived, and the device
/// instructions it issued. A window stops at the first operation whose outcome is
/// `.failed(.broken)`: that operation is the one the implementation broke on (the one whose
/// answer never came), and the operations after it did not run.
public struct BatchResults {
    public private(set) var outcomes: [Outcome] = []
    private var byteEnds: [Int] = []
    private var bytes: [UInt8] = []
    private var guards: [Int8] = []
    private var traceEnds: [Int] = []
    private var traceEvents: [TraceEvent] = []

    public init() {
        outcomes.reserveCapacity(256)
        byteEnds.reserveCapacity(256)
        guards.reserveCapacity(256)
        traceEnds.reserveCapacity(256)
        bytes.reserveCapacity(1 << 16)
        traceEvents.reserveCapacity(1024)
    }

    /// Operations that ran (answered or broke).
    public var count: Int { outcomes.count }
    /// Whether the last operation broke the implementation.
    public var broke: Bool {
        if case .failed(.broken)? = outcomes.last { true } else { false }
    }

    /// Empties the results, keeping their capacity.
    public mutating func removeAll() {
        outcomes.removeAll(keepingCapacity: true)
        byteEnds.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        guards.removeAll(keepingCapacity: true)
        traceEnds.removeAll(keepingCapacity: true)
        traceEvents.removeAll(keepingCapacity: true)
    }

    /// Records one operation: its outcome, the bytes a read left (nil for other operations), the
    /// first damaged guard byte after a read's buffer (nil: intact), and the trace taken from
    /// `access` (its `takeTrace`).
    public mutating func append<A: ISMAccess>(
        _ outcome: Outcome, readBytes: UnsafeRawBufferPointer?, guardDamage: Int?, traceOf access: inout A
    ) {
        outcomes.append(outcome)
        if let readBytes { bytes.append(contentsOf: readBytes) }
        byteEnds.append(bytes.count)
        guards.append(Int8(guardDamage ?? -1))
        access.takeTrace(into: &traceEvents)
        traceEnds.append(traceEvents.count)
    }

    /// Records one operation with its trace given as events.
    public mutating func append(_ outcome: Outcome, readBytes: UnsafeRawBufferPointer?, guardDamage: Int?, trace: [TraceEvent]) {
        outcomes.append(outcome)
        if let readBytes { bytes.append(contentsOf: readBytes) }
        byteEnds.append(bytes.count)
        guards.append(Int8(guardDamage ?? -1))
        traceEvents.append(contentsOf: trace)
        traceEnds.append(traceEvents.count)
    }

    /// The bytes the `i`-th operation's read left in its buffer (empty for other operations).
    public func withReadBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let start = i == 0 ? 0 : byteEnds[i - 1]
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<byteEnds[i]])) }
    }

    /// The first damaged guard byte after the `i`-th operation's read buffer, or nil.
    public func guardDamage(_ i: Int) -> Int? { guards[i] < 0 ? nil : Int(guards[i]) }

    /// The device instructions the `i`-th operation issued, oldest first.
    public func trace(_ i: Int) -> ArraySlice<TraceEvent> {
        traceEvents[(i == 0 ? 0 : traceEnds[i - 1])..<traceEnds[i]]
    }
}

extension ISMAccess {
    /// Runs one operation with `buffers` and never throws: an error is an `Outcome` too. A read
    /// fills a prefix of the read buffer's first `count` bytes; a write sends the write source's.
    public mutating func perform(
        _ op: Operation, buffer: UnsafeMutableRawBufferPointer, writeSource: UnsafeMutableRawBufferPointer, count: Int
    ) -> Outcome {
        do throws(AccessError) {
            switch op {
            case let .pread(offset, _, fault):
                return .count(try pread(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), offset: offset, fault: fault))
            case let .pwrite(offset, _, _, fault):
                return .count(try pwrite(from: UnsafeRawBufferPointer(rebasing: writeSource[0..<count]), offset: offset, fault: fault))
            case let .read(_, fault):
                return .count(try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), fault: fault))
            case let .write(_, _, fault):
                return .count(try write(from: UnsafeRawBufferPointer(rebasing: writeSource[0..<count]), fault: fault))
            case let .seek(offset, whence):
                return .position(try seek(offset: offset, whence: whence))
            case let .regionInfo(index, argsz):
                return .region(try regionInfo(index: index, argsz: argsz))
            case .recoverHandle:
                try recoverHandle(); return .done
            case let .attachPeer(failPool):
                try attachPeer(failPool: failPool); return .done
            case .detachPeer:
                try detachPeer(); return .done
            case .checkResources:
                return .resources(try resources())
            }
        } catch {
            return .failed(error)
        }
    }

    /// Runs one operation of a batch through `buffers` and records it: grows the buffers if
    /// needed, arms the guard before a read, fills a write's pattern, takes the trace.
    public mutating func performRecording(_ op: Operation, buffers: BatchBuffers, maxTransfer: Int, into results: inout BatchResults) {
        let count = BatchBuffers.transferCount(op, maxTransfer: maxTransfer)
        buffers.ensureCapacity(count)
        if op.isWrite { buffers.fillPattern(op, count: count) }
        if op.isRead { buffers.armGuard(after: count) }
        let outcome = perform(op, buffer: buffers.read, writeSource: buffers.write, count: count)
        if op.isRead {
            results.append(outcome, readBytes: UnsafeRawBufferPointer(rebasing: buffers.read[0..<count]),
                           guardDamage: buffers.guardDamage(after: count), traceOf: &self)
        } else {
            results.append(outcome, readBytes: nil, guardDamage: nil, traceOf: &self)
        }
    }

    /// The default batch: the operations one by one, stopping after one that broke the implementation.
    public mutating func performOneByOne(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                                         into results: inout BatchResults) {
        for op in operations {
            performRecording(op, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            if results.broke { return }
        }
    }
}
