import ISMAccess

extension GoldenModel {
    /// §6: what `VFIO_DEVICE_GET_REGION_INFO` answers.
    public mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        // R-INFO-4: the VFIO core rejects a short argsz.
        if argsz < RegionIndex.regionInfoFixedSize { lastDecision = Decision(rule: .info4); throw .einval }
        // The base the device's layout gives the region (the shift, or the table).
        let offset = config.offset(index: UInt64(index)) ?? 0
        if index == RegionIndex.config {
            lastDecision = Decision(rule: .info1)
            lastDecision.cite(.off1)  // the base offset is the region layout of R-OFF-1
            return RegionInfo(index: index, offset: offset, size: config.configSize, flags: [.read, .write])
        }
        if let size = config.barLength(UInt64(index)) {
            // R-INFO-2: flags only on a present BAR, never MMAP (vfio-pci: see `ignoredRegionFlags`).
            lastDecision = Decision(rule: .info2)
            lastDecision.cite(.off1)
            return RegionInfo(index: index, offset: offset, size: size, flags: size == 0 ? [] : [.read, .write])
        }
        // R-INFO-3 / R-OFF-3: no other region exists.
        lastDecision = Decision(rule: .info3)
        lastDecision.cite(.off3)
        throw .einval
    }

    /// Region flags the model does not predict for this profile: generic vfio-pci may mark
    /// BARs mmap-able and attach capabilities (§9).
    public var ignoredRegionFlags: RegionFlags {
        config.profile == .vfioPCI ? [.mmap, .caps] : []
    }
}
