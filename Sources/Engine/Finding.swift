import ISMAccess

/// One thing a run found, the same shape for every command: what saw it, the difference from
/// the model (when an operation diverged) or how the implementation failed outside any
/// operation, the shrunk operations that show it again, and the reproducer written for it.
public struct Finding: Sendable, Hashable, CustomStringConvertible {
    /// The check that saw it (`differential`, a lifecycle check's name, `LeakSanitizer …`).
    public var check: String
    /// The first divergence seen, after shrinking when it was shrunk.
    public var divergence: Divergence?
    /// How the implementation failed where no single operation diverged (start-up, exit).
    public var failure: Breakage?
    /// The rule the finding is about, when it is a difference from a rule.
    public var rule: Rule?
    /// The operations that show it from a fresh start (shrunk when shrinking ran).
    public var operations: [Operation]
    /// The sequence it was first seen in, up to and including the diverging operation.
    public var original: [Operation]
    /// How often the run saw the same finding.
    public var occurrences: Int
    /// Operations the run had made when it was first seen.
    public var operationsBefore: Int?
    /// One line of context for reports.
    public var detail: String
    /// The offset layout operations are printed in.
    public var layout: OffsetLayout
    /// Where the reproducer was written, when one was.
    public var reproducer: String?
    /// A headline of its own, for what is neither a rule's fd-visible divergence nor a breakage
    /// (a driver callback's contract, seen only inside the driver harness); nil otherwise.
    public var title: String?
    /// For a concurrency finding: the forced interleaving no order of its two operations
    /// explains (`operations` then set the state up before it).
    public var pair: ConcurrentPair?
    /// For a driver-harness check finding (lifecycle walk, callback contract): the point of
    /// the check that showed it, which its reproducer runs again.
    public var checkPoint: HarnessCheckPoint?

    public init(check: String, divergence: Divergence?, failure: Breakage? = nil, rule: Rule?, operations: [Operation],
                original: [Operation]? = nil, occurrences: Int = 1, operationsBefore: Int? = nil, detail: String = "",
                layout: OffsetLayout, reproducer: String? = nil) {
        self.check = check
        self.divergence = divergence
        self.failure = failure
        self.rule = rule
        self.operations = operations
        self.original = original ?? operations
        self.occurrences = occurrences
        self.operationsBefore = operationsBefore
        self.detail = detail
        self.layout = layout
        self.reproducer = reproducer
    }

    /// A finding for a divergence: about its rule, unless the implementation broke.
    public init(check: String, divergence d: Divergence, operations: [Operation], original: [Operation]? = nil,
                operationsBefore: Int? = nil, detail: String = "", layout: OffsetLayout) {
        self.init(check: check, divergence: d, rule: d.failure == nil ? d.rule : nil, operations: operations, original: original,
                  operationsBefore: operationsBefore, detail: detail, layout: layout)
    }

    /// What the finding is: the breakage's kind, or the rule ID.
    public var headline: String {
        if let title { return title }
        if let f = failure ?? divergence?.failure { return f.headline }
        if pair != nil && rule == nil { return "not linearizable" }
        return rule?.rawValue ?? divergence?.rule.rawValue ?? "finding"
    }

    /// A stable short name for file names: the rule and aspect, or the breakage kind.
    public var slug: String {
        if let title { return title.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-") }
        if let f = failure ?? divergence?.failure { return f.kind }
        if pair != nil && rule == nil { return "not-linearizable" }
        let r = rule?.rawValue ?? divergence?.rule.rawValue ?? "finding"
        return divergence.map { r + "-" + $0.aspect.rawValue } ?? r
    }

    /// What identifies this finding across workers and runs: the kind of breakage or the rule
    /// and aspect, the shrunk operations, and a sanitizer's top frame. Two runs that found the
    /// same bug share it; the same rule broken by different operations does not.
    public var signature: String {
        var parts = [slug, operations.map { $0.summary(in: layout) }.joined(separator: ";")]
        if let pair { parts.append(pair.summary(in: layout)) }
        if case .sanitizer(_, let frame?)? = failure ?? divergence?.failure {
            // The frame without its address: `#3 0x55d1… in fn file.c:12` → `fn file.c:12`.
            parts.append(frame.split(separator: " ").drop { !$0.hasPrefix("in") }.dropFirst().joined(separator: " "))
        }
        var h = FNV1a()
        h.add(parts.joined(separator: "|"))
        return slug + "-" + String(h.hex.prefix(12))
    }

    /// Same finding as `other`: same check and the same kind of divergence or failure.
    public func sameFinding(as other: Finding) -> Bool {
        guard check == other.check, failure?.kind == other.failure?.kind, rule == other.rule else { return false }
        switch (divergence, other.divergence) {
        case let (a?, b?): return a.sameFinding(as: b)
        case (nil, nil): return true
        default: return false
        }
    }

    public var description: String {
        var s = "[\(headline)] \(check)" + (detail.isEmpty ? "" : ": \(detail)")
        if let failure, divergence == nil { s += "\n    \(failure)" }
        if let divergence { s += "\n" + divergence.description.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
        if !operations.isEmpty {
            s += "\n    operations (\(operations.count)): " + operations.prefix(8).map { $0.summary(in: layout) }.joined(separator: "; ")
            if operations.count > 8 { s += "; …" }
        }
        if let reproducer { s += "\n    reproducer: \(reproducer)" }
        return s
    }
}
