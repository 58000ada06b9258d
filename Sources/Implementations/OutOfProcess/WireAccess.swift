import Foundation
import ISMAccess
import enum ISMAccess.Operation
import SystemPackage

/// An implementation under test in another process, driven over the wire protocol
/// (docs/wire-protocol.md): a driver `main.c` built into the driver-source harness (native
/// little-endian, sanitized, or s390x big-endian under qemu), or a library implementing
/// include/ismkit_access.h loaded by the library host.
///
/// Promise: every call has a time-out; a crash, hang or sanitizer report of the other process
/// becomes `AccessError.broken(reason)` (and stays so for every later call), never a crash of
/// the caller. Each instance owns one process, started by `init` (or, with a `IdleProcessPool`
/// pool, taken from it and reset) and killed when the last copy goes away, or given back to the
/// pool if it has one and the process neither broke nor ended.
public struct WireAccess: ISMAccess {
    final class Connection {
        let process: WireProcess
        let capabilities: Capabilities
        var trace: [TraceEvent] = []
        /// Where the process goes when the last copy goes away, if it may be reused.
        var reuse: (pool: IdleProcessPool, key: String)?
        init(process: WireProcess, capabilities: Capabilities) {
            self.process = process
            self.capabilities = capabilities
        }
        deinit {
            if let reuse, process.reusable { reuse.pool.give(process, key: reuse.key) }
        }
    }

    let connection: Connection
    public var capabilities: Capabilities { connection.capabilities }

