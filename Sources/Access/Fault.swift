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

    public var description: String {
        switch self {
        case .none: "none"
        case let .device(nth, errno): "device[\(nth)]=\(Errno.symbolicName(errno.rawValue))"
        case let .userBuffer(from): "user-buffer@\(from)"
        case .allocation: "allocation"
        }
    }
}

import SystemPackage
