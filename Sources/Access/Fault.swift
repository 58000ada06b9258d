/// A fault injected into one operation, with semantics that do not depend on how an
/// implementation is written, so the model can predict its effect.
public enum Fault: Hashable, Sendable, Codable, CustomStringConvertible {
    /// No fault.
    case none
    /// The `nth` (0-based) device instruction the operation issues fails with `errno`
    /// (a PCI load for reads, the store block or a split store for writes); errno > 0.
    case device(nth: UInt16, errno: Errno)
    /// The user buffer is inaccessible from byte `from` on: any copy to or from it that
    /// touches a byte at index >= `from` faults (EFAULT).
    case userBuffer(from: Int)
    /// The next bounce-buffer allocation fails (ENOMEM).
    case allocation
    /// The device's function handle changes inside the operation, as zPCI error recovery
    /// changes it under a live device (R-FH-1): with `after` = k > 0, right after the k-th
    /// device instruction of the operation completes (between two loads of one read, or two
    /// split stores); with k = 0, once a store-block write has its bytes in the bounce buffer,
    /// just before the store block. Every later instruction must use the new handle, and the
    /// change stays. An operation that never reaches that point changes nothing.
    case handleChange(after: UInt16)

    public var description: String {
        switch self {
        case .none: "none"
        case let .device(nth, errno): "device[\(nth)]=\(Errno.symbolicName(errno.rawValue))"
        case let .userBuffer(from): "user-buffer@\(from)"
        case .allocation: "allocation"
        case let .handleChange(after): "handle-change@\(after)"
        }
    }
}

import SystemPackage
