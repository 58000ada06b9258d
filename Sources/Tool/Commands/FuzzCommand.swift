import ArgumentParser
import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMModel
import ISMSimulator

/// `ismkit fuzz TARGET`: builds a libFuzzer target (FuzzTargets/TARGET) with the fuzzer and
/// address sanitizers, runs it time-boxed on its corpus, optionally merges what it found into
/// the committed corpus, and turns every crash/divergence artifact into a reproducer file.
/// Also: `--write-seeds` (regenerate the committed seed corpus) and `--rule-coverage` (which
/// SPEC rules a corpus reaches, as the model cites them).
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a libFuzzer target (diff-sim, diff-driver, parse) time-boxed; list corpus rule coverage.",
        discussion: """
            Exit 1 when the run left a crash or divergence artifact (each gets a reproducer \
            <artifact>.json that `ismkit replay` runs), 0 when it found nothing, 2 for bad input. \
            Arguments after `--` go to libFuzzer unchanged. See docs/fuzzing.md.
            """
    )

    @Argument(help: "diff-sim, diff-driver or parse.")
    var target: String?

    @Option(help: "Time box in seconds (-max_total_time).")
    var seconds: Int = 60

    @Option(help: "diff-sim: the catalog mutant to run (default: the correct simulator).")
    var mutant: String?

    @Option(name: .customLong("byte-order"), help: "diff-sim: the simulated host byte order.")
    var byteOrder: ByteOrderArgument = .native

    @Option(help: "diff-sim: the device, ism (region i at i << 48) or table (the ISM device with region bases from a fixed table; a mutant that needs one always gets it).")
    var device: FuzzDeviceArgument = .ism

    @Option(help: "diff-driver: the driver main.c (default ../shared/kernel/merged/main.c).")
    var driver: String?

    @Option(help: "libFuzzer -jobs.") var jobs: Int?
    @Option(help: "libFuzzer -workers.") var workers: Int?
    @Option(help: "libFuzzer -fork.") var fork: Int?
    @Option(help: "libFuzzer -seed.") var seed: UInt64?
    @Option(name: .customLong("artifact-prefix"), help: "Where artifacts go (default out/fuzz/TARGET/artifacts/).")
    var artifactPrefix: String?
    @Flag(name: .customLong("print-final-stats"), help: "libFuzzer -print_final_stats=1.") var printFinalStats = false

    @Flag(help: "After the run, merge new inputs into Corpus/TARGET (-merge=1).")
    var merge = false

    @Flag(name: .customLong("no-build"), help: "Use the fuzz build already in .build-fuzz.")
    var noBuild = false

    @Flag(name: .customLong("write-seeds"), help: "Regenerate the committed seeds under Corpus/ and exit.")
    var writeSeeds = false

    @Flag(name: .customLong("rule-coverage"), help: "List the SPEC rules (sections 1-7) that Corpus/diff-sim reaches; exit 1 if one is missed.")
    var ruleCoverage = false

    @Flag(name: .customLong("list-mutants"), help: "Print each catalog mutant with the byte order to fuzz it on, and exit.")
    var listMutants = false

    @Option(help: "Corpus folder for --rule-coverage (default Corpus/diff-sim).")
    var corpus: String?

    @Argument(parsing: .postTerminator, help: "libFuzzer flags, passed through.")
    var libFuzzerFlags: [String] = []

    @OptionGroup var reports: ReportOptions

    static let targets = ["diff-sim", "diff-driver", "parse"]

    func run() throws {
        let root = Fuzz.packageRoot()
        if writeSeeds { return try FuzzCorpus.writeSeeds(root: root) }
        if listMutants {
            for m in Mutant.allCases {
                print(m.rawValue, (m.byteOrders.contains(.native) ? ByteOrder.native : m.byteOrders[0]).rawValue, m.rule.rawValue)
            }
            return
        }
        if ruleCoverage { return try FuzzCorpus.ruleCoverage(folder: corpus ?? root + "/Corpus/diff-sim") }
        guard let target, Fuzz.targets.contains(target) else {
            throw UsageError("name a fuzz target: \(Fuzz.targets.joined(separator: ", "))")
        }
        let m = try Targets.mutant(named: mutant)
        guard (1...1_000_000).contains(seconds) else { throw UsageError("--seconds must be a whole number in 1...1000000") }
        reports.begin()
        let clock = ContinuousClock()
        let runStart = clock.now

        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env["ISMKIT_BYTE_ORDER"] = byteOrder.value.rawValue
        if let m { env["ISMKIT_MUTANT"] = m.rawValue } else { env.removeValue(forKey: "ISMKIT_MUTANT") }
        env[FuzzDevice.environmentVariable] = device.value.rawValue
        let simDevice = device.value.config(byteOrder: byteOrder.value, needsRegionTable: m?.needsRegionTable ?? false)
        if target == "diff-driver" {
            let source = URL(fileURLWithPath: driver ?? root + "/../shared/kernel/merged/main.c").standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: source) else { throw UsageError("\(source): no such driver source") }
            env["ISMKIT_DRIVER_LIB"] = try FuzzBuild.driverLibrary(root: root, source: source)
            env["ISMKIT_DRIVER_SOURCE"] = source
        }
        let binary = noBuild ? FuzzBuild.binary(root: root, target: target) : try FuzzBuild.build(root: root, target: target)

        // One work folder per target and variant: out/fuzz/diff-sim-no-clamp, out/fuzz/diff-driver-v4, ...
        let variant = target == "diff-driver"
            ? "-" + (((env["ISMKIT_DRIVER_SOURCE"] ?? "") as NSString).deletingLastPathComponent as NSString).lastPathComponent
            : (m.map { "-" + $0.rawValue } ?? "") + (target == "diff-sim" && byteOrder.value != .native ? "-" + byteOrder.value.rawValue : "")
                + (target == "diff-sim" && device == .table && m?.needsRegionTable != true ? "-table" : "")
        let work = root + "/out/fuzz/" + target + variant
        let workCorpus = work + "/corpus"
        let artifacts = artifactPrefix ?? work + "/artifacts/"
        let committed = root + "/Corpus/" + target
        for d in [workCorpus, artifacts.hasSuffix("/") ? artifacts : (artifacts as NSString).deletingLastPathComponent] {
            try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        let started = Date().addingTimeInterval(-1)
        var args = [workCorpus]
        if FileManager.default.fileExists(atPath: committed) { args.append(committed) }
        args += ["-max_total_time=\(seconds)", "-artifact_prefix=\(artifacts)"]
        if FileManager.default.fileExists(atPath: root + "/Corpus/ism.dict"), target != "parse" { args.append("-dict=\(root)/Corpus/ism.dict") }
        if let jobs { args.append("-jobs=\(jobs)") }
        if let workers { args.append("-workers=\(workers)") }
        if let fork { args.append("-fork=\(fork)") }
        if let seed { args.append("-seed=\(seed)") }
        if printFinalStats { args.append("-print_final_stats=1") }
        args += libFuzzerFlags
        print("fuzz: \(target)\(m.map { " mutant \($0.rawValue)" } ?? "") \(byteOrder.value.rawValue)-endian\(target == "diff-sim" && simDevice.regionTable != nil ? ", region table (seed \(FuzzDevice.regionTableSeed))" : ""), \(seconds) s: \(binary) \(args.joined(separator: " "))")
        let status = FuzzBuild.run(binary, args, environment: env, directory: work)

        if merge {
            try? FileManager.default.createDirectory(atPath: committed, withIntermediateDirectories: true)
            let s = FuzzBuild.run(binary, ["-merge=1", committed, workCorpus], environment: env, directory: work)
            print("merge into \(committed): exit \(s)")
        }

        // Artifacts written during this run (libFuzzer rewrites a file it finds again).
        let new = FuzzArtifacts.list(artifacts).filter { a in
            let modified = (try? FileManager.default.attributesOfItem(atPath: a)[.modificationDate]) as? Date
            return (modified ?? .distantPast) >= started
        }
        let reproTarget = target == "diff-driver"
            ? ImplementationKind.driverSource(path: env["ISMKIT_DRIVER_SOURCE"] ?? "", byteOrder: .native).target
            : ImplementationKind.simulator(mutant: m, byteOrder: byteOrder.value).target
        var findings: [Finding] = []
        let artifactDevice = target == "diff-sim" ? simDevice : DeviceConfig.ism()
        for a in new {
            let path = FuzzArtifacts.reproducer(for: a, target: target == "parse" ? nil : reproTarget, device: artifactDevice)
            print("finding: \(a)" + (path.map { "\n  reproducer: \($0)  (ismkit replay \($0))" } ?? ""))
            let recorded = path.flatMap { try? Reproducer.load(path: $0) }
            var f = Finding(check: "libFuzzer \(target)", divergence: recorded?.divergence, rule: recorded?.divergence?.rule,
                            operations: recorded?.operations ?? [], detail: "artifact \(a)", layout: artifactDevice.layout)
            f.reproducer = path ?? a
            findings.append(f)
        }
        var report = Report(command: "fuzz", title: "\(target)\(m.map { " mutant \($0.rawValue)" } ?? ""), \(seconds) s",
                            seconds: (clock.now - runStart).seconds, interruptedBy: Interruption.requestedBy)
        report.suites = [Report.Suite(name: target, checks: [.init(name: "no finding in \(seconds) s of fuzzing", findings: findings)],
                                      artifact: env["ISMKIT_DRIVER_SOURCE"])]
        if !findings.isEmpty {
            FileHandle.standardError.write(Data("ismkit: \(findings.count) finding(s) in \(artifacts)\n".utf8))
        } else if status != 0 && report.interruptedBy == 0 {
            throw UsageError("the fuzzer exited with status \(status) and left no artifact")
        } else {
            print("fuzz: no finding")
        }
        try conclude(report, reports)
    }

    /// The package root: the current folder when it holds Package.swift, else `ISMKIT_ROOT`.
    static func packageRoot() -> String {
        let cwd = FileManager.default.currentDirectoryPath
        if FileManager.default.fileExists(atPath: cwd + "/Package.swift") { return cwd }
        return ProcessInfo.processInfo.environment["ISMKIT_ROOT"] ?? cwd
    }
}

