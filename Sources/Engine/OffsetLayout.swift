import ISMAccess

/// How a device's file offsets split into a region index and a position (`index << shift |
/// position`, SPEC R-OFF-1 for ism, the generic vfio-pci layout otherwise, or a region base
/// table): what reports print offsets in and what the shrinker simplifies positions in, so no
/// shift is assumed anywhere.
public struct OffsetLayout: Sendable, Hashable {
    public var regionShift: UInt64
    /// The region base table, when the device has one (`regionShift` is then unused).
    public var table: RegionTable?
    public init(regionShift: UInt64, table: RegionTable? = nil) {
        self.regionShift = regionShift
        self.table = table
    }
    public init(_ profile: Profile) { regionShift = profile.regionShift }

    /// The layout as `Access` states it.
    public var regions: RegionLayout { table.map { .table($0) } ?? .shift(regionShift) }

    /// The base of the region `offset` lies in and its position there; nil when it lies in
    /// no region of a table.
    public func split(_ offset: UInt64) -> (base: UInt64, position: UInt64)? {
        guard let t = table else { return (offset & indexMask, offset & positionMask) }
        guard let (i, pos) = t.decode(offset) else { return nil }
        return (t.bases[Int(i)], pos)
    }

    /// The bits of the region index (every bit above the position).
    public var indexMask: UInt64 { ~positionMask }
    /// The bits of the position within a region.
    public var positionMask: UInt64 { (1 << regionShift) - 1 }

    /// `0x1f` for region 0, `2<<48+0x10` for region 2 in the ism layout; `[2]+0x10` for
    /// region 2 of a table, `0x…` for an offset in no region of it.
    public func describe(_ offset: UInt64) -> String {
        if let t = table {
            guard let (i, pos) = t.decode(offset) else { return "0x" + String(offset, radix: 16) }
            return "[\(i)]+0x" + String(pos, radix: 16)
        }
        let index = offset >> regionShift, pos = offset & positionMask
        return index == 0 ? "0x" + String(pos, radix: 16) : "\(index)<<\(regionShift)+0x" + String(pos, radix: 16)
    }
}

extension Operation {
    /// A compact one-line form for reports, offsets in `layout`: `pread(2<<48+0x3, 13)`.
    public func summary(in layout: OffsetLayout) -> String {
        func off(_ o: UInt64) -> String { layout.describe(o) }
        func f(_ fault: Fault) -> String { fault == .none ? "" : ", fault \(fault)" }
        switch self {
        case let .pread(o, c, fl): return "pread(\(off(o)), \(c)\(f(fl)))"
        case let .pwrite(o, c, p, fl): return "pwrite(\(off(o)), \(c), pattern \(p)\(f(fl)))"
        case let .read(c, fl): return "read(\(c)\(f(fl)))"
        case let .write(c, p, fl): return "write(\(c), pattern \(p)\(f(fl)))"
        case let .seek(o, w): return "seek(\(o < 0 ? "-0x" + String(o.magnitude, radix: 16) : "0x" + String(o, radix: 16)), \(w.rawValue))"
        case let .regionInfo(i, a): return "region-info(\(i), argsz \(a))"
        case .recoverHandle: return "recover-handle"
        case let .attachPeer(fp): return fp ? "attach-peer(fail pool)" : "attach-peer"
        case .detachPeer: return "detach-peer"
        case .checkResources: return "check-resources"
        }
    }
}

extension DeviceConfig {
    /// The offset layout of this device's profile.
    public var layout: OffsetLayout { OffsetLayout(regionShift: profile.regionShift, table: regionTable) }
}
