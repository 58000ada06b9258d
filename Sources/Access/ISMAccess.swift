/// The one interface every implementation under test conforms to: the golden model, the
/// simulated device (with or without mutants), the driver source built in user space, a real
/// device through VFIO, and implementations behind the C ABI.
///
/// Each method behaves like the system call it is named for on an ISM device fd, and fails
/// with the errno that call would return. `offset` is the 64-bit file offset as the caller
/// passes it (bit 63 set means negative). Buffers are exact-size: an implementation must not
/// touch a byte outside them (R-READ-5).
public protocol ISMAccess {
    /// What this implementation can show and accept.
    var capabilities: Capabilities { get }

    /// `VFIO_DEVICE_GET_REGION_INFO`.
    mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo
    /// `pread`: fills a prefix of `buffer`, returns the bytes transferred.
    mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int
    /// `pwrite`: returns the bytes transferred.
    mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int
    /// `read` at the file position.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int
    /// `write` at the file position.
    mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int
    /// `lseek`: returns the new file position.
    mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64

    /// The function handle changes under the live device (R-FH-1).
    mutating func recoverHandle() throws(AccessError)
    /// A second device is initialised by the same driver (R-LIFE-1, R-LIFE-2).
    mutating func attachPeer(failPool: Bool) throws(AccessError)
    /// The second device is released.
    mutating func detachPeer() throws(AccessError)
    /// Live store-block pools and leaked objects.
    mutating func resources() throws(AccessError) -> ResourceCounts

    /// Moves the device instructions issued since the last call into `events` (appending,
    /// oldest first). Leaves `events` alone when `capabilities.trace` is false.
    mutating func takeTrace(into events: inout [TraceEvent])

    /// Runs a window of operations in order through `buffers` and appends what each returned to
    /// `results` (see `BatchResults`), stopping after one that broke the implementation. The
    /// default runs them one by one (`performOneByOne`); an implementation in another process
    /// sends them all before it reads the answers. Either way the outcomes, bytes, guard bytes,
    /// traces and the buffers left behind are those of running the operations one by one.
    mutating func perform(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                          into results: inout BatchResults)

    /// Whether `perform(batch:freshBefore:…)` can make the device fresh inside a batch.
    var resetsInBatch: Bool { get }

    /// Runs a window as `perform(batch:…)` does, with the device made fresh (as a newly made
    /// instance has it; the buffers are the caller's and stay as they are) before each operation
    /// at a position in `freshBefore` (offsets from the window's start, ascending), so several
    /// operation sequences run as one batch. Where a fresh device could not be made, it stops
    /// without a breakage: `results.count` is then that position. The default makes none: it
    /// runs the operations before the first such position.
    mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                          into results: inout BatchResults)
}

extension ISMAccess {
    public mutating func recoverHandle() throws(AccessError) { throw .errno(.notSupported) }
    public mutating func attachPeer(failPool: Bool) throws(AccessError) { throw .errno(.notSupported) }
    public mutating func detachPeer() throws(AccessError) { throw .errno(.notSupported) }
    public mutating func resources() throws(AccessError) -> ResourceCounts { throw .errno(.notSupported) }
    public mutating func takeTrace(into events: inout [TraceEvent]) {}
    public mutating func perform(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        performOneByOne(batch: operations, buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }
    public var resetsInBatch: Bool { false }
    public mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        let end = freshBefore.first.map { operations.startIndex + $0 } ?? operations.endIndex
        guard end > operations.startIndex else { return }
        perform(batch: operations[..<end], buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }
}
