import ISMAccess
import ISMChecks
import ISMEngine

/// The machine-readable summary of a hardware run (`--report FILE`).
struct HardwareReport: Codable {
    struct Region: Codable {
        var index: UInt32
        var offset: String
        var size: String
        var flags: UInt32
    }
    struct Difference: Codable {
        var rule: String
        var aspect: String
        var occurrences: Int
        var first: Divergence
        var shrunk: [Operation]?
        var reproducer: String?
    }
    var verdict: String  // "conforming" or "non-conforming"
    var device: String
    var access: String
    var profile: String
    var regions: [Region]
    var allowWrite: [String]
    var seed: UInt64
    var operations: Int
    var sequences: Int
    var seconds: Double
    var operationsPerSecond: Double
    var refusedWrites: Int
    var bytesWritten: Int
    var writesJournaled: Int
    var rulesExercised: [String]
    var checksNotMade: [String]
    var differences: [Difference]
    /// The probes of `HardwareRun.probes` as the model predicted and the kernel answered them.
    var kernelAnswers: [HardwareProbeAnswer] = []
    /// A run through ismkit-agent: what the agent counted itself.
    struct Agent: Codable {
        var endpoint: String
        var byteOrder: String
        /// False with --unsafe-send-refused-writes: the host sent writes outside its list.
        var hostGuard: Bool
        /// Writes the agent's own --allow-write guard refused.
        var refusedWrites: Int
        /// Writes the agent journaled (its `JOURNAL` answer), and their bytes.
        var writesJournaled: Int
        var bytesWritten: Int
    }
    var agent: Agent?
}
