import Synchronization

/// A request to stop, from SIGINT or SIGTERM, that every long-running loop polls: campaigns stop
/// generating, shrinking ends within its grace period, out-of-process calls stop waiting for a
/// hanging implementation. Setting it is async-signal-safe (one lock-free atomic store).
public enum Interruption {
    private static let signal = Atomic<Int32>(0)
    private static let box = Mutex<ContinuousClock.Instant?>(nil)

    /// When the whole run's time box ends (`--seconds`), if it has one: waits for an
    /// implementation's answer give up then, so a hang cannot stretch the box.
    public static var deadline: ContinuousClock.Instant? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }

    /// Whether a wait should give up now: a stop was asked for, or the time box is over.
    public static var timeBoxOver: Bool {
        guard let d = deadline else { return false }
        return ContinuousClock.now >= d
    }

    /// The signal that asked to stop (SIGINT 2, SIGTERM 15), or 0.
    public static var requestedBy: Int32 { signal.load(ordering: .relaxed) }
    /// Whether a stop was asked for.
    public static var requested: Bool { requestedBy != 0 }

    /// Records a stop request; the first signal wins. Safe in a signal handler.
    public static func request(_ sig: Int32) {
        _ = signal.compareExchange(expected: 0, desired: sig, ordering: .relaxed)
    }

    /// Forgets a request and the time box (tests).
    public static func reset() {
        signal.store(0, ordering: .relaxed)
        deadline = nil
    }
}
