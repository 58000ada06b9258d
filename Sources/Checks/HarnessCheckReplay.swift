import ISMAccess
import ISMEngine
import ISMOutOfProcess

/// What a driver-harness check mode's output reads into (the lifecycle walk, the callback contract).
protocol HarnessCheckResult {
    init(_ run: HarnessCheckRun)
    /// Failure points walked or callback calls made.
    var calls: Int { get }
    /// One finding per broken pair or aspect, each with the point that first showed it.
    func findings(layout: OffsetLayout, check: String) -> [Finding]
    /// Why the check says nothing, when it made no call.
    func cutShort(timedOut: Bool, findings: [Finding]) -> String?
}

/// Runs a reproducer's harness check point again (one lifecycle-walk failure point, or one
/// callback-contract call) on the driver source it names, or on another `main.c`.
public enum HarnessCheckReplay {
    /// What the point shows now.
    public struct Outcome: Sendable {
        /// Every finding the point shows (each with its point).
        public var findings: [Finding]
        /// The recorded finding, if it is among them.
        public var recorded: Finding?
        /// Why the point could not be judged (the harness did not start, or ended without a word).
        public var cutShort: String?
    }

    /// Builds the harness for the reproducer's driver source (or `driverSource`) and byte order,
    /// and runs `point` alone on the reproducer's device.
    public static func run(_ repro: Reproducer, point: HarnessCheckPoint, driverSource: String? = nil,
                           timeout: Duration = .seconds(60)) throws(ImplementationKind.Unknown) -> Outcome {
        guard case let .driverSource(recordedPath, order) = try ImplementationKind(repro.target, device: repro.device) else {
            throw ImplementationKind.Unknown(description: "a \(point.mode.rawValue) reproducer replays on a driver source (target kind driver-source), not on \(repro.target.kind)")
        }
        let path = driverSource ?? recordedPath
        let bin: HarnessBinary
        do { bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little) } catch {
            throw ImplementationKind.Unknown(description: "\(path): \(error.description)")
        }
        let mode: HarnessCheckRun.Mode = point.mode == .lifecycleWalk ? .lifecycleWalk : .callbackContract
        guard let run = HarnessCheckRun.run(bin, mode: mode, device: repro.device, timeout: timeout, only: point.arguments) else {
            return Outcome(findings: [], recorded: nil, cutShort: "the harness could not be started")
        }
        let layout = repro.device.layout
        let result: any HarnessCheckResult = point.mode == .lifecycleWalk ? LifecycleWalkResult(run) : CallbackContractResult(run)
        let findings = result.findings(layout: layout, check: "replay")
        if run.status == 2 && findings.isEmpty {
            return Outcome(findings: [], recorded: nil, cutShort: "the harness refused the point's arguments \(point.arguments)")
        }
        return Outcome(findings: findings, recorded: findings.first { $0.checkPoint?.finding == point.finding },
                       cutShort: result.cutShort(timedOut: run.timedOut, findings: findings))
    }
}
