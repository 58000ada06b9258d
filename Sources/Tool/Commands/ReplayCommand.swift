import ArgumentParser
import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMModel

/// `ismkit replay FILE`: runs a reproducer again, deterministically, and says whether it
/// still diverges.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a reproducer file against its implementation and the model.",
        discussion: "Exit 1 when the divergence reproduces, 0 when it no longer does, 2 for a bad file."
    )

    @Argument(help: "A reproducer JSON file written by ismkit.")
    var file: String

    @Flag(help: "Print every operation with the model's and the implementation's result.")
    var verbose = false

    @Flag(help: "FILE is a raw libFuzzer input (automatic for crash-*, leak-*, timeout-*, oom-* files).")
    var artifact = false

    @Option(help: "For a raw fuzz input without a reproducer beside it: the simulator mutant it ran against.")
    var mutant: String?

    @Option(name: .customLong("byte-order"), help: "For a raw fuzz input: the host byte order it ran with.")
    var byteOrder: ByteOrderArgument = .native

    @Option(help: "For a raw diff-sim input: the device it ran on, ism or table (the ISM device with diff-sim's fixed region table; implied by a mutant that needs one).")
    var device: FuzzDeviceArgument = .ism

    @Flag(name: .customLong("expect-fixed"),
          help: "Regression check of a fix: exit 0 when the reproducer no longer shows its finding, 1 when it still does.")
    var expectFixed = false

    @Option(name: .customLong("driver-source"),
            help: "For a driver-source reproducer: replay on this main.c instead of the one it names (a fixed revision).")
    var driverSource: String?

    @OptionGroup var reports: ReportOptions

    func run() throws {
        reports.begin()
        let clock = ContinuousClock()
        let started = clock.now
        var repro: Reproducer
        let name = (file as NSString).lastPathComponent
        let isArtifact = artifact || ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"].contains { name.hasPrefix($0) }
        do {
            if isArtifact {
                let m = try Targets.mutant(named: mutant)
                repro = try Reproducer.load(path: file, orFuzzArtifactOf: MutantKillRun.kind(mutant: m).target,
                                            device: device.value.config(byteOrder: byteOrder.value, needsRegionTable: m?.needsRegionTable ?? false))
            } else {
                repro = try Reproducer.load(path: file)
            }
        } catch let e as ReproducerError {
            throw UsageError(e.description + (isArtifact ? "" : " (a raw libFuzzer input needs --artifact)"))
        }
        if let driverSource {
            guard case .driverSource? = try? ImplementationKind(repro.target, device: repro.device) else {
                throw UsageError("--driver-source replays a driver-source reproducer; \(file) names a \(repro.target.kind)")
            }
            guard FileManager.default.fileExists(atPath: driverSource) else { throw UsageError("\(driverSource): no such file") }
            repro.target.parameters["path"] = driverSource
        }
        if let point = repro.check {
            try replayCheck(repro, point: point, seconds: { (clock.now - started).seconds })
            return
        }
        if let pair = repro.pair {
            try replayPair(repro, pair: pair, seconds: { (clock.now - started).seconds })
            return
        }
        let diff = try Targets.differential(for: repro.target, device: repro.device)
        print("replaying \(file): \(repro.operations.count) operation(s) on \(repro.target), "
            + "\(repro.device.profile.rawValue) profile, \(repro.device.hostByteOrder.rawValue)-endian host")
        var session: Session<AnyISMAccess>
        do { session = try diff.session() } catch { throw UsageError("cannot start \(repro.target): \(error)") }
        // The same batch path as the run that found it: all operations handed over at once.
        var rules = RuleSet()
        let (compared, found) = session.run(repro.operations[...], firstIndex: 0, rules: &rules)
        for (i, op) in repro.operations.prefix(compared).enumerated() where verbose || i == found?.index {
            print("  \(i + 1). \(op.summary(in: repro.device.layout))\(i == found?.index ? "" : ": agrees")")
        }
        var findings: [Finding] = []
        if let d = found {
            print(d.description)
            if let recorded = repro.divergence, !recorded.sameFinding(as: d) {
                print("note: the file recorded a different finding: \(recorded.aspect.rawValue) [\(recorded.headline)]")
            }
            var f = Finding(check: "replay", divergence: d, operations: Array(repro.operations.prefix(d.index + 1)), layout: repro.device.layout)
            f.reproducer = file
            findings.append(f)
        } else {
            print("no divergence: the finding does not reproduce")
        }
        if expectFixed {
            // A different finding than the recorded one is not a fix either.
            print(findings.isEmpty ? "fixed: \(file) no longer reproduces" : "not fixed: \(file) still shows a finding")
        }
        var report = Report(command: "replay", title: "\(file) on \(repro.target)", seconds: (clock.now - started).seconds)
        report.suites = [Report.Suite(name: "replay \(name)", checks: [
            .init(name: "\(repro.operations.count) operation(s) agree with the model", findings: findings, seconds: report.seconds),
        ], artifact: repro.target.parameters["path"])]
        try conclude(report, reports)
    }

    /// A harness check reproducer: its one lifecycle-walk failure point or callback call, run alone.
    private func replayCheck(_ repro: Reproducer, point: HarnessCheckPoint, seconds: () -> Double) throws {
        print("replaying \(file): \(point) on \(repro.target)")
        let outcome: HarnessCheckReplay.Outcome
        do { outcome = try HarnessCheckReplay.run(repro, point: point) } catch { throw UsageError(error.description) }
        if let why = outcome.cutShort, outcome.findings.isEmpty { throw UsageError("cannot judge \(file): \(why)") }
        var findings = outcome.findings
        for i in findings.indices { findings[i].reproducer = file }
        for f in findings { print(f.description) }
        if findings.isEmpty {
            print("no finding: the \(point.mode.rawValue) point no longer fails")
        } else if outcome.recorded == nil {
            print("note: the file recorded \(point.finding); the point now shows \(findings.compactMap { $0.checkPoint?.finding }.joined(separator: ", "))")
        }
        if expectFixed {
            print(findings.isEmpty ? "fixed: \(file) no longer reproduces" : "not fixed: \(file) still shows a finding")
        }
        var report = Report(command: "replay", title: "\(file) on \(repro.target)", seconds: seconds())
        report.suites = [Report.Suite(name: "replay \((file as NSString).lastPathComponent)", checks: [
            .init(name: "\(point.mode.rawValue) point passes", findings: findings, seconds: report.seconds),
        ], artifact: repro.target.parameters["path"])]
        try conclude(report, reports)
    }

    /// A concurrency reproducer: its set-up operations, then its pair, judged for linearizability.
    private func replayPair(_ repro: Reproducer, pair: ConcurrentPair, seconds: () -> Double) throws {
        let layout = repro.device.layout
        print("replaying \(file): \(repro.operations.count) set-up operation(s), then \(pair.summary(in: layout)), on \(repro.target)")
        let result: Result<ConcurrencyCheck.Run?, AccessError>
        do { result = try ConcurrencyCheck.replay(repro, pair: pair) } catch { throw UsageError(error.description) }
        var finding: Finding?
        switch result {
        case .failure(let e):
            let failure: Breakage = if case .broken(let b) = e { b } else { .protocolError("\(e)") }
            if case .interrupted = failure { break }
            finding = Finding(check: "replay", divergence: nil, failure: failure, rule: nil, operations: repro.operations,
                              detail: "broke while running two operations at once: " + pair.summary(in: layout), layout: layout)
        case .success(nil):
            finding = Finding(check: "replay", divergence: nil, rule: nil, operations: repro.operations,
                              detail: "the set-up operations already diverge from the model", layout: layout)
        case .success(let run?):
            if verbose { print("  first: \(run.observation.first.result), second: \(run.observation.second.result), held: \(run.observation.held)") }
            if let order = run.judgement.order {
                print("explained: the outcome is that of the \(order == [0, 1] ? "first" : "second") operation running first; the finding does not reproduce")
            } else {
                finding = ConcurrencyCheck.finding(for: (repro.operations, pair), judgement: run.judgement, device: repro.device)
                finding?.check = "replay"
            }
        }
        if var f = finding {
            f.pair = pair
            f.reproducer = file
            print(f.description)
            finding = f
        }
        if expectFixed {
            print(finding == nil ? "fixed: \(file) no longer reproduces" : "not fixed: \(file) still shows a finding")
        }
        var report = Report(command: "replay", title: "\(file) on \(repro.target)", seconds: seconds())
        report.suites = [Report.Suite(name: "replay \((file as NSString).lastPathComponent)", checks: [
            .init(name: "two operations at once are linearizable", findings: finding.map { [$0] } ?? [], seconds: report.seconds),
        ], artifact: repro.target.parameters["path"])]
        try conclude(report, reports)
    }
}
