/// The JSON form of operations and faults used in reproducer files (docs/reproducer-format.md):
/// a flat object per operation, `{"op": "pread", "offset": "0x1000", "count": 8, "fault": "none"}`.
/// 64-bit offsets are hex strings so no JSON reader rounds them.
extension Operation {
    private enum Key: String, CodingKey { case op, offset, count, pattern, fault, whence, index, argsz, failPool }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let op = try c.decode(String.self, forKey: .op)
        func fault() throws -> Fault { try c.decodeIfPresent(Fault.self, forKey: .fault) ?? .none }
        func count() throws -> Int {
            let n = try c.decode(Int.self, forKey: .count)
            guard n >= 0 else { throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "negative count") }
            return n
        }
        func offset() throws -> UInt64 {
            let s = try c.decode(String.self, forKey: .offset)
            guard let v = parseHex(s) else {
                throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "offset must be a hex string like \"0x1000\"")
            }
            return v
        }
        switch op {
        case "pread": self = .pread(offset: try offset(), count: try count(), fault: try fault())
        case "pwrite": self = .pwrite(offset: try offset(), count: try count(), pattern: try c.decodeIfPresent(UInt8.self, forKey: .pattern) ?? 0, fault: try fault())
        case "read": self = .read(count: try count(), fault: try fault())
        case "write": self = .write(count: try count(), pattern: try c.decodeIfPresent(UInt8.self, forKey: .pattern) ?? 0, fault: try fault())
        case "seek":
            let s = try c.decode(String.self, forKey: .offset)
            guard let v = parseSignedHex(s) else {
                throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "seek offset must be a hex string like \"-0x10\"")
            }
            self = .seek(offset: v, whence: try c.decode(Whence.self, forKey: .whence))
        case "region-info": self = .regionInfo(index: try c.decode(UInt32.self, forKey: .index), argsz: try c.decodeIfPresent(UInt32.self, forKey: .argsz) ?? 32)
        case "recover-handle": self = .recoverHandle
        case "attach-peer": self = .attachPeer(failPool: try c.decodeIfPresent(Bool.self, forKey: .failPool) ?? false)
        case "detach-peer": self = .detachPeer
        case "check-resources": self = .checkResources
        default: throw DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: "unknown operation \"\(op)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .pread(offset, count, fault):
            try c.encode("pread", forKey: .op); try c.encode(hex(offset), forKey: .offset); try c.encode(count, forKey: .count); try c.encode(fault, forKey: .fault)
        case let .pwrite(offset, count, pattern, fault):
            try c.encode("pwrite", forKey: .op); try c.encode(hex(offset), forKey: .offset); try c.encode(count, forKey: .count)
            try c.encode(pattern, forKey: .pattern); try c.encode(fault, forKey: .fault)
        case let .read(count, fault):
            try c.encode("read", forKey: .op); try c.encode(count, forKey: .count); try c.encode(fault, forKey: .fault)
        case let .write(count, pattern, fault):
            try c.encode("write", forKey: .op); try c.encode(count, forKey: .count); try c.encode(pattern, forKey: .pattern); try c.encode(fault, forKey: .fault)
        case let .seek(offset, whence):
            try c.encode("seek", forKey: .op)
            try c.encode(offset < 0 ? "-" + hex(offset.magnitude) : hex(UInt64(offset)), forKey: .offset)
            try c.encode(whence, forKey: .whence)
        case let .regionInfo(index, argsz):
            try c.encode("region-info", forKey: .op); try c.encode(index, forKey: .index); try c.encode(argsz, forKey: .argsz)
        case .recoverHandle: try c.encode("recover-handle", forKey: .op)
        case let .attachPeer(failPool): try c.encode("attach-peer", forKey: .op); try c.encode(failPool, forKey: .failPool)
        case .detachPeer: try c.encode("detach-peer", forKey: .op)
        case .checkResources: try c.encode("check-resources", forKey: .op)
        }
    }
}

/// Faults are strings: `none`, `allocation`, `user-buffer@N`, `device[N]=EIO`, `handle-change@N`.
extension Fault {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let f = Fault(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad fault \"\(s)\" (none | allocation | user-buffer@N | device[N]=ERRNO | handle-change@N)")
        }
        self = f
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Parses the form `description` prints.
    public init?(parsing s: String) {
        if s == "none" { self = .none; return }
        if s == "allocation" { self = .allocation; return }
        if s.hasPrefix("handle-change@"), let n = UInt16(s.dropFirst("handle-change@".count)) { self = .handleChange(after: n); return }
        if s.hasPrefix("user-buffer@"), let n = Int(s.dropFirst("user-buffer@".count)), n >= 0 { self = .userBuffer(from: n); return }
        if s.hasPrefix("device["), let close = s.firstIndex(of: "]") {
            let nth = s[s.index(s.startIndex, offsetBy: 7)..<close]
            let rest = s[s.index(after: close)...]
            guard let n = UInt16(nth), rest.hasPrefix("="), let e = Errno.value(named: String(rest.dropFirst())), e > 0 else { return nil }
            self = .device(nth: n, errno: Errno(rawValue: e))
            return
        }
        return nil
    }
}

@inlinable func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Parses `0x…` (or decimal) into a UInt64.
public func parseHex(_ s: String) -> UInt64? {
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
    return UInt64(s)
}

/// Parses `[-]0x…` (or decimal) into an Int64.
public func parseSignedHex(_ s: String) -> Int64? {
    let neg = s.hasPrefix("-")
    guard let m = parseHex(neg ? String(s.dropFirst()) : s) else { return nil }
    if neg { return m <= UInt64(Int64.max) + 1 ? Int64(bitPattern: 0 &- m) : nil }
    return m <= UInt64(Int64.max) ? Int64(m) : nil
}

import SystemPackage
