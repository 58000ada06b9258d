import ISMAccess
import enum ISMAccess.Operation
import SystemPackage

/// A window of operations through an agent as compact frames (native/agent/README.md):
/// `COMPACT 1`, `CARRY` with the read buffer, every frame, `END`, all written before the first
/// answer is read. Each read starts from the agent's carry buffer, so it sees what the reads
/// before it left, as one by one; the host guard, faults and unsupported operations are decided
/// here before anything is sent, as one by one.
///
/// A window is cut into segments where the host needs an earlier answer before it can go on: a
/// `write` (the host guard needs the file position the answers before it set) starts a
/// segment, and a read with a fault (it arms the read buffer's guard without a request) runs
/// on its own between segments.
extension AgentDevice {
    public func perform(batch operations: ArraySlice<Operation>, buffers: BatchBuffers, maxTransfer: Int,
                        into results: inout BatchResults) {
        var me = self
        guard operations.count > 1,
              !operations.contains(where: { buffers.wouldGrow(BatchBuffers.transferCount($0, maxTransfer: maxTransfer)) }),
              connection.compactFrames() else {
            me.performOneByOne(batch: operations, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            return
        }
        var i = operations.startIndex
        while i < operations.endIndex {
            if Self.faultedRead(operations[i]) {
                me.performRecording(operations[i], buffers: buffers, maxTransfer: maxTransfer, into: &results)
                i += 1
            } else {
                i = segment(operations, from: i, buffers: buffers, maxTransfer: maxTransfer, into: &results)
            }
            if results.broke { return }
        }
    }

    private static func faultedRead(_ op: Operation) -> Bool {
        switch op {
        case .pread(_, _, let f), .read(_, let f): f != .none
        default: false
        }
    }

    /// One operation of a segment: sent as a frame (with the kernel offset a write went to), or
    /// decided here without a request.
    private enum Step {
        case sent(Operation, count: Int, kernel: UInt64)
        case local(Operation, Outcome)
    }

    /// Runs the segment that starts at `start`; returns where the next one starts.
    private func segment(_ ops: ArraySlice<Operation>, from start: Int, buffers: BatchBuffers, maxTransfer: Int,
                         into results: inout BatchResults) -> Int {
        var steps: [Step] = []
        var frames: [UInt8] = []
        frames.reserveCapacity(16 * (ops.endIndex - start))
        var carry = 0
        var sentCount = 0
        var end = start
        scan: while end < ops.endIndex {
            let op = ops[end]
            let count = BatchBuffers.transferCount(op, maxTransfer: maxTransfer)
            switch op {
            case .write where sentCount > 0: break scan
            case .pread where Self.faultedRead(op), .read where Self.faultedRead(op): break scan
            case let .pread(offset, _, _):
                let k = map.kernelOffset(model: offset)
                Compact.pread(k, count: count, to: &frames)
                carry = max(carry, count + BatchBuffers.guardSize)
                steps.append(.sent(op, count: count, kernel: k))
            case .read:
                Compact.read(count: count, to: &frames)
                carry = max(carry, count + BatchBuffers.guardSize)
                steps.append(.sent(op, count: count, kernel: 0))
            case let .pwrite(offset, _, _, fault):
                let k = map.kernelOffset(model: offset)
                if fault != .none {
                    steps.append(.local(op, .failed(.errno(.notSupported))))
                } else if !permitsWrite(kernelOffset: k, count: count) {
                    refusedWrites += 1
                    steps.append(.local(op, .failed(.errno(.notPermitted))))
                } else {
                    buffers.fillPattern(op, count: count)
                    Compact.pwrite(k, data: UnsafeRawBufferPointer(rebasing: buffers.write[0..<count]), to: &frames)
                    steps.append(.sent(op, count: count, kernel: k))
                }
            case let .write(_, _, fault):
                let k = kernelPosition  // known: nothing sent before it in this segment
                if fault != .none {
                    steps.append(.local(op, .failed(.errno(.notSupported))))
                } else if !permitsWrite(kernelOffset: k, count: count) {
                    refusedWrites += 1
                    steps.append(.local(op, .failed(.errno(.notPermitted))))
                } else {
                    buffers.fillPattern(op, count: count)
                    Compact.write(data: UnsafeRawBufferPointer(rebasing: buffers.write[0..<count]), to: &frames)
                    steps.append(.sent(op, count: count, kernel: k))
                }
            case let .seek(offset, whence):
                let target = whence == .set && offset >= 0 ? Int64(bitPattern: map.kernelOffset(model: UInt64(offset))) : offset
                Compact.seek(target, current: whence == .current, to: &frames)
                steps.append(.sent(op, count: 0, kernel: 0))
            case let .regionInfo(index, argsz):
                Compact.info(index, argsz: argsz, to: &frames)
                steps.append(.sent(op, count: 0, kernel: 0))
            case .recoverHandle, .attachPeer, .detachPeer, .checkResources:
                steps.append(.local(op, .failed(.errno(.notSupported))))
            }
            if case .sent = steps.last! { sentCount += 1 }
            end += 1
        }
        // COMPACT 1, the read buffer as the carry buffer, the frames, END.
        var all: [UInt8] = Array("COMPACT 1\n".utf8)
        all.reserveCapacity(frames.count + carry + 32)
        if carry > 0 { Compact.carry(UnsafeRawBufferPointer(rebasing: buffers.read[0..<carry]), to: &all) }
        all.append(contentsOf: frames)
        all.append(Compact.end)
        connection.fresh = false
        run(steps, frames: all, carried: carry > 0, sent: sentCount, buffers: buffers, into: &results)
        return end
    }

    /// Sends the frames, reads the answers, and appends every step's outcome in order.
    private func run(_ steps: [Step], frames: [UInt8], carried: Bool, sent: Int, buffers: BatchBuffers,
                     into results: inout BatchResults) {
        let p = connection.process
        let first = carried ? 2 : 1  // answers before the first operation's: COMPACT 1's line, CARRY's
        var next = 0                 // the next step to append
        var sentSteps: [Int] = []
        sentSteps.reserveCapacity(sent)
        for (i, s) in steps.enumerated() { if case .sent = s { sentSteps.append(i) } }
        func appendLocal(upTo limit: Int) {
            while next < limit, case let .local(_, outcome) = steps[next] {
                results.append(outcome, readBytes: nil, guardDamage: nil, trace: [])
                next += 1
            }
        }
        func describe(_ item: Int) -> String {
            if item < first { return item == 0 ? "\"COMPACT 1\"" : "the compact CARRY frame" }
            let k = item - first
            guard k < sentSteps.count, case let .sent(op, count, kernel) = steps[sentSteps[k]] else { return "the compact END frame" }
            return "the compact frame of \(Compact.describe(op, count: count, kernel: kernel))"
        }
        var answered = 0
        do throws(AccessError) {
            try p.pipelineFrames(frames, count: first + sent + 1, answered: &answered, describe: describe) {
                (item: Int, bytes: UnsafeRawBufferPointer) throws(AccessError) -> Int in
                if item == 0 || item == first + sent {
                    let want = item == 0 ? "OK 1 - -\n" : "OK 0 - -\n"
                    guard let nl = bytes.firstIndex(of: 10) else {
                        if bytes.count > 80 { throw p.fail(.protocolError("no answer line to \(describe(item))")) }
                        return 0
                    }
                    let line = String(decoding: bytes[0...nl], as: UTF8.self)
                    guard line == want else {
                        throw p.fail(.protocolError("\(describe(item)) answered \"\(line.dropLast().prefix(60))\""))
                    }
                    return nl + 1
                }
                if item < first {
                    guard bytes.count >= 1 else { return 0 }
                    guard bytes[0] == Compact.ok else { throw p.fail(.protocolError("\(describe(item)) answered status \(bytes[0])")) }
                    return bytes.count >= 5 ? 5 : 0
                }
                let index = sentSteps[item - first]
                guard case let .sent(op, count, kernel) = steps[index] else { return 0 }
                let need = Compact.answerSize(op, count: count)
                guard bytes.count >= need else {
                    if bytes.count >= 1, bytes[0] != Compact.ok, bytes[0] != Compact.err {
                        throw p.fail(.protocolError("\(describe(item)): status \(bytes[0])\(bytes[0] == Compact.bad ? " (BAD)" : "")"))
                    }
                    return 0
                }
                appendLocal(upTo: index)
                let outcome = try self.outcome(op, count: count, kernel: kernel, answer: bytes, buffers: buffers, describe: describe(item))
                if op.isRead {
                    results.append(outcome, readBytes: UnsafeRawBufferPointer(rebasing: buffers.read[0..<count]),
                                   guardDamage: buffers.guardDamage(after: count), trace: [])
                } else {
                    results.append(outcome, readBytes: nil, guardDamage: nil, trace: [])
                }
                next = index + 1
                return need
            }
            appendLocal(upTo: steps.count)
        } catch {
            // The operation whose answer never came (or could not be read) broke the agent.
            let k = answered - first
            let index = k < 0 ? 0 : k < sentSteps.count ? sentSteps[k] : steps.count
            appendLocal(upTo: index)
            if index < steps.count {
                if case let .sent(op, count, _) = steps[index], op.isRead {
                    buffers.armGuard(after: count)
                    results.append(.failed(error), readBytes: UnsafeRawBufferPointer(rebasing: buffers.read[0..<count]), guardDamage: nil, trace: [])
                } else {
                    results.append(.failed(error), readBytes: nil, guardDamage: nil, trace: [])
                }
            }
        }
    }

    /// What one answer means for `op`; updates the read buffer, the position and the journal.
    private func outcome(_ op: Operation, count: Int, kernel: UInt64, answer a: UnsafeRawBufferPointer, buffers: BatchBuffers,
                         describe: String) throws(AccessError) -> Outcome {
        let p = connection.process
        let ok = a[0] == Compact.ok
        let value = Compact.u32(a, at: 1)
        switch op {
        case .pread, .read:
            buffers.armGuard(after: count)
            UnsafeMutableRawBufferPointer(rebasing: buffers.read[0..<count]).copyMemory(from: UnsafeRawBufferPointer(rebasing: a[5..<(5 + count)]))
            guard ok else { return .failed(.errno(Errno(rawValue: CInt(value)))) }
            guard value <= count else { throw p.fail(.protocolError("\(describe): \(value) bytes read into a \(count)-byte buffer")) }
            if case .read = op { kernelPosition &+= UInt64(value) }
            return .count(Int(value))
        case .pwrite, .write:
            guard ok else { return .failed(.errno(Errno(rawValue: CInt(value)))) }
            guard value <= count else { throw p.fail(.protocolError("\(describe): \(value) bytes written of \(count)")) }
            buffers.fillPattern(op, count: count)
            recordWrite(kernelOffset: kernel, buffer: UnsafeRawBufferPointer(rebasing: buffers.write[0..<count]), count: Int(value))
            if case .write = op { kernelPosition &+= UInt64(value) }
            return .count(Int(value))
        case .seek:
            let v = Compact.u64(a, at: 1)
            guard ok else { return .failed(.errno(Errno(rawValue: CInt(truncatingIfNeeded: v)))) }
            kernelPosition = v
            return .position(Int64(bitPattern: map.modelOffset(kernel: v)))
        case let .regionInfo(index, _):
            guard ok else { return .failed(.errno(Errno(rawValue: CInt(value)))) }
            return .region(RegionInfo(index: index, offset: Compact.u64(a, at: 5), size: Compact.u64(a, at: 13),
                                      flags: RegionFlags(rawValue: Compact.u32(a, at: 21))))
        default:
            return .failed(.errno(.notSupported))
        }
    }
}

/// The compact frames' bytes (native/agent/README.md, "Compact frames"): little-endian fields.
enum Compact {
    static let ok: UInt8 = 0, err: UInt8 = 1, bad: UInt8 = 2
    static let end: UInt8 = 0x00
    static let fromCarry: UInt8 = 0x40

