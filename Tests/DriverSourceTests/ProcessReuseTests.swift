import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// A reused harness process (RESET between sequences) behaves as a freshly started one, and
/// only a process that did not break or end is reused.
extension DriverSourceTests {
    static func access(_ revision: String, _ order: ByteOrder, pool: IdleProcessPool?) throws -> WireAccess {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver(revision), variant: order == .big ? .big : .little)
        return try WireAccess(harness: bin, config: .ism(hostByteOrder: order), reuse: pool)
    }

    /// What a device shows right after it was made: trace, first bytes, position, handle, pools.
    static func firstLook(_ a: inout WireAccess) throws -> [String] {
        var trace: [TraceEvent] = []
        a.takeTrace(into: &trace)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { buf.deallocate() }
        buf.initializeMemory(as: UInt8.self, repeating: 0)
        _ = try a.pread(into: buf, offset: 0, fault: .none)
        let position = try a.seek(offset: 0, whence: .current)
        let data: [UInt8] = [1, 2, 3, 4]
        _ = try data.withUnsafeBytes { try a.write(from: $0, fault: .none) }
        a.takeTrace(into: &trace)
        let counts = try a.resources()
        try a.attachPeer(failPool: false)
        return ["\(trace)", "\(Array(buf))", "\(position)", "\(counts)"]
    }

    @Test(arguments: [ByteOrder.little, .big])
    func resetProcessLooksFresh(order: ByteOrder) throws {
        var fresh = try Self.access("merged", order, pool: nil)
        let expected = try Self.firstLook(&fresh)
        let pool = IdleProcessPool()
        do {
            var first = try Self.access("merged", order, pool: pool)
            // Change everything a RESET must undo: memory, position, handle, peer, trace.
            let data: [UInt8] = Array(repeating: 0xAB, count: 16)
            _ = try data.withUnsafeBytes { try first.pwrite(from: $0, offset: 0, fault: .none) }
            _ = try first.seek(offset: 256, whence: .set)
            try first.recoverHandle()
            try first.attachPeer(failPool: false)
            _ = try data.withUnsafeBytes { try first.pwrite(from: $0, offset: 32, fault: .none) }
        }
        var second = try Self.access("merged", order, pool: pool)
        #expect(pool.resets == 1)
        #expect(try Self.firstLook(&second) == expected)
    }

    @Test func endedProcessIsNotReused() throws {
        let pool = IdleProcessPool()
        do {
            let first = try Self.access("merged", .little, pool: pool)
            try first.finish()
        }
        _ = try Self.access("merged", .little, pool: pool)
        #expect(pool.resets == 0)
    }

    @Test func resetReportsTheCountsFromBeforeIt() throws {
        let pool = IdleProcessPool()
        var before = ResourceCounts(livePools: -1, leakedObjects: -1)
        do {
            // v3-probe's remove leaves the peer's pool behind (R-LIFE-2).
            var first = try Self.access("v3-probe", .little, pool: pool)
            try first.attachPeer(failPool: false)
            try first.detachPeer()
            before = try first.resources()
        }
        #expect(before.leakedObjects > 0)
        var second = try Self.access("v3-probe", .little, pool: pool)
        #expect(pool.resets == 1)
        #expect(pool.countsBeforeReset == [before])
        #expect(try second.resources().leakedObjects == 0)
    }
}
