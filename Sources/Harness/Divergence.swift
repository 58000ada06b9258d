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
}

/// A difference between an implementation and the golden model: where in the sequence,
/// which part of the outcome, the rule the model applied, and both sides' answers.
public struct Divergence: Codable, Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var operation: Operation
    public var aspect: Aspect
    public var rule: Rule
    public var expected: String
    public var actual: String
    /// Every rule the model applied to this operation (its decision path), when known.
    public var cited: [Rule]?

    public init(index: Int, operation: Operation, aspect: Aspect, rule: Rule, expected: String, actual: String, cited: [Rule]? = nil) {
        self.index = index
        self.operation = operation
        self.aspect = aspect
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.cited = cited
    }

    public var description: String {
        var text = "operation \(index + 1) \(operation.summary): \(aspect.rawValue) differs [\(rule.rawValue): \(rule.summary)]\n"
            + "  expected: \(expected)\n  actual:   \(actual)"
        if let cited, cited.count > 1 { text += "\n  rules on the model's path: " + cited.map(\.rawValue).joined(separator: " ") }
        return text
    }

    /// Same finding: same aspect and rule (used to keep a shrink on the same bug).
    public func sameFinding(as other: Divergence) -> Bool { aspect == other.aspect && rule == other.rule }
}

extension Operation {
    /// A compact one-line form for reports: `pread(0x2000000000000+3, 13)`.
    public var summary: String {
        func off(_ o: UInt64) -> String {
            let idx = o >> 48, pos = o & ((1 << 48) - 1)
            return idx == 0 ? "0x" + String(pos, radix: 16) : "\(idx)<<48+0x" + String(pos, radix: 16)
        }
        func f(_ fault: Fault) -> String { fault == .none ? "" : ", fault \(fault)" }
        switch self {
        case let .pread(o, c, fl): return "pread(\(off(o)), \(c)\(f(fl)))"
        case let .pwrite(o, c, p, fl): return "pwrite(\(off(o)), \(c), pattern \(p)\(f(fl)))"
        case let .read(c, fl): return "read(\(c)\(f(fl)))"
        case let .write(c, p, fl): return "write(\(c), pattern \(p)\(f(fl)))"
        case let .seek(o, w): return "seek(\(o < 0 ? "-0x" + String(o.magnitude, radix: 16) : "0x" + String(o, radix: 16)), \(w.rawValue))"
        case let .regionInfo(i, a): return "region-info(\(i), argsz \(a))"
        case .recoverHandle: return "recover-handle"
        case let .attachPeer(fp): return fp ? "attach-peer(fail pool)" : "attach-peer"
        case .detachPeer: return "detach-peer"
        case .checkResources: return "check-resources"
        }
    }
}
