import CVFIO
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the device fd is reached: the group/container path or the vfio cdev + iommufd path.
public enum VFIOPath: Sendable, Hashable, CustomStringConvertible {
    case group(Int)
    case cdev(String)
    public var description: String {
        switch self {
        case .group(let n): "group \(n) + type1 container"
        case .cdev(let name): "cdev \(name) + iommufd"
        }
    }
}

/// An opened route to one PCI device through VFIO: the container and group (type1 path) or the
/// iommufd (cdev path), kept open for as long as device fds are wanted.
///
/// Promises: the sysfs checks (`preflight`) run before any node is opened; every failure is a
/// `VFIOError` whose description is one actionable line; `openDevice()` can be called again
/// for a fresh device fd (file position 0).
public final class VFIOConnection {
    public let address: PCIAddress
    public let sysfs: SysfsPCIDevice
    public let path: VFIOPath
    public let devRoot: String
    private var container: VFIOContainer?
    private var group: VFIOGroup?
    private var iommufd: FileDescriptor?

    /// The checks that need only sysfs: the device exists, is bound to a vfio driver, has a group.
    public static func preflight(address: PCIAddress, sysfsRoot: String = "/sys") throws(VFIOError) -> SysfsPCIDevice {
        let sysfs = SysfsPCIDevice(address: address, root: sysfsRoot)
        guard sysfs.exists else { throw .noSuchDevice(address, sysfsPath: sysfs.path) }
        guard let driver = sysfs.driver, SysfsPCIDevice.isVFIODriver(driver) else {
            throw .notBoundToVFIO(address, driver: sysfs.driver)
        }
        guard sysfs.iommuGroup != nil || sysfs.vfioCdevName != nil else { throw .noIOMMUGroup(address) }
        return sysfs
    }

    /// Opens the route: the vfio cdev + iommufd when the kernel has them (and `preferCdev`),
    /// else the group with a type1 container.
    public init(address: PCIAddress, sysfsRoot: String = "/sys", devRoot: String = "/dev", preferCdev: Bool = true) throws(VFIOError) {
        self.address = address
        self.devRoot = devRoot
        sysfs = try Self.preflight(address: address, sysfsRoot: sysfsRoot)
        if preferCdev, let cdev = sysfs.vfioCdevName, Self.exists(devRoot + "/iommu"), Self.exists(devRoot + "/vfio/devices/" + cdev) {
            path = .cdev(cdev)
            iommufd = nil
            return
        }
        guard let number = sysfs.iommuGroup else { throw .noIOMMUGroup(address) }
        path = .group(number)
        let g = try VFIOGroup.open(number: number, devRoot: devRoot)
        group = g
        let status = try g.status()
        guard status.viable else {
            let blockers = sysfs.groupMembers(group: number)
                .filter { !($0.driver.map(SysfsPCIDevice.isVFIODriver) ?? true) }
                .map { "\($0.address)=\($0.driver ?? "none")" }
            throw .groupNotViable(group: number, blockers: blockers)
        }
        if status.containerSet { throw .busy(g.path) }
        let c = try VFIOContainer.open(path: devRoot + "/vfio/vfio")
        container = c
        let version = try c.apiVersion()
        guard version == CVFIO_API_VERSION else { throw .unsupported("VFIO API version \(CVFIO_API_VERSION) (it reports \(version))") }
        let type: CInt
        if try c.checkExtension(CVFIO_TYPE1v2_IOMMU) { type = CVFIO_TYPE1v2_IOMMU }
        else if try c.checkExtension(CVFIO_TYPE1_IOMMU) { type = CVFIO_TYPE1_IOMMU }
        else { throw .unsupported("the type1 IOMMU (load vfio_iommu_type1)") }
        try g.setContainer(c)
        try c.setIOMMU(type)
    }

    /// A new device fd.
    public func openDevice() throws(VFIOError) -> VFIODeviceFile {
        switch path {
        case .group:
            return VFIODeviceFile(fd: try group!.deviceFD(for: address))
        case .cdev(let name):
            let (device, fd) = try VFIOCdev.open(cdevName: name, devRoot: devRoot)
            if let old = iommufd { try? old.close() }
            iommufd = fd
            return VFIODeviceFile(fd: device)
        }
    }

    deinit {
        if let group { try? group.fd.close() }
        if let container { try? container.fd.close() }
        if let iommufd { try? iommufd.close() }
    }

    /// Whether a path exists (checked with access(2): nothing is opened).
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
