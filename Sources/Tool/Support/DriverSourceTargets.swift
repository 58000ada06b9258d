import ISMAccess
import ISMDriverSource
import ISMHarness

/// Replays reproducers of `ismkit conform`: target kind `driver-source` (parameters `path`,
/// `byte-order`) rebuilds the driver source (from the cache when unchanged) and runs it in the
/// harness; kind `library` (parameter `path`) loads the library in the library host.
enum DriverSourceTargets {
    static func differential(for target: Reproducer.Target, device: DeviceConfig) throws(UsageError) -> Differential<AnyISMAccess> {
        guard let path = target.parameters["path"], !path.isEmpty else {
            throw UsageError("reproducer target \(target.kind) needs a \"path\" parameter")
        }
        do {
            if target.kind == "library" {
                let host = try HarnessBuilder.buildLibraryHost()
                return Differential(config: device, compareTrace: true) { () throws(AccessError) in
                    AnyISMAccess(try DriverSourceAccess(libraryHost: host, library: path, config: device))
                }
            }
            let order = target.parameters["byte-order"].flatMap(ByteOrder.init(rawValue:)) ?? device.hostByteOrder
            let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
            return Differential(config: device, compareTrace: true) { () throws(AccessError) in
                AnyISMAccess(try DriverSourceAccess(harness: bin, config: device))
            }
        } catch {
            throw UsageError("\(path): \(error.description)")
        }
    }
}
