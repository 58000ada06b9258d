import Synchronization

/// A request to stop, from SIGINT or SIGTERM, that every long-running loop polls: campaigns stop
/// generating, shrinking ends within its grace period, out-of-process calls stop waiting for a
/// hanging implementation. Setting it is async-signal-safe (one lock-free atomic store).
public enum Interruption {
    private static let signal = Atomic<Int32>(0)

    /// The signal that asked to stop (SIGINT 2, SIGTERM 15), or 0.
    public static var requestedBy: Int32 { signal.load(ordering: .relaxed) }
    /// Whether a stop was asked for.
    public static var requested: Bool { requestedBy != 0 }

    /// Records a stop request; the first signal wins. Safe in a signal handler.
    public static func request(_ sig: Int32) {
        _ = signal.compareExchange(expected: 0, desired: sig, ordering: .relaxed)
    }

    /// Forgets a request (tests).
    public static func reset() { signal.store(0, ordering: .relaxed) }
}
