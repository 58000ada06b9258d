import ISMAccess

/// A file offset decoded into region index and position (R-OFF-1, §9 for the vfio-pci shift).
public struct DecodedOffset: Hashable, Sendable {
    public var index: UInt64
    public var position: UInt64

    @inlinable
    public init(index: UInt64, position: UInt64) {
        self.index = index
        self.position = position
    }

    /// R-OFF-1: `index = off >> shift`, `pos = off & (2^shift - 1)`; shift 48 (ism) or 40 (vfio-pci).
    @inlinable
    public init(offset: UInt64, profile: Profile) {
        let shift = profile.regionShift
        index = offset >> shift
        position = offset & ((1 << shift) - 1)
    }

    /// R-OFF-1 in the device's layout: the shift, or the region base table (an offset in no
    /// listed region decodes to `RegionLayout.noRegion`, which R-OFF-3 rejects).
    @inlinable
    public init(offset: UInt64, config: DeviceConfig) {
        if config.regionTable == nil {
            self.init(offset: offset, profile: config.profile)
        } else {
            let d = config.regionLayout.decode(offset)
            self.init(index: d.index, position: d.position)
        }
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

extension DeviceConfig {
    /// The file offset of `position` in region `index` in this device's layout (R-INFO-1/2:
    /// the base region info reports), or nil when the layout places no region `index`.
    @inlinable
    public func offset(index: UInt64, position: UInt64 = 0) -> UInt64? {
        regionLayout.base(of: index).map { $0 &+ position }
    }
}
