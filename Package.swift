// swift-tools-version: 6.1
// ismkit: a fuzzing and conformance test kit for the Linux ism-vfio-pci driver.
//
// Layers (each a folder under Sources/):
//   Access/            the ISMAccess protocol, operations, errors, traces, device configuration, rule IDs
//   Model/             the golden reference model (pure: no I/O)
//   Implementations/   implementations under test (simulated device with mutants, driver source, VFIO)
//   Harness/           operation generator, differential engine, shrinker, reproducers
//   Tool/              the `ismkit` command-line tool
import PackageDescription

let package = Package(
    name: "ismkit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ismkit", targets: ["ismkit"]),
        .library(name: "ISMAccess", targets: ["ISMAccess"]),
        .library(name: "ISMModel", targets: ["ISMModel"]),
        .library(name: "ISMHarness", targets: ["ISMHarness"]),
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
        // Implementations under test.
        .target(name: "ISMSimulator", dependencies: ["ISMAccess"], path: "Sources/Implementations/Simulator"),
        // A real device through VFIO (CVFIO: the ioctl numbers and structs Swift cannot import).
        .target(name: "CVFIO", path: "Sources/Implementations/CVFIO"),
        .target(
            name: "ISMVFIO",
            dependencies: ["ISMAccess", "ISMModel", "CVFIO", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Implementations/VFIO"
        ),
        // A driver main.c built in user space (native and s390x) or an ismkit_access.h library,
        // driven out of process over the wire protocol; plus the conformance runner.
        .target(
            name: "ISMDriverSource",
            dependencies: ["ISMAccess", "ISMModel", "ISMHarness", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Implementations/DriverSource"
        ),
        // Harnesses.
        .target(
            name: "ISMHarness",
            dependencies: ["ISMAccess", "ISMModel", "ISMSimulator"],
            path: "Sources/Harness"
        ),
        // The command-line tool.
        .executableTarget(
            name: "ismkit",
            dependencies: [
                "ISMAccess", "ISMModel", "ISMSimulator", "ISMHarness", "ISMVFIO", "ISMDriverSource",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Tool"
        ),
        // libFuzzer targets (docs/fuzzing.md). A plain build gives each a replay `main`; the fuzz
        // build (`make fuzz`) passes -Xswiftc -DISMKIT_LIBFUZZER and --sanitize=fuzzer instead.
        .executableTarget(
            name: "diff-sim", dependencies: ["ISMAccess", "ISMModel", "ISMSimulator", "ISMHarness"], path: "FuzzTargets/diff-sim"
        ),
        .target(name: "CDriverLoader", path: "FuzzTargets/CDriverLoader"),
        .executableTarget(
            name: "diff-driver", dependencies: ["ISMAccess", "ISMModel", "ISMHarness", "CDriverLoader"], path: "FuzzTargets/diff-driver"
        ),
        .executableTarget(name: "parse", dependencies: ["ISMAccess", "ISMHarness", "ISMDriverSource"], path: "FuzzTargets/parse"),
        .testTarget(
            name: "ModelTests",
            dependencies: [
                "ISMAccess", "ISMModel",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/ModelTests"
        ),
        .testTarget(
            name: "HarnessTests",
            dependencies: [
                "ISMAccess", "ISMModel", "ISMSimulator", "ISMHarness",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/HarnessTests"
        ),
        .testTarget(name: "DriverSourceTests", dependencies: ["ISMAccess", "ISMModel", "ISMHarness", "ISMDriverSource"], path: "Tests/DriverSourceTests"),
        .testTarget(name: "SimulatorTests", dependencies: ["ISMAccess", "ISMSimulator"], path: "Tests/SimulatorTests"),
        .testTarget(
            name: "VFIOTests",
            dependencies: ["ISMAccess", "ISMModel", "ISMVFIO", .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/VFIOTests"
        ),
    ]
)
