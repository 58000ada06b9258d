import ArgumentParser
import ISMAccess
import ISMFuzzing

/// `--byte-order little|big` (`native` = this machine's).
enum ByteOrderArgument: String, ExpressibleByArgument, CaseIterable {
    case little, big, native
    var value: ByteOrder {
        switch self {
        case .little: .little
        case .big: .big
        case .native: .native
        }
    }
}

/// `--profile ism|vfio-pci`.
/// `--device`: the fixed ISM device, a device shape drawn from the run's seed (`DeviceShapes`),
/// or the ISM device with its region bases from a table drawn from the seed.
enum DeviceShapeArgument: String, ExpressibleByArgument, CaseIterable {
    case ism, drawn, table
}

/// `--device ism|table` of `fuzz` and `replay --artifact`: diff-sim's device (`FuzzDevice`).
enum FuzzDeviceArgument: String, ExpressibleByArgument, CaseIterable {
    case ism, table
    var value: FuzzDevice { self == .ism ? .ism : .table }
}

enum ProfileArgument: String, ExpressibleByArgument, CaseIterable {
    case ism
    case vfioPCI = "vfio-pci"
    var value: Profile { self == .ism ? .ism : .vfioPCI }
}