/// Building and running the fuzz binaries.
enum FuzzBuild {
    /// diff-driver has its own scratch path: its Swift side (model, session) is built without
    /// compare tracing, so the two builds do not invalidate each other.
    static func scratch(_ target: String) -> String { target == "diff-driver" ? ".build-fuzz-driver" : ".build-fuzz" }

    static func binary(root: String, target: String) -> String { root + "/" + scratch(target) + "/release/" + target }

    /// `swift build` of the target with libFuzzer and ASan. `--sanitize` alone is not enough:
    /// the Swift driver keeps only the last `-sanitize=` it is given, so SwiftPM's
    /// `-sanitize=fuzzer -sanitize=address` compiles without coverage; the combined
    /// `-sanitize=fuzzer,address` (given last) instruments every module.
    /// For diff-driver the code under test is the C driver (instrumented in full by clang); its
    /// Swift side is the model and the comparison, where libFuzzer's compare tracing cost more than
    /// half the run time and guided nothing, so it gets edge counters only.
    static func build(root: String, target: String) throws(UsageError) -> String {
        let swift = ProcessInfo.processInfo.environment["SWIFT"] ?? "swift"
        var args = ["build", "-c", "release", "--scratch-path", scratch(target), "--product", target,
                    "--sanitize=fuzzer", "--sanitize=address", "-Xswiftc", "-sanitize=fuzzer,address", "-Xswiftc", "-DISMKIT_LIBFUZZER"]
        if target == "diff-driver" { args += ["-Xswiftc", "-sanitize-coverage=edge,inline-8bit-counters,pc-table"] }
        print("fuzz: building \(target) (\(swift) \(args.joined(separator: " ")))")
        let s = run(swift, args, environment: ProcessInfo.processInfo.environment, directory: root, quiet: true)
        guard s == 0 else { throw UsageError("the fuzz build of \(target) failed (exit \(s)); run the command above to see why") }
        return binary(root: root, target: target)
    }

