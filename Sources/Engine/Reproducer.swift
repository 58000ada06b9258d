import ISMAccess

/// A replayable finding: what was tested, on which device configuration, the (shrunk)
/// operation sequence, and the divergence it shows. Stored as versioned JSON
/// (docs/reproducer-format.md); `ismkit replay FILE` runs it again.
public struct Reproducer: Codable, Sendable, Hashable {
    public static let formatName = "ismkit-reproducer"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    /// What ran against the model: a kind (`simulator`, `driver-source`, `library`, `vfio`)
    /// and its parameters (`mutant`, `path`, `byte-order`, `device`, ...).
    public var target: Target
    public var device: DeviceConfig
    /// The campaign seed that found it, when there was one.
    public var seed: UInt64?
    public var operations: [Operation]
    /// The divergence seen when the reproducer was written.
    public var divergence: Divergence?
    /// A concurrency finding: the pair run after `operations` (which set the state up); replay
    /// runs it and judges it for linearizability. Absent for every other finding.
    public var pair: ConcurrentPair?
    /// A driver-harness check finding (the lifecycle walk, the callback contract): the check
    /// mode and the one point of it that showed the finding; replay runs that point alone.
    /// Absent for every other finding.
    public var check: HarnessCheckPoint?

    /// An implementation under test, named so a tool can make it again.
    public struct Target: Codable, Sendable, Hashable, CustomStringConvertible {
        public var kind: String
        public var parameters: [String: String]
        public init(kind: String, parameters: [String: String] = [:]) {
            self.kind = kind
            self.parameters = parameters
        }
        public var description: String {
            parameters.isEmpty ? kind : kind + " (" + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        }
    }

    public init(target: Target, device: DeviceConfig, seed: UInt64?, operations: [Operation], divergence: Divergence?, pair: ConcurrentPair? = nil,
                check: HarnessCheckPoint? = nil) {
        self.format = Reproducer.formatName
        self.version = Reproducer.currentVersion
        self.target = target
        self.device = device
        self.seed = seed
        self.operations = operations
        self.divergence = divergence
        self.pair = pair
        self.check = check
    }
}

/// Why a reproducer file could not be used.
public struct ReproducerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