    /// Starts `command` (a harness or the library host), then configures the device.
    ///
    /// With `reuse`, a process a previous instance left in the pool (same command, environment,
    /// time-out and device) is taken and sent `RESET` instead of starting a new one, and this
    /// instance's process goes back to the pool when its last copy goes away, unless it broke.
    /// A `RESET` that does not answer OK drops that process and starts a fresh one.
    /// A device with a region table (`DeviceConfig.regionTable`) is sent only to an
    /// implementation announcing the capability (`ISMKIT_CAP_REGION_TABLE`); one without it
    /// throws `Errno.notSupported` (EOPNOTSUPP) and is not configured at all.
    public init(command: [String], config: DeviceConfig, timeout: Duration = .seconds(10),
                environment: [String: String] = [:], reuse: IdleProcessPool? = nil) throws(AccessError) {
        let line = Self.configRequest(config)
        let key = ([timeout.description] + command + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .joined(separator: "\u{1}")
        let numbers = String(line.dropFirst("CONFIG ".count))
        // A device with a region table goes only to a process that had it (one without the
        // capability must not be sent a table: `init` then refuses the device).
        if let reuse, let (p, reply) = reuse.takeReset(key: key, config: numbers, reconfigure: config.regionTable == nil) {
            connection = Connection(process: p, capabilities: Self.capabilities(p))
            connection.trace.append(contentsOf: reply.trace)
            connection.reuse = (reuse, key)
            return
        }
        let p = try PrestartedProcesses.shared.take(arguments: command, environment: environment, timeout: timeout)
        try p.greet()
        connection = Connection(process: p, capabilities: Self.capabilities(p))
        if config.regionTable != nil && !connection.capabilities.regionTable {
            try? connection.process.finish()
            throw .errno(.notSupported)
        }
        _ = try call(line)
        p.config = numbers
        if let reuse { connection.reuse = (reuse, key) }
    }

    /// The `CONFIG` request for `config`: with a region table, its span and eight bases follow
    /// the eleven numbers (docs/wire-protocol.md).
    static func configRequest(_ config: DeviceConfig) -> String {
        let bars = config.barLengths.map(String.init).joined(separator: " ")
        let table = config.regionTable.map { t in " \(t.span) " + t.bases.map(String.init).joined(separator: " ") } ?? ""
        return "CONFIG \(bars) \(config.configSize) \(config.maxstbl) \(config.peerMaxstbl) \(config.contentSeed) \(config.storeBlocks == .strict ? 1 : 0)" + table
    }

    private static func capabilities(_ p: WireProcess) -> Capabilities {
        let caps = UInt32(p.hello[3]) ?? 0
        let order: ByteOrder = p.hello[2] == "big" ? .big : .little
        return Capabilities(
            trace: caps & 0x01 != 0, faults: caps & 0x02 != 0, lifecycle: caps & 0x04 != 0,
            handleRecovery: caps & 0x08 != 0, seek: caps & 0x10 != 0, midOperationHandleChange: caps & 0x20 != 0,
            regionTable: caps & 0x40 != 0, hostByteOrder: order, profile: .ism)
    }

    /// A driver source built into `harness`.
    /// `reuse`: see `init(command:…)`; never for the sanitized build (its leak report at exit
    /// would mix sequences).
    public init(harness: HarnessBinary, config: DeviceConfig, timeout: Duration = .seconds(10),
                reuse: IdleProcessPool? = nil) throws(AccessError) {
        let env = harness.variant == .littleSanitized
            ? ["ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1:allocator_may_return_null=1",
               "LSAN_OPTIONS": "exitcode=23"]
            : [:]
        try self.init(command: harness.command, config: config, timeout: timeout, environment: env,
                      reuse: harness.variant == .littleSanitized ? nil : reuse)
    }

    /// A library implementing include/ismkit_access.h, loaded by the library host at `host`.
    public init(libraryHost host: String, library: String, config: DeviceConfig, timeout: Duration = .seconds(10)) throws(AccessError) {
        try self.init(command: [host, library], config: config, timeout: timeout)
    }

    /// Ends the process in order (QUIT) and reports what a sanitizer found at exit (leaks).
    public func finish() throws(AccessError) {
        try connection.process.finish()
    }

    // MARK: the protocol

    /// Sends a request; returns the OK reply, throws the errno of an ERR reply or `broken` for
    /// anything else. The reply's trace is kept for `takeTrace`.
    private func call(_ request: String) throws(AccessError) -> WireReply {
        let line = try connection.process.exchange(request)
        let reply: WireReply
        do { reply = try WireReply.parse(line) } catch { throw connection.process.fail(error) }
        connection.trace.append(contentsOf: reply.trace)
        if reply.status == .err { throw .errno(Errno(rawValue: CInt(reply.value))) }
        return reply
    }

    // MARK: ISMAccess

    public mutating func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        let r = try call("INFO \(index) \(argsz)")
        let p = r.data.split(separator: ".")
        guard p.count == 3, let off = UInt64(p[0]), let size = UInt64(p[1]), let flags = UInt32(p[2]) else {
            throw connection.process.fail(.protocolError("bad region info \"\(r.data.prefix(60))\""))
        }
        return RegionInfo(index: index, offset: off, size: size, flags: RegionFlags(rawValue: flags))
    }

