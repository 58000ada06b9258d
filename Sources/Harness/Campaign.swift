import ISMAccess
import ISMModel

/// Progress of a running campaign, for a progress line.
public struct CampaignProgress: Sendable {
    public var operations: Int
    public var sequences: Int
    public var elapsed: Duration
}

/// What a campaign found: how much it ran, and the first divergence (shrunk) if any.
public struct CampaignResult: Sendable {
    public var operations: Int
    public var sequences: Int
    public var elapsed: Duration
    /// Operations run up to and including the first diverging one.
    public var operationsToFirstDivergence: Int?
    public var original: [Operation]?
    public var shrunk: [Operation]?
    public var divergence: Divergence?
    /// Rules the model applied during the run, for coverage listings.
    public var rulesExercised: RuleSet

    public var operationsPerSecond: Double {
        let s = elapsed.seconds
        return s > 0 ? Double(operations) / s : 0
    }
}

/// A differential fuzzing campaign: generated sequences, each from a fresh start, run on an
/// implementation and on the model until the budget is spent or they diverge; a divergence
/// is shrunk before it is returned.
public struct Campaign<Impl: ISMAccess> {
    public var differential: Differential<Impl>
    public var options: GeneratorOptions
    public var seed: UInt64
    public var budget: Budget
    public var sequenceLength: Int
    public var shrink: Bool
    /// Upper bound on re-runs while shrinking (each re-run of a hanging implementation costs a time-out).
    public var shrinkChecks: Int = 20_000
    /// Called about every five seconds while the campaign runs.
    public var progress: ((CampaignProgress) -> Void)?

    public init(
        differential: Differential<Impl>, options: GeneratorOptions, seed: UInt64, budget: Budget,
        sequenceLength: Int = 32, shrink: Bool = true, progress: ((CampaignProgress) -> Void)? = nil
    ) {
        self.differential = differential
        self.options = options
        self.seed = seed
        self.budget = budget
        self.sequenceLength = sequenceLength
        self.shrink = shrink
        self.progress = progress
    }

    public func run() throws(AccessError) -> CampaignResult {
        let clock = ContinuousClock()
        let start = clock.now
        var generator = OperationGenerator(config: differential.config, options: options, seed: seed)
        var ops: [Operation] = []
        ops.reserveCapacity(sequenceLength)
        var total = 0
        var sequences = 0
        var rules = RuleSet()
        var lastReport = start
        let (limitOps, deadline) = budget.limits(from: start)

        var session = try differential.session()
        var fresh = true
        while total < limitOps {
            if let deadline, clock.now >= deadline { break }
            if !fresh { session.restart(implementation: try differential.makeImplementation(), model: differential.model()) }
            fresh = false
            ops.removeAll(keepingCapacity: true)
            sequences += 1
            let n = min(sequenceLength, limitOps - total)
            for i in 0..<n {
                let op = generator.next()
                ops.append(op)
                total += 1
                let d = session.step(op, index: i)
                rules.formUnion(session.model.lastDecision.cited)
                if let d {
                    var result = CampaignResult(operations: total, sequences: sequences, elapsed: clock.now - start,
                                                operationsToFirstDivergence: total, original: ops, shrunk: ops,
                                                divergence: d, rulesExercised: rules)
                    if shrink {
                        let s = Shrinker(differential: differential, maxChecks: shrinkChecks).shrink(ops, divergence: d)
                        result.shrunk = s.operations
                        result.divergence = s.divergence
                    }
                    result.elapsed = clock.now - start
                    return result
                }
            }
            if let progress, sequences & 255 == 0 {
                let now = clock.now
                if now - lastReport >= .seconds(5) {
                    lastReport = now
                    progress(CampaignProgress(operations: total, sequences: sequences, elapsed: now - start))
                }
            }
        }
        return CampaignResult(operations: total, sequences: sequences, elapsed: clock.now - start,
                              operationsToFirstDivergence: nil, original: nil, shrunk: nil, divergence: nil,
                              rulesExercised: rules)
    }
}
