import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel

// The concurrency check's one run loop over pair runs: each case at its hold on a fresh device,
// judged in order, in batches where the implementation runs pair runs in batches.

extension ConcurrencyCheck {
    /// What one run of a case showed.
    enum RunResult {
        case explained(Run)
        case unexplained(Run)
        /// The set-up operations diverged from the model: the differential check's finding.
        case setUpDiverged
    }

    /// Why `runAll` ended.
    enum End {
        /// Every run was judged, or `judged` said to stop.
        case finished
        /// Asked to stop, or the time box ended.
        case stopped
        /// The implementation broke running the case at this index.
        case broken(Int, AccessError)
    }

    /// Pair runs a batch holds at most (the deadline and stop requests are looked at between batches).
    public static let batchRuns = 256

    /// Runs each case of `list` (each at its own hold) on a fresh device and hands each run's
    /// judgement to `judged` in order, until it returns false, the implementation breaks, or the
    /// time box ends. An implementation that runs pair runs in batches (`runsPairsInBatch`)
    /// gets up to `batchRuns` of them at a time and is kept in `impl` for the next call
    /// (dropped when it breaks); otherwise each run gets an implementation of its own (`run`).
    /// The judgements are those of running the cases one by one. Returns why it ended and the
    /// runs made.
    static func runAll<A: ConcurrentAccess>(_ list: [Case], device: DeviceConfig, deadline: ContinuousClock.Instant?,
                                            reuse impl: inout A?, make: () throws(AccessError) -> A,
                                            judged: (Int, RunResult) -> Bool) -> (End, runs: Int) {
        func broke(_ i: Int, _ error: AccessError) -> End {
            if case .broken(.interrupted) = error { return .stopped }
            return .broken(i, error)
        }
        var setUp: (prefix: [Operation], start: GoldenModel, outcomes: [Outcome])?
        var runs = 0
        var i = 0
        while i < list.count {
            if Interruption.requested { return (.stopped, runs) }
            if let deadline, ContinuousClock.now >= deadline { return (.stopped, runs) }
            var made: A?  // fresh: made for this run, not left by an earlier batch
            if impl == nil {
                do { made = try make() } catch { return (broke(i, error), runs + 1) }
                impl = made
            }
            guard var batcher = impl, batcher.runsPairsInBatch, !list[i].prefix.contains(where: \.isRead) else {
                // One run on a fresh implementation: the one just made, else a new one.
                impl = nil
                runs += 1
                do {
                    let r = try run(list[i], device: device) { () throws(AccessError) -> A in
                        if let made { return made }
                        return try make()
                    }
                    if !judged(i, r.map { $0.judgement.explained ? .explained($0) : .unexplained($0) } ?? .setUpDiverged) { return (.finished, runs) }
                } catch {
                    return (broke(i, error), runs)
                }
                i += 1
                continue
            }
            var end = i
            while end < list.count, end - i < batchRuns, !list[end].prefix.contains(where: \.isRead) { end += 1 }
            var runList: [PairRun] = []
            var starts: [(start: GoldenModel, outcomes: [Outcome])] = []
            for c in list[i..<end] {
                if setUp?.prefix != c.prefix {
                    let (model, outcomes) = setUpOutcomes(c.prefix, device: device)
                    setUp = (c.prefix, model, outcomes)
                }
                starts.append((setUp!.start, setUp!.outcomes))
                runList.append(PairRun(prefix: c.prefix, pair: c.pair, readBack: readBackRanges(c.pair, positions: [setUp!.start.position, 0])))
            }
            var answers: [PairRunAnswer] = []
            var failure: AccessError?
            do {
                try batcher.runPairs(runList, into: &answers)
                impl = batcher
            } catch {
                failure = error
                impl = nil
            }
            for (k, answer) in answers.enumerated() {
                runs += 1
                let result: RunResult
                if answer.prefix != starts[k].outcomes {
                    result = .setUpDiverged
                } else {
                    let readBack = zip(runList[k].readBack, answer.readBack).map {
                        Linearizability.ReadBack(offset: $0.offset, outcome: $1.outcome, bytes: $1.bytes)
                    }
                    let r = judge(runList[k].pair, start: starts[k].start, observation: answer.observation, readBack: readBack)
                    result = r.judgement.explained ? .explained(r) : .unexplained(r)
                }
                if !judged(i + k, result) { return (.finished, runs) }
            }
            if let failure { return (broke(i + answers.count, failure), runs + 1) }
            i = end
        }
        return (.finished, runs)
    }

    /// The model after `prefix` on a fresh device, and each set-up operation's outcome there.
    static func setUpOutcomes(_ prefix: [Operation], device: DeviceConfig) -> (GoldenModel, [Outcome]) {
        var model = GoldenModel(config: device)
        let buffers = BatchBuffers()
        var results = BatchResults()
        for op in prefix { model.performRecording(op, buffers: buffers, maxTransfer: Limits.maxTransfer, into: &results) }
        var discard: [TraceEvent] = []
        model.takeTrace(into: &discard)
        return (model, results.outcomes)
    }

    /// The device ranges read back after `pair`, each at most `Limits.maxTransfer` bytes.
    static func readBackRanges(_ pair: ConcurrentPair, positions: [UInt64]) -> [ReadBackRange] {
        Linearizability.readBackRanges(pair, positions: positions).map { ReadBackRange(offset: $0.offset, count: min($0.count, Limits.maxTransfer)) }
    }
}
