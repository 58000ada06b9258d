import ISMAccess
import ISMModel

/// Runs whole operation sequences on a fresh implementation and a fresh model and reports
/// the first divergence. It is what campaigns, the shrinker and `replay` share.
public struct Differential<Impl: ISMAccess> {
    public let config: DeviceConfig
    public let contents: GoldenModel.Contents
    public let compareTrace: Bool?
    /// Makes a fresh implementation for each sequence (a simulator, a harness process reset or
    /// started anew, a new device fd).
    public let makeImplementation: () throws(AccessError) -> Impl

    public init(
        config: DeviceConfig, contents: GoldenModel.Contents = .seeded, compareTrace: Bool? = nil,
        makeImplementation: @escaping () throws(AccessError) -> Impl
    ) {
        self.config = config
        self.contents = contents
        self.compareTrace = compareTrace
        self.makeImplementation = makeImplementation
    }

    /// A fresh session: a new implementation beside a new model.
    public func session() throws(AccessError) -> Session<Impl> {
        Session(implementation: try makeImplementation(), model: model(), compareTrace: compareTrace)
    }

    /// A fresh model for this configuration.
    public func model() -> GoldenModel { GoldenModel(config: config, contents: contents) }

    /// The first divergence of `ops` from a fresh start, or nil when they all agree. The
    /// implementation runs them as one batch (`Session.run`).
    public func check(_ ops: [Operation]) throws(AccessError) -> Divergence? {
        var s = try session()
        var rules = RuleSet()
        return s.run(ops[...], firstIndex: 0, rules: &rules).divergence
    }
}
