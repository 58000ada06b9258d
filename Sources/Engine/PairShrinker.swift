import ISMAccess

/// Shrinks a concurrency finding: the operations that set the state up, the two operations of
/// the pair and its hold point, keeping each smaller candidate only when `stillFails` says the
/// interleaving is still unexplained. Greedy, deterministic, bounded by `checks` re-runs.
public struct PairShrinker {
    public typealias Case = (prefix: [Operation], pair: ConcurrentPair)
    public var checks: Int
    /// The device profile's region shift: positions shrink inside their region.
    public var regionShift: UInt64
    public init(checks: Int = 80, regionShift: UInt64 = 48) {
        self.checks = checks
        self.regionShift = regionShift
    }

    public func shrink(_ start: Case, stillFails: (Case) -> Bool) -> (Case, runs: Int) {
        var best = start
        var runs = 0
        func attempt(_ c: Case) -> Bool {
            guard runs < checks, c.pair.isMeaningful, c.prefix.count <= best.prefix.count else { return false }
            runs += 1
            if stillFails(c) { best = c; return true }
            return false
        }
        var progress = true
        while progress && runs < checks {
            progress = false
            // Fewer set-up operations.
            var i = 0
            while i < best.prefix.count {
                var p = best.prefix
                p.remove(at: i)
                if attempt((p, best.pair)) { progress = true } else { i += 1 }
            }
            // An earlier hold point.
            var h = 0
            while h < best.pair.hold {
                var pair = best.pair
                pair.hold = h
                if attempt((best.prefix, pair)) { progress = true; break }
                h += 1
            }
            // Simpler operations, one side at a time; one fd rather than two.
            for side in 0..<2 {
                for op in Self.simpler(regionShift: regionShift, side == 0 ? best.pair.first : best.pair.second) {
                    var pair = best.pair
                    if side == 0 { pair.first = op } else { pair.second = op }
                    if attempt((best.prefix, pair)) { progress = true; break }
                }
            }
            for fds in [(1, 1), (best.pair.firstFD, 1), (1, best.pair.secondFD)] where fds != (best.pair.firstFD, best.pair.secondFD) {
                var pair = best.pair
                (pair.firstFD, pair.secondFD) = fds
                if attempt((best.prefix, pair)) { progress = true; break }
            }
        }
        return (best, runs)
    }

    /// Candidates one step simpler than `op`: no fault, smaller counts, smaller in-region positions.
    static func simpler(regionShift: UInt64, _ op: Operation) -> [Operation] {
        var out: [Operation] = []
        func counts(_ c: Int) -> [Int] { Array(Set([1, 8, c / 2, c - 1].filter { $0 >= 1 && $0 < c })).sorted() }
        func offsets(_ o: UInt64) -> [UInt64] {
            let base = o & ~((1 << regionShift) - 1), pos = o - base
            return Array(Set([0, pos / 2, pos & ~7].filter { $0 < pos }.map { base + $0 })).sorted()
        }
        switch op {
        case let .pread(o, c, f):
            if f != .none { out.append(.pread(offset: o, count: c, fault: .none)) }
            out += counts(c).map { .pread(offset: o, count: $0, fault: f) }
            out += offsets(o).map { .pread(offset: $0, count: c, fault: f) }
        case let .pwrite(o, c, p, f):
            if f != .none { out.append(.pwrite(offset: o, count: c, pattern: p, fault: .none)) }
            out += counts(c).map { .pwrite(offset: o, count: $0, pattern: p, fault: f) }
            out += offsets(o).map { .pwrite(offset: $0, count: c, pattern: p, fault: f) }
        case let .read(c, f):
            if f != .none { out.append(.read(count: c, fault: .none)) }
            out += counts(c).map { .read(count: $0, fault: f) }
        case let .write(c, p, f):
            if f != .none { out.append(.write(count: c, pattern: p, fault: .none)) }
            out += counts(c).map { .write(count: $0, pattern: p, fault: f) }
        default: break
        }
        return out
    }
}
