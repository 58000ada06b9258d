import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel
import ISMOutOfProcess

/// What `ismkit conform` checks: a driver source (built into the harness for one byte order)
/// or a library implementing include/ismkit_access.h (native byte order).
public enum ConformanceTarget: Sendable, Hashable {
    case driverSource(path: String)
    case library(path: String)

    /// The implementation kind for one byte order, as reproducers name it.
    public func kind(_ order: ByteOrder) -> ImplementationKind {
        switch self {
        case .driverSource(let p): .driverSource(path: p, byteOrder: order)
        case .library(let p): .library(path: p)
        }
    }

    var path: String {
        switch self {
        case .driverSource(let p), .library(let p): p
        }
    }
}

/// How long and how hard to look.
public struct ConformanceOptions: Sendable {
    public var budget: Budget
    public var seed: UInt64
    /// The time-out of every call into the implementation.
    public var timeout: Duration
    /// Where reproducers are written; nil writes none.
    public var reproducerDirectory: String?
    /// Upper bound on re-runs while shrinking a finding (a hang gets 8: each re-run costs a time-out).
    public var shrinkChecks: Int
    /// Whether to run the lifecycle checks after the differential campaign.
    public var lifecycle: Bool
    /// With `lifecycle`, for a driver source: fail every acquire of probe/init/open, the I/O,
    /// the peer's probe/remove and close/remove in turn, and check every acquire/release pair.
    public var lifecycleWalk = true
    /// With `lifecycle`, for a driver source: check what each read/write callback leaves behind
    /// that the fd view hides (its *ppos, the user buffer past the result, the user bytes read).
    public var callbackContract = true
    /// Operations per generated sequence; each sequence starts from a fresh device (the harness
    /// process is reset between sequences, or started anew when it broke).
    public var sequenceLength: Int
    /// When the whole run must end (a `--seconds` time box): the differential campaign stops in
    /// time for the lifecycle checks, and a check that would start after it is not made.
    public var deadline: ContinuousClock.Instant?
    /// Called about every `progressInterval` while the differential campaign runs.
    public var progress: (@Sendable (CampaignProgress) -> Void)?
    public var progressInterval: Duration = .seconds(5)
    /// Pairs the concurrency check generates (driver sources; 0: the check is not made).
    public var concurrencyPairs = 20
    /// Free-running runs of each concurrency pair on the little-endian harness (0: none); the
    /// big-endian one, slower under qemu, makes a quarter of them (at least one).
    public var concurrencyFreeRuns = 8
    /// The free-running runs per pair on `order`'s harness.
    public func freeRuns(_ order: ByteOrder) -> Int {
        order == .big && concurrencyFreeRuns > 0 ? max(1, concurrencyFreeRuns / 4) : concurrencyFreeRuns
    }
    /// Campaigns also on drawn device shapes, with shape edges in the generator (`campaignDevices`).
    public var deviceShapes = true
    /// Mid-operation faults (handle changes inside an operation, faults at any instruction).
    public var midOperationFaults = true
    /// Store-block rejections: device faults on writes (`GeneratorOptions.storeRejections`) and
    /// the drawn devices with strict store blocks (off, they are relaxed).
    public var storeRejections = true
    /// For a library: campaigns also on devices whose region bases come from a table
    /// (`regionTableDevices`) when it announces `ISMKIT_CAP_REGION_TABLE`; without the
    /// capability the check is reported as not made. Driver sources keep the shift layout.
    public var regionTables = true

    public init(budget: Budget = .operations(4000), seed: UInt64 = 1, timeout: Duration = .seconds(10),
                reproducerDirectory: String? = "reproducers", shrinkChecks: Int = 400, lifecycle: Bool = true,
                sequenceLength: Int = 32) {
        self.sequenceLength = sequenceLength
        self.budget = budget
        self.seed = seed
        self.timeout = timeout
        self.reproducerDirectory = reproducerDirectory
        self.shrinkChecks = shrinkChecks
        self.lifecycle = lifecycle
    }
}

