import ISMAccess
import ISMModel

/// One implementation and the model, side by side from the same start: each `step` runs an
/// operation on both and compares return value, guard bytes, returned bytes and (where the
/// implementation shows it) the trace; `run` does the same for a window of operations, which
/// the implementation runs as one batch (`ISMAccess.perform(batch:…)`) before each outcome is
/// compared with the model's, in order.
///
/// Buffers are exact-size with guard bytes behind them, allocated once and reused, so a
/// step allocates nothing on the common path.
public struct Session<Impl: ISMAccess> {
    public private(set) var implementation: Impl
    public private(set) var model: GoldenModel
    public let compareTrace: Bool

    static var guardSize: Int { BatchBuffers.guardSize }
    static var guardByte: UInt8 { BatchBuffers.guardByte }

    private var modelBuffers = BatchBuffers()
    private var implBuffers = BatchBuffers()
    private var results = BatchResults()
    private var modelTrace: [TraceEvent] = []

    /// - Parameters:
    ///   - compareTrace: nil compares traces whenever the implementation shows one.
    public init(implementation: Impl, model: GoldenModel, compareTrace: Bool? = nil) {
        self.implementation = implementation
        self.model = model
        self.compareTrace = compareTrace ?? implementation.capabilities.trace
        modelTrace.reserveCapacity(1024)
    }

    /// Starts over from a fresh implementation and model, keeping the buffers.
    public mutating func restart(implementation: Impl, model: GoldenModel) {
        self.implementation = implementation
        self.model = model
    }

    /// Runs `op` (the `index`-th of its sequence) on both sides; the first difference found, or nil.
    public mutating func step(_ op: Operation, index: Int) -> Divergence? {
        var rules = RuleSet()
        return run(CollectionOfOne(op).map { $0 }[...], firstIndex: index, rules: &rules).divergence
    }

    /// Runs `ops` (the first is the `firstIndex`-th of its sequence) as one batch on the
    /// implementation, then compares each outcome with the model's in order. Returns how many
    /// operations were compared (up to and including a diverging one) and the first divergence;
    /// `rules` gains the rules the model applied to the compared operations. When the batch is
    /// cut short by a window the buffers cannot hold, the rest runs as further batches.
    public mutating func run(_ ops: ArraySlice<Operation>, firstIndex: Int, rules: inout RuleSet) -> (compared: Int, divergence: Divergence?) {
        var compared = 0
        var rest = ops
        while !rest.isEmpty {
            // A transfer larger than the buffers grows (zeroes) them: it starts a batch of its own,
            // so an implementation that mirrors the read buffer never has to.
            var end = rest.startIndex + 1
            while end < rest.endIndex, !implBuffers.wouldGrow(BatchBuffers.transferCount(rest[end], maxTransfer: Limits.maxTransfer)) {
                end += 1
            }
            let window = rest[rest.startIndex..<end]
            results.removeAll()
            implementation.perform(batch: window, buffers: implBuffers, maxTransfer: Limits.maxTransfer, into: &results)
            for (k, op) in window.enumerated() {
                let index = firstIndex + compared
                compared += 1
                if let d = judge(op, index: index, entry: k, sent: window.count, rules: &rules) { return (compared, d) }
            }
            rest = rest[end...]
        }
        return (compared, nil)
    }

    /// Judges entry `entry` of the last batch's results (`sent` operations were sent) against
    /// what the model does for `op`: a missing answer is the implementation's breakage;
    /// adds the rules the model cites. The finished divergence, or nil.
    private mutating func judge(_ op: Operation, index: Int, entry: Int, sent: Int, rules: inout RuleSet) -> Divergence? {
        guard entry < results.count else {
            let why = Breakage.protocolError("the implementation answered \(results.count) of \(sent) operations")
            return finish(Divergence(index: index, operation: op, aspect: .broken, rule: model.lastDecision.rule,
                                     expected: "an answer", actual: why.description, failure: why))
        }
        let d = compare(op, index: index, entry: entry)
        rules.formUnion(model.lastDecision.cited)
        guard let d else { return nil }
        return finish(d)
    }

    /// Runs several operation sequences, each from a fresh device and model, as one batch on
    /// the implementation (`perform(batch:freshBefore:…)`, the device made fresh before each
    /// sequence at a `freshBefore` position), then compares them in order as `run` does, each
    /// against a fresh model from `freshModel`. `ops` holds the sequences back to back; the
    /// `j`-th starts at `starts[j]` (`starts[0]` is 0). Returns how many sequences were compared
    /// in full and the first divergence (in the sequence after those, its `index` counted from
    /// that sequence's start); nothing after the divergence is compared. Fewer sequences and no
    /// divergence: the implementation could not make the next fresh device. nil: not run, since
    /// an operation would grow the buffers (`run` gives those a batch of their own).
    public mutating func runSequences(_ ops: ArraySlice<Operation>, starts: [Int], freshBefore: [Int],
                                      freshModel: () -> GoldenModel, rules: inout RuleSet) -> (sequences: Int, divergence: Divergence?)? {
        guard !ops.contains(where: { implBuffers.wouldGrow(BatchBuffers.transferCount($0, maxTransfer: Limits.maxTransfer)) }) else { return nil }
        results.removeAll()
        implementation.perform(batch: ops, freshBefore: freshBefore, buffers: implBuffers, maxTransfer: Limits.maxTransfer, into: &results)
        for (j, start) in starts.enumerated() {
            let end = j + 1 < starts.count ? starts[j + 1] : ops.count
            if j > 0 || freshBefore.first == 0 { model = freshModel() }
            for entry in start..<end {
                let op = ops[ops.startIndex + entry]
                let index = entry - start
                if entry >= results.count, entry == start, freshBefore.contains(start) { return (j, nil) }  // no fresh device for this one
                if let d = judge(op, index: index, entry: entry, sent: ops.count, rules: &rules) { return (j, d) }
            }
        }
        return (starts.count, nil)
    }

