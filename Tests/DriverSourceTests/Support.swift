import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// All driver-source tests in one serialized suite: they start many processes, and the
/// machine has two cores.
@Suite(.serialized) struct DriverSourceTests {}

extension DriverSourceTests {
    /// A fresh temporary folder for one test.
    static func temporaryFolder(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "ismkit-driver-tests-\(getpid())/\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Options for a test run: an operation budget, no reproducer files, a short time-out.
    static func options(operations: Int = 3000, timeout: Duration = .seconds(10), lifecycle: Bool = true) -> ConformanceOptions {
        ConformanceOptions(budget: .operations(operations), seed: 1, timeout: timeout, reproducerDirectory: nil, lifecycle: lifecycle)
    }

    /// Runs conformance for one byte order and prints the report (the table in the test log).
    static func verdict(_ path: String, _ order: ByteOrder, options: ConformanceOptions = options()) throws -> ConformanceReport {
        let r = try Conformance.run(.driverSource(path: path), byteOrder: order, options: options)
        print("\(URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent)/\(URL(fileURLWithPath: path).lastPathComponent) "
              + "\(order.rawValue): \(r.conforming ? "conforming" : "non-conforming " + r.violatedRules.map(\.rawValue).joined(separator: " ")) "
              + "(\(r.operations) ops, \(Int(r.operationsPerSecond)) ops/s)")
        for f in r.findings { print("  " + f.description.replacingOccurrences(of: "\n", with: "\n  ")) }
        return r
    }
}
