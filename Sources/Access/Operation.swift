/// One step of a test sequence. Operations are plain values: generated, shrunk, stored in
/// reproducer files and replayed on any implementation.
public enum Operation: Hashable, Sendable, Codable {
    /// `pread(fd, buf, count, offset)` into an exact-size buffer.
    case pread(offset: UInt64, count: Int, fault: Fault)
    /// `pwrite(fd, buf, count, offset)` of `count` pattern bytes (`DeviceContents.patternByte`).
    case pwrite(offset: UInt64, count: Int, pattern: UInt8, fault: Fault)
    /// `read(fd, buf, count)` at the file position.
    case read(count: Int, fault: Fault)
    /// `write(fd, buf, count)` of pattern bytes at the file position.
    case write(count: Int, pattern: UInt8, fault: Fault)
    /// `lseek(fd, offset, whence)`; returns the new position.
    case seek(offset: Int64, whence: Whence)
    /// `VFIO_DEVICE_GET_REGION_INFO` for `index` with the given `argsz`.
    case regionInfo(index: UInt32, argsz: UInt32)
    /// The device's function handle changes (as after zPCI error recovery) (R-FH-1).
    case recoverHandle
    /// A second device is initialised by the same driver; `failPool` injects a failure
    /// to create its store-block pool (R-LIFE-1, R-LIFE-2).
    case attachPeer(failPool: Bool)
    /// The second device is released.
    case detachPeer
    /// Ask the implementation for its resource accounting (live pools, leaked objects).
    case checkResources

    /// `SEEK_SET` or `SEEK_CUR`.
    public enum Whence: String, Hashable, Sendable, Codable { case set, current }

    /// The transfer size of a read or write, or nil.
    public var count: Int? {
        switch self {
        case .pread(_, let c, _), .pwrite(_, let c, _, _), .read(let c, _), .write(let c, _, _): c
        default: nil
        }
    }

    public var isRead: Bool {
        switch self { case .pread, .read: true; default: false }
    }
    public var isWrite: Bool {
        switch self { case .pwrite, .write: true; default: false }
    }
}

/// What an implementation keeps account of for lifecycle checks.
public struct ResourceCounts: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Store-block pools that exist now.
    public var livePools: Int
    /// Objects allocated and no longer reachable (device structures, pools).
    public var leakedObjects: Int
    public init(livePools: Int, leakedObjects: Int) {
        self.livePools = livePools
        self.leakedObjects = leakedObjects
    }
    public var description: String { "pools=\(livePools) leaked=\(leakedObjects)" }
}
