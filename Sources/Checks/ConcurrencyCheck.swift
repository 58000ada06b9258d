import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel
import ISMOutOfProcess

/// The concurrency check of `ismkit conform --driver-source`: two operations on one device at
/// once (one fd, or two fds of the device), forced into every interleaving the harness can
/// hold (the first held at each of its boundaries in turn while the second runs), each judged
/// for linearizability against the golden model (`Linearizability`). An interleaving no order
/// explains is shrunk (`PairShrinker`) and becomes a finding with a replayable reproducer.
/// Then each pair runs free (both released together, neither held) `freeRuns` times, each run
/// judged the same way: that reaches races between two boundaries, which no hold can stop in.
public enum ConcurrencyCheck {
    public static let name = "concurrency (forced and free-running interleavings)"

    /// One generated or shrunk case: the set-up operations and the pair.
    public typealias Case = PairShrinker.Case

    /// How much to try.
    public struct Options: Sendable {
        /// Pairs generated; each runs once per boundary of its first operation.
        public var pairs: Int
        public var seed: UInt64
        /// Free-running runs of each pair after its forced interleavings (0: none).
        public var freeRuns: Int
        /// Upper bound on re-runs while shrinking a finding.
        public var shrinkChecks: Int
        /// When to stop trying (a `--seconds` time box): the pairs tried so far stand.
        public var deadline: ContinuousClock.Instant?
        public init(pairs: Int = 40, seed: UInt64 = 1, freeRuns: Int = 0, shrinkChecks: Int = 80) {
            self.pairs = pairs
            self.freeRuns = freeRuns
            self.seed = seed
            self.shrinkChecks = shrinkChecks
        }
    }

    /// What one run of a case showed.
    public struct Run: Sendable {
        public var observation: PairObservation
        public var judgement: Linearizability.Judgement
    }

    /// The generated cases, hold 0 each: small transfers near the start of each BAR longer
    /// than 64 bytes (BAR0 and BAR2 on the ISM device; so the two operations overlap or sit side by side), both fds, now and
    /// then a fault on one side or a region-info request.
    public static func cases(device: DeviceConfig, seed: UInt64, count: Int) -> [Case] {
        var rng = SplitMix64(seed: seed ^ 0xC0_4C_0E_E7)
        let shift = device.profile.regionShift
        let bars = (0..<6).filter { (device.barLength(UInt64($0)) ?? 0) > 64 }
        guard !bars.isEmpty else { return [] }
        func fault() -> Fault {
            guard rng.chance(10) else { return .none }
            return rng.chance(50) ? .device(nth: UInt16(rng.below(3)), errno: .ioError) : .userBuffer(from: rng.below(16))
        }
        func operation(pattern: UInt8, offset: UInt64) -> Operation {
            let n = 1 + rng.below(rng.chance(70) ? 24 : 64)
            switch rng.below(10) {
            case 0...3: return .pread(offset: offset, count: n, fault: fault())
            case 4...6: return .pwrite(offset: offset, count: n, pattern: pattern, fault: fault())
            case 7: return .read(count: n, fault: fault())
            case 8: return .write(count: n, pattern: pattern, fault: fault())
            default: return .regionInfo(index: UInt32(rng.below(8)), argsz: 32)
            }
        }
        var out: [Case] = []
        while out.count < count {
            let bar = bars[rng.below(bars.count)]
            let base = UInt64(bar) << shift
            func position() -> UInt64 { base + UInt64(rng.chance(50) ? 8 * rng.below(6) : rng.below(48)) }
            let a = operation(pattern: UInt8(1 + rng.below(100)), offset: position())
            let b = operation(pattern: UInt8(101 + rng.below(100)), offset: position())
            let pair = ConcurrentPair(first: a, firstFD: rng.chance(25) ? 2 : 1, second: b, secondFD: rng.chance(50) ? 2 : 1, hold: 0)
            guard pair.isMeaningful else { continue }
            // fd 1's position for read/write: somewhere in the chosen BAR; fd 2 stays at 0.
            out.append(([.seek(offset: Int64(position()), whence: .set)], pair))
        }
        return out
    }

