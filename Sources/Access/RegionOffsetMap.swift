/// Translates between the model's offset space and the kernel's (SPEC R-OFF-2).
///
/// Operations carry offsets as the model decodes them: `index << profile.regionShift | pos`.
/// A conforming client never assumes a shift: it takes each region's base from
/// `VFIO_DEVICE_GET_REGION_INFO`. This map is where ismkit does exactly that. It is used only by
/// the backends that talk to a kernel: the VFIO backend (in process) and the agent client
/// (`AgentDevice`, from the agent's `REGIONS` answer); nothing else translates offsets:
///
/// - An offset whose model index names a region the kernel reported, with a position below
///   the spacing of the kernel's region bases, goes to the kernel as `info.offset + pos`.
/// - Anything else (negative offsets, indexes the kernel rejected, positions that would spill
///   into the next kernel region) goes to the kernel unchanged, so the kernel's own answer to
///   an undecodable offset is what gets compared.
///
/// `regionInfo` answers are never translated: with a profile whose shift differs from the
/// kernel's (a forced `ism` profile on generic vfio-pci) the difference shows there, as a
/// non-conforming region base, and in the write rules that differ between the profiles.
public struct RegionOffsetMap: Sendable, Hashable {
    /// The shift the model decodes with (`Profile.regionShift`).
    public var modelShift: UInt64
    /// What the kernel answered for each region index it accepted.
    public var regions: [UInt32: RegionInfo]
    /// The smallest distance between two kernel region bases (how far a position may reach).
    public var span: UInt64

    public init(modelShift: UInt64, regions: [UInt32: RegionInfo]) {
        self.modelShift = modelShift
        self.regions = regions
        let bases = Set(regions.values.map(\.offset)).sorted()
        var span = UInt64.max
        for (a, b) in zip(bases, bases.dropFirst()) { span = min(span, b - a) }
        self.span = span
    }

    /// The kernel offset for a model offset.
    public func kernelOffset(model offset: UInt64) -> UInt64 {
        guard offset >> 63 == 0 else { return offset }
        let index = offset >> modelShift
        let pos = offset & ((1 << modelShift) - 1)
        guard index <= UInt64(UInt32.max), let r = regions[UInt32(index)], pos < span else { return offset }
        return r.offset &+ pos
    }

    /// The model offset for a kernel offset (a file position the kernel reports).
    public func modelOffset(kernel offset: UInt64) -> UInt64 {
        guard let (index, pos) = locate(kernel: offset) else { return offset }
        return UInt64(index) << modelShift | pos
    }

    /// The region index and position a kernel offset falls in: the reported region whose base
    /// is the largest one not above `offset`, when `offset` is within `span` of it.
    public func locate(kernel offset: UInt64) -> (index: UInt32, position: UInt64)? {
        var best: RegionInfo?
        for r in regions.values where r.offset <= offset && (best == nil || r.offset > best!.offset) { best = r }
        guard let r = best, offset - r.offset < span else { return nil }
        return (r.index, offset - r.offset)
    }
}
