import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMOutOfProcess
import ISMVFIO
import SystemPackage
import Testing

/// Windows of operations through the agent as compact frames (`AgentDevice.perform(batch:…)`).
@Suite struct AgentBatchTests {
    static let allow = WriteAllowList([.init(region: 2, first: 0, last: 0xFFF)])

    /// What a window left: each outcome, read bytes and guard damage, the read buffer, the journal.
    struct Run: Equatable {
        var outcomes: [Outcome] = []
        var bytes: [[UInt8]] = []
        var guards: [Int?] = []
        var buffer: [UInt8] = []
        var journal: [String] = []
        var position: UInt64 = 0
        var refused = 0
    }

    /// A mixed window: reads of many sizes (some short at the end of the file), writes inside and
    /// outside the list, read/write at the position, seeks, region info, faults, unsupported ones.
    static func window(_ seed: UInt64, count: Int) -> [Operation] {
        var rng = SplitMix(seed)
        var ops: [Operation] = []
        for _ in 0..<count {
            let n = [1, 2, 4, 8, 13, 24, 40][Int(rng.next() % 7)]
            switch rng.next() % 12 {
            case 0, 1, 2: ops.append(.pread(offset: 2 << 40 | rng.next() % 0x1800, count: n, fault: .none))
            case 3: ops.append(.pread(offset: 8 << 40 | (0xFFF0 + rng.next() % 0x10), count: n, fault: .none))  // the file ends at 0x90000
            case 4: ops.append(.pwrite(offset: 2 << 40 | rng.next() % 0x1100, count: n, pattern: UInt8(truncatingIfNeeded: rng.next()), fault: .none))
            case 5: ops.append(.read(count: n, fault: .none))
            case 6: ops.append(.write(count: n, pattern: UInt8(truncatingIfNeeded: rng.next()), fault: .none))
            case 7: ops.append(.seek(offset: Int64(2 << 40 | rng.next() % 0x1000), whence: .set))
            case 8: ops.append(.seek(offset: Int64(rng.next() % 64) - 32, whence: .current))
            case 9: ops.append(.regionInfo(index: UInt32(rng.next() % 3), argsz: 32))
            case 10: ops.append(rng.next() % 2 == 0 ? .pread(offset: 2 << 40, count: n, fault: .allocation) : .recoverHandle)
            default: ops.append(.pwrite(offset: 2 << 40 | 0x10, count: n, pattern: 1, fault: .allocation))
            }
        }
        return ops
    }

    /// Runs `ops` on a fresh fake agent over a copy of `device`, as one batch or one by one.
    static func run(_ ops: [Operation], device: [UInt8], batch: Bool, agent: String? = nil) throws -> Run {
        let path = NSTemporaryDirectory() + "ismkit-agent-batch-\(UUID().uuidString).bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data(device))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try AgentConnection(endpoint: .command(try Fake.command(device: path)))
        let journal = WriteJournal()
        var d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: allow, record: { journal.record(region: $0, position: $1, bytes: $2) })
        let buffers = BatchBuffers(capacity: 64)
        // The read buffer starts with bytes of its own, as a buffer a program reused would.
        for i in 0..<buffers.read.count { buffers.read[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
        var results = BatchResults()
        if batch {
            d.perform(batch: ops[...], buffers: buffers, maxTransfer: 1 << 20, into: &results)
        } else {
            d.performOneByOne(batch: ops[...], buffers: buffers, maxTransfer: 1 << 20, into: &results)
        }
        var r = Run()
        r.outcomes = results.outcomes
        for i in 0..<results.count {
            r.bytes.append(results.withReadBytes(i) { Array($0) })
            r.guards.append(results.guardDamage(i))
        }
        r.buffer = Array(buffers.read)
        r.journal = journal.entries.map { "\($0.region) \($0.position) \($0.bytes)" }
        r.position = d.kernelPosition
        r.refused = d.refusedWrites
        try c.quit()
        return r
    }

    @Test func aBatchLeavesWhatOneByOneLeaves() throws {
        let dev = Fake.device()
        for seed in 1...4 as ClosedRange<UInt64> {
            let ops = Self.window(seed, count: 300)
            let one = try Self.run(ops, device: dev.bytes, batch: false)
            let all = try Self.run(ops, device: dev.bytes, batch: true)
            #expect(one.outcomes.count == ops.count)
            #expect(one.outcomes.contains { if case .failed(.errno(.notPermitted)) = $0 { true } else { false } })
            #expect(one.bytes.contains { !$0.isEmpty })
            var first: Int?
            for k in 0..<max(all.outcomes.count, one.outcomes.count) where first == nil {
                if k >= all.outcomes.count || k >= one.outcomes.count { first = k; break }
                if all.outcomes[k] != one.outcomes[k] || all.bytes[k] != one.bytes[k] || all.guards[k] != one.guards[k] { first = k }
            }
            #expect(first == nil, "seed \(seed): operation \(first ?? -1) (\(ops[first ?? 0])) differs")
            #expect(all.buffer == one.buffer && all.journal == one.journal && all.position == one.position && all.refused == one.refused,
                    "seed \(seed): buffer, journal, position or refused count differs")
        }
    }

