import ISMAccess
import ISMEngine

extension Conformance {
    /// Device configurations drawn per campaign, beside the two fixed ones (`devices`).
    public static let drawnShapes = 6

    /// The devices the differential campaigns run on: the two fixed ones, then `drawnShapes`
    /// configurations drawn from the run's seed (`DeviceShapes`), so a driver meets absent and
    /// odd-sized BARs, BARs just above 2^32 and 2^40, maxstbl down to 128, both config sizes
    /// and strict store blocks.
    public static func campaignDevices(_ order: ByteOrder, seed: UInt64, shapes: Bool = true) -> [DeviceConfig] {
        devices(order) + (shapes ? DeviceShapes.draw(seed: seed, count: drawnShapes, byteOrder: order) : [])
    }

    /// What the generator may draw for an implementation: the mid-operation faults only when it
    /// declares it accepts them (not a library without `ISMKIT_CAP_HANDLE_CHANGE`) and the run
    /// asks for them; the shape edges when the run draws shapes.
    static func generatorOptions(_ capabilities: Capabilities?, _ options: ConformanceOptions) -> GeneratorOptions {
        var g = GeneratorOptions()
        g.midOperation = options.midOperationFaults && (capabilities?.midOperationHandleChange ?? false)
        g.shapeEdges = options.deviceShapes
        g.storeRejections = options.storeRejections
        return g
    }
}
