import Foundation

/// The seed for randomized harness tests: fixed (so CI is deterministic), or fresh from
/// `ISMKIT_SEED=<n>` / `ISMKIT_SEED=random` for local exploration.
enum TestSeed {
    static let value: UInt64 = {
        switch ProcessInfo.processInfo.environment["ISMKIT_SEED"] {
        case nil: return 1
        case "random"?:
            let s = UInt64.random(in: 1...UInt64.max)
            print("ISMKIT_SEED=\(s)")
            return s
        case let v?: return UInt64(v) ?? 1
        }
    }()
}