    static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8))
        out.append(UInt8(truncatingIfNeeded: v >> 16)); out.append(UInt8(truncatingIfNeeded: v >> 24))
    }
    static func put64(_ v: UInt64, _ out: inout [UInt8]) {
        put32(UInt32(truncatingIfNeeded: v), &out)
        put32(UInt32(truncatingIfNeeded: v >> 32), &out)
    }
    static func u32(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
    static func u64(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt64 { UInt64(u32(b, at: i)) | UInt64(u32(b, at: i + 4)) << 32 }

    static func pread(_ offset: UInt64, count: Int, to out: inout [UInt8]) {
        out.append(0x01 | fromCarry); put64(offset, &out); put32(UInt32(count), &out)
    }
    static func read(count: Int, to out: inout [UInt8]) {
        out.append(0x03 | fromCarry); put32(UInt32(count), &out)
    }
    static func pwrite(_ offset: UInt64, data: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x02); put64(offset, &out); put32(UInt32(data.count), &out); out.append(contentsOf: data)
    }
    static func write(data: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x04); put32(UInt32(data.count), &out); out.append(contentsOf: data)
    }
    static func seek(_ offset: Int64, current: Bool, to out: inout [UInt8]) {
        out.append(0x05); put64(UInt64(bitPattern: offset), &out); out.append(current ? 1 : 0)
    }
    static func info(_ index: UInt32, argsz: UInt32, to out: inout [UInt8]) {
        out.append(0x06); put32(index, &out); put32(argsz, &out)
    }
    static func carry(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x08); put32(UInt32(bytes.count), &out); out.append(contentsOf: bytes)
    }

    /// The answer's length for a frame of `op`.
    static func answerSize(_ op: Operation, count: Int) -> Int {
        switch op {
        case .pread, .read: 5 + count
        case .seek: 9
        case .regionInfo: 25
        default: 5
        }
    }

    /// `PREAD <kernel offset> <count>` etc., as the request would read in text.
    static func describe(_ op: Operation, count: Int, kernel: UInt64) -> String {
        switch op {
        case .pread: "PREAD \(kernel) \(count)"
        case .read: "READ \(count)"
        case .pwrite: "PWRITE \(kernel) (\(count) bytes)"
        case .write: "WRITE (\(count) bytes)"
        case let .seek(offset, whence): "SEEK \(offset) \(whence == .set ? "set" : "cur")"
        case let .regionInfo(index, argsz): "INFO \(index) \(argsz)"
        default: "\(op)"
        }
    }
}
