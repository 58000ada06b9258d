/// A small, fast, seedable random number generator (SplitMix64): the same seed gives the
/// same operation sequences on every machine, which is what makes runs replayable.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<n (n > 0), cheap and good enough for test generation.
    @inlinable public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True with probability percent/100.
    @inlinable public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
