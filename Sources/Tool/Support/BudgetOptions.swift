import ArgumentParser
import ISMEngine

/// `--seconds N | --operations N` and `--seed S`, shared by every command that runs a campaign.
struct BudgetOptions: ParsableArguments {
    static let maxSeconds = 1_000_000.0
    static let maxOperations = 1_000_000_000_000

    @Option(name: .long, parsing: .unconditional,
            help: "Run for N seconds, 0 < N <= 1000000 (default when neither is given: the command's own, in its help).")
    var seconds: Double?

    @Option(name: .long, parsing: .unconditional, help: "Run N operations, 1 <= N <= 10^12.")
    var operations: Int?

    @Option(help: "Seed of the operation generator; the same seed gives the same run.")
    var seed: UInt64 = 1

    mutating func validate() throws {
        if seconds != nil && operations != nil { throw ValidationError("give --seconds or --operations, not both") }
        if let s = seconds, !(s > 0 && s <= Self.maxSeconds) {
            throw ValidationError("--seconds must be a number of seconds in (0, \(Int(Self.maxSeconds))]")
        }
        if let n = operations, !(1...Self.maxOperations).contains(n) {
            throw ValidationError("--operations must be a whole number in 1...\(Self.maxOperations)")
        }
    }

    func budget(defaultSeconds: Double) -> Budget {
        if let n = operations { return .operations(n) }
        return .seconds(seconds ?? defaultSeconds)
    }
}
