import ISMAccess
import ISMEngine

/// The simulated device `diff-sim` fuzzes, chosen in one place so that the target, `ismkit
/// fuzz` (which converts raw artifacts) and `ismkit replay --artifact` agree on it: the ISM
/// device (`DeviceConfig.ism`), with its region bases from a fixed table when the mutant needs
/// one (`Mutant.needsRegionTable`) or `ISMKIT_DEVICE=table` asks for it.
public enum FuzzDevice: String, Sendable, CaseIterable {
    /// Region i at `i << 48` (the shift layout).
    case ism
    /// The ISM device with region bases from `DeviceShapes.regionTable(seed: regionTableSeed)`.
    case table

    /// The seed of diff-sim's region table. Fixed, so a raw input always means the same offsets
    /// and a raw artifact replays without a reproducer beside it; changing it changes what every
    /// raw table-device artifact means.
    public static let regionTableSeed: UInt64 = 1

    /// The environment variable that chooses the device (`ism` or `table`; default `ism`).
    public static let environmentVariable = "ISMKIT_DEVICE"

    /// The device for `byteOrder`: with the fixed region table when `self` is `.table` or
    /// `needsRegionTable` (a mutant that shows only on a table device), else the shift layout.
    public func config(byteOrder: ByteOrder, needsRegionTable: Bool = false) -> DeviceConfig {
        let device = DeviceConfig.ism(hostByteOrder: byteOrder)
        guard self == .table || needsRegionTable else { return device }
        return DeviceShapes.withRegionTable(device, seed: Self.regionTableSeed)
    }

    /// The choice `ISMKIT_DEVICE` names (unset or empty: `.ism`; anything else: a usage error).
    public static func fromEnvironment() -> FuzzDevice {
        guard let s = FuzzTarget.environment(environmentVariable) else { return .ism }
        guard let d = FuzzDevice(rawValue: s) else { FuzzTarget.usageError("\(environmentVariable)=\(s): expected ism or table") }
        return d
    }
}
