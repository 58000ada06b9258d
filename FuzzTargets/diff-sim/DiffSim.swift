import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMSimulator

/// diff-sim: the input decodes (docs/fuzz-encoding.md) to an operation sequence that runs on
/// the simulated device and on the golden model through the shared run loop; a divergence
/// writes a reproducer and traps. Environment: `ISMKIT_MUTANT` (a catalog mutant; unset = the
/// correct simulator), `ISMKIT_BYTE_ORDER` (`little`/`big`, default native), `ISMKIT_DEVICE`
/// (`ism`/`table`, default ism). The device is `FuzzDevice`'s: a mutant that shows only on a
/// table device (`Mutant.needsRegionTable`) gets the fixed region table whatever `ISMKIT_DEVICE`
/// says, and the input's region selectors then name the table's regions.
enum DiffSim {
    static let mutant: Mutant? = {
        guard let name = FuzzTarget.environment("ISMKIT_MUTANT") else { return nil }
        guard let m = Mutant(rawValue: name) else {
            FuzzTarget.usageError("ISMKIT_MUTANT=\(name): not a catalog mutant (\(Mutant.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return m
    }()
    static let config = FuzzDevice.fromEnvironment().config(
        byteOrder: FuzzTarget.byteOrderFromEnvironment(), needsRegionTable: mutant?.needsRegionTable ?? false)
    static let target = ImplementationKind.simulator(mutant: mutant, byteOrder: config.hostByteOrder).target
    nonisolated(unsafe) static let differential = ImplementationKind.simulator(config: config, mutant: mutant)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.testOneInput(data, size, DiffSim.differential, DiffSim.target)
}

#if !ISMKIT_LIBFUZZER
@main enum Replay {
    static func main() { FuzzTarget.replayMain(fuzzOne) }
}
#endif
