/// The initial contents of every BAR of a simulated device: a pure function of
/// (seed, bar, position), so that a 256 TiB BAR needs no memory until it is written,
/// and every implementation under test can start from the same bytes.
///
/// Bytes are never zero, so that a read returning zero bytes where the device has data
/// (the big-endian byte-order bug, R-READ-3) is always visible.
public enum DeviceContents {
    /// The byte at `position` of BAR `bar` before anything was written.
    @inlinable
    public static func initialByte(seed: UInt64, bar: Int, position: UInt64) -> UInt8 {
        var x = (position &+ UInt64(bar) &* 0x9E37_79B9_7F4A_7C15) ^ seed
        x = (x ^ (x >> 31)) &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 29
        let b = UInt8(truncatingIfNeeded: x >> 24)
        return b == 0 ? 0xA5 : b
    }

    /// The eight initial bytes at the 8-byte-aligned `position`, in address order.
    @inlinable
    public static func initialWord(seed: UInt64, bar: Int, position: UInt64) -> (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) {
        (initialByte(seed: seed, bar: bar, position: position),
         initialByte(seed: seed, bar: bar, position: position + 1),
         initialByte(seed: seed, bar: bar, position: position + 2),
         initialByte(seed: seed, bar: bar, position: position + 3),
         initialByte(seed: seed, bar: bar, position: position + 4),
         initialByte(seed: seed, bar: bar, position: position + 5),
         initialByte(seed: seed, bar: bar, position: position + 6),
         initialByte(seed: seed, bar: bar, position: position + 7))
    }

    /// The byte a write with `pattern` puts at index `i` of its buffer.
    @inlinable
    public static func patternByte(_ pattern: UInt8, _ i: Int) -> UInt8 {
        pattern &+ UInt8(truncatingIfNeeded: i &* 37) ^ UInt8(truncatingIfNeeded: i >> 8)
    }
}
