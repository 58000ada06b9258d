import CDriverLoader
import ISMAccess
import SystemPackage

/// An implementation of include/ismkit_access.h loaded into this process (the driver-source
/// harness built as a shared library), seen through `ISMAccess`. One device per value: `open`
/// on init, `close` when the last copy goes away.
struct InProcessDriver: ISMAccess {
    /// The open device; closes it when the last copy of the driver value goes.
    final class Device {
        let api: ismkit_api
        let handle: OpaquePointer
        init(api: ismkit_api, handle: OpaquePointer) {
            self.api = api
            self.handle = handle
        }
        deinit { api.close!(handle) }
    }

    let api: ismkit_api
    let device: Device
    var handle: OpaquePointer { device.handle }
    let capabilities: Capabilities
    private var events: [ismkit_event] = Array(repeating: ismkit_event(), count: 256)

    init(api: ismkit_api, config: DeviceConfig) throws(AccessError) {
        self.api = api
        let bits = api.capabilities!()
        capabilities = Capabilities(
            trace: bits & 0x01 != 0, faults: bits & 0x02 != 0, lifecycle: bits & 0x04 != 0,
            handleRecovery: bits & 0x08 != 0, seek: bits & 0x10 != 0, midOperationHandleChange: bits & 0x20 != 0,
            hostByteOrder: .native, profile: .ism)
        var c = ismkit_config()
        withUnsafeMutableBytes(of: &c.bar_lengths) { raw in
            let b = raw.bindMemory(to: UInt64.self)
            for i in 0..<6 { b[i] = config.barLengths[i] }
        }
        c.config_size = config.configSize
        c.maxstbl = config.maxstbl
        c.peer_maxstbl = config.peerMaxstbl
        c.content_seed = config.contentSeed
        c.strict_store_blocks = config.storeBlocks == .strict ? 1 : 0
        var err: CInt = 0
        guard let h = api.open!(&c, &err) else { throw .errno(Errno(rawValue: err == 0 ? 5 : err)) }
        device = Device(api: api, handle: h)
    }

    @inline(__always) static func result(_ r: Int64) throws(AccessError) -> Int64 {
        if r < 0 { throw .errno(Errno(rawValue: CInt(truncatingIfNeeded: -r))) }
        return r
    }

    @inline(__always) static func cFault(_ f: Fault) -> ismkit_fault {
        var c = ismkit_fault()
        switch f {
        case .none: c.kind = 0
        case let .device(nth, errno): c.kind = 1; c.nth = UInt32(nth); c.err = errno.rawValue
        case let .userBuffer(from): c.kind = 2; c.from = Int64(from)
        case .allocation: c.kind = 3
        case let .handleChange(after): c.kind = 4; c.nth = UInt32(after)
        }
        return c
    }

    mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        var out = ismkit_region_info()
        _ = try Self.result(Int64(api.region_info!(handle, index, argsz, &out)))
        return RegionInfo(index: index, offset: out.offset, size: out.size, flags: RegionFlags(rawValue: out.flags))
    }

    mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        var f = Self.cFault(fault)
        return Int(try Self.result(api.pread!(handle, buffer.baseAddress, UInt64(buffer.count), offset, &f)))
    }

    mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        var f = Self.cFault(fault)
        return Int(try Self.result(api.pwrite!(handle, buffer.baseAddress, UInt64(buffer.count), offset, &f)))
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        var f = Self.cFault(fault)
        return Int(try Self.result(api.read!(handle, buffer.baseAddress, UInt64(buffer.count), &f)))
    }

    mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        var f = Self.cFault(fault)
        return Int(try Self.result(api.write!(handle, buffer.baseAddress, UInt64(buffer.count), &f)))
    }

    mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        try Self.result(api.seek!(handle, offset, whence == .set ? 0 : 1))
    }

    mutating func recoverHandle() throws(AccessError) { _ = try Self.result(Int64(api.recover_handle!(handle))) }
    mutating func attachPeer(failPool: Bool) throws(AccessError) { _ = try Self.result(Int64(api.attach_peer!(handle, failPool ? 1 : 0))) }
    mutating func detachPeer() throws(AccessError) { _ = try Self.result(Int64(api.detach_peer!(handle))) }

    mutating func resources() throws(AccessError) -> ResourceCounts {
        var r = ismkit_resources()
        _ = try Self.result(Int64(api.resources!(handle, &r)))
        return ResourceCounts(livePools: Int(r.live_pools), leakedObjects: Int(r.leaked_objects))
    }

    mutating func takeTrace(into out: inout [TraceEvent]) {
        let h = handle, take = api.take_trace!
        while true {
            let n = events.withUnsafeMutableBufferPointer { take(h, $0.baseAddress, $0.count) }
            for e in events.prefix(n) {
                switch e.kind {
                case 0: out.append(.load(bar: e.bar, position: e.position, width: UInt8(truncatingIfNeeded: e.size), handle: e.handle))
                case 1: out.append(.storeBlock(bar: e.bar, position: e.position, length: e.size, handle: e.handle))
                default: out.append(.store(bar: e.bar, position: e.position, width: UInt8(truncatingIfNeeded: e.size), handle: e.handle))
                }
            }
            if n < events.count { return }
        }
    }
}
