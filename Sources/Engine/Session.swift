import ISMAccess
import ISMModel

/// One implementation and the model, side by side from the same start: each `step` runs an
/// operation on both and compares return value, guard bytes, returned bytes and (where the
/// implementation shows it) the trace.
///
/// Buffers are exact-size with guard bytes behind them, allocated once and reused, so a
/// step allocates nothing on the common path.
public struct Session<Impl: ISMAccess> {
    public private(set) var implementation: Impl
    public private(set) var model: GoldenModel
    public let compareTrace: Bool

    static var guardSize: Int { 16 }
    static var guardByte: UInt8 { 0xE7 }

    private var modelBuffer: UnsafeMutableRawBufferPointer
    private var implBuffer: UnsafeMutableRawBufferPointer
    private var writeBuffer: UnsafeMutableRawBufferPointer
    private var modelTrace: [TraceEvent] = []
    private var implTrace: [TraceEvent] = []
    private var owner: BufferOwner

    /// - Parameters:
    ///   - compareTrace: nil compares traces whenever the implementation shows one.
    public init(implementation: Impl, model: GoldenModel, compareTrace: Bool? = nil) {
        self.implementation = implementation
        self.model = model
        self.compareTrace = compareTrace ?? implementation.capabilities.trace
        owner = BufferOwner(count: 3, size: 16384 + Session.guardSize)
        modelBuffer = owner.buffers[0]
        implBuffer = owner.buffers[1]
        writeBuffer = owner.buffers[2]
        modelTrace.reserveCapacity(1024)
        implTrace.reserveCapacity(1024)
    }

    /// Starts over from a fresh implementation and model, keeping the buffers.
    public mutating func restart(implementation: Impl, model: GoldenModel) {
        self.implementation = implementation
        self.model = model
    }

    /// Grows the buffers (rarely) so a transfer of `count` bytes plus guard fits.
    private mutating func ensureCapacity(_ count: Int) {
        guard count + Session.guardSize > modelBuffer.count else { return }
        owner = BufferOwner(count: 3, size: count + Session.guardSize)
        modelBuffer = owner.buffers[0]
        implBuffer = owner.buffers[1]
        writeBuffer = owner.buffers[2]
    }

    /// Runs `op` (the `index`-th of its sequence) on both sides; the first difference found, or nil.
    public mutating func step(_ op: Operation, index: Int) -> Divergence? {
        guard var d = compareStep(op, index: index) else { return nil }
        var path = Array(model.lastDecision.cited)
        if !path.contains(d.rule) { path.append(d.rule) }
        d.cited = path
        d.regionShift = model.config.profile.regionShift
        return d
    }

    private mutating func compareStep(_ op: Operation, index: Int) -> Divergence? {
        let count = min(op.count ?? 0, Limits.maxTransfer)
        ensureCapacity(count)
        if op.isWrite { fillPattern(op, count: count) }
        let readOffset: UInt64
        switch op {
        case .pread(let o, _, _): readOffset = o
        default: readOffset = model.position
        }
        if op.isRead {
            (implBuffer.baseAddress! + count).initializeMemory(as: UInt8.self, repeating: Session.guardByte, count: Session.guardSize)
        }
        let expected = Session.perform(op, on: &model, buffer: modelBuffer, writeSource: writeBuffer, count: count)
        let actual = Session.perform(op, on: &implementation, buffer: implBuffer, writeSource: writeBuffer, count: count)
        let decision = model.lastDecision
        defer {
            modelTrace.removeAll(keepingCapacity: true)
            implTrace.removeAll(keepingCapacity: true)
        }
        model.takeTrace(into: &modelTrace)
        implementation.takeTrace(into: &implTrace)

        if case .failed(.broken(let failure)) = actual {
            return Divergence(index: index, operation: op, aspect: .broken, rule: decision.rule,
                              expected: expected.description, actual: failure.description, failure: failure)
        }
        if !Session.sameResult(expected, actual, ignoring: model.ignoredRegionFlags) {
            return Divergence(index: index, operation: op, aspect: .result, rule: resultRule(op, expected, actual, decision),
                              expected: expected.description, actual: actual.description)
        }
        if op.isRead {
            let g = UnsafeRawBufferPointer(rebasing: implBuffer[count..<(count + Session.guardSize)])
            if let bad = g.firstIndex(where: { $0 != Session.guardByte }) {
                return Divergence(index: index, operation: op, aspect: .bufferGuard, rule: .read5,
                                  expected: "no byte written past the \(count)-byte buffer",
                                  actual: "byte \(count + bad) (buffer end + \(bad)) overwritten")
            }
            if case .count(let n) = expected, decision.bytesComparable,
               let d = compareBytes(n, unknown: decision.unknownBytes) {
                return Divergence(index: index, operation: op, aspect: .bytes,
                                  rule: decision.cited.contains(.profile) ? .profile : .read3, expected: d.0, actual: d.1)
            }
            if case .count(let n) = expected {
                model.learn(readAt: readOffset, bytes: UnsafeRawBufferPointer(rebasing: implBuffer[0..<n]))
            }
        }
        if compareTrace && modelTrace != implTrace {
            return traceDivergence(op, index: index, decision: decision)
        }
        return nil
    }