    public mutating func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try readCall("PREAD \(offset) \(buffer.count) \(Self.token(fault)) \(Self.hexInitial(UnsafeRawBufferPointer(buffer)))", into: buffer)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try readCall("READ \(buffer.count) \(Self.token(fault)) \(Self.hexInitial(UnsafeRawBufferPointer(buffer)))", into: buffer)
    }

    public mutating func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        Int(try call("PWRITE \(offset) \(Self.token(fault)) \(Self.hex(buffer))").value)
    }

    public mutating func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        Int(try call("WRITE \(Self.token(fault)) \(Self.hex(buffer))").value)
    }

    public mutating func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        try call("SEEK \(offset) \(whence == .set ? "set" : "cur")").value
    }

    public mutating func recoverHandle() throws(AccessError) { _ = try call("RECOVER") }
    public mutating func attachPeer(failPool: Bool) throws(AccessError) { _ = try call("ATTACH \(failPool ? 1 : 0)") }
    public mutating func detachPeer() throws(AccessError) { _ = try call("DETACH") }

    public mutating func resources() throws(AccessError) -> ResourceCounts {
        let r = try call("RESOURCES")
        let p = r.data.split(separator: ".")
        guard p.count == 2, let pools = Int(p[0]), let leaked = Int(p[1]) else {
            throw connection.process.fail(.protocolError("bad resource counts \"\(r.data.prefix(60))\""))
        }
        return ResourceCounts(livePools: pools, leakedObjects: leaked)
    }

    public mutating func takeTrace(into events: inout [TraceEvent]) {
        events.append(contentsOf: connection.trace)
        connection.trace.removeAll(keepingCapacity: true)
    }

    /// A read: the reply carries the whole buffer (bytes of earlier loads stay on a failure).
    private func readCall(_ request: String, into buffer: UnsafeMutableRawBufferPointer) throws(AccessError) -> Int {
        let line = try connection.process.exchange(request)
        let reply: WireReply
        do { reply = try WireReply.parse(line) } catch { throw connection.process.fail(error) }
        guard Self.unhex(reply.data, into: buffer) else {
            throw connection.process.fail(.protocolError("\(reply.data.count / 2) data bytes for a \(buffer.count)-byte buffer"))
        }
        connection.trace.append(contentsOf: reply.trace)
        if reply.status == .err { throw .errno(Errno(rawValue: CInt(reply.value))) }
        return Int(reply.value)
    }

    // MARK: batches

    /// Whether the process mirrors the client's read buffer (feature `carry`), so a window of
    /// operations can be sent before any answer comes back.
    public var pipelines: Bool { connection.process.features.contains("carry") }

    /// Sends the whole window (after a `CARRY` of the read buffer's bytes the window's reads can
    /// see) before reading the answers, when the process mirrors the read buffer; else one by
    /// one. A breakage in the middle is the outcome of the operation whose answer never came.
    public mutating func perform(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        // A first operation that grows the buffers grows them before anything is sent, as one by one would.
        if let first = operations.first { buffers.ensureCapacity(BatchBuffers.transferCount(first, maxTransfer: maxTransfer)) }
        guard pipelines, operations.count > 1,
              !operations.contains(where: { buffers.wouldGrow(BatchBuffers.transferCount($0, maxTransfer: maxTransfer)) }) else {
            performOneByOne(batch: operations, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            return
        }
        pipeline(operations, freshBefore: [], buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }

    /// True when the process came from an `IdleProcessPool` and mirrors the read buffer: a
    /// `RESET` line in the batch makes the device fresh, as taking the process from the pool does.
    public var resetsInBatch: Bool { connection.reuse != nil && pipelines }

    /// The window pipelined with a `RESET` line before each operation at a `freshBefore`
    /// position; a `RESET` not answered OK (or not answered) kills the process and ends the
    /// window there, with nothing recorded for it: the caller starts a fresh implementation.
    public mutating func perform(batch operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                                 into results: inout BatchResults) {
        guard !freshBefore.isEmpty else {
            perform(batch: operations, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            return
        }
        if let first = operations.first { buffers.ensureCapacity(BatchBuffers.transferCount(first, maxTransfer: maxTransfer)) }
        guard resetsInBatch,
              !operations.contains(where: { buffers.wouldGrow(BatchBuffers.transferCount($0, maxTransfer: maxTransfer)) }) else {
            // No fresh device here: the operations before the first fresh start only.
            let end = operations.startIndex + freshBefore[0]
            if end > operations.startIndex {
                perform(batch: operations[..<end], buffers: buffers, maxTransfer: maxTransfer, into: &results)
            }
            return
        }
        pipeline(operations, freshBefore: freshBefore, buffers: buffers, maxTransfer: maxTransfer, into: &results)
    }

    private mutating func pipeline(_ operations: ArraySlice<Operation>, freshBefore: [Int], buffers: BatchBuffers, maxTransfer: Int,
                                   into results: inout BatchResults) {
        let process = connection.process
        var seen = 0
        for op in operations where op.isRead { seen = max(seen, BatchBuffers.transferCount(op, maxTransfer: maxTransfer) + BatchBuffers.guardSize) }
        var text: [UInt8] = []
        text.reserveCapacity(48 * (operations.count + 1))
        var ends: [Int] = []
        ends.reserveCapacity(operations.count + 1)
        // The other side's carry buffer must hold the read buffer's bytes the window's reads can see:
        // unless it is known to (the mirror of what it holds equals them), a CARRY sets it first.
        var mirrored = 0
        if let m = process.carryMirror, m.count >= seen, m.count <= buffers.read.count,
           m.withUnsafeBytes({ memcmp($0.baseAddress!, buffers.read.baseAddress!, m.count) }) == 0 {
            mirrored = m.count
        } else if seen > 0 {
            text.append(contentsOf: "CARRY ".utf8)
            Self.appendHex(UnsafeRawBufferPointer(rebasing: buffers.read[0..<seen]), dashWhenZero: true, to: &text)
            text.append(10)
            ends.append(text.count)
            mirrored = seen
        }
        let lead = ends.count
        process.carryMirror = nil  // unknown until every answer came
        let patterns = process.features.contains("pattern")
        // The lines that are RESETs (`isReset[i]` for the `i`-th line), when there are any.
        var isReset: [Bool] = freshBefore.isEmpty ? [] : Array(repeating: false, count: lead)
        var nextFresh = freshBefore.startIndex
        for (j, op) in operations.enumerated() {
            if nextFresh < freshBefore.endIndex, freshBefore[nextFresh] == j {
                nextFresh += 1
                text.append(contentsOf: "RESET\n".utf8)
                ends.append(text.count)
                isReset.append(true)
            }
            if !isReset.isEmpty { isReset.append(false) }
            let count = BatchBuffers.transferCount(op, maxTransfer: maxTransfer)
            if op.isWrite && !patterns { buffers.fillPattern(op, count: count) }
            Self.appendRequest(op, count: count, writeData: UnsafeRawBufferPointer(rebasing: buffers.write[0..<count]), patterns: patterns,
                               to: &text)
            text.append(10)
            ends.append(text.count)
        }
        var trace = connection.trace
        connection.trace.removeAll(keepingCapacity: true)
        var answered = 0
        var k = operations.startIndex
        do throws(AccessError) {
            try process.pipeline(text, ends: ends, answered: &answered) { (i: Int, line: UnsafeRawBufferPointer) throws(AccessError) in
                var reply: WireReplyBytes
                if let fast = WireReplyBytes.parse(line, trace: &trace) {
                    reply = fast
                } else {
                    // Not the plain form: the one parser decides (a breakage, or the same reply).
                    let text = String(decoding: line, as: UTF8.self)
                    let slow: WireReply
                    do throws(Breakage) { slow = try WireReply.parse(text) } catch { throw process.fail(error) }
                    trace.append(contentsOf: slow.trace)
                    reply = WireReplyBytes(ok: slow.status == .ok, value: slow.value, data: 0..<0)
                    reply.text = slow.data
                }
                if i < lead {
                    guard reply.ok else { throw process.fail(.protocolError("CARRY answered \(String(decoding: line.prefix(60), as: UTF8.self))")) }
                    return
                }
                if i < isReset.count, isReset[i] {
                    guard reply.ok else { throw process.fail(.protocolError("RESET failed")) }
                    if let reuse = connection.reuse {
                        reuse.pool.recordReset(reply.text ?? Substring(String(decoding: line[reply.data], as: UTF8.self)))
                    }
                    return  // its trace (the new device's) goes with the next operation, as after a pool's RESET
                }
                let op = operations[k]
                let count = BatchBuffers.transferCount(op, maxTransfer: maxTransfer)
                if op.isRead {
                    buffers.armGuard(after: count)
                    let into = UnsafeMutableRawBufferPointer(rebasing: buffers.read[0..<count])
                    guard reply.text.map({ Self.unhex($0, into: into) }) ?? Self.unhex(UnsafeRawBufferPointer(rebasing: line[reply.data]), into: into) else {
                        throw process.fail(.protocolError("\((reply.text?.utf8.count ?? reply.data.count) / 2) data bytes for a \(count)-byte buffer"))
                    }
                    results.append(try Self.outcome(op, reply, line, process), readBytes: UnsafeRawBufferPointer(rebasing: buffers.read[0..<count]),
                                   guardDamage: buffers.guardDamage(after: count), trace: trace)
                } else {
                    results.append(try Self.outcome(op, reply, line, process), readBytes: nil, guardDamage: nil, trace: trace)
                }
                trace.removeAll(keepingCapacity: true)
                k += 1
            }
            process.carryMirror = Array(buffers.read[0..<max(mirrored, seen)])
        } catch {
            // A RESET that failed, or whose answer never came: no fresh device, and nothing to record.
            if answered < isReset.count, isReset[answered] {
                _ = process.fail(.protocolError("RESET failed"))
                return
            }
            // The operation whose answer never came (or could not be read) broke the implementation.
            guard k < operations.endIndex else { return }
            let op = operations[k]
            let count = BatchBuffers.transferCount(op, maxTransfer: maxTransfer)
            if op.isRead {
                buffers.armGuard(after: count)
                results.append(.failed(error), readBytes: UnsafeRawBufferPointer(rebasing: buffers.read[0..<count]), guardDamage: nil, trace: trace)
            } else {
                results.append(.failed(error), readBytes: nil, guardDamage: nil, trace: trace)
            }
        }
    }

    /// What an answer means for `op`: the `ISMAccess` call's result, or its error.
    static func outcome(_ op: Operation, _ r: WireReplyBytes, _ line: UnsafeRawBufferPointer, _ process: WireProcess) throws(AccessError) -> Outcome {
        if !r.ok { return .failed(.errno(Errno(rawValue: CInt(r.value)))) }
        func data() -> Substring { r.text ?? Substring(String(decoding: line[r.data], as: UTF8.self)) }
        switch op {
        case .pread, .read, .pwrite, .write: return .count(Int(r.value))
        case .seek: return .position(r.value)
        case let .regionInfo(index, _):
            let d = data()
            let p = d.split(separator: ".")
            guard p.count == 3, let off = UInt64(p[0]), let size = UInt64(p[1]), let flags = UInt32(p[2]) else {
                throw process.fail(.protocolError("bad region info \"\(d.prefix(60))\""))
            }
            return .region(RegionInfo(index: index, offset: off, size: size, flags: RegionFlags(rawValue: flags)))
        case .recoverHandle, .attachPeer, .detachPeer: return .done
        case .checkResources:
            let d = data()
            let p = d.split(separator: ".")
            guard p.count == 2, let pools = Int(p[0]), let leaked = Int(p[1]) else {
                throw process.fail(.protocolError("bad resource counts \"\(d.prefix(60))\""))
            }
            return .resources(ResourceCounts(livePools: pools, leakedObjects: leaked))
        }
    }

    /// The request line for `op` (without its newline); a read starts from the mirrored buffer (`=`).
    /// With `patterns`, a write's data is its pattern (`*pattern.count`, feature `pattern`), not hex.
    static func appendRequest(_ op: Operation, count: Int, writeData: UnsafeRawBufferPointer, patterns: Bool = false, to out: inout [UInt8]) {
        func put(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
        func num(_ v: UInt64) {
            if v < 10 { out.append(48 + UInt8(v)); return }
            var d: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var n = 0
            var x = v
            withUnsafeMutableBytes(of: &d) { p in
                while x > 0 { p[n] = 48 + UInt8(x % 10); x /= 10; n += 1 }
                for i in stride(from: n - 1, through: 0, by: -1) { out.append(p[i]) }
            }
        }
        func signed(_ v: Int64) {
            if v < 0 { out.append(45); num(v.magnitude) } else { num(UInt64(v)) }
        }
        func fault(_ f: Fault) {
            if case .none = f { out.append(45) } else { out.append(contentsOf: token(f).utf8) }
        }
        switch op {
        case let .pread(offset, _, f):
            put("PREAD "); num(offset); put(" "); num(UInt64(count)); put(" "); fault(f); put(" =")
        case let .read(_, f):
            put("READ "); num(UInt64(count)); put(" "); fault(f); put(" =")
        case let .pwrite(offset, _, p, f):
            put("PWRITE "); num(offset); put(" "); fault(f); put(" ")
            if patterns { put("*"); num(UInt64(p)); put("."); num(UInt64(count)) } else { appendHex(writeData, dashWhenZero: false, to: &out) }
        case let .write(_, p, f):
            put("WRITE "); fault(f); put(" ")
            if patterns { put("*"); num(UInt64(p)); put("."); num(UInt64(count)) } else { appendHex(writeData, dashWhenZero: false, to: &out) }
        case let .seek(offset, whence):
            put("SEEK "); signed(offset); put(whence == .set ? " set" : " cur")
        case let .regionInfo(index, argsz):
            put("INFO "); num(UInt64(index)); put(" "); num(UInt64(argsz))
        case .recoverHandle: put("RECOVER")
        case let .attachPeer(failPool): put(failPool ? "ATTACH 1" : "ATTACH 0")
        case .detachPeer: put("DETACH")
        case .checkResources: put("RESOURCES")
        }
    }

    /// Appends `b` as lowercase hex, or `-` when it is empty (or, with `dashWhenZero`, all zeros).
    static func appendHex(_ b: UnsafeRawBufferPointer, dashWhenZero: Bool, to out: inout [UInt8]) {
        if b.isEmpty || (dashWhenZero && b.allSatisfy { $0 == 0 }) {
            out.append(UInt8(ascii: "-"))
            return
        }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: b.count * 2))
        out.withUnsafeMutableBufferPointer { o in
            var i = start
            for byte in b {
                o[i] = digits[Int(byte >> 4)]
                o[i + 1] = digits[Int(byte & 15)]
                i += 2
            }
        }
    }

    // MARK: encoding

    static func token(_ f: Fault) -> String {
        switch f {
        case .none: "-"
        case let .device(nth, errno): "D\(nth):\(errno.rawValue)"
        case let .userBuffer(from): "U\(from)"
        case .allocation: "A"
        case let .handleChange(after): "H\(after)"
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A read's initial buffer: `-` for empty or all-zero bytes, else lowercase hex.
    static func hexInitial(_ b: UnsafeRawBufferPointer) -> String {
        b.allSatisfy({ $0 == 0 }) ? "-" : hex(b)
    }

    /// A write's data: `-` only when empty (its length is the count), else lowercase hex.
    static func hex(_ b: UnsafeRawBufferPointer) -> String {
        if b.isEmpty { return "-" }
        return String(unsafeUninitializedCapacity: b.count * 2) { out in
            var i = 0
            for byte in b {
                out[i] = digits[Int(byte >> 4)]
                out[i + 1] = digits[Int(byte & 15)]
                i += 2
            }
            return i
        }
    }

    /// `unhex` of a field's bytes.
    static func unhex(_ u: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        if u.count == 1, u[0] == 45 {
            if buffer.count > 0 { buffer.initializeMemory(as: UInt8.self, repeating: 0) }
            return true
        }
        guard u.count == buffer.count * 2 else { return false }
        guard let src = u.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let dst = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        return hexValues.withUnsafeBufferPointer { t in
            var bad: UInt8 = 0
            for i in 0..<buffer.count {
                let h = t[Int(src[2 * i])], l = t[Int(src[2 * i + 1])]
                bad |= (h | l) & 0x10
                dst[i] = h << 4 | (l & 15)
            }
            return bad == 0
        }
    }

    /// Each byte's hex digit value, or 0x10 for a byte that is not a hex digit.
    private static let hexValues: [UInt8] = (0...255).map { c in hexValue(UInt8(c)) ?? 0x10 }

    @inline(__always) private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }

    static func unhex(_ s: Substring, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        if s == "-" {
            if buffer.count > 0 { buffer.initializeMemory(as: UInt8.self, repeating: 0) }
            return true
        }
        let u = s.utf8
        guard u.count == buffer.count * 2 else { return false }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        var it = u.makeIterator()
        while let h = it.next(), let l = it.next() {
            guard let hv = v(h), let lv = v(l) else { return false }
            buffer[i] = hv << 4 | lv
            i += 1
        }
        return true
    }
}

// MARK: concurrent pairs (the PAIR request)

extension WireAccess: ConcurrentAccess {
    /// Sends `PAIR` (docs/wire-protocol.md): the harness runs both operations on two threads,
    /// the first held at its `hold`-th boundary while the second runs.
    public mutating func runPair(_ pair: ConcurrentPair) throws(AccessError) -> PairObservation {
        guard let a = Self.pairToken(pair.first), let b = Self.pairToken(pair.second), pair.isMeaningful else {
            throw .errno(.invalidArgument)
        }
        let line = try connection.process.exchange("PAIR \(pair.hold) \(pair.firstFD) \(a) | \(pair.secondFD) \(b)")
        do { return try Self.parsePair(line, pair) } catch { throw connection.process.fail(error) }
    }

    /// `OP args…` of one side of a pair, as the single-operation requests spell it.
    static func pairToken(_ op: Operation) -> String? {
        func pattern(_ p: UInt8, _ n: Int) -> String {
            let bytes = (0..<n).map { DeviceContents.patternByte(p, $0) }
            return bytes.withUnsafeBytes { hex($0) }
        }
        switch op {
        case let .pread(o, c, f): return "PREAD \(o) \(c) \(token(f)) -"
        case let .read(c, f): return "READ \(c) \(token(f)) -"
        case let .pwrite(o, c, p, f): return "PWRITE \(o) \(token(f)) \(pattern(p, c))"
        case let .write(c, p, f): return "WRITE \(token(f)) \(pattern(p, c))"
        case let .regionInfo(i, s): return "INFO \(i) \(s)"
        default: return nil
        }
    }

    /// `PAIR HELD BOUNDARIES POS1 POS2` then `STATUS VALUE DATA TRACE` for each side.
    static func parsePair(_ line: String, _ pair: ConcurrentPair) throws(Breakage) -> PairObservation {
        if line.hasPrefix("BROKEN ") { _ = try WireReply.parse(line) }
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 13, f[0] == "PAIR", let held = Int(f[1]), let n = Int(f[2]), let p1 = Int64(f[3]), let p2 = Int64(f[4]) else {
            throw .protocolError("unexpected reply to PAIR \"\(line.prefix(80))\"")
        }
        func side(_ at: Int, _ op: Operation) throws(Breakage) -> PairSideResult {
            guard f[at] == "OK" || f[at] == "ERR", let value = Int64(f[at + 1]) else {
                throw .protocolError("unexpected outcome in a PAIR reply \"\(line.prefix(80))\"")
            }
            let trace = try WireReply.parseTrace(f[at + 3])
            let result: Result<Int64, AccessError> = f[at] == "OK" ? .success(value) : .failure(.errno(Errno(rawValue: CInt(value))))
            var bytes: [UInt8] = []
            var region: RegionInfo?
            switch op {
            case .pread(_, let c, _), .read(let c, _):
                bytes = [UInt8](repeating: 0, count: c)
                let ok = bytes.withUnsafeMutableBytes { unhex(f[at + 2], into: $0) }
                guard ok else { throw .protocolError("\(f[at + 2].count / 2) data bytes for a \(c)-byte buffer in a PAIR reply") }
            case .regionInfo(let index, _):
                let p = f[at + 2].split(separator: ".")
                guard p.count == 3, let off = UInt64(p[0]), let size = UInt64(p[1]), let flags = UInt32(p[2]) else {
                    throw .protocolError("bad region info in a PAIR reply")
                }
                region = RegionInfo(index: index, offset: off, size: size, flags: RegionFlags(rawValue: flags))
            default: break
            }
            return PairSideResult(result: result, bytes: bytes, region: region, trace: trace)
        }
        return PairObservation(held: held == 1, boundaries: n, positions: [p1, p2],
                               first: try side(5, pair.first), second: try side(9, pair.second))
    }
}
