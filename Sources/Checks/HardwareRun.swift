import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel
import ISMOutOfProcess
import ISMVFIO

/// What a hardware run needs of a device beside `ISMAccess`: the device as the model should
/// see it, the regions its kernel reported, and the host's write guard. The in-process VFIO
/// backend (`VFIODevice`) and the agent client (`AgentDevice`) both are one.
public protocol HardwareDevice: ISMAccess {
    var deviceConfig: DeviceConfig { get }
    /// The kernel's `VFIO_DEVICE_GET_REGION_INFO` answers at open, by index.
    var regions: [RegionInfo] { get }
    /// Whether the host's guard would hold `op` back right now (nothing reaches the kernel).
    func refuses(_ op: Operation) -> Bool
}

extension VFIODevice: HardwareDevice {
    public var regions: [RegionInfo] { map.regions.values.sorted { $0.index < $1.index } }
}

extension AgentDevice: HardwareDevice {}

/// What a hardware run saw.
public struct HardwareRunResult {
    public var config: DeviceConfig
    public var capabilities: Capabilities
    public var regions: [RegionInfo]
    public var campaign: CampaignResult
    public var operations: Int { campaign.operations }
    public var sequences: Int { campaign.sequences }
    /// Writes the host's guard held back.
    public var refused: Int { campaign.skipped }
    public var elapsed: Duration { campaign.elapsed }
    public var findings: [Finding] { get { campaign.findings } set { campaign.findings = newValue } }
    public var rules: RuleSet { campaign.rulesExercised }
}

/// What a hardware run plans, whatever the device comes through: its probes and its generator.
public enum HardwarePlan {
    /// Operations that pin down what the kernel does at the SPEC's edges, run first in every
    /// generated run: region info for indexes 0...9 and a short argsz, zero-count transfers at
    /// an invalid index and at the ROM index, a ROM read, and lseek on the device fd.
    public static func probes(profile: Profile, writes: Bool) -> [Operation] {
        let s = profile.regionShift
        var ops: [Operation] = (0...9).map { .regionInfo(index: UInt32($0), argsz: 32) }
        ops.append(.regionInfo(index: 2, argsz: 16))
        ops.append(.pread(offset: 9 << s, count: 0, fault: .none))
        ops.append(.pread(offset: 6 << s, count: 0, fault: .none))
        if writes { ops.append(.pwrite(offset: 9 << s, count: 0, pattern: 0, fault: .none)) }
        ops.append(.pread(offset: 6 << s, count: 4, fault: .none))
        ops.append(.read(count: 8, fault: .none))
        ops.append(.seek(offset: 0, whence: .current))
        return ops
    }

    /// What the generator may produce on hardware: no faults, lifecycle, handle recovery or
    /// seeks (lseek is probed once instead), writes only inside the allow-list.
    public static func generatorOptions(config: DeviceConfig, allowList: WriteAllowList) -> GeneratorOptions {
        let list = allowList
        let cfg = config
        return GeneratorOptions(
            faults: false, lifecycle: false, handleRecovery: false, seek: false,
            writes: !list.isReadOnly,
            mayWrite: { index, position, count in
                guard index <= 7 else { return false }
                let size = index == 7 ? cfg.configSize : (cfg.barLength(index) ?? 0)
                let landing = position < size ? Int(min(UInt64(count), size - position)) : count
                return list.allows(region: UInt32(index), position: position, count: landing)
            })
    }
}

/// One probe as the model predicts it and as the kernel answered it.
public struct HardwareProbeAnswer: Codable, Sendable {
    public var operation: String
    public var model: String
    public var kernel: String
    public var agrees: Bool
}

