import ISMAccess

/// What one operation returned: a count, a new position, region info, resource counts,
/// plain success, or an error.
public enum Outcome: Hashable, Sendable, CustomStringConvertible {
    case count(Int)
    case position(Int64)
    case region(RegionInfo)
    case resources(ResourceCounts)
    case done
    case failed(AccessError)

    public var description: String {
        switch self {
        case .count(let n): "\(n)"
        case .position(let p): "position \(p)"
        case .region(let r):
            "offset 0x\(String(r.offset, radix: 16)) size 0x\(String(r.size, radix: 16)) flags \(r.flags.rawValue)"
        case .resources(let r): r.description
        case .done: "ok"
        case .failed(let e): e.description
        }
    }

    public var isFailure: Bool { if case .failed = self { true } else { false } }
}