/// One check of a conformance run: what it found, or why it was not made.
public struct ConformanceCheck: Sendable {
    public var name: String
    public var findings: [Finding]
    /// Why the check was not made (time box reached, a hang made it pointless, …), or nil.
    public var notMade: String?
    public var seconds: Double
}

/// The verdict for one byte order.
public struct ConformanceReport: Sendable {
    public var byteOrder: ByteOrder
    public var operations: Int
    public var seconds: Double
    public var findings: [Finding]
    /// Every check, made or not, in the order they ran.
    public var checks: [ConformanceCheck] = []
    /// The run stopped early at a stop request (SIGINT/SIGTERM).
    public var interrupted = false
    public var conforming: Bool { findings.isEmpty }
    /// The SPEC rules the findings are about.
    public var violatedRules: [Rule] { Array(Set(findings.compactMap(\.rule))).sorted() }
    /// What was found, one headline each (rule IDs and kinds of breakage), without repeats.
    public var headlines: [String] {
        var seen = Set<String>()
        return findings.map(\.headline).filter { seen.insert($0).inserted }
    }
    public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
}

/// Runs the differential engine against the golden model (traces compared), then the
/// lifecycle checks of SPEC §8 (two devices at once, device cycles, injected pool-creation and
/// allocation failures, and LeakSanitizer over them on the little-endian build), then, for a
/// driver source, the concurrency check (`ConcurrencyCheck`).
public enum Conformance {
    /// The device configurations the campaign alternates: today's ISM device, and a smaller
    /// one (maxstbl 2048, an odd-sized BAR, 256-byte config space) so the maxstbl check and
    /// the BAR-end clamp are reachable.
    public static func devices(_ order: ByteOrder) -> [DeviceConfig] {
        [DeviceConfig.ism(hostByteOrder: order),
         DeviceConfig(barLengths: [1 << 48, 4100, 0, 0, 8192, 0], configSize: 256, maxstbl: 2048,
                      hostByteOrder: order, contentSeed: 0x5EED_0F_15A, peerMaxstbl: 4096)]
    }

    /// Builds what is needed and runs every check for one byte order.
    public static func run(_ target: ConformanceTarget, byteOrder: ByteOrder, options: ConformanceOptions) throws(HarnessBuildError) -> ConformanceReport {
        let make: (DeviceConfig) throws(AccessError) -> WireAccess
        // The differential campaign's sequences share harness processes (RESET between them);
        // the lifecycle and leak checks always start fresh processes, since a driver's
        // file-scope globals survive a RESET and those checks are about probe/remove state.
        var makeReused: ((DeviceConfig) throws(AccessError) -> WireAccess)?
        var sanitized: ((DeviceConfig) throws(AccessError) -> WireAccess)?
        var harness: HarnessBinary?
        switch target {
        case .driverSource(let path):
            let variant: HarnessVariant = byteOrder == .big ? .big : .little
            let bin = try HarnessBuilder.build(driverSource: path, variant: variant)
            harness = bin
            make = { c throws(AccessError) in try WireAccess(harness: bin, config: c, timeout: options.timeout) }
            let pool = IdleProcessPool()
            makeReused = { c throws(AccessError) in try WireAccess(harness: bin, config: c, timeout: options.timeout, reuse: pool) }
            if byteOrder == .little && options.lifecycle {
                let asan = try HarnessBuilder.build(driverSource: path, variant: .littleSanitized)
                sanitized = { c throws(AccessError) in try WireAccess(harness: asan, config: c, timeout: options.timeout) }
            }
        case .library(let path):
            guard byteOrder == ByteOrder.native else {
                throw .toolMissing("a library runs in this machine's byte order (\(ByteOrder.native.rawValue)) only")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw .io("\(path): no such file") }
            let host = try HarnessBuilder.buildLibraryHost()
            make = { c throws(AccessError) in try WireAccess(libraryHost: host, library: path, config: c, timeout: options.timeout) }
        }
        var runner = Runner(target: target, byteOrder: byteOrder, options: options)
        let clock = ContinuousClock()
        let start = clock.now
        runner.differential(makeReused ?? make)
        // A hanging implementation would cost a time-out per lifecycle step: its finding stands alone.
        if options.lifecycle {
            runner.lifecycle(make)
            if let sanitized { runner.leakCheck(sanitized) }
            if let harness, options.lifecycleWalk { runner.lifecycleWalk(harness) }
            if let harness, options.callbackContract { runner.callbackContract(harness) }
        }
        if options.concurrencyPairs > 0, case .driverSource = target { runner.concurrency(makeReused ?? make) }
        return ConformanceReport(byteOrder: byteOrder, operations: runner.operations,
                                 seconds: (clock.now - start).seconds, findings: runner.findings, checks: runner.checks,
                                 interrupted: Interruption.requested)
    }

