import ArgumentParser
import ISMEngine

/// `--seconds N | --operations N` and `--seed S`, shared by every command that runs a campaign.
struct BudgetOptions: ParsableArguments {
    @Option(name: .long, help: "Run for N seconds (default when neither is given: the command's default).")
    var seconds: Double?

    @Option(name: .long, help: "Run N operations.")
    var operations: Int?

    @Option(name: .long, help: "Seed of the operation generator; the same seed gives the same run.")
    var seed: UInt64 = 1

    mutating func validate() throws {
        if seconds != nil && operations != nil { throw ValidationError("give --seconds or --operations, not both") }
        if let s = seconds, !(s > 0 && s.isFinite) { throw ValidationError("--seconds must be a positive number") }
        if let n = operations, n <= 0 { throw ValidationError("--operations must be a positive whole number") }
    }

    func budget(defaultSeconds: Double) -> Budget {
        if let n = operations { return .operations(n) }
        return .seconds(seconds ?? defaultSeconds)
    }
}
