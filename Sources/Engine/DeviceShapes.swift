import ISMAccess

/// Device configurations drawn from a seed, so campaigns meet the shapes real and emulated
/// functions have, not one device: any subset of BAR0...BAR5, BAR lengths from a page to
/// 256 TiB (powers of two, odd sizes, sizes just above 2^32 and 2^40), maxstbl from 128
/// (QEMU's zPCI) to 4096, a 256- or 4096-byte config space, relaxed or strict store blocks.
/// The same seed always gives the same configurations.
public enum DeviceShapes {
    /// BAR lengths a draw picks from besides random powers of two.
    public static let edgeLengths: [UInt64] = [
        4096, 4100, 8192, 1 << 20, (1 << 32) - 4096, (1 << 32) + 8, (1 << 32) + 4096,
        (1 << 40) + 8, (1 << 40) + 4096, 1 << 47, 1 << 48,
    ]
    /// maxstbl values a draw picks from besides random ones in 128...4096.
    public static let edgeMaxstbl: [UInt64] = [128, 256, 512, 1024, 2048, 4096]

    /// `count` configurations for one byte order and profile. BAR lengths stay within what the
    /// profile's offset layout can address.
    public static func draw(seed: UInt64, count: Int, byteOrder: ByteOrder, profile: Profile = .ism) -> [DeviceConfig] {
        var rng = SplitMix64(seed: seed ^ 0x5AA9_E5_D3_71CE)
        return (0..<count).map { _ in one(&rng, byteOrder: byteOrder, profile: profile) }
    }

    static func one(_ rng: inout SplitMix64, byteOrder: ByteOrder, profile: Profile) -> DeviceConfig {
        let limit: UInt64 = 1 << profile.regionShift
        var bars = [UInt64](repeating: 0, count: 6)
        // Each BAR present with probability 1/2; one in 32 devices has none at all.
        if !rng.chance(3) {
            for i in 0..<6 where rng.chance(50) { bars[i] = min(length(&rng), limit) }
            if bars.allSatisfy({ $0 == 0 }) { bars[rng.below(6)] = min(length(&rng), limit) }
        }
        let maxstbl: UInt64 = rng.chance(60)
            ? edgeMaxstbl[rng.below(edgeMaxstbl.count)]
            : 128 + UInt64(rng.below(4096 - 128 + 1))
        let peer: UInt64 = edgeMaxstbl[rng.below(edgeMaxstbl.count)]
        return DeviceConfig(
            barLengths: bars, configSize: rng.chance(50) ? 256 : 4096, maxstbl: maxstbl,
            hostByteOrder: byteOrder, profile: profile, storeBlocks: rng.chance(50) ? .strict : .relaxed,
            contentSeed: rng.next(), peerMaxstbl: peer)
    }

    /// A region base table for `profile` drawn from `seed`: every region owns a region of the
    /// profile's size (`1 << regionShift`, so every BAR and position the shift layout holds
    /// fits), the regions sit in a shuffled order (the base does not grow with the index), a
    /// page-aligned start and gaps that are no power of two apart, and every gap is an offset
    /// in no region. The same seed always gives the same table.
    public static func regionTable(seed: UInt64, profile: Profile = .ism) -> RegionTable {
        var rng = SplitMix64(seed: seed ^ 0x7AB1_E0FF_5E75)
        let span: UInt64 = 1 << profile.regionShift
        var slots = Array(0..<UInt64(RegionTable.regionCount))
        for i in stride(from: slots.count - 1, to: 0, by: -1) { slots.swapAt(i, rng.below(i + 1)) }
        if slots == slots.sorted() { slots.swapAt(0, slots.count - 1) }
        let start = 4096 * UInt64(1 + rng.below(1 << 20))
        let gap = 4096 * UInt64(1 + 2 * rng.below(1 << 22))  // an odd number of pages
        return RegionTable(bases: slots.map { start + $0 * (span + gap) }, span: span)
    }

    /// `config` with its region bases from a table drawn from `seed` (`regionTable`).
    public static func withRegionTable(_ config: DeviceConfig, seed: UInt64) -> DeviceConfig {
        var c = config
        c.regionTable = regionTable(seed: seed, profile: config.profile)
        return c
    }

    static func length(_ rng: inout SplitMix64) -> UInt64 {
        switch rng.below(3) {
        case 0: return edgeLengths[rng.below(edgeLengths.count)]
        case 1: return 1 << UInt64(12 + rng.below(37))  // 4 KiB ... 256 TiB
        default:  // a power of two and a little more or less
            let p: UInt64 = 1 << UInt64(12 + rng.below(36))
            let d = UInt64(1 + rng.below(4096))
            return rng.chance(50) ? p + d : p - min(d, p / 2)
        }
    }
}

extension DeviceConfig {
    /// One line naming the shape: present BARs and their lengths, config size, maxstbl, strictness.
    public var shapeSummary: String {
        let bars = barLengths.enumerated().filter { $0.element > 0 }.map { "BAR\($0.offset)=\(Self.size($0.element))" }
        let table = regionTable.map { " region bases " + $0.bases.enumerated().map { "\($0.offset)@0x" + String($0.element, radix: 16) }.joined(separator: ",") } ?? ""
        return "\(bars.isEmpty ? "no BARs" : bars.joined(separator: " ")) config=\(configSize) maxstbl=\(maxstbl) \(storeBlocks.rawValue)\(table)"
    }

    static func size(_ n: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (u, name) in units where n >= u && n % u == 0 { return "\(n / u)\(name)" }
        return "0x" + String(n, radix: 16)
    }
}