/// A conformance run on a real device: operation sequences through the kernel beside a model
/// that learns the device's contents from the run's own reads and writes. It runs the shared
/// campaign loop without stopping at the first divergence: each distinct finding (aspect +
/// rule) is recorded once and counted, the run restarts from a fresh device fd and a fresh
/// model, and goes on until the budget is spent, so its report lists every check that differs.
/// Writes outside the allow-list are held back before they reach the device and counted.
///
/// The device comes from `open` (a fresh device fd each time): in process through VFIO
/// (`VFIODevice`) or through an agent (`AgentDevice`); `kind` names it in reproducers.
public struct HardwareRun<Device: HardwareDevice> {
    public let kind: ImplementationKind
    public let open: () throws(AccessError) -> Device
    public let profile: Profile
    public let allowList: WriteAllowList
    public let seed: UInt64
    public let budget: Budget
    public let sequenceLength: Int
    /// A fixed operation list (`--operations-file`) instead of probes and generated sequences.
    public let fixed: [Operation]?
    /// Re-runs allowed per finding while shrinking (each one is real I/O).
    public var shrinkChecks = 150
    /// False: the host's guard holds nothing back (the device's own guard is what stands; tests).
    public var hostGuard = true
    /// The device's maximum store block, when known (zPCI reports it; QEMU's says 128), else the
    /// model's default.
    public var maxstbl: UInt64?
    /// Whether the device checks store blocks strictly (R-WRITE-4), as QEMU's zPCI does.
    public var strictStoreBlocks = false

    /// The device as the model should see it: what the device reported, with what the run knows better.
    func modelConfig(_ device: Device) -> DeviceConfig {
        var c = device.deviceConfig
        if let maxstbl { c.maxstbl = maxstbl }
        if strictStoreBlocks { c.storeBlocks = .strict }
        return c
    }

    public init(kind: ImplementationKind, profile: Profile, allowList: WriteAllowList, seed: UInt64,
                budget: Budget, sequenceLength: Int, fixed: [Operation]?, open: @escaping () throws(AccessError) -> Device) {
        self.kind = kind
        self.open = open
        self.profile = profile
        self.allowList = allowList
        self.seed = seed
        self.budget = budget
        self.sequenceLength = sequenceLength
        self.fixed = fixed
    }

    public typealias Result = HardwareRunResult
    public typealias ProbeAnswer = HardwareProbeAnswer

    public static func probes(profile: Profile, writes: Bool) -> [Operation] { HardwarePlan.probes(profile: profile, writes: writes) }

    public static func generatorOptions(config: DeviceConfig, allowList: WriteAllowList) -> GeneratorOptions {
        HardwarePlan.generatorOptions(config: config, allowList: allowList)
    }

    /// Runs each probe on a fresh model and a fresh device fd and records both answers, so the
    /// report can say exactly what the kernel does at the SPEC's edges (agreeing or not).
    public func probeTable(config: DeviceConfig) throws(AccessError) -> [ProbeAnswer] {
        var answers: [ProbeAnswer] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        for op in Self.probes(profile: profile, writes: !allowList.isReadOnly) {
            var model = GoldenModel(config: config, contents: .learned)
            let device = try makeDevice()
            if case .seek = op {  // probe lseek where a read left the position, on both sides
                _ = Self.perform(.read(count: 8, fault: .none), on: &model, buffer: buffer)
                var d = device
                _ = Self.perform(.read(count: 8, fault: .none), on: &d, buffer: buffer)
            }
            let ignored = model.ignoredRegionFlags
            let m = Self.perform(op, on: &model, buffer: buffer)
            var d = device
            let k = Self.perform(op, on: &d, buffer: buffer)
            var agrees = m.text == k.text
            if var a = m.region, var b = k.region {
                a.flags.subtract(ignored)
                b.flags.subtract(ignored)
                agrees = a == b
            }
            answers.append(ProbeAnswer(operation: op.summary(in: config.layout), model: m.text, kernel: k.text, agrees: agrees))
        }
        return answers
    }

