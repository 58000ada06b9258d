import CVFIO
import SystemPackage

/// Opens a VFIO character device, turning the errnos a person can act on into `VFIOError` cases.
func openNode(_ path: String) throws(VFIOError) -> FileDescriptor {
    do {
        return try FileDescriptor.open(FilePath(path), .readWrite, options: [.closeOnExec])
    } catch let e as Errno {
        switch e {
        case .noSuchFileOrDirectory, .noSuchAddressOrDevice, .operationNotSupportedByDevice: throw .noDeviceNode(path)
        case .permissionDenied, .notPermitted: throw .noPermission(path)
        case .resourceBusy: throw .busy(path)
        default: throw .system(call: "open", path: path, errno: e)
        }
    } catch {
        throw .system(call: "open", path: path, errno: .ioError)
    }
}

/// A failed ioctl's result (-errno) as an `Errno`.
@inline(__always) func ioctlErrno(_ result: CInt) -> Errno { Errno(rawValue: -result) }

/// A VFIO container (`/dev/vfio/vfio`): the IOMMU context of the type1 path.
///
/// Promises: each method is one ioctl; failures carry the call and the errno.
public struct VFIOContainer: Sendable {
    public let fd: FileDescriptor
    public let path: String

    public static func open(path: String = "/dev/vfio/vfio") throws(VFIOError) -> VFIOContainer {
        VFIOContainer(fd: try openNode(path), path: path)
    }

    /// `VFIO_GET_API_VERSION`.
    public func apiVersion() throws(VFIOError) -> CInt {
        let r = cvfio_ioctl_none(fd.rawValue, CVFIO_GET_API_VERSION)
        guard r >= 0 else { throw .system(call: "VFIO_GET_API_VERSION", path: path, errno: ioctlErrno(r)) }
        return r
    }

    /// `VFIO_CHECK_EXTENSION`: whether the container supports an IOMMU type.
    public func checkExtension(_ ext: CInt) throws(VFIOError) -> Bool {
        let r = cvfio_ioctl_int(fd.rawValue, CVFIO_CHECK_EXTENSION, Int(ext))
        guard r >= 0 else { throw .system(call: "VFIO_CHECK_EXTENSION", path: path, errno: ioctlErrno(r)) }
        return r > 0
    }

    /// `VFIO_SET_IOMMU`.
    public func setIOMMU(_ type: CInt) throws(VFIOError) {
        let r = cvfio_ioctl_int(fd.rawValue, CVFIO_SET_IOMMU, Int(type))
        guard r >= 0 else { throw .system(call: "VFIO_SET_IOMMU", path: path, errno: ioctlErrno(r)) }
    }
}

/// A VFIO group (`/dev/vfio/<N>`): the unit of isolation the type1 path opens devices through.
public struct VFIOGroup: Sendable {
    public let fd: FileDescriptor
    public let path: String
    public let number: Int

    /// `VFIO_GROUP_GET_STATUS` flags.
    public struct Status: Hashable, Sendable {
        public var viable: Bool
        public var containerSet: Bool
    }

    public static func open(number: Int, devRoot: String = "/dev") throws(VFIOError) -> VFIOGroup {
        let path = devRoot + "/vfio/\(number)"
        return VFIOGroup(fd: try openNode(path), path: path, number: number)
    }

    /// `VFIO_GROUP_GET_STATUS`.
    public func status() throws(VFIOError) -> Status {
        var s = vfio_group_status()
        s.argsz = UInt32(MemoryLayout<vfio_group_status>.size)
        let r = cvfio_ioctl_ptr(fd.rawValue, CVFIO_GROUP_GET_STATUS, &s)
        guard r >= 0 else { throw .system(call: "VFIO_GROUP_GET_STATUS", path: path, errno: ioctlErrno(r)) }
        return Status(viable: s.flags & CVFIO_GROUP_FLAGS_VIABLE != 0, containerSet: s.flags & CVFIO_GROUP_FLAGS_CONTAINER_SET != 0)
    }

    /// `VFIO_GROUP_SET_CONTAINER`.
    public func setContainer(_ container: VFIOContainer) throws(VFIOError) {
        var containerFD = container.fd.rawValue
        let r = cvfio_ioctl_ptr(fd.rawValue, CVFIO_GROUP_SET_CONTAINER, &containerFD)
        guard r >= 0 else {
            if ioctlErrno(r) == .resourceBusy { throw .busy(path) }
            throw .system(call: "VFIO_GROUP_SET_CONTAINER", path: path, errno: ioctlErrno(r))
        }
    }

    /// `VFIO_GROUP_GET_DEVICE_FD` for the device named by its PCI address.
    public func deviceFD(for address: PCIAddress) throws(VFIOError) -> FileDescriptor {
        let r = address.description.withCString { name in
            cvfio_ioctl_ptr(fd.rawValue, CVFIO_GROUP_GET_DEVICE_FD, UnsafeMutableRawPointer(mutating: name))
        }
        guard r >= 0 else {
            if ioctlErrno(r) == .resourceBusy { throw .busy("device \(address) in \(path)") }
            throw .system(call: "VFIO_GROUP_GET_DEVICE_FD", path: path, errno: ioctlErrno(r))
        }
        return FileDescriptor(rawValue: r)
    }
}

/// The vfio cdev path (Linux 6.6+): `/dev/iommu` and `/dev/vfio/devices/vfioX`.
public enum VFIOCdev {
    /// Opens the device cdev, binds it to a new iommufd and attaches it to a fresh IOAS.
    /// Returns the device fd and the iommufd (which must stay open as long as the device).
    public static func open(cdevName: String, devRoot: String = "/dev") throws(VFIOError) -> (device: FileDescriptor, iommufd: FileDescriptor) {
        let iommuPath = devRoot + "/iommu"
        let devicePath = devRoot + "/vfio/devices/" + cdevName
        let iommufd = try openNode(iommuPath)
        let device: FileDescriptor
        do { device = try openNode(devicePath) } catch { try? iommufd.close(); throw error }
        var bind = cvfio_device_bind_iommufd(argsz: UInt32(MemoryLayout<cvfio_device_bind_iommufd>.size), flags: 0, iommufd: iommufd.rawValue, out_devid: 0)
        var r = cvfio_ioctl_ptr(device.rawValue, CVFIO_DEVICE_BIND_IOMMUFD, &bind)
        if r >= 0 {
            var alloc = cvfio_iommu_ioas_alloc(size: UInt32(MemoryLayout<cvfio_iommu_ioas_alloc>.size), flags: 0, out_ioas_id: 0)
            r = cvfio_ioctl_ptr(iommufd.rawValue, CVFIO_IOMMU_IOAS_ALLOC, &alloc)
            if r >= 0 {
                var attach = cvfio_device_attach_iommufd_pt(argsz: UInt32(MemoryLayout<cvfio_device_attach_iommufd_pt>.size), flags: 0, pt_id: alloc.out_ioas_id)
                r = cvfio_ioctl_ptr(device.rawValue, CVFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)
            }
        }
        guard r >= 0 else {
            try? device.close()
            try? iommufd.close()
            if ioctlErrno(r) == .resourceBusy { throw .busy(devicePath) }
            throw .system(call: "VFIO_DEVICE_BIND_IOMMUFD/ATTACH", path: devicePath, errno: ioctlErrno(r))
        }
        return (device, iommufd)
    }
}