    // MARK: performing one operation

    /// Runs one operation on any implementation with the given buffers; never throws: an error
    /// is an `Outcome` too.
    public static func perform<I: ISMAccess>(
        _ op: Operation, on impl: inout I, buffer: UnsafeMutableRawBufferPointer, writeSource: UnsafeMutableRawBufferPointer, count: Int
    ) -> Outcome {
        do throws(AccessError) {
            switch op {
            case let .pread(offset, _, fault):
                return .count(try impl.pread(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), offset: offset, fault: fault))
            case let .pwrite(offset, _, _, fault):
                return .count(try impl.pwrite(from: UnsafeRawBufferPointer(rebasing: writeSource[0..<count]), offset: offset, fault: fault))
            case let .read(_, fault):
                return .count(try impl.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), fault: fault))
            case let .write(_, _, fault):
                return .count(try impl.write(from: UnsafeRawBufferPointer(rebasing: writeSource[0..<count]), fault: fault))
            case let .seek(offset, whence):
                return .position(try impl.seek(offset: offset, whence: whence))
            case let .regionInfo(index, argsz):
                return .region(try impl.regionInfo(index: index, argsz: argsz))
            case .recoverHandle:
                try impl.recoverHandle(); return .done
            case let .attachPeer(failPool):
                try impl.attachPeer(failPool: failPool); return .done
            case .detachPeer:
                try impl.detachPeer(); return .done
            case .checkResources:
                return .resources(try impl.resources())
            }
        } catch {
            return .failed(error)
        }
    }

    private func fillPattern(_ op: Operation, count: Int) {
        let pattern: UInt8
        switch op {
        case .pwrite(_, _, let p, _), .write(_, let p, _): pattern = p
        default: return
        }
        let out = writeBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count { out[i] = DeviceContents.patternByte(pattern, i) }
    }

    // MARK: comparing

    static func sameResult(_ a: Outcome, _ b: Outcome, ignoring flags: RegionFlags) -> Bool {
        if case .region(var x) = a, case .region(var y) = b {
            x.flags.subtract(flags)
            y.flags.subtract(flags)
            return x == y
        }
        return a == b
    }

    private func resultRule(_ op: Operation, _ expected: Outcome, _ actual: Outcome, _ decision: Decision) -> Rule {
        if case .resources(let e) = expected, case .resources(let a) = actual {
            return e.leakedObjects != a.leakedObjects ? .life2 : .life1
        }
        return decision.rule
    }

    private func compareBytes(_ n: Int, unknown: [Range<Int>]) -> (String, String)? {
        let m = modelBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let a = implBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var u = 0
        var i = 0
        while i < n {
            if u < unknown.count, unknown[u].contains(i) { i = unknown[u].upperBound; u += 1; continue }
            if m[i] != a[i] {
                let end = min(n, i + 16)
                func hexBytes(_ p: UnsafeMutablePointer<UInt8>) -> String {
                    (i..<end).map { p[$0] < 16 ? "0" + String(p[$0], radix: 16) : String(p[$0], radix: 16) }.joined(separator: " ")
                }
                return ("bytes[\(i)...] = \(hexBytes(m))", "bytes[\(i)...] = \(hexBytes(a))")
            }
            i += 1
        }
        return nil
    }

    private func traceDivergence(_ op: Operation, index: Int, decision: Decision) -> Divergence {
        let k = zip(modelTrace, implTrace).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? min(modelTrace.count, implTrace.count)
        func show(_ t: [TraceEvent]) -> String {
            let shown = t.prefix(12).map(\.description).joined(separator: ", ")
            return "\(t.count) instruction(s)" + (t.isEmpty ? "" : ": " + shown + (t.count > 12 ? ", …" : ""))
        }
        var rule: Rule = op.isWrite ? (model.config.profile == .ism ? .write3 : .profile) : .read1
        if k < modelTrace.count, k < implTrace.count, handleOf(modelTrace[k]) != handleOf(implTrace[k]) { rule = .fh1 }
        if op.isWrite, decision.rule == .write5 { rule = .write5 }
        return Divergence(index: index, operation: op, aspect: .trace, rule: rule,
                          expected: show(modelTrace) + " (first difference at #\(k + 1))", actual: show(implTrace))
    }

    private func handleOf(_ e: TraceEvent) -> UInt32 {
        switch e {
        case .load(_, _, _, let h), .storeBlock(_, _, _, let h), .store(_, _, _, let h): h
        }
    }
}

/// Owns the session's buffers and frees them when the last session copy is gone.
final class BufferOwner {
    let buffers: [UnsafeMutableRawBufferPointer]
    init(count: Int, size: Int) {
        buffers = (0..<count).map { _ in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            b.initializeMemory(as: UInt8.self, repeating: 0)
            return b
        }
    }
    deinit { for b in buffers { b.deallocate() } }
}
