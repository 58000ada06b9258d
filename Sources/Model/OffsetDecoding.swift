import ISMAccess

/// A file offset decoded into region index and position (R-OFF-1, §9 for the vfio-pci shift).
public struct DecodedOffset: Hashable, Sendable {
    public var index: UInt64
    public var position: UInt64

    /// R-OFF-1: `index = off >> shift`, `pos = off & (2^shift - 1)`; shift 48 (ism) or 40 (vfio-pci).
    @inlinable
    public init(offset: UInt64, profile: Profile) {
        let shift = profile.regionShift
        index = offset >> shift
        position = offset & ((1 << shift) - 1)
    }

    /// The file offset of `position` in region `index`, per the profile's layout (R-INFO-1/2).
    @inlinable
    public static func offset(index: UInt64, position: UInt64 = 0, profile: Profile) -> UInt64 {
        index << profile.regionShift | position
    }
}

/// The VFS limit on one transfer (R-OFF-4).
public let maxRWCount = 0x7fff_f000
/// The s390 page size that store blocks may not cross (R-WRITE-2).
public let pageSize: UInt64 = 4096
