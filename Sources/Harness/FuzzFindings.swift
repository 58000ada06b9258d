import ISMAccess

extension FuzzTarget {
    /// When the diverging operation carries an injected fault and diverges without it too, the
    /// fault was not needed: returns the sequence with that fault removed and the divergence it
    /// shows then (a defect that shows on plain reads, R-READ-2, is not reported as the fault's
    /// rule). Otherwise returns its input. `check` runs a sequence from a fresh start.
    public static func withoutNeedlessFault(
        _ ops: [Operation], _ d: Divergence, check: ([Operation]) -> Divergence?
    ) -> ([Operation], Divergence) {
        guard d.index < ops.count else { return (ops, d) }
        let plain: Operation
        switch ops[d.index] {
        case let .pread(o, c, f) where f != .none: plain = .pread(offset: o, count: c, fault: .none)
        case let .pwrite(o, c, p, f) where f != .none: plain = .pwrite(offset: o, count: c, pattern: p, fault: .none)
        case let .read(c, f) where f != .none: plain = .read(count: c, fault: .none)
        case let .write(c, p, f) where f != .none: plain = .write(count: c, pattern: p, fault: .none)
        default: return (ops, d)
        }
        var candidate = ops
        candidate[d.index] = plain
        guard let nd = check(candidate), nd.index == d.index else { return (ops, d) }
        return (candidate, nd)
    }
}