    /// The outcome of one operation as text (count, position, region info or errno).
    static func perform<I: ISMAccess>(_ op: Operation, on impl: inout I, buffer: UnsafeMutableRawBufferPointer) -> (text: String, region: RegionInfo?) {
        let outcome = Session<I>.perform(op, on: &impl, buffer: buffer, writeSource: buffer, count: min(op.count ?? 0, buffer.count))
        if case .region(let r) = outcome { return (outcome.description, r) }
        return (outcome.description, nil)
    }

    func makeDevice() throws(AccessError) -> Device { try open() }

    /// Runs the probes (or the fixed operations) and generated sequences, then shrinks each
    /// finding on the device (bounded by `shrinkChecks`).
    public func run(progress: ((Int, Duration) -> Void)? = nil) throws(AccessError) -> Result {
        let first = try makeDevice()
        let config = modelConfig(first)
        let differential = Differential<Device>(config: config, contents: .learned, compareTrace: false, makeImplementation: makeDevice)
        var campaign = Campaign(differential: differential,
                                options: fixed == nil ? Self.generatorOptions(config: config, allowList: allowList) : nil,
                                seed: seed, budget: budget, sequenceLength: sequenceLength)
        campaign.prelude = fixed ?? Self.probes(profile: profile, writes: !allowList.isReadOnly)
        campaign.stopAtFirstFinding = false
        campaign.shrink = .init(checks: shrinkChecks, afterHang: min(8, shrinkChecks))
        campaign.check = "hardware"
        campaign.first = first
        if hostGuard { campaign.skip = { device, op in device.refuses(op) } }
        campaign.progressInterval = .seconds(2)
        if let progress { campaign.progress = { p in progress(p.operations, p.elapsed) } }
        let result = try campaign.run()
        return Result(config: config, capabilities: first.capabilities,
                      regions: first.regions, campaign: result)
    }

    /// Writes a reproducer for each finding into `store`.
    public func saveReproducers(_ result: inout Result, store: ReproducerStore) {
        for i in result.findings.indices {
            let f = result.findings[i]
            let repro = Reproducer(target: kind.target, device: result.config, seed: seed, operations: f.operations, divergence: f.divergence)
            result.findings[i].reproducer = try? store.save(repro, stem: kind.fileStem, finding: f.slug,
                                                            discriminator: ReproducerStore.discriminator(seed: seed))
        }
    }
}

extension HardwareRun where Device == VFIODevice {
    /// A run in process: each sequence opens a fresh device fd on `connection`.
    public init(connection: VFIOConnection, profile: Profile, allowList: WriteAllowList, journal: WriteJournal, seed: UInt64,
                budget: Budget, sequenceLength: Int, fixed: [Operation]?) {
        self.init(kind: .vfio(device: connection.address.description, profile: profile), profile: profile, allowList: allowList,
                  seed: seed, budget: budget, sequenceLength: sequenceLength, fixed: fixed) { () throws(AccessError) in
            do throws(VFIOError) { return try VFIODevice(connection: connection, profile: profile, allowList: allowList, journal: journal) } catch {
                throw .broken(.cannotStart(error.description))
            }
        }
    }
}

extension HardwareRun where Device == AgentDevice {
    /// A run through an agent: each sequence has the agent open its device fd afresh. Writes
    /// the agent accepted are recorded in `journal` (the host's record, next to the agent's own).
    /// Without `hostGuard` nothing is held back on this side: only the agent's guard stands.
    public init(agent: AgentConnection, profile: Profile, allowList: WriteAllowList, journal: WriteJournal, hostGuard: Bool = true,
                seed: UInt64, budget: Budget, sequenceLength: Int, fixed: [Operation]?) {
        self.init(kind: .agent(endpoint: agent.endpoint, profile: profile), profile: profile, allowList: allowList,
                  seed: seed, budget: budget, sequenceLength: sequenceLength, fixed: fixed) { () throws(AccessError) in
            try AgentDevice(connection: agent, profile: profile, allowList: allowList, hostGuard: hostGuard,
                            record: { journal.record(region: $0, position: $1, bytes: $2) })
        }
        self.hostGuard = hostGuard
    }
}
