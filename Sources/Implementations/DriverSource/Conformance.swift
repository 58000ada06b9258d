import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMHarness
import ISMModel

/// What `ismkit conform` checks: a driver source (built into the harness for one byte order)
/// or a library implementing include/ismkit_access.h (native byte order).
public enum ConformanceTarget: Sendable, Hashable {
    case driverSource(path: String)
    case library(path: String)

    var reproducerTarget: (kind: String, path: String) {
        switch self {
        case .driverSource(let p): ("driver-source", p)
        case .library(let p): ("library", p)
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
    /// Upper bound on re-runs while shrinking (a hang costs a time-out per re-run, so those get fewer).
    public var shrinkChecks: Int
    /// Whether to run the lifecycle checks after the differential campaign.
    public var lifecycle: Bool
    /// Operations per generated sequence; each sequence runs in a fresh process.
    public var sequenceLength: Int

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

/// One violated rule: which check saw it, the divergence from the model (when there is one),
/// and the reproducer written for it.
public struct ConformanceFinding: Sendable, Hashable, CustomStringConvertible {
    public var rule: Rule
    public var check: String
    public var divergence: Divergence?
    public var operations: [Operation]
    public var detail: String
    public var reproducer: String?

    public var description: String {
        var s = "[\(rule.rawValue)] \(check): \(detail)"
        if let divergence { s += "\n" + divergence.description.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
        if !operations.isEmpty {
            s += "\n    operations (\(operations.count)): " + operations.prefix(8).map(\.summary).joined(separator: "; ")
            if operations.count > 8 { s += "; …" }
        }
        if let reproducer { s += "\n    reproducer: \(reproducer)" }
        return s
    }
}

/// The verdict for one byte order.
public struct ConformanceReport: Sendable {
    public var byteOrder: ByteOrder
    public var operations: Int
    public var seconds: Double
    public var findings: [ConformanceFinding]
    public var conforming: Bool { findings.isEmpty }
    public var violatedRules: [Rule] { Array(Set(findings.map { $0.rule })).sorted() }
    public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
}

/// Runs the differential engine against the golden model (traces compared), then the
/// lifecycle checks of SPEC §8 (two devices at once, device cycles, injected pool-creation and
/// allocation failures, and LeakSanitizer over them on the little-endian build).
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
        let make: (DeviceConfig) throws(AccessError) -> DriverSourceAccess
        // The differential campaign's sequences share harness processes (RESET between them);
        // the lifecycle and leak checks always start fresh processes, since a driver's
        // file-scope globals survive a RESET and those checks are about probe/remove state.
        var makeReused: ((DeviceConfig) throws(AccessError) -> DriverSourceAccess)?
        var sanitized: ((DeviceConfig) throws(AccessError) -> DriverSourceAccess)?
        switch target {
        case .driverSource(let path):
            let variant: HarnessVariant = byteOrder == .big ? .big : .little
            let bin = try HarnessBuilder.build(driverSource: path, variant: variant)
            make = { c throws(AccessError) in try DriverSourceAccess(harness: bin, config: c, timeout: options.timeout) }
            let pool = ProcessReuse()
            makeReused = { c throws(AccessError) in try DriverSourceAccess(harness: bin, config: c, timeout: options.timeout, reuse: pool) }
            if byteOrder == .little && options.lifecycle {
                let asan = try HarnessBuilder.build(driverSource: path, variant: .littleSanitized)
                sanitized = { c throws(AccessError) in try DriverSourceAccess(harness: asan, config: c, timeout: options.timeout) }
            }
        case .library(let path):
            guard byteOrder == ByteOrder.native else {
                throw .toolMissing("a library runs in this machine's byte order (\(ByteOrder.native.rawValue)) only")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw .io("\(path): no such file") }
            let host = try HarnessBuilder.buildLibraryHost()
            make = { c throws(AccessError) in try DriverSourceAccess(libraryHost: host, library: path, config: c, timeout: options.timeout) }
        }
        var runner = Runner(target: target, byteOrder: byteOrder, options: options)
        let clock = ContinuousClock()
        let start = clock.now
        runner.differential(makeReused ?? make)
        // A hanging implementation would cost a time-out per lifecycle step: its finding stands alone.
        if options.lifecycle && !runner.hung {
            runner.lifecycle(make)
            if let sanitized { runner.leakCheck(sanitized) }
        }
        return ConformanceReport(byteOrder: byteOrder, operations: runner.operations,
                                 seconds: (clock.now - start).seconds, findings: runner.findings)
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
        var findings: [ConformanceFinding] = []
        var operations = 0
        var hung = false

        mutating func differential(_ make: @escaping (DeviceConfig) throws(AccessError) -> DriverSourceAccess) {
            let devices = Conformance.devices(byteOrder)
            for (i, device) in devices.enumerated() {
                let budget: Budget
                switch options.budget {
                case .operations(let n): budget = .operations(max(1, n / devices.count))
                case .seconds(let s): budget = .seconds(s / Double(devices.count))
                }
                let diff = Differential(config: device, compareTrace: true) { () throws(AccessError) in try make(device) }
                let campaign = Campaign(differential: diff, options: GeneratorOptions(), seed: options.seed &+ UInt64(i),
                                        budget: budget, sequenceLength: options.sequenceLength, shrink: false)
                let result: CampaignResult
                do { result = try campaign.run() } catch {
                    findings.append(ConformanceFinding(rule: .life1, check: "device initialisation", divergence: nil, operations: [],
                                                       detail: "the implementation could not be started: \(error)", reproducer: nil))
                    return
                }
                operations += result.operations
                guard let d = result.divergence, let original = result.original else { continue }
                // A hang costs a time-out per re-run: shrink those only a little.
                let hang = d.actual.contains("hang:")
                hung = hang
                let s = Shrinker(differential: diff, maxChecks: hang ? 8 : options.shrinkChecks).shrink(original, divergence: d)
                let detail = "diverges from the model after \(result.operations) operations"
                record(ConformanceFinding(rule: s.divergence.rule, check: "differential (device \(i + 1))", divergence: s.divergence,
                                          operations: s.operations, detail: detail, reproducer: nil), device: device)
                return
            }
        }

        mutating func lifecycle(_ make: @escaping (DeviceConfig) throws(AccessError) -> DriverSourceAccess) {
            let device = Conformance.devices(byteOrder)[0]
            let diff = Differential(config: device, compareTrace: true) { () throws(AccessError) in try make(device) }
            for check in Conformance.lifecycleChecks(maxstbl: Int(device.maxstbl)) {
                operations += check.operations.count
                let d: Divergence?
                do { d = try diff.check(check.operations) } catch {
                    record(ConformanceFinding(rule: check.rule, check: check.name, divergence: nil, operations: check.operations,
                                              detail: "could not start: \(error)", reproducer: nil), device: device)
                    continue
                }
                if let d {
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
                    record(ConformanceFinding(rule: rule, check: check.name, divergence: d, operations: ops,
                                              detail: detail, reproducer: nil), device: device)
                }
            }
        }

        /// Runs the leak-check operations on the sanitized build and ends the process in order:
        /// a LeakSanitizer report at exit is an R-LIFE-2 finding.
        mutating func leakCheck(_ make: @escaping (DeviceConfig) throws(AccessError) -> DriverSourceAccess) {
            let device = Conformance.devices(byteOrder)[0]
            let ops = Conformance.leakCheckOperations
            operations += ops.count
            var access: DriverSourceAccess
            do { access = try make(device) } catch {
                record(ConformanceFinding(rule: .life2, check: "LeakSanitizer over lifecycle paths", divergence: nil, operations: ops,
                                          detail: "sanitized build could not start: \(error)", reproducer: nil), device: device)
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
                record(ConformanceFinding(rule: .life2, check: "LeakSanitizer over lifecycle paths", divergence: nil, operations: ops,
                                          detail: "\(error)", reproducer: nil), device: device)
            }
        }

        private mutating func record(_ f: ConformanceFinding, device: DeviceConfig) {
            var f = f
            if let dir = options.reproducerDirectory, !f.operations.isEmpty {
                let t = target.reproducerTarget
                let absolute = URL(fileURLWithPath: t.path).standardizedFileURL.path
                let r = Reproducer(target: .init(kind: t.kind, parameters: ["path": absolute, "byte-order": byteOrder.rawValue]),
                                   device: device, seed: options.seed, operations: f.operations, divergence: f.divergence)
                let name = "conform-\(t.kind)-\(byteOrder.rawValue)-\(f.rule.rawValue)-\(FNV1a.short(t.path + f.check)).json"
                let path = dir + "/" + name
                if (try? r.save(path: path)) != nil { f.reproducer = path }
            }
            findings.append(f)
        }
    }
}

extension FNV1a {
    static func short(_ s: String) -> String {
        var h = FNV1a()
        h.add(s)
        return String(h.hex.prefix(8))
    }
}
