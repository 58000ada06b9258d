import ISMAccess

/// A simulated ISM device behind a simulated VFS + driver: the `ism-vfio-pci` driver (profile
/// `.ism`) or the generic `vfio-pci` driver (profile `.vfioPCI`), built from SPEC.md and the
/// driver's structure, independently of the golden model.
///
/// It promises: sparse BAR memory seeded from `DeviceContents`, real load splitting with host
/// byte order emulated by explicit byte swapping, one store block per write from a per-device
/// bounce-buffer pool, a file position, a function-handle generation, a trace of every device
/// instruction, and injected faults, each with the semantics `Fault` documents. With a `mutant`
/// it carries exactly that one defect.
///
/// The hot path (pread/pwrite/read/write) allocates nothing once warm: the trace and the
/// memory keep their capacity, and `reset()` reuses them for a new sequence.
public struct SimulatedDevice: ISMAccess, Sendable {
    public let config: DeviceConfig
    public let mutant: Mutant?
    public let capabilities: Capabilities

    /// `MAX_RW_COUNT` of the VFS (R-OFF-4).
    public static let maxRWCount = 0x7fff_f000

    var memory: SparseMemory
    /// Config space contents once written (empty until the first config write: then the
    /// initial bytes with the writes applied).
    var configSpace: [UInt8] = []
    var lifecycle: DriverLifecycle
    var trace: [TraceEvent] = []
    /// The bounce buffer writes copy into (one pool object, reused).
    var bounce: [UInt8]
    /// The file position (`read`/`write`/`seek`).
    public private(set) var position: UInt64 = 0
    /// The function-handle generation: 0 at start, +1 per `recoverHandle()`.
    public internal(set) var handleGeneration: UInt32 = 0

    // The fault of the operation in progress.
    var faultNth: Int = -1
    var faultErrno: Int32 = 0
    var userFaultFrom: Int = .max
    var allocationFault = false
    /// `Fault.handleChange(after:)` of the operation in progress, or -1.
    var handleChangeAfter: Int = -1
    /// Device instructions the operation in progress has issued.
    var issued: Int = 0

    let shift: UInt64
    let positionMask: UInt64
    /// The region bases transfers decode with when the device has a base table (nil: the shift).
    let decodeBases: [UInt64]?
    /// The region bases region info reports when the device has a base table.
    let reportedBases: [UInt64]?
    let tableSpan: UInt64

    public init(config: DeviceConfig, mutant: Mutant? = nil) {
        self.config = config
        self.mutant = mutant
        self.capabilities = Capabilities(
            trace: true, faults: true, lifecycle: true, handleRecovery: true, seek: true,
            midOperationHandleChange: true, regionTable: true, hostByteOrder: config.hostByteOrder, profile: config.profile)
        memory = SparseMemory(seed: config.contentSeed)
        lifecycle = DriverLifecycle(
            globalPool: mutant == .globalStorePool,
            leakDeviceOnPoolFailure: mutant == .initFailureLeaksDevice)
        bounce = []
        trace.reserveCapacity(256)
        let s: UInt64 = (config.profile == .ism && mutant == .offsetShift40) ? 40 : config.profile.regionShift
        shift = s
        positionMask = mutant == .positionMask47 ? (1 << 47) - 1 : (1 << s) - 1
        let table = config.regionTable
        decodeBases = mutant == .offsetFromShift ? nil : table?.bases
        reportedBases = mutant == .regionInfoShiftBase ? nil : table?.bases
        tableSpan = table?.span ?? 0
    }

    /// Back to the state right after `init`: initial memory and config space, position 0,
    /// handle generation 0, no peer, empty trace. Keeps every buffer's capacity.
    public mutating func reset() {
        memory.reset()
        configSpace.removeAll(keepingCapacity: true)
        lifecycle.reset()
        trace.removeAll(keepingCapacity: true)
        position = 0
        handleGeneration = 0
    }

    // MARK: ISMAccess