    /// Compiles the driver-source harness (native/driver-harness) with `source` as a shared
    /// library instrumented for libFuzzer and ASan, for diff-driver to load in-process; wire.c is
    /// replaced by FuzzTargets/driver-lib/fuzz_hooks.c (a BROKEN report aborts, so libFuzzer keeps
    /// the input). Rebuilt on every run (under a second).
    static func driverLibrary(root: String, source: String) throws(UsageError) -> String {
        let h = root + "/native/driver-harness"
        let name = ((source as NSString).deletingLastPathComponent as NSString).lastPathComponent
        let dir = root + "/out/fuzz/driver-lib/" + name
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = dir + "/libismdriver.so"
        let cc = ProcessInfo.processInfo.environment["ISMKIT_FUZZ_CC"] ?? "clang"
        let args = ["-std=gnu11", "-O1", "-g", "-w", "-fno-strict-aliasing", "-fPIC", "-shared",
                    "-fsanitize=fuzzer-no-link,address", "-Dmain=ismkit_driver_harness_main",
                    "-I", root + "/include", "-I", h, "-I", h + "/include", "-I", h + "/include/ism",
                    source, h + "/kernel_stubs.c", h + "/driver_access.c", root + "/FuzzTargets/driver-lib/fuzz_hooks.c", "-o", out]
        let s = run(cc, args, environment: ProcessInfo.processInfo.environment, directory: root, quiet: true)
        guard s == 0 else { throw UsageError("\(source): the driver library does not build (\(cc) exit \(s))") }
        return out
    }

