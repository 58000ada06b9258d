/// The answer of `VFIO_DEVICE_GET_REGION_INFO` for one region: where it starts in the
/// device fd's offset space, how large it is, and what may be done with it.
public struct RegionInfo: Hashable, Sendable, Codable {
    public var index: UInt32
    public var offset: UInt64
    public var size: UInt64
    public var flags: RegionFlags

    public init(index: UInt32, offset: UInt64, size: UInt64, flags: RegionFlags) {
        self.index = index
        self.offset = offset
        self.size = size
        self.flags = flags
    }
}

/// `VFIO_REGION_INFO_FLAG_*` bits.
public struct RegionFlags: OptionSet, Hashable, Sendable, Codable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = RegionFlags(rawValue: 1 << 0)
    public static let write = RegionFlags(rawValue: 1 << 1)
    public static let mmap = RegionFlags(rawValue: 1 << 2)
    public static let caps = RegionFlags(rawValue: 1 << 3)
}

/// Region indexes of a vfio-pci device (`VFIO_PCI_*_REGION_INDEX`).
public enum RegionIndex {
    public static let bars: ClosedRange<UInt32> = 0...5
    public static let rom: UInt32 = 6
    public static let config: UInt32 = 7
    public static let vga: UInt32 = 8
    /// The size of the fixed part of `struct vfio_region_info` (R-INFO-4).
    public static let regionInfoFixedSize: UInt32 = 32
}
