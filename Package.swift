// swift-tools-version: 6.1
// ismkit: a fuzzing and conformance test kit for the Linux ism-vfio-pci driver.
//
// Layers (each a folder under Sources/; docs/architecture.md walks through them):
//   Access/            ISMAccess: the protocol every implementation under test conforms to,
//                      operations, faults, typed errors, traces, device configuration, rule IDs
//   Model/             ISMModel: the golden reference model (pure: no I/O)
//   Engine/            ISMEngine: session, differential, the one run loop, shrinker, generator,
//                      budget, findings, reproducers and the one reproducer store, C program emitter
//   Fuzzing/           ISMFuzzing: fuzz-input encoding, corpus seeds, artifacts, fuzz-target support
//   Checks/            ISMChecks: the implementation registry, mutant kill run, driver-source
//                      conformance and lifecycle checks, the hardware run
//   Implementations/   implementations under test: Simulator/, OutOfProcess/ (wire protocol:
//                      driver source, C-ABI library), VFIO/ + CVFIO/ (real devices)
//   Tool/              the `ismkit` command: parses, calls a check, prints
//
// The dependency rule: Access <- Model <- Engine <- Fuzzing, Checks <- Tool. Implementations
// depend on Access only (and their own C targets); Checks is the one layer that knows both the
// engine and the implementations. Nothing depends upwards.
import PackageDescription

let package = Package(
    name: "ismkit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ismkit", targets: ["ismkit"]),
        .library(name: "ISMAccess", targets: ["ISMAccess"]),
        .library(name: "ISMModel", targets: ["ISMModel"]),
        .library(name: "ISMEngine", targets: ["ISMEngine"]),
        .library(name: "ISMChecks", targets: ["ISMChecks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Access layer: what every implementation under test promises.
        .target(
            name: "ISMAccess",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Access"
        ),
        // The golden reference model: SPEC.md as executable code.
        .target(name: "ISMModel", dependencies: ["ISMAccess"], path: "Sources/Model"),
        // The engine: runs operations on an implementation beside the model, shrinks, stores reproducers.
        .target(
            name: "ISMEngine", dependencies: ["ISMAccess", "ISMModel", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Engine"
        ),
        // libFuzzer support: the input encoding, seeds, artifacts.
        .target(
            name: "ISMFuzzing", dependencies: ["ISMAccess", "ISMEngine", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Fuzzing"
        ),
        // Implementations under test (Access only).
        .target(name: "ISMSimulator", dependencies: ["ISMAccess"], path: "Sources/Implementations/Simulator"),
        // A real device through VFIO (CVFIO: the ioctl numbers and structs Swift cannot import).
        .target(name: "CVFIO", path: "Sources/Implementations/CVFIO"),
        .target(
            name: "ISMVFIO",
            dependencies: ["ISMAccess", "CVFIO", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Implementations/VFIO"
        ),
        // Implementations in another process over the wire protocol: a driver main.c built in user
        // space (native and s390x), an ismkit_access.h library in the library host.
        .target(
            name: "ISMOutOfProcess",
            dependencies: ["ISMAccess", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Implementations/OutOfProcess"
        ),
        // The checks: the registry of implementation kinds and the runs built on the engine.
        .target(
            name: "ISMChecks",
            dependencies: ["ISMAccess", "ISMModel", "ISMEngine", "ISMSimulator", "ISMOutOfProcess", "ISMVFIO"],
            path: "Sources/Checks"
        ),
        // The command-line tool.
        .executableTarget(
            name: "ismkit",
            dependencies: [
                "ISMAccess", "ISMModel", "ISMEngine", "ISMFuzzing", "ISMChecks", "ISMSimulator", "ISMVFIO", "ISMOutOfProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Tool"
        ),
        // libFuzzer targets (docs/fuzzing.md). A plain build gives each a replay `main`; the fuzz
        // build (`ismkit fuzz`) passes -Xswiftc -DISMKIT_LIBFUZZER and -sanitize=fuzzer,address instead.
        .executableTarget(
            name: "diff-sim", dependencies: ["ISMAccess", "ISMEngine", "ISMFuzzing", "ISMChecks"], path: "FuzzTargets/diff-sim"
        ),
        .target(name: "CDriverLoader", path: "FuzzTargets/CDriverLoader"),
        .executableTarget(
            name: "diff-driver", dependencies: ["ISMAccess", "ISMModel", "ISMEngine", "ISMFuzzing", "ISMChecks", "CDriverLoader"],
            path: "FuzzTargets/diff-driver"
        ),
        .executableTarget(name: "parse", dependencies: ["ISMAccess", "ISMEngine", "ISMFuzzing", "ISMOutOfProcess"], path: "FuzzTargets/parse"),
        .testTarget(
            name: "ModelTests",
            dependencies: [
                "ISMAccess", "ISMModel",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/ModelTests"
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "ISMAccess", "ISMModel", "ISMSimulator", "ISMEngine", "ISMFuzzing", "ISMChecks",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/EngineTests"
        ),
        .testTarget(
            name: "DriverSourceTests", dependencies: ["ISMAccess", "ISMModel", "ISMEngine", "ISMChecks", "ISMOutOfProcess"],
            path: "Tests/DriverSourceTests"
        ),
        .testTarget(
            name: "SimulatorTests", dependencies: ["ISMAccess", "ISMSimulator", .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/SimulatorTests"
        ),
        .testTarget(
            name: "VFIOTests",
            dependencies: ["ISMAccess", "ISMModel", "ISMEngine", "ISMChecks", "ISMVFIO", .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/VFIOTests"
        ),
        // ismkit-agent through the host's client (AgentConnection, AgentDevice, the hardware run), on the
        // agent's fake-device test build (native/agent/build.sh).
        .testTarget(
            name: "AgentTests",
            dependencies: ["ISMAccess", "ISMModel", "ISMEngine", "ISMChecks", "ISMOutOfProcess", "ISMVFIO",
                           .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/AgentTests"
        ),
    ]
)