    /// Runs a case on a fresh implementation and judges it; nil when the set-up operations
    /// already diverge from the model (the differential check's finding, not this one's).
    public static func run<A: ConcurrentAccess>(_ c: Case, device: DeviceConfig,
                                                make: () throws(AccessError) -> A) throws(AccessError) -> Run? {
        var session = Session(implementation: try make(), model: GoldenModel(config: device), compareTrace: true)
        for (i, op) in c.prefix.enumerated() where session.step(op, index: i) != nil { return nil }
        var impl = session.implementation
        let start = session.model
        let positions = [start.position, 0]
        let observation = try impl.runPair(c.pair)
        var readBack: [Linearizability.ReadBack] = []
        for r in readBackRanges(c.pair, positions: positions) {
            let n = r.count
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: n + 1, alignment: 16)
            defer { buffer.deallocate() }
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            let outcome = Session<A>.perform(.pread(offset: r.offset, count: n, fault: .none), on: &impl, buffer: buffer, writeSource: buffer, count: n)
            if case .failed(.broken(let b)) = outcome { throw .broken(b) }
            readBack.append(.init(offset: r.offset, outcome: outcome, bytes: Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))))
        }
        var discard: [TraceEvent] = []
        impl.takeTrace(into: &discard)
        return judge(c.pair, start: start, observation: observation, readBack: readBack)
    }

    /// The run of `pair` from the model state `start` (fd 1 at its position, fd 2 at 0) that
    /// showed `observation` and left the read-back bytes `readBack`, judged.
    static func judge(_ pair: ConcurrentPair, start: GoldenModel, observation: PairObservation, readBack: [Linearizability.ReadBack]) -> Run {
        Run(observation: observation,
            judgement: Linearizability.judge(pair, start: start, positions: [start.position, 0], observed: observation, readBack: readBack))
    }

    /// A hold no operation reaches: the first operation runs whole, then the second.
    public static let sequentialHold = 1 << 30

    /// Whether `c` shows a concurrency bug: its interleaving is unexplained, and the same two
    /// operations one after the other (first, then second, through the same request) are
    /// explained. A pair unexplained even then diverges sequentially: the differential
    /// check's finding, not this one's.
    public static func concurrencyCaused<A: ConcurrentAccess>(_ c: Case, device: DeviceConfig,
                                                              make: () throws(AccessError) -> A) -> Bool {
        guard let r = try? run(c, device: device, make: make), !r.judgement.explained else { return false }
        var sequential = c
        sequential.pair.hold = sequentialHold
        return (try? run(sequential, device: device, make: make))?.judgement.explained == true
    }

    /// Whether `c` run free (neither held) shows a concurrency bug in one of `runs` runs:
    /// such a run is unexplained and the same operations one after the other are explained.
    /// Returns the unexplained run, or nil.
    public static func freeRunCaught<A: ConcurrentAccess>(_ c: Case, runs: Int, device: DeviceConfig,
                                                          make: () throws(AccessError) -> A) -> Run? {
        var sequential = c
        sequential.pair.hold = sequentialHold
        guard (try? run(sequential, device: device, make: make))?.judgement.explained == true else { return nil }
        var free = c
        free.pair.hold = ConcurrentPair.freeRunning
        for _ in 0..<runs {
            if let r = try? run(free, device: device, make: make), !r.judgement.explained { return r }
        }
        return nil
    }

    /// Every generated case's two operations one after the other (a case whose set-up or
    /// sequential pair already diverges from the model is skipped: the differential check
    /// reports that), then every hold point of every remaining case, then `freeRuns`
    /// free-running runs of each, until the first run that shows a concurrency bug, which is
    /// shrunk. Returns it (or a breakage seen on the way) and the pair runs made. Runs go to the
    /// implementation in batches across cases (`runAll`); the forced phase's finding is the
    /// first unexplained interleaving in (case, hold) order, as running them one by one gives.
    public static func search<A: ConcurrentAccess>(device: DeviceConfig, options: Options,
                                                   make: () throws(AccessError) -> A) -> (finding: Finding?, runs: Int) {
        var runs = 0
        var impl: A?  // one implementation for batch after batch, while it does not break
        func phase(_ list: [Case], _ judged: (Int, RunResult) -> Bool) -> Finding?? {
            let (end, n) = runAll(list, device: device, deadline: options.deadline, reuse: &impl, make: make, judged: judged)
            runs += n
            switch end {
            case .finished: return .some(nil)
            case .stopped: return nil
            case let .broken(i, error): return .some(finding(for: list[i], error: error, device: device))
            }
        }
        // The two operations one after the other: the set-up must agree with the model and the
        // pair be explained; the run says how many boundaries the first one has.
        var live: [(c: Case, boundaries: Int)] = []
        let all = cases(device: device, seed: options.seed, count: options.pairs)
        guard let sequential = phase(all.map { at($0, sequentialHold) }, { i, r in
            if case .explained(let run) = r { live.append((all[i], run.observation.boundaries)) }
            return true
        }) else { return (nil, runs) }
        if let sequential { return (sequential, runs) }
        for free in [false, true] {
            let list = free ? live.flatMap { repeatElement(at($0.c, ConcurrentPair.freeRunning), count: options.freeRuns) }
                : live.flatMap { x in (0..<x.boundaries).map { at(x.c, $0) } }
            var hit: (c: Case, run: Run)?
            guard let broken = phase(list, { i, r in
                if case .unexplained(let run) = r { hit = (list[i], run) }
                return hit == nil
            }) else { return (nil, runs) }
            if let hit {
                let (small, judged, shrinkRuns) = free
                    ? shrinkFree(hit.c, reruns: max(2 * options.freeRuns, 8), options: options, device: device, make: make)
                    : shrinkForced(hit.c, options: options, device: device, make: make)
                runs += shrinkRuns
                return (finding(for: small, judgement: judged?.judgement ?? hit.run.judgement, original: hit.c, device: device), runs)
            }
            if let broken { return (broken, runs) }
        }
        return (nil, runs)
    }

    /// `c` at `hold`.
    static func at(_ c: Case, _ hold: Int) -> Case {
        var h = c
        h.pair.hold = hold
        return h
    }

    /// A forced finding, shrunk: a candidate is kept while `concurrencyCaused` holds.
    static func shrinkForced<A: ConcurrentAccess>(_ c: Case, options: Options, device: DeviceConfig,
                                                  make: () throws(AccessError) -> A) -> (Case, Run?, runs: Int) {
        let shrinker = PairShrinker(checks: options.shrinkChecks, regionShift: device.profile.regionShift)
        let (small, shrinkRuns) = shrinker.shrink(c) { concurrencyCaused($0, device: device, make: make) }
        return (small, try? run(small, device: device, make: make), shrinkRuns * 2)
    }

    /// A free-running finding, shrunk: a free run is one of many schedules, so a candidate still
    /// fails when one of `reruns` runs shows it.
    static func shrinkFree<A: ConcurrentAccess>(_ c: Case, reruns: Int, options: Options, device: DeviceConfig,
                                                make: () throws(AccessError) -> A) -> (Case, Run?, runs: Int) {
        let shrinker = PairShrinker(checks: min(options.shrinkChecks, 24), regionShift: device.profile.regionShift)
        var shrinkRuns = 0
        let (small, _) = shrinker.shrink(c) { candidate in
            shrinkRuns += 1 + reruns
            return freeRunCaught(candidate, runs: reruns, device: device, make: make) != nil
        }
        return (small, freeRunCaught(small, runs: reruns, device: device, make: make), shrinkRuns)
    }

    /// The finding for an unexplained interleaving.
    public static func finding(for c: Case, judgement: Linearizability.Judgement, original: Case? = nil, device: DeviceConfig) -> Finding {
        var f = Finding(check: name, divergence: nil, rule: nil, operations: c.prefix,
                        original: original.map { $0.prefix }, layout: device.layout)
        f.detail = c.pair.summary(in: device.layout) + ": no order of the two explains what they did ("
            + judgement.differences.joined(separator: "; ") + ")"
        f.pair = c.pair
        return f
    }

    /// The finding for an implementation that broke while running a pair.
    static func finding(for c: Case, error: AccessError, device: DeviceConfig) -> Finding {
        let failure: Breakage? = if case .broken(let b) = error { b } else { nil }
        var f = Finding(check: name, divergence: nil, failure: failure ?? .protocolError("\(error)"), rule: nil,
                        operations: c.prefix, detail: "broke while running two operations at once: " + c.pair.summary(in: device.layout),
                        layout: device.layout)
        f.pair = c.pair
        return f
    }
}

