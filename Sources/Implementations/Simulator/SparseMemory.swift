import ISMAccess

/// The simulated device's BAR memory: every byte reads as `DeviceContents.initialByte` until it
/// is written; written bytes live in 4 KiB pages keyed by (BAR, page number), so a 256 TiB BAR
/// costs memory only for the pages a run touches. Each page keeps a bit per byte saying whether
/// the byte was written, so creating a page never has to compute 4096 initial bytes.
///
/// `reset()` forgets every write but keeps the storage, so a harness can reuse one device for
/// many sequences without allocating.
struct SparseMemory {
    static let pageSize = 4096
    static let wordsPerPage = pageSize / 64

    let seed: UInt64
    /// Page key (`bar << 40 | pos >> 12`) → page slot.
    private var slots: [UInt64: Int] = [:]
    /// Page contents, `pageSize` bytes per slot.
    private var data: [UInt8] = []
    /// Written-byte bits, `wordsPerPage` words per slot.
    private var written: [UInt64] = []
    private var pageCount = 0
    /// A one-entry lookup cache: the last page key looked up and its slot (-1: no page).
    private var cacheKey: UInt64 = .max
    private var cacheSlot: Int = -1

    init(seed: UInt64) {
        self.seed = seed
    }

    mutating func reset() {
        slots.removeAll(keepingCapacity: true)
        pageCount = 0
        cacheKey = .max
        cacheSlot = -1
    }

    @inline(__always)
    private static func key(bar: Int, pos: UInt64) -> UInt64 {
        UInt64(truncatingIfNeeded: bar) << 40 | pos >> 12
    }

    @inline(__always)
    private mutating func slot(forKey key: UInt64) -> Int {
        if key == cacheKey { return cacheSlot }
        let s = slots[key] ?? -1
        cacheKey = key
        cacheSlot = s
        return s
    }

    private mutating func makeSlot(forKey key: UInt64) -> Int {
        let s = slot(forKey: key)
        if s >= 0 { return s }
        let new = pageCount
        pageCount += 1
        if data.count < pageCount * Self.pageSize {
            data.append(contentsOf: repeatElement(0, count: Self.pageSize))
            written.append(contentsOf: repeatElement(0, count: Self.wordsPerPage))
        } else {
            let base = new * Self.wordsPerPage
            for w in base..<(base + Self.wordsPerPage) { written[w] = 0 }
        }
        slots[key] = new
        cacheKey = key
        cacheSlot = new
        return new
    }

    /// The byte at `pos` of BAR `bar`.
    @inline(__always)
    mutating func byte(bar: Int, pos: UInt64) -> UInt8 {
        let s = slot(forKey: Self.key(bar: bar, pos: pos))
        if s >= 0 {
            let i = Int(truncatingIfNeeded: pos & 4095)
            if written[s &* Self.wordsPerPage &+ (i >> 6)] & (1 << UInt64(i & 63)) != 0 {
                return data[s &* Self.pageSize &+ i]
            }
        }
        return DeviceContents.initialByte(seed: seed, bar: bar, position: pos)
    }

    /// The `n` (1...8) bytes at `pos` of BAR `bar`, in address order from the least
    /// significant byte of the result up.
    @inline(__always)
    mutating func bytes(bar: Int, pos: UInt64, count n: Int) -> UInt64 {
        let inPage = Int(truncatingIfNeeded: pos & 4095)
        if inPage + n <= Self.pageSize {
            let s = slot(forKey: Self.key(bar: bar, pos: pos))
            if s < 0 { return initialBytes(bar: bar, pos: pos, count: n) }
            let bit = inPage & 63
            if bit + n <= 64 {
                let mask: UInt64 = (n == 64 ? ~0 : (1 << UInt64(n)) - 1) << UInt64(bit)
                let w = written[s &* Self.wordsPerPage &+ (inPage >> 6)] & mask
                if w == 0 { return initialBytes(bar: bar, pos: pos, count: n) }
                if w == mask {
                    let at = s &* Self.pageSize &+ inPage
                    return data.withUnsafeBytes { d in
                        if at &+ 8 <= d.count {
                            let v = UInt64(littleEndian: d.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                            return n == 8 ? v : v & ((1 << UInt64(8 * n)) - 1)
                        }
                        var v: UInt64 = 0
                        for i in 0..<n { v |= UInt64(d[at &+ i]) << UInt64(8 * i) }
                        return v
                    }
                }
            }
        }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(byte(bar: bar, pos: pos &+ UInt64(i))) << UInt64(8 * i) }
        return v
    }

    @inline(__always)
    private func initialBytes(bar: Int, pos: UInt64, count n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n {
            v |= UInt64(DeviceContents.initialByte(seed: seed, bar: bar, position: pos &+ UInt64(i))) << UInt64(8 * i)
        }
        return v
    }

    /// Writes one byte at `pos` of BAR `bar`.
    @inline(__always)
    mutating func write(bar: Int, pos: UInt64, byte: UInt8) {
        let s = makeSlot(forKey: Self.key(bar: bar, pos: pos))
        let i = Int(truncatingIfNeeded: pos & 4095)
        data[s &* Self.pageSize &+ i] = byte
        written[s &* Self.wordsPerPage &+ (i >> 6)] |= 1 << UInt64(i & 63)
    }

    /// Writes `count` bytes from `source` at `pos` of BAR `bar`.
    mutating func write(bar: Int, pos: UInt64, from source: UnsafeRawPointer, count: Int) {
        var done = 0
        var p = pos
        while done < count {
            let s = makeSlot(forKey: Self.key(bar: bar, pos: p))
            let inPage = Int(truncatingIfNeeded: p & 4095)
            let n = min(count - done, Self.pageSize - inPage)
            let dataBase = s * Self.pageSize + inPage
            data.withUnsafeMutableBytes { d in
                (d.baseAddress! + dataBase).copyMemory(from: source + done, byteCount: n)
            }
            written.withUnsafeMutableBufferPointer { w in
                let wordBase = s * Self.wordsPerPage
                var i = inPage
                let end = inPage + n
                while i < end {
                    let bit = i & 63
                    let take = min(64 - bit, end - i)
                    let mask: UInt64 = (take == 64 ? ~0 : (1 << UInt64(take)) - 1) << UInt64(bit)
                    w[wordBase + (i >> 6)] |= mask
                    i += take
                }
            }
            done += n
            p &+= UInt64(n)
        }
    }
}
