import ISMAccess

/// Every write the kernel accepted during a hardware run, in order: region, position and the
/// bytes it reported transferred. A host that can see the device memory (a shared-memory BAR
/// backed by a file) replays it over the initial contents and must find the final contents.
///
/// Promises: entries are appended only after the kernel returned success, with exactly the
/// first `n` bytes of the buffer for a return value of `n`; the text form is line-based:
///
///     ismkit-write-journal 1
///     W <region> <position hex> <bytes hex>
///     P <region> <position hex> <count> <pattern>
///     E <entries>
///
/// A `P` line stands for `count` bytes that are exactly `DeviceContents.patternByte(pattern, i)`
/// (what the harness writes), so the journal of a long run stays small; any other buffer is
/// written out byte for byte in a `W` line.
public final class WriteJournal: @unchecked Sendable {
    public struct Entry: Sendable, Hashable {
        public var region: UInt32
        public var position: UInt64
        public var bytes: [UInt8]
    }

    public private(set) var entries: [Entry] = []
    public init() {}

    public func record(region: UInt32, position: UInt64, bytes: UnsafeRawBufferPointer) {
        entries.append(Entry(region: region, position: position, bytes: Array(bytes)))
    }

    /// Bytes written in all.
    public var byteCount: Int { entries.reduce(0) { $0 + $1.bytes.count } }

    /// The text form, header and trailer included.
    public func text() -> String {
        var out = "ismkit-write-journal 1\n"
        out.reserveCapacity(64 + byteCount * 2 + entries.count * 24)
        let digits = Array("0123456789abcdef".utf8)
        for e in entries {
            if let p = e.bytes.first, e.bytes.indices.allSatisfy({ e.bytes[$0] == DeviceContents.patternByte(p, $0) }) {
                out += "P \(e.region) \(String(e.position, radix: 16)) \(e.bytes.count) \(p)\n"
                continue
            }
            out += "W \(e.region) \(String(e.position, radix: 16)) "
            var hex = [UInt8]()
            hex.reserveCapacity(e.bytes.count * 2)
            for b in e.bytes {
                hex.append(digits[Int(b >> 4)])
                hex.append(digits[Int(b & 15)])
            }
            out += String(decoding: hex, as: UTF8.self) + "\n"
        }
        out += "E \(entries.count)\n"
        return out
    }
}
