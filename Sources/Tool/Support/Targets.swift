import ISMAccess
import ISMChecks
import ISMEngine
import ISMSimulator

/// The implementation registry (`ImplementationKind`, in the checks layer) as the tool uses it:
/// its errors become one-line usage errors (exit 2).
enum Targets {
    /// The implementation a reproducer names, made again for `replay`.
    static func differential(for target: Reproducer.Target, device: DeviceConfig) throws(UsageError) -> Differential<AnyISMAccess> {
        do { return try ImplementationKind(target, device: device).differential(device: device) } catch { throw UsageError(error.description) }
    }

    /// The implementation kind a reproducer names.
    static func kind(of target: Reproducer.Target, device: DeviceConfig) throws(UsageError) -> ImplementationKind {
        do { return try ImplementationKind(target, device: device) } catch { throw UsageError(error.description) }
    }

    static func mutant(named name: String?) throws(UsageError) -> Mutant? {
        do { return try ImplementationKind.mutant(named: name) } catch { throw UsageError(error.description) }
    }
}
