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

    /// The fixed devices (`devices`) with their region bases from tables drawn from `seed`
    /// (`DeviceShapes.regionTable`, bases out of index order, odd page gaps): what a library
    /// announcing `ISMKIT_CAP_REGION_TABLE` also runs on, after the campaign devices.
    public static func regionTableDevices(_ order: ByteOrder, seed: UInt64) -> [DeviceConfig] {
        devices(order).enumerated().map { DeviceShapes.withRegionTable($0.element, seed: seed &+ UInt64($0.offset)) }
    }

    /// The name of the check that runs the region-table devices, or says why they did not run.
    public static let regionTableCheck = "differential (region bases from a table)"

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
