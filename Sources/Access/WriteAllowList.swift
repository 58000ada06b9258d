/// The byte ranges of regions that a hardware run may write (`--allow-write REGION:START-END`).
///
/// Promises: empty means read-only; a range is inclusive of START and END; a write is allowed
/// only when every byte it can land on lies inside one range of its region.
public struct WriteAllowList: Sendable, Hashable, CustomStringConvertible {
    public struct Range: Sendable, Hashable, CustomStringConvertible {
        public var region: UInt32
        public var first: UInt64
        public var last: UInt64
        public init(region: UInt32, first: UInt64, last: UInt64) {
            self.region = region
            self.first = first
            self.last = last
        }
        public var description: String { "\(region):0x\(String(first, radix: 16))-0x\(String(last, radix: 16))" }
    }

    public var ranges: [Range]
    public init(_ ranges: [Range] = []) { self.ranges = ranges }

    public var isReadOnly: Bool { ranges.isEmpty }

    /// Parses `REGION:START-END` (numbers decimal or 0x-hex; REGION may be `bar2` or `config`).
    /// The error is one line naming the bad text.
    public static func parse(_ text: String) throws(AllowListError) -> Range {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw AllowListError("'\(text)': expected REGION:START-END, for example 2:0x0-0xfff") }
        var regionText = parts[0].lowercased()
        if regionText == "config" { regionText = "7" }
        if regionText.hasPrefix("bar") { regionText.removeFirst(3) }
        guard let region = UInt32(regionText), region <= 8 else {
            throw AllowListError("'\(text)': region must be 0...5 (a BAR), 7 (config) or a name like bar2")
        }
        let bounds = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2, let first = number(bounds[0]), let last = number(bounds[1]) else {
            throw AllowListError("'\(text)': START-END must be two numbers, for example 0x0-0xfff")
        }
        guard first <= last else { throw AllowListError("'\(text)': START is above END") }
        return Range(region: region, first: first, last: last)
    }

    static func number(_ s: String) -> UInt64? {
        let t = s.lowercased()
        return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    }

    /// Whether a write of `count` bytes at `position` of `region` stays inside one range.
    /// A zero-byte write transfers nothing and is always allowed.
    public func allows(region: UInt32, position: UInt64, count: Int) -> Bool {
        if count == 0 { return true }
        let (end, overflow) = position.addingReportingOverflow(UInt64(count) - 1)
        if overflow { return false }
        return ranges.contains { $0.region == region && $0.first <= position && end <= $0.last }
    }

    public var description: String { ranges.isEmpty ? "none (read-only)" : ranges.map(\.description).joined(separator: ", ") }
}

/// A bad `--allow-write` value, as one line.
public struct AllowListError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