    /// A named fixed sequence of SPEC §8, the rule it checks, and the device it runs on.
    public struct LifecycleCheck: Sendable {
        public var name: String
        public var rule: Rule
        public var operations: [Operation]
    }

    /// The lifecycle checks. Expected outcomes come from the golden model, not from here.
    public static func lifecycleChecks(maxstbl: Int) -> [LifecycleCheck] {
        let page: UInt64 = 4096
        let twoDevices: [Operation] = [
            .checkResources, .attachPeer(failPool: false), .checkResources,
            .pwrite(offset: 0, count: maxstbl, pattern: 7, fault: .none),
            .pread(offset: 0, count: 64, fault: .none),
            .attachPeer(failPool: false),
            .pwrite(offset: page, count: 24, pattern: 9, fault: .none),
            .detachPeer, .checkResources,
            .pwrite(offset: 2 * page, count: maxstbl, pattern: 11, fault: .none),
            .pread(offset: 2 * page, count: 32, fault: .none),
            .detachPeer, .checkResources,
        ]
        let cycles: [Operation] = [
            .attachPeer(failPool: false), .detachPeer, .attachPeer(failPool: false), .detachPeer,
            .attachPeer(failPool: false), .checkResources, .detachPeer, .checkResources,
            .pwrite(offset: 3 * page, count: 100, pattern: 3, fault: .none), .checkResources,
        ]
        let poolFailure: [Operation] = [
            .attachPeer(failPool: true), .checkResources,
            .pwrite(offset: 0, count: 16, pattern: 5, fault: .none),
            .attachPeer(failPool: true), .attachPeer(failPool: false), .checkResources,
            .detachPeer, .checkResources,
        ]
        let allocationFailures: [Operation] = [
            .pwrite(offset: 0, count: 16, pattern: 1, fault: .allocation),
            .pwrite(offset: 0, count: 16, pattern: 2, fault: .none),
            .write(count: 8, pattern: 3, fault: .allocation), .write(count: 8, pattern: 4, fault: .none),
            .checkResources,
        ]
        return [
            LifecycleCheck(name: "two devices at once, each with its own pool", rule: .life1, operations: twoDevices),
            LifecycleCheck(name: "device cycles (attach/detach three times)", rule: .life1, operations: cycles),
            LifecycleCheck(name: "injected pool-creation failure", rule: .life2, operations: poolFailure),
            LifecycleCheck(name: "injected allocation failures", rule: .life2, operations: allocationFailures),
        ]
    }

    /// Operations for the LeakSanitizer run: lifecycle paths only (no writes), so a driver
    /// that breaks on a write still reaches a clean exit where leaks are counted.
    public static let leakCheckOperations: [Operation] = [
        .attachPeer(failPool: true), .attachPeer(failPool: false), .detachPeer,
        .attachPeer(failPool: true), .attachPeer(failPool: false), .detachPeer,
        .pwrite(offset: 0, count: 16, pattern: 1, fault: .allocation),
        .pread(offset: 8, count: 16, fault: .none),
    ]

