import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        guard operations >= jobs * Run.sliceOperations else {
            throw ValidationError("--operations must be at least \(jobs * Run.sliceOperations): \(jobs) jobs need a slice of \(Run.sliceOperations) operations each")
        }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be a whole number in 1...100") }
        guard target > 0 else { throw ValidationError("--target must be positive") }
    }

    func run() throws {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let folder = NSTemporaryDirectory() + "ismkit-bench-jobs-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var best = [1: Measurement(rate: 0, cores: 0, perCPU: 0), jobs: Measurement(rate: 0, cores: 0, perCPU: 0)]
        for r in 0..<repeats {
            for j in [1, jobs] {
                let m = try measure(exe, jobs: j, output: folder)
                if m.rate > best[j]!.rate { best[j] = m }
                printError("  repeat \(r + 1): --jobs \(j): \(Int(m.rate)) ops/s, \(String(format: "%.2f", m.cores)) cores busy, \(Int(m.perCPU)) ops per CPU-second")
            }
        }
        let ratio = best[jobs]!.rate / best[1]!.rate
        print("operations per run:        \(operations) (seed \(seedOption.seed), best of \(repeats), \(ProcessInfo.processInfo.activeProcessorCount) processors)")
        for j in [1, jobs] {
            let m = best[j]!
            print("ismkit run --jobs \(j):       \(Int(m.rate)) ops/s (\(String(format: "%.2f", m.cores)) cores busy on average, \(Int(m.perCPU)) ops per CPU-second)")
        }
        print("ratio --jobs \(jobs) / --jobs 1: \(String(format: "%.2f", ratio))")
        print("target \(String(format: "%.2f", target))x: \(ratio >= target ? "met" : "not met")")
        if ratio < target { throw FindingExit(message: "--jobs \(jobs) reached \(String(format: "%.2f", ratio))x of --jobs 1, below \(target)x") }
    }

    /// One run: operations per wall-clock second, the processor time it got per wall-clock
    /// second (how many cores it kept busy: below --jobs on a machine others load too), and
    /// operations per processor-second (what it would do with every core to itself).
    struct Measurement {
        var rate: Double
        var cores: Double
        var perCPU: Double
    }

    static func childrenCPU() -> Double {
        var u = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// One whole `ismkit run` process, its workers included.
    func measure(_ exe: String, jobs j: Int, output: String) throws -> Measurement {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["run", "--operations", String(operations), "--seed", String(seedOption.seed), "--jobs", String(j), "--quiet",
                       "--output", output]
        p.standardOutput = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        let cpu0 = Self.childrenCPU()
        do { try p.run() } catch { throw UsageError("cannot start \(exe): \(error.localizedDescription)") }
        p.waitUntilExit()
        let seconds = (clock.now - start).seconds
        let cpu = Self.childrenCPU() - cpu0
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw UsageError("ismkit run --jobs \(j) ended with status \(p.terminationStatus): the benchmark needs a clean run")
        }
        return Measurement(rate: Double(operations) / seconds, cores: cpu / seconds, perCPU: cpu > 0 ? Double(operations) / cpu : 0)
    }
}
