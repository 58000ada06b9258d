import ISMAccess
import ISMHarness
import ISMModel
import ISMSimulator

/// diff-sim: the input decodes (docs/fuzz-encoding.md) to an operation sequence that runs on
/// the simulated device and on the golden model; a divergence writes a reproducer and traps.
/// Environment: `ISMKIT_MUTANT` (a catalog mutant; unset = the correct simulator),
/// `ISMKIT_BYTE_ORDER` (`little`/`big`, default native).
enum DiffSim {
    static let mutant: Mutant? = {
        guard let name = FuzzTarget.environment("ISMKIT_MUTANT") else { return nil }
        guard let m = Mutant(rawValue: name) else {
            FuzzTarget.usageError("ISMKIT_MUTANT=\(name): not a catalog mutant (\(Mutant.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return m
    }()
    static let config = DeviceConfig.ism(hostByteOrder: FuzzTarget.byteOrderFromEnvironment())
    static let target: Reproducer.Target = {
        var p = ["byte-order": config.hostByteOrder.rawValue]
        if let mutant { p["mutant"] = mutant.rawValue }
        return Reproducer.Target(kind: "simulator", parameters: p)
    }()
    nonisolated(unsafe) static let differential = Differential(config: config) { () throws(AccessError) in
        SimulatedDevice(config: config, mutant: mutant)
    }
    /// One session for the whole run, restarted per input (keeps its buffers).
    nonisolated(unsafe) static var session: Session<SimulatedDevice>?

    /// Runs `ops` from a fresh simulator and model; the first divergence, or nil.
    static func check(_ ops: [Operation]) -> Divergence? {
        let impl = SimulatedDevice(config: config, mutant: mutant), model = GoldenModel(config: config)
        if session == nil { session = Session(implementation: impl, model: model) } else { session!.restart(implementation: impl, model: model) }
        for (i, op) in ops.enumerated() {
            if let d = session!.step(op, index: i) { return d }
        }
        return nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let ops = FuzzEncoding.decode(input)
    guard let divergence = DiffSim.check(ops) else { return 0 }
    let shrinker = Shrinker(differential: DiffSim.differential, maxChecks: 2_000)
    var shrunk = shrinker.shrink(ops, divergence: divergence)
    let (plain, pd) = FuzzTarget.withoutNeedlessFault(shrunk.operations, shrunk.divergence, check: DiffSim.check)
    if pd != shrunk.divergence { shrunk = shrinker.shrink(plain, divergence: pd) }
    let reproducer = Reproducer(target: DiffSim.target, device: DiffSim.config, seed: nil,
                                operations: shrunk.operations, divergence: shrunk.divergence)
    FuzzTarget.finding(divergence, reproducer: reproducer, input: input)
    return 0
}

#if !ISMKIT_LIBFUZZER
@main enum Replay {
    static func main() { FuzzTarget.replayMain(fuzzOne) }
}
#endif
