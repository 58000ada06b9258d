import Foundation
import ISMAccess
import SystemPackage
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMSimulator
import Testing

@Suite struct ReproducerTests {
    static let ops: [Operation] = {
        var ops: [Operation] = []
        ops.append(.pread(offset: 3, count: 13, fault: .none))
        ops.append(.pwrite(offset: UInt64(2) << 48 | 4095, count: 2, pattern: 9, fault: .device(nth: 0, errno: Errno(rawValue: 5))))
        ops.append(.read(count: 8, fault: .userBuffer(from: 3)))
        ops.append(.write(count: 1, pattern: 0, fault: .allocation))
        ops.append(.seek(offset: -16, whence: .current))
        ops.append(.regionInfo(index: 7, argsz: 16))
        ops += [.recoverHandle, .attachPeer(failPool: true), .detachPeer, .checkResources]
        return ops
    }()

    @Test func roundTripsThroughJSON() throws {
        let r = Reproducer(target: .init(kind: "simulator", parameters: ["mutant": "no-clamp"]), device: .ism(hostByteOrder: .big),
                           seed: 42, operations: Self.ops, divergence: nil)
        let back = try Reproducer.decode(r.encoded())
        #expect(back == r)
        let text = String(decoding: r.encoded(), as: UTF8.self)
        #expect(text.contains("\"offset\" : \"0x2000000000fff\""))
        #expect(text.contains("\"fault\" : \"device[0]=EIO\""))
    }

    @Test(arguments: [
        ("not json", "not a valid reproducer"),
        ("{}", "missing \"format\""),
        (#"{"format":"other","version":1,"target":{"kind":"simulator","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[]}"#, "format is \"other\""),
        (#"{"format":"ismkit-reproducer","version":9,"target":{"kind":"simulator","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[]}"#, "version 9 is not supported"),
        (#"{"format":"ismkit-reproducer","version":1,"target":{"kind":"simulator","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[{"op":"pread","offset":"zz","count":1}]}"#, "offset must be a hex string"),
        (#"{"format":"ismkit-reproducer","version":1,"target":{"kind":"simulator","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[{"op":"pread","offset":"0x0","count":-1}]}"#, "negative count"),
        (#"{"format":"ismkit-reproducer","version":1,"target":{"kind":"simulator","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[{"op":"fly"}]}"#, "unknown operation \"fly\""),
    ])
    func malformedFilesSayWhatIsWrong(text: String, expected: String) {
        do {
            _ = try Reproducer.decode(Data(text.utf8), name: "f.json")
            Issue.record("accepted a malformed reproducer")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func replayIsDeterministic() throws {
        let config = DeviceConfig.ism(hostByteOrder: .big)
        let kill = MutantKillRun.run(mutant: .readCopiesU64Prefix, seed: TestSeed.value, operationsPerMutant: 100_000)
        let repro = try #require(kill.reproducer)
        let diff = MutantKillRun.differential(config: config, mutant: .readCopiesU64Prefix)
        let first = try diff.check(repro.operations)
        let second = try diff.check(repro.operations)
        #expect(first != nil && first == second)
        #expect(first?.rule == .read3)
    }
}
