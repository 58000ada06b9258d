import ISMAccess
import ISMModel

/// The linearizability judgement of a concurrent pair: the pair is explained when running its
/// two operations one after the other, in some order, on copies of the golden model gives both
/// operations' observed results (count or errno, returned bytes, instructions) and the final
/// state (both fds' positions and the device bytes every write could have touched, read back).
///
/// The unit of atomicity is one device instruction, as on the device: a write is one store
/// block, but a read of several loads is not atomic, so a read running beside a write may see
/// the write between two of its loads (its bytes up to a load boundary from before the write,
/// the rest from after it). That, too, explains a pair.
public enum Linearizability {
    /// What one order of the pair made the model say.
    public struct Expectation: Sendable {
        public var first: SideExpectation
        public var second: SideExpectation
        public var positions: [UInt64]
        public var model: GoldenModel
    }

    /// The model's answer for one operation of the pair.
    public struct SideExpectation: Sendable {
        public var outcome: Outcome
        public var bytes: [UInt8]
        public var trace: [TraceEvent]
        public var bytesComparable: Bool
    }

    /// The verdict: explained, or what each order got wrong.
    public struct Judgement: Sendable, Hashable {
        /// The order that explains the observation (`[0, 1]`: first then second), or nil.
        public var order: [Int]?
        /// For each order tried, the first thing it does not explain (empty when explained).
        public var differences: [String]
        /// When a read saw the other operation (a write) between two of its loads: the byte
        /// index of that load boundary (the read is the first operation, or either one of a
        /// free-running pair).
        public var splitAt: Int? = nil
        public var explained: Bool { order != nil }
    }

    /// The device ranges the pair's writes address, from the fd positions before the pair:
    /// what is read back afterwards to compare the final device bytes.
    public static func readBackRanges(_ pair: ConcurrentPair, positions: [UInt64]) -> [(offset: UInt64, count: Int)] {
        var out: [(offset: UInt64, count: Int)] = []
        for (op, fd) in [(pair.first, pair.firstFD), (pair.second, pair.secondFD)] {
            switch op {
            case let .pwrite(o, c, _, _) where c > 0: out.append((o, c))
            case let .write(c, _, _) where c > 0: out.append((positions[fd - 1], c))
            default: break
            }
        }
        return out
    }

