import ISMEngine

/// How a run is cut into deterministic units: with an operation budget, slices of at most
/// `sliceOperations` operations, slice k seeded from (--seed, k); with a time budget, one
/// stream per worker, every stream running until the shared deadline. Unit 0 keeps --seed
/// itself, so a run of one unit is the run the command made before it had units.
enum Units {
    /// One unit of a campaign.
    struct Slice: Hashable {
        var index: Int
        var seed: UInt64
        var budget: Budget
    }

    /// The seed of unit `k` of a run seeded with `seed`: `seed` itself for unit 0, else a
    /// SplitMix64 draw from the seed and the unit number.
    static func seed(_ seed: UInt64, unit k: Int) -> UInt64 {
        guard k > 0 else { return seed }
        var g = SplitMix64(seed: seed ^ (UInt64(k) &* 0xD1B5_4A32_D192_ED03))
        return g.next()
    }

    /// Every unit of a run with this budget (before a shard keeps its own): `sliceOperations`
    /// per slice for an operation budget; with a time budget, `jobs` streams per shard.
    static func slices(budget: Budget, seed: UInt64, sliceOperations: Int, jobs: Int, shards: Int) -> [Slice] {
        switch budget {
        case .operations(let n):
            let count = (n + sliceOperations - 1) / sliceOperations
            return (0..<count).map { k in
                Slice(index: k, seed: Self.seed(seed, unit: k), budget: .operations(min(sliceOperations, n - k * sliceOperations)))
            }
        case .seconds:
            return (0..<(jobs * shards)).map { Slice(index: $0, seed: Self.seed(seed, unit: $0), budget: budget) }
        }
    }

    /// Units dealt round-robin to `jobs` workers (empty workers dropped).
    static func deal(_ units: [Int], jobs: Int) -> [[Int]] {
        var out = Array(repeating: [Int](), count: max(1, jobs))
        for (i, u) in units.enumerated() { out[i % out.count].append(u) }
        return out.filter { !$0.isEmpty }
    }
}
