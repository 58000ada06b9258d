import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMHarness
import ISMModel
import ISMVFIO

/// A conformance run on a real device: operation sequences through the kernel beside a model
/// that learns the device's contents from the run's own reads and writes. Unlike a campaign it
/// does not stop at the first divergence: it records each distinct finding (aspect + rule),
/// restarts from a fresh device fd and a fresh model, and goes on until the budget is spent,
/// so its report lists every check that differs.
struct HardwareRun {
    let connection: VFIOConnection
    let profile: Profile
    let allowList: WriteAllowList
    let journal: WriteJournal
    let seed: UInt64
    let budget: Budget
    let sequenceLength: Int
    /// A fixed operation list (`--operations-file`) instead of probes and generated sequences.
    let fixed: [Operation]?
    /// Re-runs allowed per finding while shrinking (each one is real I/O).
    var shrinkChecks = 150

    /// One distinct way the device differs from the model.
    struct Finding {
        var divergence: Divergence
        var count: Int
        var sequence: [Operation]
        var shrunk: [Operation]?
        var shrunkDivergence: Divergence?
        var reproducer: String?
    }

    struct Result {
        var config: DeviceConfig
        var capabilities: Capabilities
        var regions: [RegionInfo]
        var operations = 0
        var sequences = 0
        var refused = 0
        var refusedExamples: [String] = []
        var elapsed: Duration = .zero
        var findings: [Finding] = []
        var rules = RuleSet()
    }

