import ISMAccess

/// One reply line of the wire protocol (docs/wire-protocol.md), parsed without side effects:
/// `OK|ERR VALUE DATA TRACE`, or `BROKEN KIND reason`. Any other line is a protocol error, never a crash.
public struct WireReply: Equatable, Sendable {
    public enum Status: Sendable, Equatable { case ok, err }

    public var status: Status
    /// The count or result (OK), or the errno (ERR, 1...4095).
    public var value: Int64
    /// The data field (`-` or hex), unparsed: its meaning depends on the request.
    public var data: Substring
    public var trace: [TraceEvent]

    /// Why a line is not a usable reply: the implementation broke (a `BROKEN` line, whose first
    /// word says the kind: `overrun`, `misuse`, `harness`), or the line does not follow the
    /// protocol (`.protocolError`).
    public typealias Problem = Breakage

    public static func parse(_ line: String) throws(Breakage) -> WireReply {
        if line.hasPrefix("BROKEN ") {
            let rest = line.dropFirst(7)
            let word = rest.prefix { $0 != " " }
            let reason = String(rest.dropFirst(word.count).drop { $0 == " " })
            switch word {
            case "overrun": throw .overrun(reason)
            case "misuse": throw .misuse(reason)
            case "harness": throw .cannotStart(reason)
            default: throw .misuse(String(rest))
            }
        }
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 4, f[0] == "OK" || f[0] == "ERR", let value = Int64(f[1]) else {
            throw .protocolError("unexpected reply \"\(line.prefix(80))\"")
        }
        let status: Status = f[0] == "OK" ? .ok : .err
        if status == .err, !(1..<4096).contains(value) { throw .protocolError("errno \(value)") }
        return WireReply(status: status, value: value, data: f[2], trace: try parseTrace(f[3]))
    }

    /// `-`, or comma-separated `Kbar.position.size.generation` with K = L (load), B (store block), S (store).
    static func parseTrace(_ s: Substring) throws(Breakage) -> [TraceEvent] {
        guard s != "-" else { return [] }
        var events: [TraceEvent] = []
        for item in s.split(separator: ",") {
            let kind = item.first
            let parts = item.dropFirst().split(separator: ".")
            guard parts.count == 4, let bar = UInt8(parts[0]), let pos = UInt64(parts[1]),
                  let size = UInt32(parts[2]), let gen = UInt32(parts[3]) else {
                throw .protocolError("bad trace event \"\(item.prefix(40))\"")
            }
            switch kind {
            case "L": events.append(.load(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            case "B": events.append(.storeBlock(bar: bar, position: pos, length: size, handle: gen))
            case "S": events.append(.store(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            default: throw .protocolError("bad trace event \"\(item.prefix(40))\"")
            }
        }
        return events
    }
}

/// A reply line parsed straight from its bytes, allocating nothing: the pipelined batch path's
/// parser. It takes only the plain form (`OK|ERR VALUE DATA TRACE` with decimal digits, a
/// non-empty data field and `-` or well-formed trace events) and returns nil for anything else,
/// which then goes to `WireReply.parse`, the one judge of what a line means; for every line it
/// takes, it gives what `WireReply.parse` gives.
struct WireReplyBytes {
    var ok: Bool
    var value: Int64
    /// The data field's byte range in the line.
    var data: Range<Int>
    /// The data field as text, when `WireReply.parse` read the line (then `data` is unused).
    var text: Substring?

    /// Parses `line` (without its newline), appending its trace to `trace`; nil (and `trace`
    /// as it was) when the line is not in the plain form.
    static func parse(_ line: UnsafeRawBufferPointer, trace: inout [TraceEvent]) -> WireReplyBytes? {
        let n = line.count
        var i = 0
        let ok: Bool
        if n > 3, line[0] == 79, line[1] == 75, line[2] == 32 { ok = true; i = 3 }  // "OK "
        else if n > 4, line[0] == 69, line[1] == 82, line[2] == 82, line[3] == 32 { ok = false; i = 4 }  // "ERR "
        else { return nil }
        var negative = false
        if i < n, line[i] == 45 { negative = true; i += 1 }  // "-"
        guard let (magnitude, afterValue) = digits(line, from: i, upTo: 18), afterValue < n, line[afterValue] == 32 else { return nil }
        let value = negative ? -Int64(magnitude) : Int64(magnitude)
        if !ok, !(1..<4096).contains(value) { return nil }
        let dataStart = afterValue + 1
        var dataEnd = dataStart
        while dataEnd < n, line[dataEnd] != 32 { dataEnd += 1 }
        guard dataEnd > dataStart, dataEnd < n else { return nil }
        let traceStart = dataEnd + 1
        guard traceStart < n else { return nil }
        if n - traceStart == 1, line[traceStart] == 45 { return WireReplyBytes(ok: ok, value: value, data: dataStart..<dataEnd, text: nil) }
        let mark = trace.count
        var j = traceStart
        while true {
            let kind = line[j]
            guard kind == 76 || kind == 66 || kind == 83 else { trace.removeSubrange(mark...); return nil }  // L B S
            guard let (bar, a) = digits(line, from: j + 1, upTo: 3), bar <= UInt64(UInt8.max), a < n, line[a] == 46,
                  let (pos, b) = digits(line, from: a + 1, upTo: 19), b < n, line[b] == 46,
                  let (size, c) = digits(line, from: b + 1, upTo: 10), size <= UInt64(UInt32.max), c < n, line[c] == 46,
                  let (gen, d) = digits(line, from: c + 1, upTo: 10), gen <= UInt64(UInt32.max) else {
                trace.removeSubrange(mark...)
                return nil
            }
            switch kind {
            case 76: trace.append(.load(bar: UInt8(bar), position: pos, width: UInt8(truncatingIfNeeded: size), handle: UInt32(gen)))
            case 66: trace.append(.storeBlock(bar: UInt8(bar), position: pos, length: UInt32(size), handle: UInt32(gen)))
            default: trace.append(.store(bar: UInt8(bar), position: pos, width: UInt8(truncatingIfNeeded: size), handle: UInt32(gen)))
            }
            if d == n { break }
            guard line[d] == 44, d + 1 < n else { trace.removeSubrange(mark...); return nil }  // ","
            j = d + 1
        }
        return WireReplyBytes(ok: ok, value: value, data: dataStart..<dataEnd, text: nil)
    }

    /// 1 to `maxDigits` decimal digits at `from`: their value and the index after them.
    private static func digits(_ b: UnsafeRawBufferPointer, from: Int, upTo maxDigits: Int) -> (UInt64, Int)? {
        var i = from
        var v: UInt64 = 0
        while i < b.count, i - from < maxDigits, b[i] >= 48, b[i] <= 57 {
            v = v * 10 + UInt64(b[i] - 48)
            i += 1
        }
        guard i > from, i == b.count || b[i] < 48 || b[i] > 57 else { return nil }
        return (v, i)
    }
}