    public mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        var pos = offset
        return try transfer(read: buffer, write: nil, ppos: &pos, fault: fault)
    }

    public mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        var pos = offset
        return try transfer(read: nil, write: buffer, ppos: &pos, fault: fault)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        var pos = position
        defer { position = pos }
        return try transfer(read: buffer, write: nil, ppos: &pos, fault: fault)
    }

    public mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        var pos = position
        defer { position = pos }
        return try transfer(read: nil, write: buffer, ppos: &pos, fault: fault)
    }

    public mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        let new: Int64
        switch whence {
        case .set:
            new = offset
        case .current:
            let (sum, overflow) = Int64(bitPattern: position).addingReportingOverflow(offset)
            if overflow { throw .einval }
            new = sum
        }
        if new < 0 { throw .einval }
        position = UInt64(new)
        return new
    }

    public mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        if argsz < RegionIndex.regionInfoFixedSize && mutant != .argszUnchecked { throw .einval }
        let base = UInt64(index) << shift
        let tableBase = index < 8 ? config.regionTable?.bases[Int(index)] : nil
        switch index {
        case RegionIndex.config:
            let offset = mutant == .configOffsetShift40 ? UInt64(index) << 40 : tableBase ?? base
            return RegionInfo(index: index, offset: offset, size: config.configSize, flags: [.read, .write])
        case RegionIndex.bars:
            let size = config.barLengths[Int(index)]
            var flags: RegionFlags = []
            if size != 0 || mutant == .flagsOnZeroSizeBar { flags = [.read, .write] }
            if size != 0 && mutant == .regionInfoMmap { flags.insert(.mmap) }
            let offset = reportedBases.map { $0[Int(index)] } ?? base
            return RegionInfo(index: index, offset: offset, size: size, flags: flags)
        case RegionIndex.rom where mutant == .romIndexAccepted:
            return RegionInfo(index: index, offset: tableBase ?? base, size: 0, flags: [])
        default:
            throw .einval
        }
    }

    public mutating func recoverHandle() throws(AccessError) {
        handleGeneration &+= 1
    }

    public mutating func attachPeer(failPool: Bool) throws(AccessError) {
        try lifecycle.attachPeer(failPool: failPool)
    }

    public mutating func detachPeer() throws(AccessError) {
        try lifecycle.detachPeer()
    }

    public mutating func resources() throws(AccessError) -> ResourceCounts {
        lifecycle.resources
    }

    public mutating func takeTrace(into events: inout [TraceEvent]) {
        events.append(contentsOf: trace)
        trace.removeAll(keepingCapacity: true)
    }

    // MARK: Operation entry (VFS + driver rw)

    @inline(__always)
    mutating func begin(_ fault: Fault) {
        issued = 0
        faultNth = -1
        userFaultFrom = .max
        allocationFault = false
        handleChangeAfter = -1
        switch fault {
        case .none: break
        case let .device(nth, errno):
            faultNth = Int(nth)
            faultErrno = errno.rawValue
        case let .userBuffer(from): userFaultFrom = from
        case .allocation: allocationFault = true
        case let .handleChange(after): handleChangeAfter = Int(after)
        }
    }

    /// The VFS checks, then the driver's rw dispatch (`read` xor `write` is non-nil).
    mutating func transfer(
        read rbuf: UnsafeMutableRawBufferPointer?, write wbuf: UnsafeRawBufferPointer?,
        ppos: inout UInt64, fault: Fault
    ) throws(AccessError) -> Int {
        begin(fault)
        let offset = ppos
        var count = rbuf?.count ?? wbuf?.count ?? 0
        let negative = offset >> 63 != 0
        if mutant == .negativeOffsetZeroCount {
            if count == 0 { return 0 }
            if negative { throw .einval }
        } else if negative {
            throw .einval
        }
        if count > Self.maxRWCount { count = Self.maxRWCount }
        if count == 0 && mutant != .zeroCountAfterDecode { return 0 }

        var index = mutant == .regionIndexU8 ? (offset >> shift) & 0xFF : offset >> shift
        var pos = offset & positionMask
        if let bases = decodeBases {
            // The region whose [base, base + span) holds the offset; none: no region (EINVAL).
            index = .max
            for i in 0..<bases.count where offset >= bases[i] && offset - bases[i] < tableSpan {
                index = UInt64(i)
                pos = offset - bases[i]
            }
        }
        switch index {
        case UInt64(RegionIndex.config):
            if count == 0 { return 0 }  // zero-count-after-decode: checked once the index is known
            let done = try configTransfer(read: rbuf, write: wbuf, pos: pos, count: count)
            if mutant != .configPositionNotAdvanced { ppos &+= UInt64(done) }
            return done
        case 0...5:
            return try barTransfer(read: rbuf, write: wbuf, bar: Int(index), pos: pos, count: count, ppos: &ppos)
        default:
            throw .einval
        }
    }
}
