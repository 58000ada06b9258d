import ISMAccess

/// The golden reference model: SPEC.md §1–§7 and §9 as an executable `ISMAccess`.
///
/// It is pure (no I/O), deterministic, and after every operation says in `lastDecision`
/// which rule decided the outcome. Its trace is the instruction sequence the SPEC requires.
public struct GoldenModel: ISMAccess, Sendable {
    /// Where device contents come from.
    public enum Contents: Sendable, Hashable {
        /// `DeviceContents.initialByte` for every byte not yet written (simulated devices).
        case seeded
        /// Unknown until read or written (real devices): see `learn(readAt:bytes:)`.
        case learned
    }

    public let config: DeviceConfig
    /// The file position (R-BAR-4).
    public private(set) var position: UInt64 = 0
    /// The function-handle generation (R-FH-1).
    public internal(set) var handle: UInt32 = 0
    public internal(set) var peerAttached = false
    /// Why the last operation came out as it did.
    public internal(set) var lastDecision = Decision(rule: .zero1)

    var memory: ModelMemory
    var trace: [TraceEvent] = []

    public init(config: DeviceConfig, contents: Contents = .seeded) {
        self.config = config
        self.memory = ModelMemory(seed: config.contentSeed, learned: contents == .learned)
        trace.reserveCapacity(1024)
    }

    public var capabilities: Capabilities {
        Capabilities(
            trace: true, faults: true, lifecycle: true, handleRecovery: true, seek: true,
            midOperationHandleChange: true, regionTable: true, hostByteOrder: config.hostByteOrder, profile: config.profile)
    }

    public mutating func takeTrace(into events: inout [TraceEvent]) {
        events.append(contentsOf: trace)
        trace.removeAll(keepingCapacity: true)
    }

    // MARK: transfers

    public mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try transfer(offset: offset, read: buffer, write: nil, fault: fault)
    }

    public mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try transfer(offset: offset, read: nil, write: buffer, fault: fault)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        defer { lastDecision.cite(.bar4) }  // the offset is the file position
        let n = try transfer(offset: position, read: buffer, write: nil, fault: fault)
        advance(by: n)
        return n
    }

    public mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        defer { lastDecision.cite(.bar4) }  // the offset is the file position
        let n = try transfer(offset: position, read: nil, write: buffer, fault: fault)
        advance(by: n)
        return n
    }

    /// R-BAR-4: the position moves by the bytes transferred, only on success.
    private mutating func advance(by n: Int) {
        position &+= UInt64(n)
        lastDecision.cite(.bar4)
    }

    /// `lseek` with SEEK_SET / SEEK_CUR. A position is a non-negative `loff_t`.
    public mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        lastDecision = Decision(rule: .bar4)
        let base: Int64 = whence == .set ? 0 : Int64(bitPattern: position)
        let (new, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, new >= 0 else { throw .einval }
        position = UInt64(new)
        return new
    }

    /// One read or write at a file offset: VFS checks, zero count, decoding, dispatch.
    private mutating func transfer(
        offset: UInt64, read rbuf: UnsafeMutableRawBufferPointer?, write wbuf: UnsafeRawBufferPointer?, fault: Fault
    ) throws(AccessError) -> Int {
        // R-OFF-4: the VFS rejects a negative offset before the driver sees the call.
        if offset & (1 << 63) != 0 {
            lastDecision = Decision(rule: .off4)
            throw .einval
        }
        var count = rbuf?.count ?? wbuf!.count
        lastDecision = Decision(rule: .zero1)
        if count > maxRWCount {
            count = maxRWCount
            lastDecision.cite(.off4)
        }
        // R-ZERO-1: nothing happens for a zero count, whatever the offset decodes to.
        if count == 0 { return 0 }

        let d = DecodedOffset(offset: offset, config: config)
        lastDecision.decide(.off1)
        if d.index == UInt64(RegionIndex.config) {
            return try configAccess(position: d.position, count: count, read: rbuf, write: wbuf, fault: fault)
        }
        // R-OFF-3: only BARs 0...5 and config exist.
        guard let length = config.barLength(d.index) else {
            lastDecision.decide(.off3)
            throw .einval
        }
        let bar = Int(d.index)
        // R-BAR-1: an unimplemented BAR rejects everything.
        if length == 0 { lastDecision.decide(.bar1); throw .einval }
        // R-BAR-2: a position at or past the end is invalid.
        if d.position >= length { lastDecision.decide(.bar2); throw .einval }
        // R-BAR-3: clamp before anything else (before the write checks).
        var clamped = false
        if UInt64(count) > length - d.position {
            count = Int(length - d.position)
            clamped = true
        }
        lastDecision.cite(.bar3)
        if let rbuf {
            return try readBar(bar: bar, position: d.position, into: rbuf.baseAddress!, count: count, clamped: clamped, fault: fault)
        }
        switch config.profile {
        case .ism:
            return try writeStoreBlock(bar: bar, position: d.position, from: wbuf!.baseAddress!, count: count, clamped: clamped, fault: fault)
        case .vfioPCI:
            return try writeSplit(bar: bar, position: d.position, from: wbuf!.baseAddress!, count: count, clamped: clamped, fault: fault)
        }
    }
}
