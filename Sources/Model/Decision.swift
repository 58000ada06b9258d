import ISMAccess

/// A set of rules, as a bit set (cheap to build on the hot path).
public struct RuleSet: Hashable, Sendable, Sequence {
    public private(set) var bits: UInt32 = 0
    public init() {}
    public init(_ rules: [Rule]) { for r in rules { insert(r) } }

    /// A payload-free enum is stored as its case ordinal, which gives the bit without a lookup.
    @inline(__always) static func bit(_ rule: Rule) -> UInt32 { 1 << UInt32(unsafeBitCast(rule, to: UInt8.self)) }

    public mutating func insert(_ rule: Rule) { bits |= RuleSet.bit(rule) }
    public func contains(_ rule: Rule) -> Bool { bits & RuleSet.bit(rule) != 0 }
    public var isEmpty: Bool { bits == 0 }
    public mutating func formUnion(_ other: RuleSet) { bits |= other.bits }

    public func makeIterator() -> some IteratorProtocol<Rule> {
        Rule.allCases.filter { contains($0) }.makeIterator()
    }
}

/// Why the model answered the last operation the way it did: the rule that decided the
/// outcome, every rule on the way, and which parts of the outcome are comparable.
public struct Decision: Hashable, Sendable {
    /// The rule that decided the result (the error, the count, or the bytes).
    public var rule: Rule
    /// Every rule the decision went through.
    public var cited: RuleSet
    /// False when the returned bytes are owned by someone the model does not model
    /// (config space contents, R-CFG-1) and must not be compared.
    public var bytesComparable: Bool
    /// Learned-contents mode: buffer ranges whose device bytes the model has not seen yet.
    public var unknownBytes: [Range<Int>]

    public init(rule: Rule) {
        self.rule = rule
        self.cited = RuleSet()
        self.cited.insert(rule)
        self.bytesComparable = true
        self.unknownBytes = []
    }

    mutating func cite(_ r: Rule) { cited.insert(r) }
    mutating func decide(_ r: Rule) { rule = r; cited.insert(r) }
}
