import ISMAccess

/// One point of a driver-harness check mode that showed a finding, so a reproducer can run
/// exactly that point again: a lifecycle walk's failure point, or one direct call of the
/// driver's read/write callback. `finding` names which of the point's findings it is (the walk's
/// `kind|pair`, the contract's aspect), so a replay tells "still there" from "something else".
public struct HarnessCheckPoint: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The check mode the point belongs to.
    public enum Mode: String, Codable, Sendable, Hashable {
        /// `--lifecycle-walk`: every acquire failed in turn (R-LIFE-2).
        case lifecycleWalk = "lifecycle-walk"
        /// `--callback-contract`: the read/write callbacks called directly.
        case callbackContract = "callback-contract"
    }

    /// One call of the driver's read or write callback, as the VFIO core makes it.
    public struct Call: Codable, Sendable, Hashable {
        public var write: Bool
        /// The file offset (`*ppos` on entry).
        public var offset: UInt64
        public var count: UInt64
        /// The fault injected into the call (none, device, user-buffer or allocation).
        public var fault: Fault
        public init(write: Bool, offset: UInt64, count: UInt64, fault: Fault) {
            self.write = write
            self.offset = offset
            self.count = count
            self.fault = fault
        }

        enum CodingKeys: String, CodingKey { case callback, offset, count, fault }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            switch try c.decode(String.self, forKey: .callback) {
            case "read": write = false
            case "write": write = true
            case let s: throw DecodingError.dataCorruptedError(forKey: .callback, in: c, debugDescription: "callback \"\(s)\" (read | write)")
            }
            let o = try c.decode(String.self, forKey: .offset)
            guard let v = o.hasPrefix("0x") ? UInt64(o.dropFirst(2), radix: 16) : UInt64(o) else {
                throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "offset \"\(o)\" (a number, 0x for hex)")
            }
            offset = v
            count = try c.decode(UInt64.self, forKey: .count)
            guard count <= 1 << 20 else { throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "count above 1048576") }
            fault = try c.decodeIfPresent(Fault.self, forKey: .fault) ?? .none
            guard fault.harnessToken != nil else {
                throw DecodingError.dataCorruptedError(forKey: .fault, in: c, debugDescription: "a callback call takes none, allocation, user-buffer@N or device[N]=ERRNO")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(write ? "write" : "read", forKey: .callback)
            try c.encode("0x" + String(offset, radix: 16), forKey: .offset)
            try c.encode(count, forKey: .count)
            if fault != .none { try c.encode(fault, forKey: .fault) }
        }

        /// The harness arguments that make this call alone.
        public var arguments: [String] { [write ? "write" : "read", String(offset), String(count), fault.harnessToken ?? "-"] }
    }

    public var mode: Mode
    /// The walk's failure point (-1: the path where nothing fails).
    public var point: Int?
    /// The contract's call.
    public var call: Call?
    /// Which finding of the point: `kind|pair` for the walk, the aspect for the contract.
    public var finding: String

    public init(walkPoint: Int, finding: String) {
        mode = .lifecycleWalk
        point = walkPoint
        call = nil
        self.finding = finding
    }

    public init(call: Call, finding: String) {
        mode = .callbackContract
        point = nil
        self.call = call
        self.finding = finding
    }

    /// The harness arguments after the device numbers that run this point alone.
    public var arguments: [String] {
        switch mode {
        case .lifecycleWalk: [String(point ?? -1)]
        case .callbackContract: call?.arguments ?? []
        }
    }

    /// Whether the fields fit the mode (a walk has a point in -1..<64, a contract a call).
    public var isMeaningful: Bool {
        switch mode {
        case .lifecycleWalk: call == nil && (point.map { (-1..<64).contains($0) } ?? false) && !finding.isEmpty
        case .callbackContract: point == nil && call != nil && !finding.isEmpty
        }
    }

    public var description: String {
        switch mode {
        case .lifecycleWalk: "lifecycle walk, failure point \(point ?? -1), \(finding)"
        case .callbackContract:
            if let c = call { "callback contract, \(c.write ? "write" : "read") callback at 0x\(String(c.offset, radix: 16)) count \(c.count) fault \(c.fault), \(finding)" } else { "callback contract, \(finding)" }
        }
    }
}

extension Fault {
    /// The fault as the harness's callback-contract lines write it (`-`, `A`, `U5`, `D0:5`);
    /// nil for a fault a callback call does not take.
    public var harnessToken: String? {
        switch self {
        case .none: "-"
        case .allocation: "A"
        case let .userBuffer(from): from >= 0 ? "U\(from)" : nil
        case let .device(nth, errno): "D\(nth):\(errno.rawValue)"
        case .handleChange: nil
        }
    }

    /// The fault a callback-contract line names, or nil.
    public init?(harnessToken t: String) {
        if t == "-" { self = .none; return }
        if t == "A" { self = .allocation; return }
        if t.hasPrefix("U"), let n = Int(t.dropFirst()), n >= 0 { self = .userBuffer(from: n); return }
        if t.hasPrefix("D") {
            let parts = t.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, let nth = UInt16(parts[0]), let e = Int32(parts[1]), e > 0 {
                self = .device(nth: nth, errno: Errno(rawValue: e))
                return
            }
        }
        return nil
    }
}

import SystemPackage
