import ISMAccess
import ISMModel

/// Progress of a running campaign, for a progress line.
public struct CampaignProgress: Sendable {
    public var operations: Int
    public var sequences: Int
    public var findings: Int
    /// SPEC rules the model has applied so far.
    public var rules: Int
    public var elapsed: Duration
}

/// What a campaign found: how much it ran and its findings (shrunk), first seen first.
public struct CampaignResult: Sendable {
    public var operations: Int
    public var sequences: Int
    public var elapsed: Duration
    public var findings: [Finding]
    /// Rules the model applied during the run, for coverage listings.
    public var rulesExercised: RuleSet
    /// Operations the campaign's filter held back (a hardware run's writes outside the allow-list).
    public var skipped = 0
    /// The run stopped early because a stop was asked for (SIGINT/SIGTERM).
    public var interrupted = false

    public var operationsPerSecond: Double {
        let s = elapsed.seconds
        return s > 0 ? Double(operations) / s : 0
    }
    /// The first finding's divergence (shrunk), if any.
    public var divergence: Divergence? { findings.first?.divergence }
    /// The first finding's shrunk operations.
    public var shrunk: [Operation]? { findings.first?.operations }
    /// The first finding's sequence as it was seen.
    public var original: [Operation]? { findings.first?.original }
    /// Operations run up to and including the first diverging one.
    public var operationsToFirstDivergence: Int? { findings.first?.operationsBefore }
}

/// The run loop every command shares: operation sequences, each from a fresh implementation
/// and model, run side by side until the budget is spent; each finding is shrunk within its
/// budget. Sequences come from an optional `prelude` (fixed operations, run first, continuing
/// after a finding) and then from the generator. With `stopAtFirstFinding` the run ends at the
/// first divergence (fuzzing, mutants, conformance); without, it records each distinct finding
/// once, counts repeats, starts afresh after each and goes on (hardware runs, which report
/// every check that differs). A `skip` filter holds operations back without running them.
public struct Campaign<Impl: ISMAccess> {
    public var differential: Differential<Impl>
    /// Generator options; nil runs only the prelude.
    public var options: GeneratorOptions?
    public var seed: UInt64
    public var budget: Budget
    public var sequenceLength: Int
    public var prelude: [Operation] = []
    public var stopAtFirstFinding = true
    public var shrink: Shrinker<Impl>.Budget
    /// The check name findings carry.
    public var check = "differential"
    /// Operations held back: counted, never run (nil: none). A filter sees the implementation
    /// as each operation finds it, so with one the operations run one at a time.
    public var skip: ((Impl, Operation) -> Bool)?
    /// Operations handed to the implementation at once (`ISMAccess.perform(batch:…)`); a
    /// sequence runs in windows of this many. Findings do not depend on it. A batch runs the
    /// operations after a divergence too, so a campaign that goes on after a finding
    /// (`stopAtFirstFinding` false: a hardware run, whose device must see exactly what one by
    /// one would send, and whose fixed operations go on after the finding) runs one at a time.
    public var batchSize = 256
    /// Operations of whole sequences handed to an implementation at once when it can make its
    /// device fresh inside a batch (`ISMAccess.resetsInBatch`): the sequences it holds are
    /// judged in order after their answers came, up to the first divergence; nothing after that
    /// is judged or reported. At least one sequence.
    public var freshBatchOperations = 1024
    /// The implementation of the first sequence, when the caller already made one.
    public var first: Impl?
    /// Called about every `progressInterval` while the campaign runs.
    public var progress: ((CampaignProgress) -> Void)?
    public var progressInterval: Duration = .seconds(5)
    /// How long shrinking may go on past the time box, and after a stop request (SIGINT/SIGTERM).
    public var shrinkGrace: Duration = .milliseconds(500)

