import ISMAccess

/// The model's view of device memory: sparse 64-byte chunks over the initial contents, kept
/// in one contiguous arena, so writing to a fresh spot of a 256 TiB BAR costs 64 bytes.
///
/// In *seeded* mode unwritten bytes are `DeviceContents.initialByte`; in *learned* mode
/// (a real device, whose contents the model cannot know) unwritten bytes are unknown until
/// the run reads or writes them, and a read reports which buffer ranges it could not predict.
struct ModelMemory: Sendable {
    let seed: UInt64
    let learned: Bool
    /// Chunk key (bar, position / 64) → slot in `arena`.
    private var slots: [UInt64: Int] = [:]
    /// 64 bytes per slot.
    private var arena: [UInt8] = []
    /// Learned mode: which bytes of each slot are known (bit i = byte i).
    private var known: [UInt64] = []

    init(seed: UInt64, learned: Bool) {
        self.seed = seed
        self.learned = learned
    }

    @inline(__always) private static func key(_ bar: Int, _ chunk: UInt64) -> UInt64 {
        UInt64(bar) << 58 | chunk
    }

    /// Copies device bytes [pos, pos+count) of `bar` to `dst`; in learned mode appends the
    /// `dst`-relative ranges it does not know (offset by `base`) to `unknown`.
    func read(bar: Int, position: UInt64, into dst: UnsafeMutableRawPointer, count: Int, base: Int, unknown: inout [Range<Int>]) {
        let out = dst.assumingMemoryBound(to: UInt8.self)
        var done = 0
        while done < count {
            let pos = position + UInt64(done)
            let inChunk = Int(pos & 63)
            let n = min(count - done, 64 - inChunk)
            if let slot = slots[ModelMemory.key(bar, pos >> 6)] {
                arena.withUnsafeBytes { a in
                    (dst + done).copyMemory(from: a.baseAddress! + slot * 64 + inChunk, byteCount: n)
                }
                if learned { ModelMemory.collectUnknown(known[slot], inChunk, n, base + done, &unknown) }
            } else if learned {
                unknown.append((base + done)..<(base + done + n))
            } else {
                for i in 0..<n {
                    out[done + i] = DeviceContents.initialByte(seed: seed, bar: bar, position: pos + UInt64(i))
                }
            }
            done += n
        }
    }

    private static func collectUnknown(_ known: UInt64, _ start: Int, _ n: Int, _ base: Int, _ unknown: inout [Range<Int>]) {
        var i = 0
        while i < n {
            if known & (1 << UInt64(start + i)) != 0 { i += 1; continue }
            var j = i + 1
            while j < n, known & (1 << UInt64(start + j)) == 0 { j += 1 }
            unknown.append((base + i)..<(base + j))
            i = j
        }
    }

    /// Stores `count` bytes from `src` at [pos, pos+count) of `bar`. With `onlyUnknown`
    /// (learning what a read returned) bytes the model already knows are left as they are.
    mutating func write(bar: Int, position: UInt64, from src: UnsafeRawPointer, count: Int, onlyUnknown: Bool = false) {
        var done = 0
        while done < count {
            let pos = position + UInt64(done)
            let inChunk = Int(pos & 63)
            let n = min(count - done, 64 - inChunk)
            let k = ModelMemory.key(bar, pos >> 6)
            let slot: Int
            if let s = slots[k] {
                slot = s
            } else {
                slot = newSlot(bar: bar, at: pos & ~63, overwritten: n == 64 && !onlyUnknown)
                slots[k] = slot
            }
            if onlyUnknown {
                for i in 0..<n where known[slot] & (1 << UInt64(inChunk + i)) == 0 {
                    arena[slot * 64 + inChunk + i] = src.load(fromByteOffset: done + i, as: UInt8.self)
                }
            } else {
                arena.withUnsafeMutableBytes { a in
                    (a.baseAddress! + slot * 64 + inChunk).copyMemory(from: src + done, byteCount: n)
                }
            }
            if learned {
                known[slot] |= n == 64 ? ~0 : ((1 << UInt64(n)) - 1) << UInt64(inChunk)
            }
            done += n
        }
    }

    private mutating func newSlot(bar: Int, at start: UInt64, overwritten: Bool) -> Int {
        let slot = arena.count / 64
        if learned || overwritten {
            arena.append(contentsOf: repeatElement(0, count: 64))
        } else {
            for i in 0..<64 { arena.append(DeviceContents.initialByte(seed: seed, bar: bar, position: start + UInt64(i))) }
        }
        if learned { known.append(0) }
        return slot
    }
}
