/// How long a campaign runs.
public enum Budget: Sendable, Hashable, CustomStringConvertible {
    case operations(Int)
    case seconds(Double)

    public var description: String {
        switch self {
        case .operations(let n): "\(n) operations"
        case .seconds(let s): "\(s) s"
        }
    }

    /// The operation limit and the deadline (if any) of a run that starts at `start`.
    public func limits(from start: ContinuousClock.Instant) -> (operations: Int, deadline: ContinuousClock.Instant?) {
        switch self {
        case .operations(let n): (n, nil)
        case .seconds(let s): (.max, start.advanced(by: .milliseconds(Int64(s * 1000))))
        }
    }
}
