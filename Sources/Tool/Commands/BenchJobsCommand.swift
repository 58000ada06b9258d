import ArgumentParser
import Foundation

/// `ismkit bench-jobs`: operations per second of `ismkit run --jobs 1` and `--jobs N` on the
/// same operation budget, measured in one run as whole processes (start-up, workers and merge
/// included), and their ratio (build with -c release).
struct BenchJobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-jobs",
        abstract: "Measure ops/s of 'ismkit run --jobs 1' against '--jobs N' on the same budget, one run, and print the ratio.",
        discussion: "Build with 'swift build -c release'. Each measurement is a whole 'ismkit run --operations N --quiet' process timed from start to exit; the runs alternate, and the best of --repeats is reported for each. Exit 1 when the ratio is below --target."
    )

    @Option(help: "Operations per run.")
    var operations: Int = 8_000_000

    @Option(help: "Worker processes of the parallel run, 2...64.")
    var jobs: Int = 2

    @Option(help: "Repetitions of each run; the best is reported.")
    var repeats: Int = 3

    @Option(help: "The speed-up --jobs N must reach over --jobs 1.")
    var target: Double = 1.7

    @OptionGroup var seedOption: SeedOptions

    mutating func validate() throws {
        guard (1...1_000_000_000_000).contains(operations) else { throw ValidationError("--operations must be a whole number in 1...10^12") }
        guard (2...ParallelOptions.maxJobs).contains(jobs) else { throw ValidationError("--jobs must be a whole number in 2...\(ParallelOptions.maxJobs)") }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be a whole number in 1...100") }
        guard target > 0 else { throw ValidationError("--target must be positive") }
    }

    func run() throws {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let folder = NSTemporaryDirectory() + "ismkit-bench-jobs-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var best = [1: 0.0, jobs: 0.0]
        for r in 0..<repeats {
            for j in [1, jobs] {
                let rate = try measure(exe, jobs: j, output: folder)
                best[j] = max(best[j]!, rate)
                printError("  repeat \(r + 1): --jobs \(j): \(Int(rate)) ops/s")
            }
        }
        let ratio = best[jobs]! / best[1]!
        print("operations per run:        \(operations) (seed \(seedOption.seed), best of \(repeats), \(ProcessInfo.processInfo.activeProcessorCount) processors)")
        print("ismkit run --jobs 1:       \(Int(best[1]!)) ops/s")
        print("ismkit run --jobs \(jobs):       \(Int(best[jobs]!)) ops/s")
        print("ratio --jobs \(jobs) / --jobs 1: \(String(format: "%.2f", ratio))")
        print("target \(String(format: "%.2f", target))x: \(ratio >= target ? "met" : "not met")")
        if ratio < target { throw FindingExit(message: "--jobs \(jobs) reached \(String(format: "%.2f", ratio))x of --jobs 1, below \(target)x") }
    }

    /// Operations per second of one whole `ismkit run` process.
    func measure(_ exe: String, jobs j: Int, output: String) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["run", "--operations", String(operations), "--seed", String(seedOption.seed), "--jobs", String(j), "--quiet",
                       "--output", output]
        p.standardOutput = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        do { try p.run() } catch { throw UsageError("cannot start \(exe): \(error.localizedDescription)") }
        p.waitUntilExit()
        let seconds = (clock.now - start).seconds
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw UsageError("ismkit run --jobs \(j) ended with status \(p.terminationStatus): the benchmark needs a clean run")
        }
        return Double(operations) / seconds
    }
}
