import ArgumentParser
import Foundation
import ISMAccess
import ISMOutOfProcess
import ISMChecks
import ISMEngine

/// `ismkit conform`: does this driver source (or this ismkit_access.h library) conform?
/// Builds it (cached by content hash), runs the differential engine against the golden model
/// with traces compared, then the lifecycle checks of SPEC §8, per byte order.
struct Conform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a driver main.c (built in user space, little- and big-endian) or an ismkit_access.h library against the model.",
        discussion: """
            The driver source is compiled unmodified against the harness's stand-in kernel headers: natively \
            (little-endian, plus an AddressSanitizer/LeakSanitizer build for the lifecycle checks) and for s390x \
            (big-endian, run under qemu-s390x). Exit 0: conforming. Exit 1: non-conforming (violated rule IDs and \
            reproducer paths are printed). Exit 2: the source does not build (the compiler's first error is shown), \
            a tool is missing, or bad input.
            """
    )

    enum Orders: String, ExpressibleByArgument, CaseIterable {
        case little, big, both
        var values: [ByteOrder] {
            switch self {
            case .little: [.little]
            case .big: [.big]
            case .both: [.little, .big]
            }
        }
    }

    @Option(name: .customLong("driver-source"), help: "A driver main.c (for example ../shared/kernel/merged/main.c).")
    var driverSource: String?

    @Option(help: "A shared library implementing include/ismkit_access.h.")
    var library: String?

    @Option(name: .customLong("byte-order"), help: "little, big or both (a library: this machine's order only).")
    var byteOrder: Orders?

    @OptionGroup var budget: BudgetOptions

    @Option(help: "Time-out of every call into the implementation, in seconds.")
    var timeout: Double = 10

    @OptionGroup var output: ReproducerOutputOptions

    @Flag(name: .customLong("no-lifecycle"), help: "Skip the lifecycle checks (benchmarks).")
    var noLifecycle = false

    @OptionGroup var sequence: SequenceOptions

    @OptionGroup var junitOption: JUnitOptions

    mutating func validate() throws {
        guard (driverSource == nil) != (library == nil) else {
            throw ValidationError("give exactly one of --driver-source PATH or --library PATH")
        }
        let path = driverSource ?? library!
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw ValidationError("\(path): no such file")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        if library != nil, let o = byteOrder, o != .both, o.values != [ByteOrder.native] {
            throw ValidationError("a library runs in this machine's byte order (\(ByteOrder.native.rawValue)) only")
        }
    }

    func run() throws {
        let target: ConformanceTarget = driverSource.map { .driverSource(path: $0) } ?? .library(path: library!)
        let orders = library != nil ? [ByteOrder.native] : (byteOrder ?? .both).values
        let b: Budget = budget.operations.map { .operations($0) } ?? budget.seconds.map { .seconds($0) } ?? .operations(4000)
        let options = ConformanceOptions(
            budget: b, seed: budget.seed, timeout: .milliseconds(Int64(timeout * 1000)),
            reproducerDirectory: output.output, lifecycle: !noLifecycle, sequenceLength: sequence.sequenceLength)
        let name = driverSource ?? library!
        var reports: [ConformanceReport] = []
        for order in orders {
            printError("ismkit conform: \(name), \(order.rawValue)-endian, seed \(budget.seed), \(b)")
            let report: ConformanceReport
            do {
                report = try Conformance.run(target, byteOrder: order, options: options)
            } catch {
                switch error {
                case .sourceDoesNotBuild(let first): throw UsageError("\(name) does not build: \(first)")
                case .toolMissing(let t): throw UsageError(t)
                case .io(let e): throw UsageError(e)
                }
            }
            reports.append(report)
            let rate = "\(report.operations) operations in \(String(format: "%.1f", report.seconds)) s, \(Int(report.operationsPerSecond)) ops/s"
            if report.conforming {
                print("\(order.rawValue)-endian: conforming (\(rate))")
            } else {
                print("\(order.rawValue)-endian: NON-CONFORMING: \(report.headlines.joined(separator: ", ")) (\(rate))")
                for f in report.findings { print("  " + f.description.replacingOccurrences(of: "\n", with: "\n  ")) }
            }
        }
        if reports.count == 2, reports[0].operationsPerSecond > 0 {
            print(String(format: "ops/s big-endian / little-endian: %.3f (%d / %d)",
                         reports[1].operationsPerSecond / reports[0].operationsPerSecond,
                         Int(reports[1].operationsPerSecond), Int(reports[0].operationsPerSecond)))
        }
        if let junit = junitOption.junit {
            var j = JUnitReport(suite: "ismkit conform")
            for (order, report) in zip(orders, reports) {
                j.cases.append(.init(
                    name: "\(name) \(order.rawValue)-endian conforms", seconds: report.seconds,
                    failure: report.conforming ? nil
                        : ("non-conforming: " + report.headlines.joined(separator: ", "),
                           report.findings.map(\.description).joined(separator: "\n\n"))))
            }
            try j.write(to: junit)
        }
        var seen = Set<String>()
        let found = reports.flatMap(\.headlines).filter { seen.insert($0).inserted }
        if !found.isEmpty {
            throw FindingExit(message: "non-conforming: " + found.joined(separator: ", "))
        }
        print("verdict: conforming")
    }
}
