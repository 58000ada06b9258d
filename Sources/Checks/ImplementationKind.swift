import Foundation
import ISMAccess
import ISMEngine
import ISMOutOfProcess
import ISMSimulator

/// Every kind of implementation ismkit drives, and the one place that knows their on-disk
/// names: a reproducer's `target` decodes to exactly one kind, each kind encodes to its target,
/// names its reproducer files, and (where it runs without a device at hand) makes itself again
/// for `replay`. A new implementation kind is one case here.
public enum ImplementationKind: Sendable, Hashable, CustomStringConvertible {
    /// The simulated device, correct or with a catalog mutant; `byteOrder` when the run chose it.
    case simulator(mutant: Mutant?, byteOrder: ByteOrder? = nil)
    /// A driver `main.c` built into the driver-source harness for a byte order.
    case driverSource(path: String, byteOrder: ByteOrder)
    /// A shared library implementing include/ismkit_access.h, in the library host.
    case library(path: String)
    /// A real device through Linux VFIO, judged in a profile.
    case vfio(device: String, profile: Profile)
    /// A real device served by ismkit-agent (a command's stdin/stdout or a unix socket), judged in a profile.
    case agent(endpoint: AgentEndpoint, profile: Profile)

    /// Why a reproducer's target names no implementation this ismkit can make.
    public struct Unknown: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    // MARK: on-disk names (the only literals of them)

    static let simulatorName = "simulator"
    static let driverSourceName = "driver-source"
    static let libraryName = "library"
    static let vfioName = "vfio"
    static let agentName = "agent"

    /// The kind names, for messages.
    public static let names = [simulatorName, driverSourceName, libraryName, vfioName, agentName]

    /// The kind a reproducer's target names.
    public init(_ target: Reproducer.Target, device: DeviceConfig) throws(Unknown) {
        let p = target.parameters
        func path() throws(Unknown) -> String {
            guard let path = p["path"], !path.isEmpty else { throw Unknown(description: "reproducer target \(target.kind) needs a \"path\" parameter") }
            return path
        }
        switch target.kind {
        case Self.simulatorName:
            let order = p["byte-order"].flatMap(ByteOrder.init(rawValue:))
            self = .simulator(mutant: try Self.mutant(named: p["mutant"]), byteOrder: order)
        case Self.driverSourceName:
            self = .driverSource(path: try path(), byteOrder: p["byte-order"].flatMap(ByteOrder.init(rawValue:)) ?? device.hostByteOrder)
        case Self.libraryName:
            self = .library(path: try path())
        case Self.vfioName:
            self = .vfio(device: p["device"] ?? "DEVICE", profile: p["profile"].flatMap(Profile.init(rawValue:)) ?? device.profile)
        case Self.agentName:
            let endpoint: AgentEndpoint
            if let c = p["connect"], let e = try? AgentEndpoint.parseConnect(c) { endpoint = e } else { endpoint = .command(p["command"] ?? "AGENT") }
            self = .agent(endpoint: endpoint, profile: p["profile"].flatMap(Profile.init(rawValue:)) ?? device.profile)
        default:
            throw Unknown(description: "reproducer target kind \"\(target.kind)\" is not known to this ismkit (known: \(Self.names.joined(separator: ", ")))")
        }
    }

    /// The catalog mutant called `name` (nil, empty or `none`: the correct simulator).
    public static func mutant(named name: String?) throws(Unknown) -> Mutant? {
        guard let name, !name.isEmpty, name != "none" else { return nil }
        guard let m = Mutant(rawValue: name) else { throw Unknown(description: "unknown mutant \"\(name)\" (see 'ismkit mutants --list')") }
        return m
    }

    /// The target a reproducer records for this kind.
    public var target: Reproducer.Target {
        switch self {
        case let .simulator(mutant, order):
            var p: [String: String] = [:]
            if let mutant { p["mutant"] = mutant.rawValue }
            if let order { p["byte-order"] = order.rawValue }
            return Reproducer.Target(kind: Self.simulatorName, parameters: p)
        case let .driverSource(path, order):
            return Reproducer.Target(kind: Self.driverSourceName, parameters: ["path": Self.absolute(path), "byte-order": order.rawValue])
        case let .library(path):
            return Reproducer.Target(kind: Self.libraryName, parameters: ["path": Self.absolute(path), "byte-order": ByteOrder.native.rawValue])
        case let .vfio(device, profile):
            return Reproducer.Target(kind: Self.vfioName, parameters: ["device": device, "profile": profile.rawValue])
        case let .agent(endpoint, profile):
            return Reproducer.Target(kind: Self.agentName, parameters: [Self.agentParameter(endpoint).key: Self.agentParameter(endpoint).value,
                                                                        "profile": profile.rawValue])
        }
    }

    /// The start of its reproducer file names (`ReproducerStore`).
    public var fileStem: String {
        switch self {
        case let .simulator(mutant, order): Self.simulatorName + "-" + (mutant?.rawValue ?? order?.rawValue ?? "main")
        case let .driverSource(_, order): Self.driverSourceName + "-" + order.rawValue
        case .library: Self.libraryName + "-" + ByteOrder.native.rawValue
        case let .vfio(_, profile): Self.vfioName + "-" + profile.rawValue
        case let .agent(_, profile): Self.agentName + "-" + profile.rawValue
        }
    }

    public var description: String { target.description }

    /// `command` (run through /bin/sh -c) or `connect` (`unix:PATH`), as `ismkit hw` takes them.
    static func agentParameter(_ e: AgentEndpoint) -> (key: String, value: String, flag: String) {
        switch e {
        case .command(let c): ("command", c, "--agent '\(c)'")
        case .unixSocket(let path): ("connect", "unix:" + path, "--connect unix:\(path)")
        }
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    // MARK: making one again

    /// A differential for running this kind on `device` from a fresh start each time; a real
    /// device is not made here (its pre-flight checks and write allow-list belong to `ismkit hw`).
    public func differential(device: DeviceConfig, timeout: Duration = .seconds(10)) throws(Unknown) -> Differential<AnyISMAccess> {
        switch self {
        case let .simulator(mutant, _):
            return Differential(config: device) { AnyISMAccess(SimulatedDevice(config: device, mutant: mutant)) }
        case let .library(path):
            let host: String
            do { host = try HarnessBuilder.buildLibraryHost() } catch { throw Unknown(description: "\(path): \(error.description)") }
            return Differential(config: device, compareTrace: true) { () throws(AccessError) in
                AnyISMAccess(try WireAccess(libraryHost: host, library: path, config: device, timeout: timeout))
            }
        case let .driverSource(path, order):
            let bin: HarnessBinary
            do { bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little) } catch {
                throw Unknown(description: "\(path): \(error.description)")
            }
            return Differential(config: device, compareTrace: true) { () throws(AccessError) in
                AnyISMAccess(try WireAccess(harness: bin, config: device, timeout: timeout))
            }
        case let .vfio(dev, _):
            throw Unknown(description: "a hardware reproducer replays on the device: ismkit hw --device \(dev) --operations-file FILE [--allow-write REGION:START-END]")
        case let .agent(endpoint, _):
            throw Unknown(description: "a hardware reproducer replays on the device: ismkit hw \(Self.agentParameter(endpoint).flag) --operations-file FILE [--allow-write REGION:START-END]")
        }
    }

    /// The simulator as a generic differential (hot loops: `run`, `bench`, `mutants`, `diff-sim`).
    public static func simulator(config: DeviceConfig, mutant: Mutant?) -> Differential<SimulatedDevice> {
        Differential(config: config) { SimulatedDevice(config: config, mutant: mutant) }
    }
}