    @Test func aHangInTheMiddleOfABatchNamesTheOperation() throws {
        let dev = Fake.device()
        // The 7th pread (kernel offset 0x20030) hangs; the agent's watchdog sends the 6 answers before it.
        let cmd = "ISMKIT_AGENT_FAKE_HANG=\(0x20030) " + (try Fake.command(device: dev.path))
        let c = try AgentConnection(endpoint: .command(cmd), timeout: .seconds(2))
        var d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        let ops = (0..<10).map { Operation.pread(offset: 2 << 40 | UInt64(8 * $0), count: 4, fault: .none) }
        var results = BatchResults()
        d.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: 1 << 20, into: &results)
        #expect(results.count == 7)
        #expect(results.outcomes.prefix(6).allSatisfy { $0 == .count(4) })
        guard case .failed(.broken(let b))? = results.outcomes.last else { Issue.record("no breakage: \(results.outcomes)"); return }
        #expect(b.description.contains("no answer within 2 s to the compact frame of PREAD \(0x20030) 4"), "\(b)")
    }

    @Test func anAgentDyingInTheMiddleOfABatchNamesTheOperation() throws {
        let dev = Fake.device()
        // The agent's input ends inside the 8th frame: DEVICE, REGIONS, COMPACT 1 and END (27
        // bytes), then COMPACT 1, CARRY of 20 bytes (35), then 13 bytes per pread frame.
        let cut = 27 + 35 + 13 * 7 + 5
        let cmd = "dd bs=1 count=\(cut) status=none | " + (try Fake.command(device: dev.path))
        let c = try AgentConnection(endpoint: .command(cmd), timeout: .seconds(5))
        var d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        let ops = (0..<20).map { Operation.pread(offset: 2 << 40 | UInt64(8 * $0), count: 4, fault: .none) }
        var results = BatchResults()
        d.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: 1 << 20, into: &results)
        #expect(results.count == 8)
        #expect(results.outcomes.prefix(7).allSatisfy { $0 == .count(4) })
        guard case .failed(.broken(let b))? = results.outcomes.last else { Issue.record("no breakage: \(results.outcomes)"); return }
        #expect(b.description.contains("compact frame of PREAD \(0x20000 + 8 * 7) 4"), "\(b)")
    }

    @Test func aMalformedCompactAnswerBreaksTheSessionAtItsOperation() throws {
        // Answers COMPACT 1 and END, then in the batch OK 1, one good pread answer, then status 7.
        let c = try AgentConnection(endpoint: .command(Fake.scripted(then: """
            read c; echo 'OK 1 - -'; read d; echo 'OK 0 - -'; read e; echo 'OK 1 - -'; \
            printf '\\000\\000\\000\\000\\000\\000\\004\\000\\000\\000\\001\\002\\003\\004\\007'; cat >/dev/null
            """)))
        var d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        let ops = (0..<3).map { Operation.pread(offset: 2 << 40 | UInt64(8 * $0), count: 4, fault: .none) }
        var results = BatchResults()
        d.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: 1 << 20, into: &results)
        #expect(results.outcomes.first == .count(4))
        #expect(results.count == 2)
        guard case .failed(.broken(let b))? = results.outcomes.last else { Issue.record("no breakage: \(results.outcomes)"); return }
        #expect(b.description.contains("protocol: the compact frame of PREAD \(0x20008) 4: status 7"), "\(b)")
        #expect(c.brokenReason != nil)
    }

    @Test func anAgentWithoutCompactFramesIsDrivenOneByOne() throws {
        let c = try AgentConnection(endpoint: .command(Fake.scripted(then: """
            read c; echo 'BAD unknown request'; read d; echo 'OK 4 01020304 -'; read e; echo 'OK 2 0506 -'; cat >/dev/null
            """)))
        var d = try AgentDevice(connection: c, profile: .vfioPCI, allowList: Self.allow)
        let ops: [Operation] = [.pread(offset: 2 << 40, count: 4, fault: .none), .pread(offset: 2 << 40, count: 2, fault: .none)]
        var results = BatchResults()
        d.perform(batch: ops[...], buffers: BatchBuffers(), maxTransfer: 1 << 20, into: &results)
        #expect(results.outcomes == [.count(4), .count(2)])
        #expect(results.withReadBytes(1) { Array($0) } == [5, 6])
    }
}

/// A small deterministic generator for the windows.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