    /// Operations that pin down what the kernel does at the SPEC's edges, run first in every
    /// generated run: region info for indexes 0...9 and a short argsz, zero-count transfers at
    /// an invalid index and at the ROM index, a ROM read, and lseek on the device fd.
    static func probes(profile: Profile, writes: Bool) -> [Operation] {
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
    static func generatorOptions(config: DeviceConfig, allowList: WriteAllowList) -> GeneratorOptions {
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

    /// One probe as the model predicts it and as the kernel answered it.
    struct ProbeAnswer: Codable {
        var operation: String
        var model: String
        var kernel: String
        var agrees: Bool
    }

    /// Runs each probe on a fresh model and a fresh device fd and records both answers, so the
    /// report can say exactly what the kernel does at the SPEC's edges (agreeing or not).
    func probeTable(config: DeviceConfig) throws(AccessError) -> [ProbeAnswer] {
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
            answers.append(ProbeAnswer(operation: op.summary, model: m.text, kernel: k.text, agrees: agrees))
        }
        return answers
    }

    /// The outcome of one operation as text (count, position, region info or errno).
    static func perform<I: ISMAccess>(_ op: Operation, on impl: inout I, buffer: UnsafeMutableRawBufferPointer) -> (text: String, region: RegionInfo?) {
        let outcome = Session<I>.perform(op, on: &impl, buffer: buffer, writeSource: buffer, count: min(op.count ?? 0, buffer.count))
        if case .region(let r) = outcome { return (outcome.description, r) }
        return (outcome.description, nil)
    }

    func makeDevice() throws(AccessError) -> VFIODevice {
        do { return try VFIODevice(connection: connection, profile: profile, allowList: allowList, journal: journal) } catch {
            throw .broken(error.description)
        }
    }

    func run(progress: ((Int, Duration) -> Void)? = nil) throws(AccessError) -> Result {
        let first = try makeDevice()
        let config = first.deviceConfig
        var result = Result(config: config, capabilities: first.capabilities,
                            regions: first.map.regions.values.sorted { $0.index < $1.index })
        var generator = OperationGenerator(config: config, options: Self.generatorOptions(config: config, allowList: allowList), seed: seed)
        var pending: [Operation] = fixed ?? Self.probes(profile: profile, writes: !allowList.isReadOnly)
        let clock = ContinuousClock()
        let start = clock.now
        let limits = budget.limits(from: start)
        let limitOps = fixed?.count ?? limits.operations
        let deadline = limits.deadline
        var device: VFIODevice? = first
        var lastProgress = start
        while result.operations < limitOps {
            if fixed == nil, let deadline, clock.now >= deadline { break }
            if fixed != nil, pending.isEmpty { break }
            let dev: VFIODevice
            if let d = device { dev = d; device = nil } else { dev = try makeDevice() }
            var session = Session(implementation: dev, model: GoldenModel(config: config, contents: .learned), compareTrace: false)
            result.sequences += 1
            var ops: [Operation] = []
            let fromPending = !pending.isEmpty
            let length = fromPending ? Int.max : min(sequenceLength, limitOps - result.operations)
            var taken = 0
            while taken < length, result.operations < limitOps {
                let op: Operation
                if fromPending {
                    guard !pending.isEmpty else { break }
                    op = pending.removeFirst()
                } else {
                    op = generator.next()
                }
                taken += 1
                result.operations += 1
                if dev.refuses(op) {
                    result.refused += 1
                    if result.refusedExamples.count < 5 { result.refusedExamples.append(op.summary) }
                    continue
                }
                ops.append(op)
                let d = session.step(op, index: ops.count - 1)
                result.rules.formUnion(session.model.lastDecision.cited)
                if let d {
                    if let k = result.findings.firstIndex(where: { $0.divergence.sameFinding(as: d) }) {
                        result.findings[k].count += 1
                    } else {
                        result.findings.append(Finding(divergence: d, count: 1, sequence: ops))
                    }
                    break  // the model's view is no longer trustworthy: start afresh
                }
            }
            if let progress, clock.now - lastProgress >= .seconds(2) {
                lastProgress = clock.now
                progress(result.operations, clock.now - start)
            }
        }
        result.elapsed = clock.now - start
        return result
    }

    /// Shrinks each finding's sequence on the device (bounded) and writes a reproducer for it.
    func shrinkAndSave(_ result: inout Result, output: String, address: String) {
        let differential = Differential<VFIODevice>(
            config: result.config, contents: .learned, compareTrace: false, makeImplementation: makeDevice)
        for i in result.findings.indices {
            let f = result.findings[i]
            let s = Shrinker(differential: differential, maxChecks: shrinkChecks).shrink(f.sequence, divergence: f.divergence)
            result.findings[i].shrunk = s.operations
            result.findings[i].shrunkDivergence = s.divergence
            let target = Reproducer.Target(kind: "vfio", parameters: ["device": address, "profile": profile.rawValue])
            let repro = Reproducer(target: target, device: result.config, seed: seed, operations: s.operations, divergence: s.divergence)
            let name = "vfio-\(profile.rawValue)-\(s.divergence.rule.rawValue)-\(s.divergence.aspect.rawValue)-seed\(seed).json"
            let path = (output as NSString).appendingPathComponent(name)
            if (try? repro.save(path: path)) != nil { result.findings[i].reproducer = path }
        }
    }
}

/// The machine-readable summary of a hardware run (`--report FILE`).
struct HardwareReport: Codable {
    struct Region: Codable {
        var index: UInt32
        var offset: String
        var size: String
        var flags: UInt32
    }
    struct Difference: Codable {
        var rule: String
        var aspect: String
        var occurrences: Int
        var first: Divergence
        var shrunk: [Operation]?
        var reproducer: String?
    }
    var verdict: String  // "conforming" or "non-conforming"
    var device: String
    var access: String
    var profile: String
    var regions: [Region]
    var allowWrite: [String]
    var seed: UInt64
    var operations: Int
    var sequences: Int
    var seconds: Double
    var operationsPerSecond: Double
    var refusedWrites: Int
    var bytesWritten: Int
    var writesJournaled: Int
    var rulesExercised: [String]
    var checksNotMade: [String]
    var differences: [Difference]
    /// The probes of `HardwareRun.probes` as the model predicted and the kernel answered them.
    var kernelAnswers: [HardwareRun.ProbeAnswer] = []
}