    struct Runner {
        let target: ConformanceTarget
        let byteOrder: ByteOrder
        let options: ConformanceOptions
        var findings: [Finding] = []
        var checks: [ConformanceCheck] = []
        var operations = 0
        var hung = false
        /// Why the check now running could not finish (the time box ended while the implementation
        /// had not answered), or nil.
        var cutShort: String?

        /// Time the lifecycle and leak checks keep for themselves inside a time box.
        static let lifecycleReserve: Duration = .milliseconds(800)

        /// Why a check cannot start now (a stop request, the time box, a hang), or nil.
        func reasonNotToStart(needsLive: Bool = false) -> String? {
            if Interruption.requested { return "the run was asked to stop" }
            if let d = options.deadline, ContinuousClock.now >= d { return "the --seconds time box was reached" }
            if needsLive && hung { return "the implementation hangs: each step would cost a time-out" }
            return nil
        }

        /// Runs one named check and records what it found (or why it was not made).
        mutating func check(_ name: String, needsLive: Bool = false, _ body: (inout Runner) -> Void) {
            if let why = reasonNotToStart(needsLive: needsLive) {
                checks.append(ConformanceCheck(name: name, findings: [], notMade: why, seconds: 0))
                return
            }
            let before = findings.count
            let clock = ContinuousClock()
            let t0 = clock.now
            cutShort = nil
            body(&self)
            let found = Array(findings[before...])
            checks.append(ConformanceCheck(name: name, findings: found, notMade: found.isEmpty ? cutShort : nil, seconds: (clock.now - t0).seconds))
        }

        mutating func differential(_ make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess) {
            var devices = Conformance.campaignDevices(byteOrder, seed: options.seed, shapes: options.deviceShapes)
            let capabilities = try? make(devices[0]).capabilities
            // A library that takes region bases from a table also runs on table devices; one
            // that does not announce it gets that check reported as not made.
            var tableNotMade: String?
            let plainCount = devices.count
            if case .library = target, options.regionTables, let capabilities {
                if capabilities.regionTable {
                    devices += Conformance.regionTableDevices(byteOrder, seed: options.seed)
                } else {
                    tableNotMade = "the library does not announce ISMKIT_CAP_REGION_TABLE: region bases from a table are not checked"
                }
            }
            devices = devices.map { d in var d = d; if !options.storeRejections { d.storeBlocks = .relaxed }; return d }
            var stop = false
            for (i, device) in devices.enumerated() {
                let name = i < plainCount ? "differential (device \(i + 1))" : Conformance.regionTableCheck + " (device \(i + 1 - plainCount))"
                if stop {
                    checks.append(ConformanceCheck(name: name, findings: [], notMade: "an earlier device already diverged", seconds: 0))
                    continue
                }
                let budget: Budget
                switch options.budget {
                case .operations(let n): budget = .operations(max(1, n / devices.count))
                case .seconds(let s):
                    var share = s / Double(devices.count)
                    if let d = options.deadline {  // what is left of the box, less the lifecycle checks' reserve
                        let left = (d - ContinuousClock.now - (options.lifecycle ? Self.lifecycleReserve : .zero)).seconds
                        share = max(0.05, left / Double(devices.count - i))
                    }
                    budget = .seconds(share)
                }
                check(name) { r in r.campaign(device: device, index: i, name: name, budget: budget, capabilities: capabilities, make: make, stop: &stop) }
            }
            if let tableNotMade { checks.append(ConformanceCheck(name: Conformance.regionTableCheck, findings: [], notMade: tableNotMade, seconds: 0)) }
        }

