import ISMAccess
import SystemPackage

/// Which profile a hardware run compares against: the one the device's IDs say, or a forced one.
public enum ProfileChoice: String, Sendable, Hashable, CaseIterable {
    case auto, ism
    case vfioPCI = "vfio-pci"

    /// `ism` for IBM ISM devices (vendor 0x1014, device 0x04ed), else `vfio-pci`; or the forced one.
    public func resolve(vendor: UInt16?, device: UInt16?) -> Profile {
        switch self {
        case .ism: .ism
        case .vfioPCI: .vfioPCI
        case .auto: vendor == 0x1014 && device == 0x04ED ? .ism : .vfioPCI
        }
    }
}

/// A real device through VFIO as an `ISMAccess`: each operation is one system call on the
/// device fd, with the model's offsets translated to the kernel's region offsets
/// (`RegionOffsetMap`, SPEC R-OFF-2).
///
/// Promises:
/// - No write reaches the kernel unless every byte it can land on (the kernel-decoded region
///   and position, clamped to the region size the kernel reported) is inside `allowList`;
///   a refused write throws `EPERM`, is counted in `refusedWrites` and issues no system call.
/// - Every accepted write is recorded in `journal`.
/// - Capabilities: no trace, no faults, no lifecycle, no handle recovery; `seek` only when
///   the kernel's device fd supports `lseek` (probed once with `lseek(fd, 0, SEEK_CUR)`).
/// - Injected faults are not supported: an operation with a fault other than `.none` throws
///   `EOPNOTSUPP` without a system call (generators must not produce them for this backend).
public final class VFIODevice: ISMAccess {
    public let connection: VFIOConnection
    public let file: VFIODeviceFile
    public let profile: Profile
    public let info: VFIODeviceFile.Info
    public let map: RegionOffsetMap
    public let allowList: WriteAllowList
    public let journal: WriteJournal
    public let seekSupported: Bool
    public private(set) var refusedWrites = 0
    /// The device fd's file position in the kernel's offset space, as its read/write/lseek results imply.
    public private(set) var kernelPosition: UInt64 = 0

    /// Opens a fresh device fd on `connection` and asks the kernel for every region's info.
    public init(connection: VFIOConnection, profile: Profile, allowList: WriteAllowList, journal: WriteJournal) throws(VFIOError) {
        self.connection = connection
        self.profile = profile
        self.allowList = allowList
        self.journal = journal
        file = try connection.openDevice()
        do {
            info = try file.info()
        } catch {
            try? file.fd.close()
            throw .system(call: "VFIO_DEVICE_GET_INFO", path: connection.address.description, errno: error)
        }
        var regions: [UInt32: RegionInfo] = [:]
        for index in 0..<min(info.numRegions, 64) {
            if let r = try? file.regionInfo(index: index, argsz: RegionIndex.regionInfoFixedSize) { regions[index] = r }
        }
        map = RegionOffsetMap(modelShift: profile.regionShift, regions: regions)
        seekSupported = (try? file.seek(offset: 0, whence: .current)) != nil
    }

    deinit { try? file.fd.close() }

    public var capabilities: Capabilities {
        Capabilities(trace: false, faults: false, lifecycle: false, handleRecovery: false, seek: seekSupported,
                     hostByteOrder: .native, profile: profile)
    }

    /// The device as the model should see it: BAR and config sizes as the kernel reported them.
    public var deviceConfig: DeviceConfig {
        var bars = [UInt64](repeating: 0, count: 6)
        for i in 0..<6 { bars[i] = map.regions[UInt32(i)]?.size ?? 0 }
        return DeviceConfig(barLengths: bars, configSize: map.regions[RegionIndex.config]?.size ?? 256,
                            hostByteOrder: .native, profile: profile)
    }

    // MARK: the write guard

    /// Whether a write of `count` bytes at the kernel offset `offset` may be issued.
    public func permitsWrite(kernelOffset offset: UInt64, count: Int) -> Bool {
        allowList.permits(kernelOffset: offset, count: count, map: map)
    }

    /// Whether `op` would be refused by the write guard right now (before any system call).
    public func refuses(_ op: Operation) -> Bool {
        allowList.refuses(op, map: map, kernelPosition: kernelPosition)
    }

    private func guardWrite(kernelOffset: UInt64, count: Int) throws(AccessError) {
        guard permitsWrite(kernelOffset: kernelOffset, count: count) else {
            refusedWrites += 1
            throw .errno(.notPermitted)
        }
    }

    private func recordWrite(kernelOffset: UInt64, buffer: UnsafeRawBufferPointer, count n: Int) {
        guard n > 0 else { return }
        let (index, pos) = map.locate(kernel: kernelOffset) ?? (UInt32.max, kernelOffset)
        journal.record(region: index, position: pos, bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }

    private static func noFault(_ fault: Fault) throws(AccessError) {
        if fault != .none { throw .errno(.notSupported) }
    }

    // MARK: ISMAccess

    public func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        do { return try file.regionInfo(index: index, argsz: argsz) } catch { throw .errno(error) }
    }

    public func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        do { return try file.pread(into: buffer, offset: map.kernelOffset(model: offset)) } catch { throw .errno(error) }
    }

    public func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let k = map.kernelOffset(model: offset)
        try guardWrite(kernelOffset: k, count: buffer.count)
        let n: Int
        do { n = try file.pwrite(from: buffer, offset: k) } catch { throw .errno(error) }
        recordWrite(kernelOffset: k, buffer: buffer, count: n)
        return n
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let n: Int
        do { n = try file.read(into: buffer) } catch { throw .errno(error) }
        kernelPosition &+= UInt64(n)
        return n
    }

    public func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let k = kernelPosition
        try guardWrite(kernelOffset: k, count: buffer.count)
        let n: Int
        do { n = try file.write(from: buffer) } catch { throw .errno(error) }
        recordWrite(kernelOffset: k, buffer: buffer, count: n)
        kernelPosition &+= UInt64(n)
        return n
    }

    /// `lseek`. A SEEK_SET target is translated like a transfer offset and the new position is
    /// translated back, so the model sees positions in its own offset space.
    public func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        let target = whence == .set && offset >= 0 ? Int64(bitPattern: map.kernelOffset(model: UInt64(offset))) : offset
        let p: Int64
        do { p = try file.seek(offset: target, whence: whence) } catch { throw .errno(error) }
        kernelPosition = UInt64(bitPattern: p)
        return Int64(bitPattern: map.modelOffset(kernel: UInt64(bitPattern: p)))
    }
}
