import ISMAccess

/// One reply line of the wire protocol (docs/wire-protocol.md), parsed without side effects:
/// `OK|ERR VALUE DATA TRACE`, or `BROKEN reason`. Any other line is a protocol error, never a crash.
public struct WireReply: Equatable, Sendable {
    public enum Status: Sendable, Equatable { case ok, err }

    public var status: Status
    /// The count or result (OK), or the errno (ERR, 1...4095).
    public var value: Int64
    /// The data field (`-` or hex), unparsed: its meaning depends on the request.
    public var data: Substring
    public var trace: [TraceEvent]

    /// Why a line is not a usable reply.
    public enum Problem: Error, Equatable, Sendable {
        /// The harness reported the implementation broken (crash, use after free, ...).
        case broken(String)
        /// The line does not follow the protocol.
        case malformed(String)
    }

    public static func parse(_ line: String) throws(Problem) -> WireReply {
        if line.hasPrefix("BROKEN ") { throw .broken(String(line.dropFirst(7))) }
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 4, f[0] == "OK" || f[0] == "ERR", let value = Int64(f[1]) else {
            throw .malformed("protocol: unexpected reply \"\(line.prefix(80))\"")
        }
        let status: Status = f[0] == "OK" ? .ok : .err
        if status == .err, !(1..<4096).contains(value) { throw .malformed("protocol: errno \(value)") }
        return WireReply(status: status, value: value, data: f[2], trace: try parseTrace(f[3]))
    }

    /// `-`, or comma-separated `Kbar.position.size.generation` with K = L (load), B (store block), S (store).
    static func parseTrace(_ s: Substring) throws(Problem) -> [TraceEvent] {
        guard s != "-" else { return [] }
        var events: [TraceEvent] = []
        for item in s.split(separator: ",") {
            let kind = item.first
            let parts = item.dropFirst().split(separator: ".")
            guard parts.count == 4, let bar = UInt8(parts[0]), let pos = UInt64(parts[1]),
                  let size = UInt32(parts[2]), let gen = UInt32(parts[3]) else {
                throw .malformed("protocol: bad trace event \"\(item.prefix(40))\"")
            }
            switch kind {
            case "L": events.append(.load(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            case "B": events.append(.storeBlock(bar: bar, position: pos, length: size, handle: gen))
            case "S": events.append(.store(bar: bar, position: pos, width: UInt8(truncatingIfNeeded: size), handle: gen))
            default: throw .malformed("protocol: bad trace event \"\(item.prefix(40))\"")
            }
        }
        return events
    }
}
