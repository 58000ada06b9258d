import SystemPackage

/// Why a VFIO device could not be opened or used, as one line a person can act on.
///
/// Promises: every case names the path or device involved; `description` is a single line
/// without a trailing newline (the tool prints it and exits 2).
public enum VFIOError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text given is not a PCI address.
    case badAddress(String)
    /// No such PCI device in sysfs.
    case noSuchDevice(PCIAddress, sysfsPath: String)
    /// The device is bound to no driver, or to one that is not a VFIO driver.
    case notBoundToVFIO(PCIAddress, driver: String?)
    /// The device has no IOMMU group (the kernel runs without an IOMMU).
    case noIOMMUGroup(PCIAddress)
    /// The character device that should exist for the group or device does not.
    case noDeviceNode(String)
    /// Opening a node was refused (EACCES/EPERM).
    case noPermission(String)
    /// The group holds devices not bound to VFIO drivers.
    case groupNotViable(group: Int, blockers: [String])
    /// The group or device is already in use by another process (EBUSY).
    case busy(String)
    /// The kernel does not offer what is needed (API version, type1 IOMMU, iommufd).
    case unsupported(String)
    /// A system call failed with an errno.
    case system(call: String, path: String, errno: Errno)

    public var description: String {
        switch self {
        case .badAddress(let text):
            "'\(text)' is not a PCI address (expected DDDD:BB:DD.F, for example 0000:00:01.0)"
        case let .noSuchDevice(address, path):
            "no PCI device \(address): \(path) does not exist"
        case let .notBoundToVFIO(address, nil):
            "device \(address) is not bound to any driver; bind it to vfio-pci first (driver_override + drivers_probe)"
        case let .notBoundToVFIO(address, driver?):
            "device \(address) is bound to '\(driver)', not to a vfio driver; unbind it and bind vfio-pci (driver_override + drivers_probe)"
        case .noIOMMUGroup(let address):
            "device \(address) has no IOMMU group: enable the IOMMU (for example intel_iommu=on) to use VFIO"
        case .noDeviceNode(let path):
            "\(path) does not exist: is the vfio module loaded and the device bound to vfio-pci?"
        case .noPermission(let path):
            "no permission to open \(path): run as root or give this user access to the VFIO group"
        case let .groupNotViable(group, blockers):
            "IOMMU group \(group) is not viable: bind every device in it to vfio-pci (blocking: \(blockers.isEmpty ? "unknown" : blockers.joined(separator: ", ")))"
        case .busy(let path):
            "\(path) is busy: another process (a VM or another tool) is using the device"
        case .unsupported(let what):
            "the kernel does not support \(what)"
        case let .system(call, path, errno):
            "\(call) on \(path) failed: \(Errno.symbolicName(errno.rawValue)) (\(errno))"
        }
    }
}
