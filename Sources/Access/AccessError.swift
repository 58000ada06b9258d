import SystemPackage

/// Why an access failed: an errno exactly as the system call would return it, or an
/// implementation under test that broke (crashed, hung, misused memory) instead of answering.
public enum AccessError: Error, Hashable, Sendable, CustomStringConvertible {
    case errno(Errno)
    case broken(Breakage)

    public static let einval = AccessError.errno(.invalidArgument)
    public static let efault = AccessError.errno(.badAddress)
    public static let enomem = AccessError.errno(.noMemory)
    public static let eio = AccessError.errno(.ioError)

    public var description: String {
        switch self {
        case .errno(let e): Errno.symbolicName(e.rawValue)
        case .broken(let why): "broken(\(why))"
        }
    }
}

extension Errno {
    /// The C name of an errno value as it appears in reports (`EINVAL`), or `E<number>`.
    public static func symbolicName(_ value: CInt) -> String {
        switch value {
        case 1: "EPERM"
        case 2: "ENOENT"
        case 5: "EIO"
        case 6: "ENXIO"
        case 12: "ENOMEM"
        case 13: "EACCES"
        case 14: "EFAULT"
        case 16: "EBUSY"
        case 19: "ENODEV"
        case 22: "EINVAL"
        case 25: "ENOTTY"
        case 29: "ESPIPE"
        case 75: "EOVERFLOW"
        case 95: "EOPNOTSUPP"
        default: "E\(value)"
        }
    }

    /// The errno value for a C name (`EIO`), or nil when it is not one the kit reports.
    public static func value(named name: String) -> CInt? {
        for v in CInt(1)...CInt(133) where symbolicName(v) == name { return v }
        if name.hasPrefix("E"), let v = CInt(name.dropFirst()) { return v }
        return nil
    }
}
