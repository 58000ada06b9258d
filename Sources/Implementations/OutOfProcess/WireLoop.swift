import Foundation
import ISMAccess
import enum ISMAccess.Operation

/// The baseline of the driver-source benchmark: the same operations run by the harness itself
/// in a plain C loop through the same driver build (`ISMKIT_WIRE_LOOP`, docs/wire-protocol.md),
/// with no protocol, no model and no checking in the timed part.
///
/// Promise: the loop runs exactly the operations of `sequences` (each from a fresh device, as
/// a campaign's sequences are), repeated until `minimumSeconds` have passed, and reports the
/// operations it ran and the time they took as the harness measured it.
public enum WireLoop {
    /// What one loop run measured.
    public struct Measurement: Sendable {
        public var operations: Int
        public var seconds: Double
        public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
    }

    /// The loop script: `CONFIG`, then each sequence's requests, `RESET` between sequences.
    public static func script(config: DeviceConfig, sequences: [[Operation]]) -> [UInt8] {
        var out = Array((WireAccess.configRequest(config) + "\n").utf8)
        let buffers = BatchBuffers()
        for (i, ops) in sequences.enumerated() {
            if i > 0 { out.append(contentsOf: "RESET\n".utf8) }
            for op in ops {
                let count = min(op.count ?? 0, 1 << 20)
                buffers.ensureCapacity(count)
                if op.isWrite { buffers.fillPattern(op, count: count) }
                var line: [UInt8] = []
                WireAccess.appendRequest(op, count: count, writeData: UnsafeRawBufferPointer(rebasing: buffers.write[0..<count]), to: &line)
                if op.isRead { line.removeLast(); line.append(UInt8(ascii: "-")) }  // zeros: no carry in a loop
                out.append(contentsOf: line)
                out.append(10)
            }
        }
        return out
    }

    /// Runs `script` through `harness` (its command: under qemu for s390x) in loop mode.
    public static func run(_ harness: HarnessBinary, script: [UInt8], minimumSeconds: Double = 1) throws(AccessError) -> Measurement {
        let path = NSTemporaryDirectory() + "/ismkit-loop-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        guard FileManager.default.createFile(atPath: path, contents: Data(script)) else {
            throw .broken(.cannotStart("cannot write the loop script \(path)"))
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: harness.command[0])
        p.arguments = Array(harness.command.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["ISMKIT_WIRE_LOOP"] = path
        env["ISMKIT_WIRE_LOOP_SECONDS"] = String(minimumSeconds)
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw .broken(.cannotStart("\(harness.command[0]): \(error.localizedDescription)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let f = text.split(separator: " ")
        guard p.terminationStatus == 0, f.count >= 3, f[0] == "LOOP", let ops = Int(f[1]), let ns = Double(f[2]) else {
            throw .broken(.protocolError("the loop run ended with status \(p.terminationStatus): \(text.prefix(80))"))
        }
        return Measurement(operations: ops, seconds: ns / 1e9)
    }
}