extension ConcurrencyCheck {
    /// The devices the check runs pairs on and how many on each: all `pairs` on the fixed ISM
    /// device, then `pairs / 8` (at least one) on each other conformance device (the second
    /// fixed one and the drawn shapes, as the differential campaigns meet them), each with a
    /// seed of its own.
    public static func plan(_ order: ByteOrder, seed: UInt64, pairs: Int, shapes: Bool) -> [(device: DeviceConfig, pairs: Int, seed: UInt64)] {
        let devices = Conformance.campaignDevices(order, seed: seed, shapes: shapes)
        return devices.enumerated().map { i, d in (d, i == 0 ? pairs : max(1, pairs / 8), seed &+ UInt64(i) &* 0x9E37_79B9) }
    }
}

extension ConcurrencyCheck {
    /// Free runs per pair of the plan's first device that make `perPair` free runs for each
    /// pair of the whole plan (`pairs`: the plan's pair counts, first device first).
    public static func firstDeviceFreeRuns(_ perPair: Int, plan pairs: [Int]) -> Int {
        guard let first = pairs.first, first > 0 else { return 0 }
        return (perPair * pairs.reduce(0, +) + first - 1) / first
    }
}

extension Conformance.Runner {
    /// The concurrency check (driver sources only: the harness runs the pairs), on every
    /// conformance device (`ConcurrencyCheck.plan`) until the first finding.
    mutating func concurrency(_ make: @escaping (DeviceConfig) throws(AccessError) -> WireAccess) {
        check(ConcurrencyCheck.name, needsLive: true) { r in
            let plan = ConcurrencyCheck.plan(r.byteOrder, seed: r.options.seed, pairs: r.options.concurrencyPairs, shapes: r.options.deviceShapes)
            // Free runs go to the first device's pairs only, as many as `freeRuns` for every pair
            // of the plan: a race between two boundaries lies in the driver's code, not in the
            // device's shape, and each process that runs a free pair starts a thread
            // (milliseconds under qemu-user) that a few runs on another device would not repay.
            let freeRuns = ConcurrencyCheck.firstDeviceFreeRuns(r.options.freeRuns(r.byteOrder), plan: plan.map(\.pairs))
            for (i, (device, pairs, seed)) in plan.enumerated() {
                var opts = ConcurrencyCheck.Options(pairs: pairs, seed: seed, freeRuns: i == 0 ? freeRuns : 0,
                                                    shrinkChecks: min(r.options.shrinkChecks, 80))
                opts.deadline = r.options.deadline
                let (found, runs) = ConcurrencyCheck.search(device: device, options: opts) { () throws(AccessError) in try make(device) }
                r.operations += runs
                if let found { r.record(found, device: device); return }
                if Interruption.requested { return }
                if let d = opts.deadline, ContinuousClock.now >= d { return }
            }
        }
    }
}

