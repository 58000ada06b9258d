import CVFIO
import ISMAccess
import SystemPackage

/// An open VFIO device fd: the device's ioctls and its read/write/lseek, one system call each.
///
/// Promises: nothing is translated or retried except on EINTR; an error is the errno the call
/// returned. Offsets are the kernel's (region offset from `regionInfo` + position).
public struct VFIODeviceFile: Sendable {
    public let fd: FileDescriptor

    public init(fd: FileDescriptor) { self.fd = fd }

    /// `VFIO_DEVICE_GET_INFO`.
    public struct Info: Hashable, Sendable {
        public var flags: UInt32
        public var numRegions: UInt32
        public var numIRQs: UInt32
        public var isPCI: Bool { flags & CVFIO_DEVICE_FLAGS_PCI != 0 }
    }

    public func info() throws(Errno) -> Info {
        var i = vfio_device_info()
        i.argsz = UInt32(MemoryLayout<vfio_device_info>.size)
        let r = cvfio_ioctl_ptr(fd.rawValue, CVFIO_DEVICE_GET_INFO, &i)
        guard r >= 0 else { throw ioctlErrno(r) }
        return Info(flags: i.flags, numRegions: i.num_regions, numIRQs: i.num_irqs)
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` with the caller's `argsz` (the kernel may write a
    /// capability chain after the fixed part, up to `argsz`; the buffer is sized for that).
    public func regionInfo(index: UInt32, argsz: UInt32) throws(Errno) -> RegionInfo {
        let fixed = Int(CVFIO_REGION_INFO_FIXED_SIZE)
        let capacity = max(fixed, min(Int(argsz), 1 << 16))
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        let info = raw.bindMemory(to: vfio_region_info.self, capacity: 1)
        info.pointee.argsz = argsz
        info.pointee.index = index
        let r = cvfio_ioctl_ptr(fd.rawValue, CVFIO_DEVICE_GET_REGION_INFO, raw)
        guard r >= 0 else { throw ioctlErrno(r) }
        return RegionInfo(index: index, offset: info.pointee.offset, size: info.pointee.size,
                          flags: RegionFlags(rawValue: info.pointee.flags))
    }

    public func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) throws(Errno) -> Int {
        do { return try fd.read(fromAbsoluteOffset: Int64(bitPattern: offset), into: buffer) } catch { throw Self.errno(error) }
    }

    public func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64) throws(Errno) -> Int {
        do { return try fd.write(toAbsoluteOffset: Int64(bitPattern: offset), buffer) } catch { throw Self.errno(error) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        do { return try fd.read(into: buffer) } catch { throw Self.errno(error) }
    }

    public func write(from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        do { return try fd.write(buffer) } catch { throw Self.errno(error) }
    }

    public func seek(offset: Int64, whence: Operation.Whence) throws(Errno) -> Int64 {
        do { return try fd.seek(offset: offset, from: whence == .set ? .start : .current) } catch { throw Self.errno(error) }
    }

    private static func errno(_ error: any Error) -> Errno { error as? Errno ?? .ioError }
}