    private func finish(_ divergence: Divergence) -> Divergence {
        var d = divergence
        var path = Array(model.lastDecision.cited)
        if !path.contains(d.rule) { path.append(d.rule) }
        d.cited = path
        d.regionShift = model.config.profile.regionShift
        d.regionTable = model.config.regionTable
        return d
    }

    /// Runs `op` on the model and compares it with the implementation's `entry`-th result.
    private mutating func compare(_ op: Operation, index: Int, entry: Int) -> Divergence? {
        let count = BatchBuffers.transferCount(op, maxTransfer: Limits.maxTransfer)
        modelBuffers.ensureCapacity(count)
        if op.isWrite { modelBuffers.fillPattern(op, count: count) }
        let readOffset: UInt64
        switch op {
        case .pread(let o, _, _): readOffset = o
        default: readOffset = model.position
        }
        let expected = model.perform(op, buffer: modelBuffers.read, writeSource: modelBuffers.write, count: count)
        let actual = results.outcomes[entry]
        let decision = model.lastDecision
        defer { modelTrace.removeAll(keepingCapacity: true) }
        model.takeTrace(into: &modelTrace)

        if case .failed(.broken(let failure)) = actual {
            return Divergence(index: index, operation: op, aspect: .broken, rule: decision.rule,
                              expected: expected.description, actual: failure.description, failure: failure)
        }
        if !Session.sameResult(expected, actual, ignoring: model.ignoredRegionFlags) {
            return Divergence(index: index, operation: op, aspect: .result, rule: resultRule(op, expected, actual, decision),
                              expected: expected.description, actual: actual.description)
        }
        if op.isRead {
            if let bad = results.guardDamage(entry) {
                return Divergence(index: index, operation: op, aspect: .bufferGuard, rule: .read5,
                                  expected: "no byte written past the \(count)-byte buffer",
                                  actual: "byte \(count + bad) (buffer end + \(bad)) overwritten")
            }
            if case .count(let n) = expected, decision.bytesComparable,
               let d = results.withReadBytes(entry, { compareBytes(n, actual: $0, unknown: decision.unknownBytes) }) {
                return Divergence(index: index, operation: op, aspect: .bytes,
                                  rule: decision.cited.contains(.profile) ? .profile : .read3, expected: d.0, actual: d.1)
            }
            if case .count(let n) = expected {
                results.withReadBytes(entry) { model.learn(readAt: readOffset, bytes: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        if compareTrace && !modelTrace.elementsEqual(results.trace(entry)) {
            return traceDivergence(op, index: index, decision: decision, implTrace: Array(results.trace(entry)))
        }
        return nil
    }

    // MARK: performing one operation

    /// Runs one operation on any implementation with the given buffers; never throws: an error
    /// is an `Outcome` too.
    public static func perform<I: ISMAccess>(
        _ op: Operation, on impl: inout I, buffer: UnsafeMutableRawBufferPointer, writeSource: UnsafeMutableRawBufferPointer, count: Int
    ) -> Outcome {
        impl.perform(op, buffer: buffer, writeSource: writeSource, count: count)
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

    private func compareBytes(_ n: Int, actual: UnsafeRawBufferPointer, unknown: [Range<Int>]) -> (String, String)? {
        let m = modelBuffers.read.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard n > 0, let base = actual.baseAddress else { return nil }
        let a = base.assumingMemoryBound(to: UInt8.self)
        var u = 0
        var i = 0
        while i < n {
            if u < unknown.count, unknown[u].contains(i) { i = unknown[u].upperBound; u += 1; continue }
            if m[i] != a[i] {
                let end = min(n, i + 16)
                func hexBytes(_ p: UnsafePointer<UInt8>) -> String {
                    (i..<end).map { p[$0] < 16 ? "0" + String(p[$0], radix: 16) : String(p[$0], radix: 16) }.joined(separator: " ")
                }
                return ("bytes[\(i)...] = \(hexBytes(m))", "bytes[\(i)...] = \(hexBytes(a))")
            }
            i += 1
        }
        return nil
    }

    private func traceDivergence(_ op: Operation, index: Int, decision: Decision, implTrace: [TraceEvent]) -> Divergence {
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