extension ConcurrencyCheck {
    /// Runs a free-running reproducer's pair up to this many times, until one run is unexplained.
    public static let freeReplayRuns = 200

    /// Runs a concurrency reproducer's pair again (after its set-up operations) on the driver
    /// source it names and judges it; a free-running pair up to `freeReplayRuns` times, until a
    /// run is unexplained (else the last run). Only driver sources run pairs.
    public static func replay(_ r: Reproducer, pair: ConcurrentPair, timeout: Duration = .seconds(10)) throws(ImplementationKind.Unknown) -> Result<Run?, AccessError> {
        guard case let .driverSource(path, order) = try ImplementationKind(r.target, device: r.device) else {
            throw ImplementationKind.Unknown(description: "a concurrent pair replays on a driver source only (the harness runs it), not on \(r.target)")
        }
        let bin: HarnessBinary
        do { bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little) } catch {
            throw ImplementationKind.Unknown(description: "\(path): \(error.description)")
        }
        let device = r.device
        do {
            var last: Run?
            for _ in 0..<(pair.isFreeRunning ? freeReplayRuns : 1) {
                last = try run((r.operations, pair), device: device) { () throws(AccessError) in
                    try WireAccess(harness: bin, config: device, timeout: timeout)
                }
                if last.map({ !$0.judgement.explained }) ?? true { break }
            }
            return .success(last)
        } catch {
            return .failure(error)
        }
    }
}
