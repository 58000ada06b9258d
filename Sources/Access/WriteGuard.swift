/// The write guard both real-device backends apply (in this process over VFIO, or on the host
/// in front of `ismkit-agent`): a write may reach the device only when every byte it can land on
/// (the kernel-decoded region and position, clamped to the region size the kernel reported) lies
/// inside one range of the allow-list. Negative offsets and offsets outside every reported
/// region are never written; a zero-byte write transfers nothing and is always allowed.
extension WriteAllowList {
    /// Whether a write of `count` bytes at the kernel offset `offset` may be sent.
    public func permits(kernelOffset offset: UInt64, count: Int, map: RegionOffsetMap) -> Bool {
        if count == 0 { return true }
        guard offset >> 63 == 0, let (index, pos) = map.locate(kernel: offset) else { return false }
        let size = map.regions[index]?.size ?? 0
        let landing = pos < size ? Int(min(UInt64(count), size - pos)) : count
        return allows(region: index, position: pos, count: landing)
    }

    /// Whether `op` would be held back now: a `pwrite` at its translated offset, a `write` at
    /// the file position `kernelPosition` (kernel offsets).
    public func refuses(_ op: Operation, map: RegionOffsetMap, kernelPosition: UInt64) -> Bool {
        switch op {
        case let .pwrite(offset, count, _, _): !permits(kernelOffset: map.kernelOffset(model: offset), count: count, map: map)
        case let .write(count, _, _): !permits(kernelOffset: kernelPosition, count: count, map: map)
        default: false
        }
    }
}
