import ISMAccess

/// Shrinks a diverging sequence to a small one that shows the same finding (same aspect
/// and rule): drops everything after the divergence, removes chunks and then single
/// operations, and simplifies what is left (no fault, smaller counts, simpler positions).
/// Last, it drops injected faults the divergence does not need, even when that changes the
/// rule the model cites (a needless fault would otherwise name the fault's rule, not the bug's).
public struct Shrinker<Impl: ISMAccess> {
    public let differential: Differential<Impl>
    /// Upper bound on re-runs, so a slow implementation cannot make shrinking endless.
    public var maxChecks: Int
    /// No re-run starts after this instant (a time box, or the grace period after a stop request).
    public var deadline: ContinuousClock.Instant?

    public init(differential: Differential<Impl>, maxChecks: Int = 20_000, deadline: ContinuousClock.Instant? = nil) {
        self.differential = differential
        self.maxChecks = maxChecks
        self.deadline = deadline
    }

    /// Whether another re-run may start now.
    private func mayRun(_ checks: Int) -> Bool {
        guard checks < maxChecks else { return false }
        if let deadline, ContinuousClock.now >= deadline { return false }
        return true
    }

    public func shrink(_ ops: [Operation], divergence: Divergence) -> (operations: [Operation], divergence: Divergence) {
        var checks = 0
        var best = Array(ops.prefix(divergence.index + 1))
        var bestDivergence = divergence
        var target = divergence

        func attempt(_ candidate: [Operation], anyFinding: Bool = false) -> Bool {
            guard mayRun(checks), !candidate.isEmpty else { return false }
            checks += 1
            guard let d = try? differential.check(candidate), anyFinding || d.sameFinding(as: target) else { return false }
            best = Array(candidate.prefix(d.index + 1))
            bestDivergence = d
            return true
        }

        /// Removes and simplifies operations while the same finding shows.
        func reduce() {
            var progress = true
            while progress && mayRun(checks) {
                progress = false
                // Remove chunks, halving the chunk size down to single operations.
                var chunk = max(1, best.count / 2)
                while chunk >= 1 {
                    var start = 0
                    while start < best.count {
                        var candidate = best
                        candidate.removeSubrange(start..<min(best.count, start + chunk))
                        if attempt(candidate) { progress = true } else { start += chunk }
                    }
                    chunk /= 2
                }
                // Merge a seek to a place followed by a relative seek into one seek.
                var k = 0
                while k + 1 < best.count {
                    if case let .seek(a, .set) = best[k], case let .seek(b, .current) = best[k + 1] {
                        let (sum, overflow) = a.addingReportingOverflow(b)
                        if !overflow {
                            var candidate = best
                            candidate.replaceSubrange(k...(k + 1), with: [.seek(offset: sum, whence: .set)])
                            if attempt(candidate) { progress = true; continue }
                        }
                    }
                    k += 1
                }
                // Simplify each remaining operation.
                var i = 0
                while i < best.count {
                    for simpler in Shrinker.simplifications(of: best[i], layout: differential.config.layout) {
                        var candidate = best
                        candidate[i] = simpler
                        if attempt(candidate) { progress = true; break }
                    }
                    i += 1
                }
            }
        }

        reduce()
        // Faults the divergence does not need: drop them, then shrink again for the new finding.
        var droppedFault = false
        for i in best.indices.reversed() where i < best.count {
            if let plain = Shrinker.withoutFault(best[i]) {
                var candidate = best
                candidate[i] = plain
                if attempt(candidate, anyFinding: true) { droppedFault = true }
            }
        }
        if droppedFault {
            target = bestDivergence
            reduce()
        }
        return (best, bestDivergence)
    }

    /// The operation without its injected fault, or nil when it has none.
    static func withoutFault(_ op: Operation) -> Operation? {
        switch op {
        case let .pread(o, c, f) where f != .none: .pread(offset: o, count: c, fault: .none)
        case let .pwrite(o, c, p, f) where f != .none: .pwrite(offset: o, count: c, pattern: p, fault: .none)
        case let .read(c, f) where f != .none: .read(count: c, fault: .none)
        case let .write(c, p, f) where f != .none: .write(count: c, pattern: p, fault: .none)
        default: nil
        }
    }

    /// Simpler variants of one operation, most simplifying first; positions are simplified
    /// within their region of `layout`.
    static func simplifications(of op: Operation, layout: OffsetLayout) -> [Operation] {
        func counts(_ c: Int) -> [Int] {
            Array(Set([0, 1, 2, 4, 8, c / 2, c - 1].filter { $0 >= 0 && $0 < c })).sorted()
        }
        func offsets(_ o: UInt64) -> [UInt64] {
            guard let (high, pos) = layout.split(o) else { return [] }
            var out: [UInt64] = [high, high + (pos & ~4095), high + (pos & ~7), high + (pos / 2)]
            if pos > 4096 { out.append(high + (pos & 4095)) }
            return out.filter { $0 < o }
        }
        var out: [Operation] = []
        switch op {
        case let .pread(o, c, f):
            if f != .none { out.append(.pread(offset: o, count: c, fault: .none)) }
            out += counts(c).map { .pread(offset: o, count: $0, fault: f) }
            out += offsets(o).map { .pread(offset: $0, count: c, fault: f) }
        case let .pwrite(o, c, p, f):
            if f != .none { out.append(.pwrite(offset: o, count: c, pattern: p, fault: .none)) }
            out += counts(c).map { .pwrite(offset: o, count: $0, pattern: p, fault: f) }
            out += offsets(o).map { .pwrite(offset: $0, count: c, pattern: p, fault: f) }
            if p != 0 { out.append(.pwrite(offset: o, count: c, pattern: 0, fault: f)) }
        case let .read(c, f):
            if f != .none { out.append(.read(count: c, fault: .none)) }
            out += counts(c).map { .read(count: $0, fault: f) }
        case let .write(c, p, f):
            if f != .none { out.append(.write(count: c, pattern: p, fault: .none)) }
            out += counts(c).map { .write(count: $0, pattern: p, fault: f) }
        case let .seek(o, w):
            if o != 0 { out.append(.seek(offset: 0, whence: w)); out.append(.seek(offset: o / 2, whence: w)) }
            if w == .set, o > 0 { out += offsets(UInt64(o)).map { .seek(offset: Int64($0), whence: .set) } }
            if w == .current { out.append(.seek(offset: o, whence: .set)) }
        case let .regionInfo(i, a):
            if a != 32 { out.append(.regionInfo(index: i, argsz: 32)) }
            if i > 0 { out.append(.regionInfo(index: 0, argsz: a)); out.append(.regionInfo(index: i / 2, argsz: a)) }
        case .attachPeer(true): out.append(.attachPeer(failPool: false))
        default: break
        }
        return out
    }
}

extension Shrinker {
    /// How many re-runs shrinking one finding may cost. Each re-run of a hanging implementation
    /// costs a time-out, so a hang gets its own, smaller budget.
    public struct Budget: Sendable, Hashable {
        public var checks: Int
        public var afterHang: Int
        public init(checks: Int, afterHang: Int = 8) {
            self.checks = checks
            self.afterHang = afterHang
        }
        /// No shrinking.
        public static var none: Budget { Budget(checks: 0, afterHang: 0) }

        func checks(for d: Divergence) -> Int {
            if case .hang = d.failure { return afterHang }
            return checks
        }
    }
}
