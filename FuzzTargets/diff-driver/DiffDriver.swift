import CDriverLoader
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing

/// diff-driver: the input decodes (docs/fuzz-encoding.md) to an operation sequence that runs
/// on a driver source compiled in-process (the driver-source harness built as a shared library,
/// `make driver-lib DRIVER=...`, named by `ISMKIT_DRIVER_LIB`) and on the golden model
/// (little-endian, `DeviceConfig.ism`) through the shared run loop; a divergence writes a
/// reproducer and traps.
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
    static let target = ImplementationKind.driverSource(
        path: FuzzTarget.environment("ISMKIT_DRIVER_SOURCE") ?? FuzzTarget.environment("ISMKIT_DRIVER_LIB") ?? "", byteOrder: .native).target
    /// A fresh in-process device per sequence (closed when its last copy goes).
    nonisolated(unsafe) static let differential = Differential(config: config) { () throws(AccessError) in
        try InProcessDriver(api: api, config: config)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = DiffDriver.api  // load the library (and register its coverage) before fuzzing starts
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.testOneInput(data, size, DiffDriver.differential, DiffDriver.target)
}

#if !ISMKIT_LIBFUZZER
@main enum Replay {
    static func main() {
        _ = DiffDriver.api
        FuzzTarget.replayMain(fuzzOne)
    }
}
#endif
