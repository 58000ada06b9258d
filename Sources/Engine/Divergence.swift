import ISMAccess

/// Which part of an operation's outcome differed from the model's.
public enum Aspect: String, Codable, Sendable, Hashable {
    /// The return value or errno.
    case result
    /// Bytes written outside the exact-size user buffer (R-READ-5).
    case bufferGuard = "guard"
    /// The bytes a read returned.
    case bytes
    /// The device instructions issued.
    case trace
    /// The implementation broke instead of answering (a hang, a crash, an overrun, ...).
    case broken
}

/// A difference between an implementation and the golden model: where in the sequence,
/// which part of the outcome, the rule the model applied, and both sides' answers. When the
/// implementation broke, `failure` says how, and the finding is about that, not the rule.
public struct Divergence: Codable, Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var operation: Operation
    public var aspect: Aspect
    /// The rule the model decided by for this operation (for a broken implementation: only
    /// the context of what was running).
    public var rule: Rule
    public var expected: String
    public var actual: String
    /// Every rule the model applied to this operation (its decision path), when known.
    public var cited: [Rule]?
    /// How the implementation broke, when `aspect` is `.broken`.
    public var failure: Breakage?
    /// The region shift of the device's offset layout (`Profile.regionShift`), for printing
    /// offsets; nil in files written before it was recorded (the ism layout then).
    public var regionShift: UInt64?
    /// The device's region base table, when it has one (offsets are printed against it).
    public var regionTable: RegionTable?

    public init(index: Int, operation: Operation, aspect: Aspect, rule: Rule, expected: String, actual: String,
                cited: [Rule]? = nil, failure: Breakage? = nil, regionShift: UInt64? = nil) {
        self.index = index
        self.operation = operation
        self.aspect = aspect
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.cited = cited
        self.failure = failure
        self.regionShift = regionShift
    }

    /// The offset layout the operation is printed in.
    public var layout: OffsetLayout { OffsetLayout(regionShift: regionShift ?? Profile.ism.regionShift, table: regionTable) }

    /// What the finding is, in a few words: the breakage (`hang (no answer within 3 s)`,
    /// `crash (SIGSEGV)`, `buffer overrun`) or the rule ID of the difference.
    public var headline: String { failure?.headline ?? rule.rawValue }

    public var description: String {
        let op = "operation \(index + 1) \(operation.summary(in: layout))"
        if let failure {
            return "\(op): \(failure.headline)\n  \(failure)\n  (the model expected: \(expected); rule in force \(rule.rawValue))"
        }
        var text = "\(op): \(aspect.rawValue) differs [\(rule.rawValue): \(rule.summary)]\n"
            + "  expected: \(expected)\n  actual:   \(actual)"
        if let cited, cited.count > 1 { text += "\n  rules on the model's path: " + cited.map(\.rawValue).joined(separator: " ") }
        return text
    }

    /// Same finding: the same kind of breakage, or the same aspect and rule of a difference
    /// (used to keep a shrink on the same bug and to count repeats).
    public func sameFinding(as other: Divergence) -> Bool {
        switch (failure, other.failure) {
        case let (a?, b?): a.kind == b.kind
        case (nil, nil): aspect == other.aspect && rule == other.rule
        default: false
        }
    }
}