        mutating func campaign(device: DeviceConfig, index i: Int, name: String, budget: Budget, capabilities: Capabilities?,
                               make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess, stop: inout Bool) {
            do {
                let diff = Differential(config: device, compareTrace: true) { () throws(AccessError) in try make(device) }
                var campaign = Campaign(differential: diff, options: Conformance.generatorOptions(capabilities, options), seed: options.seed &+ UInt64(i),
                                        budget: budget, sequenceLength: options.sequenceLength)
                campaign.shrink = .init(checks: options.shrinkChecks)
                campaign.check = name
                campaign.progress = options.progress
                campaign.progressInterval = options.progressInterval
                let result: CampaignResult
                do { result = try campaign.run() } catch {
                    record(Self.startFailure(error, check: "device initialisation", operations: [], layout: device.layout), device: device)
                    stop = true
                    return
                }
                operations += result.operations
                if result.interrupted && !Interruption.requested {
                    cutShort = "the implementation did not answer before the --seconds time box ended (it may hang: a longer --seconds, or a --timeout below it, shows whether it does)"
                }
                guard var f = result.findings.first else { return }
                if case .hang = f.divergence?.failure { hung = true }
                f.detail = "diverges from the model after \(f.operationsBefore ?? result.operations) operations"
                record(f, device: device)
                stop = true
            }
        }

        /// A finding for an implementation that could not be started or driven: a breakage
        /// names itself; an errno from the device set-up is a lifecycle finding (R-LIFE-1).
        static func startFailure(_ error: AccessError, check: String, operations: [Operation], layout: OffsetLayout) -> Finding {
            switch error {
            case .broken(let b):
                return Finding(check: check, divergence: nil, failure: b, rule: nil, operations: operations,
                               detail: "the implementation could not be started", layout: layout)
            case .errno:
                return Finding(check: check, divergence: nil, rule: .life1, operations: operations,
                               detail: "the implementation could not be started: \(error)", layout: layout)
            }
        }

        mutating func lifecycle(_ make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess) {
            let device = Conformance.devices(byteOrder)[0]
            let diff = Differential(config: device, compareTrace: true) { () throws(AccessError) in try make(device) }
            for c in Conformance.lifecycleChecks(maxstbl: Int(device.maxstbl)) {
                self.check(c.name, needsLive: true) { r in r.lifecycleCheck(c, diff: diff, device: device) }
            }
        }

        mutating func lifecycleCheck(_ check: LifecycleCheck, diff: Differential<WireAccess>, device: DeviceConfig) {
            do {
                operations += check.operations.count
                let d: Divergence?
                do { d = try diff.check(check.operations) } catch {
                    record(Self.startFailure(error, check: check.name, operations: check.operations, layout: device.layout), device: device)
                    return
                }
                guard let d else { return }
                if case .interrupted? = d.failure { return }  // a stop request, not a finding
                let ops = Array(check.operations.prefix(d.index + 1))
                // Lifecycle-caused only if the same finding needs the lifecycle operations:
                // without them (attach, detach) it must not show up.
                let plain = ops.filter { if case .attachPeer = $0 { false } else if case .detachPeer = $0 { false } else { true } }
                var rule = check.rule
                var detail = "operation \(d.index + 1) differs from the model"
                var lifecycleCaused = plain.count < ops.count
                if case .checkResources = d.operation { lifecycleCaused = true }
                if !lifecycleCaused {
                    rule = d.rule
                } else if plain.count < ops.count, let again = try? diff.check(plain), again.sameFinding(as: d) {
                    rule = d.rule
                    detail += " (also without the lifecycle operations: not lifecycle-caused)"
                }
                record(Finding(check: check.name, divergence: d, rule: d.failure == nil ? rule : nil, operations: ops,
                               detail: detail, layout: device.layout), device: device)
            }
        }

        /// Runs the leak-check operations on the sanitized build and ends the process in order:
        /// a LeakSanitizer report at exit is an R-LIFE-2 finding.
        mutating func leakCheck(_ make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess) {
            check("LeakSanitizer over lifecycle paths", needsLive: true) { r in r.leakCheckRun(make) }
        }