    public init(
        differential: Differential<Impl>, options: GeneratorOptions?, seed: UInt64, budget: Budget,
        sequenceLength: Int = 32, shrink: Bool = true, progress: ((CampaignProgress) -> Void)? = nil
    ) {
        self.differential = differential
        self.options = options
        self.seed = seed
        self.budget = budget
        self.sequenceLength = sequenceLength
        self.shrink = shrink ? .init(checks: 20_000) : .none
        self.progress = progress
    }

    public func run() throws(AccessError) -> CampaignResult {
        let clock = ContinuousClock()
        let start = clock.now
        var generator = options.map { OperationGenerator(config: differential.config, options: $0, seed: seed) }
        var pending = prelude[...]
        var ops: [Operation] = []
        ops.reserveCapacity(sequenceLength)
        var result = CampaignResult(operations: 0, sequences: 0, elapsed: .zero, findings: [], rulesExercised: RuleSet())
        var lastReport = start
        let limits = budget.limits(from: start)
        let limitOps = generator == nil ? prelude.count : limits.operations
        let layout = differential.config.layout

        // The sequences, in a scope of their own: the last implementation goes before shrinking makes new ones.
        do {
            var session: Session<Impl>
            if let first {
                session = Session(implementation: first, model: differential.model(), compareTrace: differential.compareTrace)
            } else {
                session = try differential.session()
            }
            var fresh = true
            /// The implementation could not make a fresh device inside a batch: the next sequence gets a new one.
            var needsNewImplementation = false
            func reportProgress() {
                guard let progress else { return }
                let now = clock.now
                if now - lastReport >= progressInterval {
                    lastReport = now
                    progress(CampaignProgress(operations: result.operations, sequences: result.sequences,
                                              findings: result.findings.count, rules: result.rulesExercised.bits.nonzeroBitCount, elapsed: now - start))
                }
            }
            /// Records a divergence of the current sequence (`ops` ends with its operation).
            func record(_ d: Divergence) {
                if let k = result.findings.firstIndex(where: { $0.divergence.map { $0.sameFinding(as: d) } ?? false }) {
                    result.findings[k].occurrences += 1
                } else {
                    result.findings.append(Finding(check: check, divergence: d, operations: ops, operationsBefore: result.operations,
                                                   layout: layout))
                }
            }
            run: while result.operations < limitOps {
                if Interruption.requested { result.interrupted = true; break }
                if generator != nil, let deadline = limits.deadline, clock.now >= deadline { break }
                if pending.isEmpty && generator == nil { break }
                if pending.isEmpty, skip == nil, stopAtFirstFinding, !needsNewImplementation, session.implementation.resetsInBatch {
                    // Several generated sequences as one batch, the implementation making its device
                    // fresh before each; the draw is redone up to where the judging stopped.
                    let (savedGenerator, before) = (generator, result.operations)
                    var starts: [Int] = []
                    ops.removeAll(keepingCapacity: true)
                    while result.operations < limitOps, starts.isEmpty || ops.count + sequenceLength <= freshBatchOperations {
                        starts.append(ops.count)
                        for _ in 0..<min(sequenceLength, limitOps - result.operations) { ops.append(generator!.next()) }
                        result.operations = before + ops.count
                    }
                    let freshBefore = fresh ? Array(starts.dropFirst()) : starts
                    if let r = session.runSequences(ops[...], starts: starts, freshBefore: freshBefore,
                                                    freshModel: { differential.model() }, rules: &result.rulesExercised) {
                        fresh = false
                        let judged = r.divergence.map { $0.index + 1 } ?? 0
                        let ran = (r.sequences < starts.count ? starts[r.sequences] : ops.count) + judged
                        result.sequences += r.sequences + (r.divergence == nil ? 0 : 1)
                        if r.sequences < starts.count {
                            generator = savedGenerator
                            for _ in 0..<ran { _ = generator!.next() }
                            result.operations = before + ran
                        }
                        if let d = r.divergence {
                            ops.removeSubrange(ran...)
                            ops.removeSubrange(..<starts[r.sequences])
                            if case .interrupted? = d.failure { result.interrupted = true; break run }  // not a finding
                            record(d)
                            break run
                        }
                        if r.sequences < starts.count { needsNewImplementation = true }  // no fresh device: a new implementation
                        reportProgress()
                        continue run
                    }
                    // An operation that grows the buffers: these sequences one at a time, drawn again.
                    generator = savedGenerator
                    result.operations = before
                    ops.removeAll(keepingCapacity: true)
                }
                if !fresh { session.restart(implementation: try differential.makeImplementation(), model: differential.model()) }
                fresh = false
                needsNewImplementation = false
                ops.removeAll(keepingCapacity: true)
                result.sequences += 1
                let fromPrelude = !pending.isEmpty
                let length = fromPrelude ? Int.max : min(sequenceLength, limitOps - result.operations)
                if skip == nil && stopAtFirstFinding {
                    // The whole sequence is drawn first and runs in batches of `batchSize`. After a
                    // divergence the draw is redone up to it, so the generator and the prelude stand
                    // where running one by one would have left them.
                    let before = result.operations
                    let (savedGenerator, savedPending) = (generator, pending)
                    while ops.count < length, result.operations < limitOps {
                        if fromPrelude {
                            guard let next = pending.popFirst() else { break }
                            ops.append(next)
                        } else {
                            ops.append(generator!.next())
                        }
                        result.operations += 1
                    }
                    var start = 0
                    var found: Divergence?
                    while start < ops.count, found == nil {
                        let end = min(ops.count, start + max(1, batchSize))
                        let r = session.run(ops[start..<end], firstIndex: start, rules: &result.rulesExercised)
                        found = r.divergence
                        start += r.compared
                    }
                    if let d = found {
                        let ran = d.index + 1
                        result.operations = before + ran
                        generator = savedGenerator
                        pending = savedPending
                        for _ in 0..<ran { if fromPrelude { _ = pending.popFirst() } else { _ = generator!.next() } }
                        ops.removeSubrange(ran...)
                        if case .interrupted? = d.failure { result.interrupted = true; break run }  // not a finding
                        record(d)
                        if stopAtFirstFinding { break run }
                    }
                } else {
                    var taken = 0
                    while taken < length, result.operations < limitOps {
                        let op: Operation
                        if fromPrelude {
                            guard let next = pending.popFirst() else { break }
                            op = next
                        } else {
                            op = generator!.next()
                        }
                        taken += 1
                        result.operations += 1
                        if let skip, skip(session.implementation, op) {
                            result.skipped += 1
                            continue
                        }
                        ops.append(op)
                        let r = session.run(ops[(ops.count - 1)...], firstIndex: ops.count - 1, rules: &result.rulesExercised)
                        guard let d = r.divergence else { continue }
                        if case .interrupted? = d.failure { result.interrupted = true; break run }  // not a finding
                        record(d)
                        if stopAtFirstFinding { break run }
                        break  // the model's view is no longer trustworthy: start afresh
                    }
                }
                reportProgress()
            }
        }
        // Shrinking stays inside the time box (plus a grace), and after a stop request gets only the grace.
        var shrinkDeadline = limits.deadline.map { $0 + shrinkGrace }
        if Interruption.requested { shrinkDeadline = min(shrinkDeadline ?? .now + shrinkGrace, clock.now + shrinkGrace) }
        for i in result.findings.indices {
            guard let d = result.findings[i].divergence else { continue }
            let checks = shrink.checks(for: d)
            guard checks > 0 else { continue }
            let s = Shrinker(differential: differential, maxChecks: checks, deadline: shrinkDeadline)
                .shrink(result.findings[i].original, divergence: d)
            result.findings[i].operations = s.operations
            result.findings[i].divergence = s.divergence
            result.findings[i].rule = s.divergence.failure == nil ? s.divergence.rule : nil
        }
        result.elapsed = clock.now - start
        return result
    }
}
