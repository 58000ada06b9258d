import ISMAccess
import ISMEngine

extension Conformance {
    /// Device configurations drawn per campaign, beside the two fixed ones (`devices`).
    public static let drawnShapes = 6

    /// The devices the differential campaigns run on: the two fixed ones, then `drawnShapes`
    /// configurations drawn from the run's seed (`DeviceShapes`), so a driver meets absent and
    /// odd-sized BARs, BARs just above 2^32 and 2^40, maxstbl down to 128, both config sizes
    /// and strict store blocks.
    public static func campaignDevices(_ order: ByteOrder, seed: UInt64) -> [DeviceConfig] {
        devices(order) + DeviceShapes.draw(seed: seed, count: drawnShapes, byteOrder: order)
    }

    /// What the generator may draw for an implementation: the mid-operation faults only when it
    /// declares it accepts them (a library without `ISMKIT_CAP_HANDLE_CHANGE`).
    static func generatorOptions(_ capabilities: Capabilities?) -> GeneratorOptions {
        var g = GeneratorOptions()
        g.midOperation = capabilities?.midOperationHandleChange ?? false
        return g
    }
}
