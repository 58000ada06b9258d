import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMEngine
import ISMModel

/// The summary of one differential run, printed for people and written as JSON for CI
/// (`--report FILE`).
struct RunReport: Codable {
    var verdict: String  // "conforming" or "divergence"
    var target: String
    var profile: String
    var hostByteOrder: String
    var seed: UInt64
    var operations: Int
    var seconds: Double
    var operationsPerSecond: Double
    var rulesExercised: [String]
    var checksNotMade: [String]
    var divergence: Divergence?
    var shrunkOperations: [Operation]?
    var reproducer: String?

    init(result: CampaignTotals, target: Reproducer.Target, device: DeviceConfig, seed: UInt64,
         checksNotMade: [String], reproducer: String?) {
        verdict = result.divergence == nil ? "conforming" : "divergence"
        self.target = target.description
        profile = device.profile.rawValue
        hostByteOrder = device.hostByteOrder.rawValue
        self.seed = seed
        operations = result.operations
        seconds = result.elapsed.seconds
        operationsPerSecond = result.operationsPerSecond
        rulesExercised = result.rulesExercised.map(\.rawValue)
        self.checksNotMade = checksNotMade
        divergence = result.divergence
        shrunkOperations = result.shrunk
        self.reproducer = reproducer
    }

    /// The human-readable report.
    func printText() {
        if let d = divergence {
            print("DIVERGENCE [\(d.headline)] after \(operations) operations (\(String(format: "%.1f", seconds)) s)")
            if let ops = shrunkOperations {
                print("shrunk to \(ops.count) operation(s):")
                for (i, op) in ops.enumerated() { print("  \(i + 1). \(op.summary(in: d.layout))") }
            }
            print(d.description)
            if let r = reproducer {
                print("reproducer: \(r)")
                print("replay:     ismkit replay \(r)")
            }
        } else {
            print("conforming: \(operations) operations in \(String(format: "%.1f", seconds)) s "
                + "(\(Int(operationsPerSecond)) ops/s), no divergence")
        }
        print("rules exercised: \(rulesExercised.count)/\(Rule.allCases.count) (\(rulesExercised.joined(separator: " ")))")
        print("checks not made: \(checksNotMade.isEmpty ? "none" : checksNotMade.joined(separator: "; "))")
    }

    func write(to path: String) throws(UsageError) {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try e.encode(self).write(to: URL(fileURLWithPath: path))
        } catch {
            throw UsageError("\(path): cannot write the report: \(error.localizedDescription)")
        }
    }

    /// Which checks an implementation with these capabilities cannot have made (SPEC §10).
    static func checksNotMade(_ c: Capabilities, compareTrace: Bool) -> [String] {
        var out: [String] = []
        if !compareTrace { out.append("trace (R-READ-1 load widths, R-WRITE-3 store blocks, R-FH-1 handles)") }
        if !c.faults { out.append("injected faults (R-READ-4, R-READ-5, R-WRITE-4, R-WRITE-5)") }
        if !c.lifecycle { out.append("lifecycle (R-LIFE-1, R-LIFE-2)") }
        if !c.handleRecovery { out.append("handle recovery (R-FH-1)") }
        if c.faults && !c.midOperationHandleChange { out.append("handle changes inside an operation (R-FH-1)") }
        if !c.seek { out.append("seek (read/write beyond position 0)") }
        return out
    }
}

/// Standard error, for progress lines and warnings.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
