/// The byte order of the host that runs the driver. s390x is big-endian; most CI hosts are not.
public enum ByteOrder: String, Codable, Sendable, Hashable, CaseIterable {
    case little, big

    /// The byte order of the machine running this process.
    public static var native: ByteOrder { 1.littleEndian == 1 ? .little : .big }
}

/// Which driver's semantics apply (SPEC §9).
public enum Profile: String, Codable, Sendable, Hashable, CaseIterable {
    /// ism-vfio-pci: 48-bit region shift, one store block per write.
    case ism
    /// generic vfio-pci: 40-bit region shift, writes split like reads.
    case vfioPCI = "vfio-pci"

    /// Bits the region index is shifted by in the device fd's offset space.
    public var regionShift: UInt64 { self == .ism ? 48 : 40 }
}

/// How strictly the device checks store blocks (R-WRITE-4).
public enum StoreBlockStrictness: String, Codable, Sendable, Hashable {
    /// Any length 1...maxstbl at any offset (ISM devices report relaxed alignment).
    case relaxed
    /// The architecture's default PCISTB rules: offset and length multiples of 8, length above 8.
    case strict
}

/// A range of a BAR that holds the MSI-X table (vfio-pci profile): reads return 0xFF, writes are dropped.
public struct MSIXTable: Codable, Sendable, Hashable {
    public var bar: Int
    public var start: UInt64
    public var length: UInt64
    public init(bar: Int, start: UInt64, length: UInt64) {
        self.bar = bar
        self.start = start
        self.length = length
    }
}

/// Everything that defines a device and its driver for a run: BAR lengths (0 = absent),
/// config size, maxstbl, host byte order, profile, store-block strictness and the seed of
/// the device's initial contents. Two implementations given the same configuration must agree.
public struct DeviceConfig: Codable, Sendable, Hashable {
    /// Lengths of BAR0...BAR5 in bytes; 0 means the device does not implement that BAR.
    public var barLengths: [UInt64]
    public var configSize: UInt64
    public var maxstbl: UInt64
    public var hostByteOrder: ByteOrder
    public var profile: Profile
    public var storeBlocks: StoreBlockStrictness
    /// vfio-pci profile: whether the host has 64-bit MMIO accessors (else reads split 4/2/1).
    public var has64BitMMIO: Bool
    public var msix: MSIXTable?
    /// Seeds the initial device contents (see `DeviceContents`).
    public var contentSeed: UInt64
    /// maxstbl of the second ("peer") device that lifecycle operations attach.
    public var peerMaxstbl: UInt64
    /// Region bases from a table instead of the profile's shift; nil (absent in a file): the shift.
    public var regionTable: RegionTable?

    public init(
        barLengths: [UInt64], configSize: UInt64 = 4096, maxstbl: UInt64 = 4096,
        hostByteOrder: ByteOrder = .native, profile: Profile = .ism,
        storeBlocks: StoreBlockStrictness = .relaxed, has64BitMMIO: Bool = true,
        msix: MSIXTable? = nil, contentSeed: UInt64 = 0x15A_15A, peerMaxstbl: UInt64 = 2048,
        regionTable: RegionTable? = nil
    ) {
        precondition(barLengths.count == 6, "a device has six BAR slots")
        self.barLengths = barLengths
        self.configSize = configSize
        self.maxstbl = maxstbl
        self.hostByteOrder = hostByteOrder
        self.profile = profile
        self.storeBlocks = storeBlocks
        self.has64BitMMIO = has64BitMMIO
        self.msix = msix
        self.contentSeed = contentSeed
        self.peerMaxstbl = peerMaxstbl
        self.regionTable = regionTable
    }

    /// An ISM device as current machines present it: BAR0 256 TiB, BAR2 8 KiB,
    /// other BARs absent, 4 KiB config space, maxstbl 4096.
    public static func ism(hostByteOrder: ByteOrder = .native) -> DeviceConfig {
        DeviceConfig(barLengths: [1 << 48, 0, 8192, 0, 0, 0], hostByteOrder: hostByteOrder)
    }

    /// Where the device's regions sit in its fd's offset space: the table when there is one,
    /// else the profile's shift.
    @inlinable public var regionLayout: RegionLayout {
        if let t = regionTable { return .table(t) }
        return .shift(profile.regionShift)
    }

    /// The length of region `index` when it is a BAR, or nil when it is not a BAR index.
    @inlinable public func barLength(_ index: UInt64) -> UInt64? {
        index < 6 ? barLengths[Int(index)] : nil
    }
}
