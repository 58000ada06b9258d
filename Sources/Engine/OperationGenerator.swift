import ISMAccess
import SystemPackage
import ISMModel

/// Generates operation sequences biased to the edges where drivers break: every alignment
/// 0...7; the sizes 0,1,2,3,4,5,7,8,9,15,16,4095,4096,4097 and maxstbl±1; page boundaries;
/// BAR ends; the 1 TiB, 128 TiB and 256 TiB boundaries; invalid and negative offsets; absent
/// BARs; config space; injected load, store, copy and allocation faults; handle recovery and
/// a second device coming and going. With `shapeEdges`: every present BAR's edges, far
/// positions around every power of two and 4 GiB from the end, and region indexes over the
/// whole 16-bit range biased to bit patterns. With `midOperation`: the handle changing
/// between two instructions of one operation or just before its store block, and device
/// faults at any instruction.
public struct OperationGenerator: Sendable {
    public let config: DeviceConfig
    public let options: GeneratorOptions
    var rng: SplitMix64
    private let edgeCounts: [Int]
    private let smallEdges = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16]
    private let presentBars: [UInt64]
    private let absentBars: [UInt64]

    public init(config: DeviceConfig, options: GeneratorOptions, seed: UInt64) {
        self.config = config
        self.options = options
        self.rng = SplitMix64(seed: seed)
        let m = Int(config.maxstbl)
        edgeCounts = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 4095, 4096, 4097, m - 1, m, m + 1].filter { $0 >= 0 && $0 <= options.maxCount }
        presentBars = (0..<6).filter { config.barLengths[$0] > 0 }.map(UInt64.init)
        absentBars = (0..<6).filter { config.barLengths[$0] == 0 }.map(UInt64.init)
    }

    public mutating func sequence(length: Int) -> [Operation] {
        (0..<length).map { _ in next() }
    }

    public mutating func next() -> Operation {
        let r = rng.below(100)
        switch r {
        case 0..<30: return preadOp()
        case 30..<58:
            if let w = writeOp() { return w }
            return preadOp()
        case 58..<65: return readOp()
        case 65..<72:
            if options.writes, options.mayWrite == nil {
                let c = count()
                let p = UInt8(truncatingIfNeeded: rng.next())
                return .write(count: c, pattern: p, fault: fault(count: c, write: true))
            }
            return readOp()
        case 72..<82 where options.seek: return seek()
        case 82..<90: return regionInfo()
        case 90..<93 where options.handleRecovery: return .recoverHandle
        case 93..<100 where options.lifecycle:
            switch rng.below(3) {
            case 0: return .attachPeer(failPool: rng.chance(35))
            case 1: return .detachPeer
            default: return .checkResources
            }
        default: return preadOp()
        }
    }

    private mutating func preadOp() -> Operation {
        let o = offset()
        let c = readCount()
        var f = fault(count: c)
        // A handle change between two loads: after one of this read's loads but the last.
        if case let .handleChange(after) = f, after > 0 {
            let loads = Self.loadCount(offset: o, count: c, config: config)
            if loads >= 2 { f = .handleChange(after: UInt16(clamping: 1 + rng.below(min(loads - 1, 64)))) }
        }
        return .pread(offset: o, count: c, fault: f)
    }

    /// How many loads a read of `count` bytes at `offset` issues by R-READ-1 (8-byte loads allowed).
    static func loadCount(offset: UInt64, count: Int, config: DeviceConfig) -> Int {
        var pos = DecodedOffset(offset: offset, config: config).position
        var left = UInt64(min(count, 1 << 16))
        var n = 0
        while left > 0 {
            let w = GoldenModel.loadWidth(position: pos, remaining: left, allow8: true)
            pos &+= w
            left -= w
            n += 1
        }
        return n
    }

    private mutating func readOp() -> Operation {
        let c = readCount()
        return .read(count: c, fault: fault(count: c))
    }

    private mutating func writeOp() -> Operation? {
        guard options.writes else { return nil }
        for _ in 0..<8 {
            let o = offset()
            let c = count()
            if let may = options.mayWrite {
                let d = DecodedOffset(offset: o, config: config)
                guard o >> 63 == 0, may(d.index, d.position, c) else { continue }
            }
            let p = UInt8(truncatingIfNeeded: rng.next())
            return .pwrite(offset: o, count: c, pattern: p, fault: fault(count: c, write: true))
        }
        return nil
    }

    // MARK: edges

    /// A read size: the small edges most of the time; the page-sized edges and bulk sizes
    /// rarely (they cost hundreds of loads each and add little past the first few).
    mutating func readCount() -> Int {
        switch rng.below(100) {
        case 0..<45: return smallEdges[rng.below(smallEdges.count)]
        case 45..<48: return edgeCounts[rng.below(edgeCounts.count)]
        case 48..<50: return rng.below(options.maxCount + 1)
        default: return 1 + rng.below(min(64, options.maxCount))
        }
    }

    mutating func count() -> Int {
        switch rng.below(10) {
        case 0..<4: return edgeCounts[rng.below(edgeCounts.count)]
        case 4..<8: return 1 + rng.below(min(64, options.maxCount))
        case 8: return rng.below(options.maxCount + 1)
        default: return 1 + rng.below(24)
        }
    }

    /// A file offset: mostly inside present BARs near their edges, sometimes config space,
    /// absent BARs, invalid indexes, or negative.
    mutating func offset() -> UInt64 {
        let r = rng.below(100)
        let index: UInt64
        switch r {
        case 0..<72 where !presentBars.isEmpty: index = presentBars[rng.below(presentBars.count)]
        case 72..<84: index = UInt64(RegionIndex.config)
        case 84..<89 where !absentBars.isEmpty: index = absentBars[rng.below(absentBars.count)]
        case 89..<95:
            if options.shapeEdges && rng.chance(75) {
                index = bitPatternIndex()
            } else {
                let invalid: [UInt64] = [6, 8, 9, 15, 0xFF, 0x7FFF]
                index = invalid[rng.below(invalid.count)]
            }
        case 95..<100: return (1 << 63) | (rng.next() >> 1) & ~UInt64(0xFF) | UInt64(rng.below(8))
        default: index = 0
        }
        let length = index == UInt64(RegionIndex.config) ? config.configSize : (config.barLength(index) ?? 4096)
        let pos = position(length: length)
        guard let offset = config.offset(index: index, position: pos) else { return outsideTable(near: pos) }
        return offset
    }

    /// An offset in no region of the device's base table: just past a region's span or just
    /// below its base (the gaps a table leaves), else past the last region.
    mutating func outsideTable(near pos: UInt64) -> UInt64 {
        guard let t = config.regionTable else { return pos }
        let b = t.bases[rng.below(t.bases.count)]
        let small = pos & 0xFFFF
        let candidate = rng.chance(50) ? b &+ t.span &+ small : b &- 1 &- small
        if candidate >> 63 == 0, t.decode(candidate) == nil { return candidate }
        return t.bases.max()! &+ t.span &+ small
    }

    /// A position near an edge of a region of `length` bytes, with every alignment.
    mutating func position(length: UInt64) -> UInt64 {
        let mask: UInt64 = config.regionLayout.span - 1
        let len = max(length, 1)
        let base: UInt64
        switch rng.below(options.shapeEdges ? 15 : 10) {
        case 0, 1: base = 0
        case 2: base = 4096
        case 3: base = 8192
        case 4, 5: base = len
        case 6: base = UInt64(rng.below(Int(min(len, 1 << 20)) / 4096 + 1)) * 4096
        case 7 where len > 1 << 40: base = 1 << 40
        case 8 where len > 1 << 47: base = 1 << 47
        case 9 where len > 1 << 32: base = 1 << 32
        // Far positions: around every power of two inside the region and as far from its end.
        case 10 where len > 1: base = 1 << UInt64(rng.below(Self.bits(len)))
        case 11 where len > 1: base = len - (1 << UInt64(rng.below(Self.bits(len))))
        case 12 where len > 1 << 33: base = len - (1 << 32)
        case 13 where len > 1 << 33: base = ((1 << 32) + rng.next() % (len - (1 << 33))) & ~4095
        // A single high bit: far past the end of a small region (a 32-bit truncation shows).
        case 14: base = 1 << UInt64(12 + rng.below(36))
        default: base = len
        }
        let delta = Int64(rng.below(33)) - 16  // −16 ... +16
        var p = UInt64(bitPattern: Int64(bitPattern: base) &+ delta)
        if rng.chance(50) { p = (p & ~7) | UInt64(rng.below(8)) }  // every alignment 0...7
        if rng.chance(5) { p = rng.next() % len }
        return p & mask
    }

    /// The number of significant bits of `n` (so `1 << (bits(n) - 1) <= n`).
    static func bits(_ n: UInt64) -> Int { 64 - n.leadingZeroBitCount }

    /// A region index with a telling bit pattern: a single bit, a byte boundary, a valid
    /// index with high bits set, or any 16-bit value.
    mutating func bitPatternIndex() -> UInt64 {
        let valid: [UInt64] = [0, 1, 2, 3, 4, 5, UInt64(RegionIndex.config)]
        switch rng.below(5) {
        case 0: return 1 << UInt64(rng.below(16))
        case 1:
            let edges: [UInt64] = [0x7F, 0x80, 0xFF, 0x100, 0x101, 0x1FF, 0x7FFF, 0x8000, 0xFF00, 0xFFFF]
            return edges[rng.below(edges.count)]
        case 2: return valid[rng.below(valid.count)] | 1 << UInt64(3 + rng.below(13))
        case 3: return valid[rng.below(valid.count)] | (rng.chance(50) ? 0xFF00 : 0x7F00)
        default: return UInt64(rng.below(0x10000))
        }
    }

    /// A fault for a transfer of `count` bytes; on a write without `storeRejections`, a drawn
    /// device fault becomes none (drawn all the same, so the rest of the sequence does not change).
    mutating func fault(count: Int, write: Bool = false) -> Fault {
        let f = drawFault(count: count)
        if write, !options.storeRejections, case .device = f { return .none }
        return f
    }

    private mutating func drawFault(count: Int) -> Fault {
        guard options.faults, rng.chance(15) else { return .none }
        if options.midOperation && rng.chance(30) {
            // At most `count` instructions (1-byte loads), at least count/8.
            let n = max(1, count)
            switch rng.below(4) {
            case 0: return .handleChange(after: 0)
            case 1: return .handleChange(after: UInt16(1 + rng.below(3)))
            case 2: return .handleChange(after: UInt16(clamping: 1 + rng.below(n)))
            default:
                // The device rejects one instruction anywhere in the operation (an error status: EIO).
                let nth = rng.chance(50) ? max(0, n / 8 - 1 + rng.below(3)) : rng.below(n)
                return .device(nth: UInt16(clamping: nth), errno: .ioError)
            }
        }
        switch rng.below(4) {
        case 0: return .device(nth: UInt16(rng.below(3)), errno: .ioError)
        case 1: return .device(nth: UInt16(rng.below(2)), errno: Errno(rawValue: 19))
        case 2: return .userBuffer(from: rng.below(24))
        default: return .allocation
        }
    }

    mutating func seek() -> Operation {
        if rng.chance(50) {
            return .seek(offset: Int64(bitPattern: offset() & ~(1 << 63)), whence: .set)
        }
        let small = Int64(rng.below(129)) - 64
        return .seek(offset: rng.chance(10) ? Int64.min + small.magnitude.toInt64 : small, whence: .current)
    }

    mutating func regionInfo() -> Operation {
        let index: UInt32 = rng.chance(90) ? UInt32(rng.below(10))
            : options.shapeEdges && rng.chance(50) ? UInt32(bitPatternIndex()) : UInt32(truncatingIfNeeded: rng.next())
        let argsz: UInt32 = rng.chance(90) ? 32 : UInt32(rng.below(32))
        return .regionInfo(index: index, argsz: argsz)
    }
}

extension UInt64 {
    fileprivate var toInt64: Int64 { Int64(truncatingIfNeeded: self) }
}
