#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// What sysfs says about one PCI device: its IDs, its driver and its IOMMU group.
///
/// Promises: it only reads; `root` lets tests point it at a fake tree (the default is `/sys`).
public struct SysfsPCIDevice: Sendable {
    public var address: PCIAddress
    public var root: String

    public init(address: PCIAddress, root: String = "/sys") {
        self.address = address
        self.root = root
    }

    /// `/sys/bus/pci/devices/<address>`.
    public var path: String { root + "/bus/pci/devices/" + address.description }

    public var exists: Bool { access(path, F_OK) == 0 }

    /// The vendor ID, or nil when the file is missing or unreadable.
    public var vendor: UInt16? { Self.readHex(path + "/vendor").map { UInt16(truncatingIfNeeded: $0) } }
    /// The device ID, or nil when the file is missing or unreadable.
    public var deviceID: UInt16? { Self.readHex(path + "/device").map { UInt16(truncatingIfNeeded: $0) } }

    /// The name of the bound driver (last component of the `driver` link), or nil.
    public var driver: String? { Self.readLink(path + "/driver").map(Self.lastComponent) }

    /// The IOMMU group number (last component of the `iommu_group` link), or nil.
    public var iommuGroup: Int? { Self.readLink(path + "/iommu_group").map(Self.lastComponent).flatMap { Int($0) } }

    /// The vfio cdev name (`vfio3`) under `vfio-dev/`, present on kernels with the vfio cdev.
    public var vfioCdevName: String? {
        guard let dir = opendir(path + "/vfio-dev") else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix("vfio") { return name }
        }
        return nil
    }

    /// The other devices of the IOMMU group and their drivers (`0000:00:02.0=e1000`).
    public func groupMembers(group: Int) -> [(address: String, driver: String?)] {
        let dirPath = root + "/kernel/iommu_groups/\(group)/devices"
        guard let dir = opendir(dirPath) else { return [] }
        defer { closedir(dir) }
        var members: [(String, String?)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            members.append((name, Self.readLink(dirPath + "/" + name + "/driver").map(Self.lastComponent)))
        }
        return members.sorted { $0.0 < $1.0 }
    }

    /// Whether a driver name is a VFIO driver (`vfio-pci`, `ism-vfio-pci`, other variant drivers).
    public static func isVFIODriver(_ name: String) -> Bool { name.contains("vfio") }

    static func lastComponent(_ link: String) -> String {
        String(link.split(separator: "/").last ?? Substring(link))
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readText(_ path: String) -> String? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
        defer { try? fd.close() }
        var bytes = [UInt8](repeating: 0, count: 256)
        guard let n = try? bytes.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return nil }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }

    static func readHex(_ path: String) -> UInt64? {
        guard var text = readText(path) else { return nil }
        text = String(text.filter { !$0.isWhitespace })
        if text.hasPrefix("0x") { text.removeFirst(2) }
        return UInt64(text, radix: 16)
    }
}

extension SysfsPCIDevice {
    /// BAR sizes from the `resource` file (one `start end flags` line per resource; a BAR
    /// whose start is 0 is absent), or nil when the file cannot be read.
    public var barSizes: [UInt64]? {
        guard let text = Self.readTextFully(path + "/resource") else { return nil }
        var sizes: [UInt64] = []
        for line in text.split(separator: "\n").prefix(6) {
            let f = line.split(separator: " ").map { s -> UInt64? in
                var t = String(s)
                if t.hasPrefix("0x") { t.removeFirst(2) }
                return UInt64(t, radix: 16)
            }
            guard f.count >= 2, let start = f[0], let end = f[1] else { return nil }
            sizes.append(start == 0 && end == 0 ? 0 : end - start + 1)
        }
        while sizes.count < 6 { sizes.append(0) }
        return sizes
    }

    /// The size of config space as sysfs shows it (256 or 4096), or nil.
    public var configSize: UInt64? {
        var st = stat()
        guard stat(path + "/config", &st) == 0 else { return nil }
        return UInt64(st.st_size)
    }

    static func readTextFully(_ path: String) -> String? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
        defer { try? fd.close() }
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            guard let n = try? chunk.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return nil }
            if n == 0 { break }
            all += chunk[0..<n]
        }
        return String(decoding: all, as: UTF8.self)
    }
}
