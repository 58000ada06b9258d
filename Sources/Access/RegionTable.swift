/// A region layout read from a table (region index -> base), not computed as `index << shift`:
/// what a VFIO driver that places its regions wherever it likes (a maple tree of regions, say)
/// presents. It promises that each listed region owns `[base, base + span)`, that no two of
/// these ranges overlap, and that every other offset names no region (R-OFF-3 rejects it).
public struct RegionTable: Codable, Sendable, Hashable {
    /// The base of region 0...7 (BAR0...BAR5, ROM, config), in the device fd's offset space.
    /// The ROM's entry only shows where a profile answers region info for index 6.
    public var bases: [UInt64]
    /// How many bytes each region owns from its base: a power of two at least as large as
    /// every BAR and the config space.
    public var span: UInt64

    public init(bases: [UInt64], span: UInt64) {
        self.bases = bases
        self.span = span
    }

    /// The number of regions a table lists (indexes 0...7).
    public static let regionCount = 8

    /// What is wrong with the table, or nil: eight bases, a power-of-two span, no overlap, no
    /// range reaching a negative offset.
    public var problem: String? {
        guard bases.count == Self.regionCount else { return "must list \(Self.regionCount) bases (regions 0...7), not \(bases.count)" }
        guard span >= 4096, span & (span - 1) == 0 else { return "span must be a power of two of at least 4096" }
        for (i, b) in bases.enumerated() {
            guard b < 1 << 63, (1 << 63) - b >= span else { return "region \(i) reaches past the largest file offset" }
        }
        let sorted = bases.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) where b - a < span { return "regions at 0x\(String(a, radix: 16)) and 0x\(String(b, radix: 16)) overlap" }
        return nil
    }

    /// The region index and position of `offset`, or nil when it lies in no listed region.
    @inlinable public func decode(_ offset: UInt64) -> (index: UInt64, position: UInt64)? {
        for (i, b) in bases.enumerated() where offset >= b && offset - b < span {
            return (UInt64(i), offset - b)
        }
        return nil
    }
}

/// How a device fd's offsets map to regions: `index << shift | position` (SPEC R-OFF-1, the
/// generic vfio-pci layout with shift 40), or a base table. It promises that `offset(index:
/// position:)` and `decode` agree for every position below `span`, and that region info
/// answers `base(of:)`.
public enum RegionLayout: Sendable, Hashable {
    case shift(UInt64)
    case table(RegionTable)

    /// The index `decode` gives an offset that lies in no region: no region has it (R-OFF-3).
    public static let noRegion = UInt64.max

    /// How many bytes a region may reach from its base.
    @inlinable public var span: UInt64 {
        switch self {
        case let .shift(s): 1 << s
        case let .table(t): t.span
        }
    }

    /// The region index and position of a non-negative offset (`noRegion` when it names none).
    @inlinable public func decode(_ offset: UInt64) -> (index: UInt64, position: UInt64) {
        switch self {
        case let .shift(s): return (offset >> s, offset & ((1 << s) - 1))
        case let .table(t): return t.decode(offset) ?? (Self.noRegion, 0)
        }
    }

    /// The base of region `index`, or nil when the layout places no region there.
    @inlinable public func base(of index: UInt64) -> UInt64? {
        switch self {
        case let .shift(s): return index >> (64 - s) == 0 ? index << s : nil
        case let .table(t): return index < UInt64(t.bases.count) ? t.bases[Int(index)] : nil
        }
    }
}