    /// Runs `op` on the model as if through fd `fd` (1 or 2): a position-using operation on
    /// fd 2 runs at fd 2's position, which then moves as the model's own would.
    public static func apply(_ op: Operation, fd: Int, model: inout GoldenModel, positions: inout [UInt64]) -> SideExpectation {
        let count = min(op.count ?? 0, Limits.maxTransfer)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count + 1, alignment: 16)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: count + 1, alignment: 16)
        defer { buffer.deallocate(); source.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        if case let .pwrite(_, _, p, _) = op { for i in 0..<count { source[i] = DeviceContents.patternByte(p, i) } }
        if case let .write(_, p, _) = op { for i in 0..<count { source[i] = DeviceContents.patternByte(p, i) } }
        var discard: [TraceEvent] = []
        model.takeTrace(into: &discard)
        let onSecondFD = fd == 2 && ConcurrentPair.usesPosition(op)
        let own = model.position
        if onSecondFD { _ = try? model.seek(offset: Int64(bitPattern: positions[1]), whence: .set) }
        let outcome = Session<GoldenModel>.perform(op, on: &model, buffer: buffer, writeSource: source, count: count)
        let decision = model.lastDecision
        if onSecondFD {
            positions[1] = model.position
            _ = try? model.seek(offset: Int64(bitPattern: own), whence: .set)
        }
        positions[0] = model.position
        var trace: [TraceEvent] = []
        model.takeTrace(into: &trace)
        let bytes = op.isRead ? Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) : []
        return SideExpectation(outcome: outcome, bytes: bytes, trace: trace, bytesComparable: decision.bytesComparable)
    }

    /// The model's answers for the pair in `order` (`[0, 1]` or `[1, 0]`) from `start`.
    public static func expectation(_ pair: ConcurrentPair, order: [Int], start: GoldenModel, positions start2: [UInt64]) -> Expectation {
        var model = start
        var positions = start2
        var sides: [SideExpectation?] = [nil, nil]
        for i in order {
            let (op, fd) = i == 0 ? (pair.first, pair.firstFD) : (pair.second, pair.secondFD)
            sides[i] = apply(op, fd: fd, model: &model, positions: &positions)
        }
        return Expectation(first: sides[0]!, second: sides[1]!, positions: positions, model: model)
    }

    /// What a read-back (a pread through fd 1 after the pair) returned.
    public struct ReadBack: Sendable, Hashable {
        public var offset: UInt64
        public var outcome: Outcome
        public var bytes: [UInt8]
        public init(offset: UInt64, outcome: Outcome, bytes: [UInt8]) {
            self.offset = offset
            self.outcome = outcome
            self.bytes = bytes
        }
    }

    /// Judges an observation: `start` is the model after the sequence that set the state up,
    /// `positions` both fds' positions before the pair.
    public static func judge(_ pair: ConcurrentPair, start: GoldenModel, positions: [UInt64],
                             observed: PairObservation, readBack: [ReadBack]) -> Judgement {
        var differences: [String] = []
        var expectations: [Expectation] = []
        for order in [[0, 1], [1, 0]] {
            let e = expectation(pair, order: order, start: start, positions: positions)
            expectations.append(e)
            if let why = difference(e, observed: observed, readBack: readBack, start: start) {
                differences.append((order == [0, 1] ? "first then second: " : "second then first: ") + why)
            } else {
                return Judgement(order: order, differences: [])
            }
        }
        // A read beside a write: the write between two of the read's loads. A held pair holds
        // its first operation, so only that one can be the read; free-running, either can.
        for reader in pair.isFreeRunning ? [0, 1] : [0] {
            let (r, w) = reader == 0 ? (pair.first, pair.second) : (pair.second, pair.first)
            guard r.isRead, w.isWrite else { continue }
            // before: the read runs first; after: the write does.
            let before = expectations[reader == 0 ? 0 : 1], after = expectations[reader == 0 ? 1 : 0]
            let readBefore = reader == 0 ? before.first : before.second
            let readAfter = reader == 0 ? after.first : after.second
            var boundary = 0
            for event in readBefore.trace.dropLast() {
                guard case .load(_, _, let width, _) = event else { break }
                boundary += Int(width)
                guard boundary < readBefore.bytes.count, boundary < readAfter.bytes.count else { break }
                var e = after
                let spliced = Array(readBefore.bytes[0..<boundary] + readAfter.bytes[boundary...])
                if reader == 0 { e.first.bytes = spliced } else { e.second.bytes = spliced }
                if difference(e, observed: observed, readBack: readBack, start: start) == nil {
                    return Judgement(order: reader == 0 ? [1, 0] : [0, 1], differences: [], splitAt: boundary)
                }
            }
        }
        return Judgement(order: nil, differences: differences)
    }

    /// The first part of the observation the expectation does not explain, or nil.
    static func difference(_ e: Expectation, observed: PairObservation, readBack: [ReadBack], start: GoldenModel) -> String? {
        for (name, exp, obs) in [("first", e.first, observed.first), ("second", e.second, observed.second)] {
            let actual = outcome(obs)
            if !Session<GoldenModel>.sameResult(exp.outcome, actual, ignoring: start.ignoredRegionFlags) {
                return "the \(name) operation returned \(actual), the model \(exp.outcome)"
            }
            if case .count(let n) = exp.outcome, exp.bytesComparable, !exp.bytes.isEmpty,
               let i = (0..<min(n, obs.bytes.count)).first(where: { exp.bytes[$0] != obs.bytes[$0] }) {
                return "the \(name) operation read \(hex(obs.bytes, from: i)) at byte \(i), the model \(hex(exp.bytes, from: i))"
            }
            if exp.trace != obs.trace {
                func show(_ t: [TraceEvent]) -> String { t.prefix(6).map(\.description).joined(separator: ", ") + (t.count > 6 ? ", …" : "") }
                return "the \(name) operation issued [\(show(obs.trace))], the model [\(show(exp.trace))]"
            }
        }
        let observedPositions = observed.positions.map { UInt64(bitPattern: $0) }
        if observedPositions != e.positions {
            return "fd positions afterwards are \(observedPositions), the model's \(e.positions)"
        }
        var model = e.model
        var positions = e.positions
        for r in readBack {
            let x = apply(.pread(offset: r.offset, count: r.bytes.count, fault: .none), fd: 1, model: &model, positions: &positions)
            if !Session<GoldenModel>.sameResult(x.outcome, r.outcome, ignoring: start.ignoredRegionFlags) {
                return "reading back \(r.bytes.count) bytes at 0x\(String(r.offset, radix: 16)) returned \(r.outcome), the model \(x.outcome)"
            }
            if case .count(let n) = x.outcome, x.bytesComparable,
               let i = (0..<min(n, r.bytes.count)).first(where: { x.bytes[$0] != r.bytes[$0] }) {
                return "the device holds \(hex(r.bytes, from: i)) at 0x\(String(r.offset + UInt64(i), radix: 16)) afterwards, the model \(hex(x.bytes, from: i))"
            }
        }
        return nil
    }

    /// An observed side's result as an `Outcome`.
    public static func outcome(_ s: PairSideResult) -> Outcome {
        switch s.result {
        case .failure(let e): .failed(e)
        case .success(let v): s.region.map { .region($0) } ?? .count(Int(v))
        }
    }

    static func hex(_ b: [UInt8], from i: Int) -> String {
        b[i..<min(b.count, i + 8)].map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
    }
}

extension ConcurrentPair {
    /// A one-line form for reports, offsets in `layout`.
    public func summary(in layout: OffsetLayout) -> String {
        isFreeRunning ? "fd\(firstFD) \(first.summary(in: layout)) and fd\(secondFD) \(second.summary(in: layout)) running at once, neither held"
            : "fd\(firstFD) \(first.summary(in: layout)) held at boundary \(hold) while fd\(secondFD) \(second.summary(in: layout)) runs"
    }
}
