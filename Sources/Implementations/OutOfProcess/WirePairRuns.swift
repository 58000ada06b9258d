import ISMAccess
import enum ISMAccess.Operation

// Pair runs as one pipelined batch: the concurrency check runs the same pair at every hold (and
// free-running several times), each on a fresh device, so its requests are known before any
// answer comes. One batch of `RESET`, set-up, `PAIR` and read-back lines per group of runs
// costs one round trip instead of four or five per run.

extension WireAccess {
    /// True for a pooled harness process that pipelines (`resetsInBatch`) and takes writes as
    /// patterns: a `RESET` line makes the device fresh between runs.
    public var runsPairsInBatch: Bool { resetsInBatch && connection.process.features.contains("pattern") }

    /// Sends, for each run, `RESET`, its set-up operations, its `PAIR` and a `PREAD` of each
    /// read-back range, then reads the answers.
    /// Set-up operations that read are not sent in a batch (they would need the carry buffer):
    /// such a run list throws `notSupported` before anything is sent, as does an
    /// implementation without `runsPairsInBatch`.
    public mutating func runPairs(_ runs: [PairRun], into answers: inout [PairRunAnswer]) throws(AccessError) {
        guard runsPairsInBatch, !runs.contains(where: { $0.prefix.contains(where: \.isRead) }) else { throw .errno(.notSupported) }
        // Every line's place: (run, part) with part -1 = RESET, 0..<prefix = set-up, prefix = PAIR, then read-backs.
        var text: [UInt8] = []
        var ends: [Int] = []
        var place: [(run: Int, part: Int)] = []
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        for (r, run) in runs.enumerated() {
            guard let a = Self.pairToken(run.pair.first), let b = Self.pairToken(run.pair.second), run.pair.isMeaningful else {
                throw .errno(.invalidArgument)
            }
            func line(_ part: Int) {
                text.append(10)
                ends.append(text.count)
                place.append((r, part))
            }
            text.append(contentsOf: "RESET".utf8)
            line(-1)
            for (i, op) in run.prefix.enumerated() {
                Self.appendRequest(op, count: op.count ?? 0, writeData: none, patterns: true, to: &text)
                line(i)
            }
            text.append(contentsOf: "PAIR \(run.pair.hold) \(run.pair.firstFD) \(a) | \(run.pair.secondFD) \(b)".utf8)
            line(run.prefix.count)
            for (i, range) in run.readBack.enumerated() {
                text.append(contentsOf: "PREAD \(range.offset) \(range.count) - -".utf8)
                line(run.prefix.count + 1 + i)
            }
        }
        let process = connection.process
        var current: (prefix: [Outcome], observation: PairObservation?, readBack: [(outcome: Outcome, bytes: [UInt8])]) = ([], nil, [])
        var trace: [TraceEvent] = []
        var answered = 0
        defer { connection.trace.removeAll(keepingCapacity: true) }
        try process.pipeline(text, ends: ends, answered: &answered) { (i: Int, bytes: UnsafeRawBufferPointer) throws(AccessError) in
            let (r, part) = place[i]
            let run = runs[r]
            let line = String(decoding: bytes, as: UTF8.self)
            if part == run.prefix.count {
                do throws(Breakage) { current.observation = try Self.parsePair(line, run.pair) } catch { throw process.fail(error) }
            } else {
                let reply: WireReply
                do throws(Breakage) { reply = try WireReply.parse(line) } catch { throw process.fail(error) }
                trace.append(contentsOf: reply.trace)
                let r = WireReplyBytes(ok: reply.status == .ok, value: reply.value, data: 0..<0, text: reply.data)
                if part == -1 {
                    guard reply.status == .ok else { throw process.fail(.protocolError("RESET failed")) }
                    connection.reuse?.pool.recordReset(reply.data)
                } else if part < run.prefix.count {
                    current.prefix.append(try Self.outcome(run.prefix[part], r, bytes, process))
                } else {
                    let range = run.readBack[part - run.prefix.count - 1]
                    // The whole buffer, as `pread` takes it (bytes of earlier loads stay on a failure).
                    var data = [UInt8](repeating: 0, count: range.count)
                    guard data.withUnsafeMutableBytes({ Self.unhex(reply.data, into: $0) }) else {
                        throw process.fail(.protocolError("\(reply.data.count / 2) data bytes for a \(range.count)-byte read-back"))
                    }
                    let read = Operation.pread(offset: range.offset, count: range.count, fault: .none)
                    current.readBack.append((try Self.outcome(read, r, bytes, process), data))
                }
            }
            trace.removeAll(keepingCapacity: true)
            if part == run.prefix.count + run.readBack.count, let observation = current.observation {
                answers.append(PairRunAnswer(prefix: current.prefix, observation: observation, readBack: current.readBack))
                current = ([], nil, [])
            }
        }
    }
}
