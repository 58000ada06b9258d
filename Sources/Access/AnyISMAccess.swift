/// Any `ISMAccess` behind one concrete type, for tools that choose the implementation at run
/// time (replaying a reproducer names its target in the file). Hot loops should stay generic.
public struct AnyISMAccess: ISMAccess {
    public var base: any ISMAccess
    public init(_ base: any ISMAccess) { self.base = base }

    public var capabilities: Capabilities { base.capabilities }
    public mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        try base.regionInfo(index: index, argsz: argsz)
    }
    public mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try base.pread(into: buffer, offset: offset, fault: fault)
    }
    public mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try base.pwrite(from: buffer, offset: offset, fault: fault)
    }
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try base.read(into: buffer, fault: fault)
    }
    public mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try base.write(from: buffer, fault: fault)
    }
    public mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        try base.seek(offset: offset, whence: whence)
    }
    public mutating func recoverHandle() throws(AccessError) { try base.recoverHandle() }
    public mutating func attachPeer(failPool: Bool) throws(AccessError) { try base.attachPeer(failPool: failPool) }
    public mutating func detachPeer() throws(AccessError) { try base.detachPeer() }
    public mutating func resources() throws(AccessError) -> ResourceCounts { try base.resources() }
    public mutating func takeTrace(into events: inout [TraceEvent]) { base.takeTrace(into: &events) }
    public mutating func perform(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        base.perform(batch: operations, buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }
    public var resetsInBatch: Bool { base.resetsInBatch }
    public mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        base.perform(batch: operations, freshBefore: freshBefore, buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }
}