        mutating func leakCheckRun(_ make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess) {
            let device = Conformance.devices(byteOrder)[0]
            let ops = Conformance.leakCheckOperations
            let name = "LeakSanitizer over lifecycle paths"
            operations += ops.count
            var access: WireAccess
            do { access = try make(device) } catch {
                record(Self.startFailure(error, check: name, operations: ops, layout: device.layout), device: device)
                return
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            for op in ops {
                switch op {
                case .attachPeer(let f): _ = try? access.attachPeer(failPool: f)
                case .detachPeer: _ = try? access.detachPeer()
                case let .pwrite(o, c, _, f): _ = try? access.pwrite(from: UnsafeRawBufferPointer(rebasing: buffer[0..<c]), offset: o, fault: f)
                case let .pread(o, c, f): _ = try? access.pread(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<c]), offset: o, fault: f)
                default: break
                }
            }
            do { try access.finish() } catch {
                let failure: Breakage? = if case .broken(let b) = error { b } else { nil }
                if case .interrupted? = failure { return }  // stopped, not a finding
                record(Finding(check: name, divergence: nil, failure: failure, rule: .life2, operations: ops,
                               detail: "\(error)", layout: device.layout), device: device)
            }
        }

        static let walkCheck = "lifecycle error paths (each acquire failed in turn)"

        /// A check run's time-out: `factor` call time-outs, cut to what is left of a --seconds box.
        func checkTimeout(_ factor: Int) -> Duration {
            let t = options.timeout * factor
            guard let d = options.deadline else { return t }
            return max(.milliseconds(200), min(t, d - ContinuousClock.now))
        }
        static let contractCheck = "driver callback contract (what the fd view hides)"

        /// R-LIFE-2 over every failure point: the harness fails each acquire in turn
        /// (native/driver-harness/lifecycle_walk.c); each broken pair is one finding.
        mutating func lifecycleWalk(_ bin: HarnessBinary) {
            harnessCheck(bin, name: Self.walkCheck, mode: .lifecycleWalk, timeoutFactor: 6, as: LifecycleWalkResult.self)
        }

        /// The driver's read/write callback contract, checked inside the harness
        /// (native/driver-harness/callback_contract.c); one finding per broken aspect.
        mutating func callbackContract(_ bin: HarnessBinary) {
            harnessCheck(bin, name: Self.contractCheck, mode: .callbackContract, timeoutFactor: 3, as: CallbackContractResult.self)
        }

        /// One harness check mode on the first conformance device: its findings (each with the
        /// point that showed it, for its reproducer), and why it was cut short when it made no call.
        private mutating func harnessCheck<R: HarnessCheckResult>(_ bin: HarnessBinary, name: String, mode: HarnessCheckRun.Mode,
                                                                 timeoutFactor: Int, as _: R.Type) {
            check(name, needsLive: true) { r in
                let device = Conformance.devices(r.byteOrder)[0]
                guard let run = HarnessCheckRun.run(bin, mode: mode, device: device, timeout: r.checkTimeout(timeoutFactor)) else {
                    r.cutShort = "the harness could not be started"
                    return
                }
                let result = R(run)
                r.operations += result.calls
                let findings = result.findings(layout: device.layout, check: name)
                for f in findings { r.record(f, device: device) }
                if let why = result.cutShort(timedOut: run.timedOut, findings: findings) { r.cutShort = why }
            }
        }

        mutating func record(_ f: Finding, device: DeviceConfig) {
            var f = f
            if let dir = options.reproducerDirectory, !f.operations.isEmpty || f.pair != nil || f.checkPoint != nil {
                let kind = target.kind(byteOrder)
                let r = Reproducer(target: kind.target, device: device, seed: options.seed, operations: f.operations, divergence: f.divergence,
                                   pair: f.pair, check: f.checkPoint)
                let store = ReproducerStore(directory: dir)
                f.reproducer = try? store.save(r, stem: kind.fileStem, finding: f.slug,
                                               discriminator: ReproducerStore.discriminator(seed: options.seed, distinguishing: target.path + f.check
                                                   + (f.checkPoint.map { "|" + $0.description } ?? "")))
            }
            findings.append(f)
        }
    }
}
