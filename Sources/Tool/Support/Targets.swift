import ISMAccess
import ISMHarness
import ISMSimulator

/// Makes the implementation a reproducer names, so `replay` can run any of them.
/// Each implementation kind is a plug-in: one case here.
enum Targets {
    static func differential(for target: Reproducer.Target, device: DeviceConfig) throws(UsageError) -> Differential<AnyISMAccess> {
        switch target.kind {
        case "simulator":
            let mutant = try mutant(named: target.parameters["mutant"])
            return Differential(config: device) { AnyISMAccess(SimulatedDevice(config: device, mutant: mutant)) }
        case "driver-source", "library":
            return try DriverSourceTargets.differential(for: target, device: device)
        case "vfio":
            // A real device needs the pre-flight checks and a write allow-list: hw owns both.
            let dev = target.parameters["device"] ?? "DEVICE"
            throw UsageError("a hardware reproducer replays on the device: ismkit hw --device \(dev) --operations-file FILE [--allow-write REGION:START-END]")
        default:
            throw UsageError("reproducer target kind \"\(target.kind)\" is not known to this ismkit")
        }
    }

    static func mutant(named name: String?) throws(UsageError) -> Mutant? {
        guard let name, !name.isEmpty, name != "none" else { return nil }
        guard let m = Mutant(rawValue: name) else {
            throw UsageError("unknown mutant \"\(name)\" (see 'ismkit mutants --list')")
        }
        return m
    }
}
