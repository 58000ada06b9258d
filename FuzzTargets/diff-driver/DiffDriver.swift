import CDriverLoader
import ISMAccess
import ISMHarness
import ISMModel

/// diff-driver: the input decodes (docs/fuzz-encoding.md) to an operation sequence that runs
/// on a driver source compiled in-process (the driver-source harness built as a shared library,
/// `make driver-lib DRIVER=...`, named by `ISMKIT_DRIVER_LIB`) and on the golden model
/// (little-endian, `DeviceConfig.ism`); a divergence writes a reproducer and traps.
/// `ISMKIT_DRIVER_SOURCE` (optional) is recorded in reproducers as the driver's path.
enum DiffDriver {
    static let api: ismkit_api = {
        guard let path = FuzzTarget.environment("ISMKIT_DRIVER_LIB") else {
            FuzzTarget.usageError("ISMKIT_DRIVER_LIB is not set: build the driver library with `make driver-lib DRIVER=path/to/main.c` and name it")
        }
        var api = ismkit_api()
        var err = [CChar](repeating: 0, count: 512)
        guard ismkit_fuzz_load(path, &api, &err, err.count) == 0 else {
            FuzzTarget.usageError("ISMKIT_DRIVER_LIB=\(path): " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return api
    }()
    static let config = DeviceConfig.ism(hostByteOrder: .native)
    static let target = Reproducer.Target(kind: "driver-source", parameters: [
        "path": FuzzTarget.environment("ISMKIT_DRIVER_SOURCE") ?? FuzzTarget.environment("ISMKIT_DRIVER_LIB") ?? "",
        "byte-order": ByteOrder.native.rawValue,
    ])

    /// Runs `ops` on a fresh device; the first divergence, or nil.
    static func check(_ ops: [Operation]) -> Divergence? {
        guard let impl = try? InProcessDriver(api: api, config: config) else { return nil }
        defer { impl.finish() }
        let model = GoldenModel(config: config)
        if session == nil { session = Session(implementation: impl, model: model) } else { session!.restart(implementation: impl, model: model) }
        for (i, op) in ops.enumerated() {
            if let d = session!.step(op, index: i) { return d }
        }
        return nil
    }

    /// One session for the whole run, restarted per input (keeps its buffers).
    nonisolated(unsafe) static var session: Session<InProcessDriver>?

    /// Drops operations while the same finding remains (a small in-process shrink; the
    /// Harness shrinker needs an implementation it can make again, which this one is).
    static func shrink(_ ops: [Operation], _ d: Divergence) -> ([Operation], Divergence) {
        var best = Array(ops.prefix(d.index + 1)), bestD = d
        var i = 0
        while i < best.count {
            var c = best
            c.remove(at: i)
            if let nd = check(c), nd.sameFinding(as: d) { best = Array(c.prefix(nd.index + 1)); bestD = nd } else { i += 1 }
        }
        return (best, bestD)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = DiffDriver.api  // load the library (and register its coverage) before fuzzing starts
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let ops = FuzzEncoding.decode(input)
    guard let divergence = DiffDriver.check(ops) else { return 0 }
    let (shrunk0, d0) = DiffDriver.shrink(ops, divergence)
    let (plain, pd) = FuzzTarget.withoutNeedlessFault(shrunk0, d0, check: DiffDriver.check)
    let (shrunk, d) = pd == d0 ? (shrunk0, d0) : DiffDriver.shrink(plain, pd)
    let reproducer = Reproducer(target: DiffDriver.target, device: DiffDriver.config, seed: nil, operations: shrunk, divergence: d)
    FuzzTarget.finding(divergence, reproducer: reproducer, input: input)
    return 0
}

#if !ISMKIT_LIBFUZZER
@main enum Replay {
    static func main() {
        _ = DiffDriver.api
        FuzzTarget.replayMain(fuzzOne)
    }
}
#endif
