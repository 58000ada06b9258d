import ArgumentParser

/// `--shard I/N`: the I-th of N deterministic slices of a run (1 <= I <= N <= 1024).
struct Shard: Hashable, CustomStringConvertible {
    var index: Int  // 1-based
    var count: Int

    init(index: Int, count: Int) { self.index = index; self.count = count }

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), (1...1024).contains(n), (1...n).contains(i) else { return nil }
        index = i
        count = n
    }

    /// Whether unit `k` (0-based) belongs to this shard: units are dealt round-robin.
    func owns(_ k: Int) -> Bool { k % count == index - 1 }

    var description: String { "\(index)/\(count)" }
}

/// `--jobs N` and `--shard I/N` (run, conform, mutants), and the hidden options a worker process
/// is started with. A run is a list of deterministic units (docs/parallel.md); `--shard` keeps
/// the units the shard owns, `--jobs` deals them to N worker processes of this executable and
/// merges their results; what is printed and written is what one process running the same units
/// would print and write.
struct ParallelOptions: ParsableArguments {
    static let maxJobs = 64

    @Option(parsing: .unconditional,
            help: "Worker processes, 1...64: the run's units are dealt to N processes of ismkit and their results merged into one summary and one set of reports (1: this process).")
    var jobs: Int = 1

    @Option(name: .customLong("shard"), help: ArgumentHelp("Run only slice I of N (1 <= I <= N <= 1024; default: the whole run), for a CI matrix: the N shards together run exactly the units one run would; 'ismkit merge' combines their --json reports.", valueName: "i/n"))
    var shardArgument: String?

    var shard: Shard? { shardArgument.flatMap(Shard.init(argument:)) }

    @Option(name: .customLong("worker-units"), help: .hidden)
    var workerUnits: String?

    @Option(name: .customLong("worker-result"), help: .hidden)
    var workerResult: String?

    mutating func validate() throws {
        guard (1...Self.maxJobs).contains(jobs) else { throw ValidationError("--jobs must be a whole number in 1...\(Self.maxJobs)") }
        if let a = shardArgument, Shard(argument: a) == nil {
            throw ValidationError("--shard \(a): give I/N with whole numbers 1 <= I <= N <= 1024")
        }
        if (workerUnits == nil) != (workerResult == nil) { throw ValidationError("--worker-units and --worker-result go together") }
        if let w = workerUnits, w.split(separator: ",").contains(where: { Int($0) == nil }) {
            throw ValidationError("--worker-units: a comma-separated list of unit numbers")
        }
    }

    /// This process is a worker: it runs the units it was given and writes their results.
    var worker: (units: [Int], result: String)? {
        guard let workerUnits, let workerResult else { return nil }
        return (workerUnits.split(separator: ",").compactMap { Int($0) }, workerResult)
    }

    /// The units of a run of `count` units this process (or its workers) runs: a worker's list,
    /// or every unit the shard owns.
    func units(of count: Int) -> [Int] {
        if let worker { return worker.units.filter { $0 < count } }
        return (0..<count).filter { shard?.owns($0) ?? true }
    }

    /// A short note for the start line, or "" for a plain run.
    var note: String {
        var parts: [String] = []
        if let shard { parts.append("shard \(shard)") }
        if jobs > 1 { parts.append("\(jobs) jobs") }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: ", ")
    }
}

/// `--slice-operations N` (run, conform): how many operations one unit of an operation budget runs.
struct SliceOptions: ParsableArguments {
    @Option(name: .customLong("slice-operations"), parsing: .unconditional,
            help: ArgumentHelp("Operations per unit of an operation budget, 1...10^9 (default: the command's, in its help); every shard of a matrix must use the same.", valueName: "n"))
    var sliceOperations: Int?

    mutating func validate() throws {
        if let n = sliceOperations, !(1...1_000_000_000).contains(n) { throw ValidationError("--slice-operations must be a whole number in 1...1000000000") }
    }
}