    /// Runs a program and waits; its exit status (128+signal when killed).
    @discardableResult
    static func run(_ program: String, _ args: [String], environment: [String: String], directory: String, quiet: Bool = false) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program.contains("/") ? program : "/usr/bin/env")
        p.arguments = program.contains("/") ? args : [program] + args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let log = quiet ? FileManager.default.temporaryDirectory.appendingPathComponent("ismkit-fuzz-\(getpid()).log") : nil
        if let log {
            FileManager.default.createFile(atPath: log.path, contents: nil)
            if let h = try? FileHandle(forWritingTo: log) { p.standardOutput = h; p.standardError = h }
        }
        do { try p.run() } catch { return 127 }
        // A stop request reaches the fuzzer too (libFuzzer ends on SIGINT and prints its stats).
        var forwarded = false
        while p.isRunning {
            if Interruption.requested && !forwarded { p.interrupt(); forwarded = true }
            usleep(20_000)
        }
        if let log, p.terminationStatus != 0, let text = try? String(contentsOf: log, encoding: .utf8) {
            let lines = text.split(separator: "\n").filter { $0.contains("error") }.prefix(5)
            for l in lines { FileHandle.standardError.write(Data((l + "\n").utf8)) }
        }
        if let log { try? FileManager.default.removeItem(at: log) }
        return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    }
}

/// libFuzzer's finding files and their conversion to reproducers.
enum FuzzArtifacts {
    static let prefixes = ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"]

    /// Finding files under an artifact prefix (a folder ending in `/`, or a file-name prefix).
    static func list(_ prefix: String) -> [String] {
        let dir = prefix.hasSuffix("/") ? String(prefix.dropLast()) : (prefix as NSString).deletingLastPathComponent
        let namePrefix = prefix.hasSuffix("/") ? "" : (prefix as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? []
        return names.filter { n in
            n.hasPrefix(namePrefix) && !n.hasSuffix(".json") && prefixes.contains { n.dropFirst(namePrefix.count).hasPrefix($0) }
        }.sorted().map { (dir.isEmpty ? "." : dir) + "/" + $0 }
    }

    /// The reproducer beside `artifact`: the one the target wrote (`<artifact>.json`), else one
    /// converted now from the raw input (nil for the parse target, whose inputs are no operations).
    static func reproducer(for artifact: String, target: Reproducer.Target?, device: DeviceConfig) -> String? {
        let json = artifact + ".json"
        if FileManager.default.fileExists(atPath: json) { return json }
        guard let target, let data = FileManager.default.contents(atPath: artifact) else { return nil }
        var r = Reproducer.fromFuzzInput([UInt8](data), target: target, device: device)
        if case .simulator? = try? Targets.kind(of: target, device: device), let diff = try? Targets.differential(for: target, device: device) {
            r.divergence = (try? diff.check(r.operations)) ?? nil
        }
        do throws(ReproducerError) { return try ReproducerStore.saveBeside(artifact: artifact, r) } catch { return nil }
    }
}
