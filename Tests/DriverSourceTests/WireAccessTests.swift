import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// WireAccess on the merged revision, checked against SPEC.md's own examples (not
/// against the model), on both byte orders.
extension DriverSourceTests {
    static func merged(_ order: ByteOrder, config: DeviceConfig? = nil) throws -> WireAccess {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: order == .big ? .big : .little)
        return try WireAccess(harness: bin, config: config ?? .ism(hostByteOrder: order))
    }

    @Test(arguments: [ByteOrder.little, .big])
    func splitExampleAndByteTransparency(order: ByteOrder) throws {
        var a = try Self.merged(order)
        #expect(a.capabilities.hostByteOrder == order)
        #expect(a.capabilities.trace && a.capabilities.faults && a.capabilities.lifecycle && a.capabilities.handleRecovery)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 13, alignment: 8)
        defer { buf.deallocate() }
        // R-READ-1: pos 3, count 13 -> 1@3, 4@4, 8@8.
        #expect(try a.pread(into: buf, offset: 3, fault: .none) == 13)
        var trace: [TraceEvent] = []
        a.takeTrace(into: &trace)
        #expect(trace == [.load(bar: 0, position: 3, width: 1, handle: 0), .load(bar: 0, position: 4, width: 4, handle: 0),
                          .load(bar: 0, position: 8, width: 8, handle: 0)])
        // R-READ-3: the bytes are the device's bytes on either byte order.
        let seed = DeviceConfig.ism().contentSeed
        #expect(Array(buf) == (3..<16).map { DeviceContents.initialByte(seed: seed, bar: 0, position: UInt64($0)) })
    }

    @Test(arguments: [ByteOrder.little, .big])
    func writeIsOneStoreBlockAndPositionAndHandleMove(order: ByteOrder) throws {
        var a = try Self.merged(order)
        let data: [UInt8] = (0..<24).map { UInt8($0 * 7 + 1) }
        var trace: [TraceEvent] = []
        // R-WRITE-2: crossing a page is EINVAL, no store.
        #expect(throws: AccessError.einval) { try data.withUnsafeBytes { try a.pwrite(from: $0, offset: 4090, fault: .none) } }
        a.takeTrace(into: &trace)
        #expect(trace.isEmpty)
        // R-FH-1 and R-WRITE-3: after a recovery the store block carries the new handle.
        try a.recoverHandle()
        #expect(try a.seek(offset: 64, whence: .set) == 64)
        #expect(try data.withUnsafeBytes { try a.write(from: $0, fault: .none) } == 24)
        a.takeTrace(into: &trace)
        #expect(trace == [.storeBlock(bar: 0, position: 64, length: 24, handle: 1)])
        #expect(try a.seek(offset: 0, whence: .current) == 88)
        #expect(throws: AccessError.einval) { try a.seek(offset: -89, whence: .current) }
        // R-OFF-4 before anything else, even for count 0.
        #expect(throws: AccessError.einval) { try a.pread(into: UnsafeMutableRawBufferPointer(start: nil, count: 0), offset: 1 << 63, fault: .none) }
        // R-LIFE: peer comes and goes with its own pool.
        #expect(try a.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        try a.attachPeer(failPool: false)
        #expect(throws: AccessError.errno(.resourceBusy)) { try a.attachPeer(failPool: false) }
        #expect(try a.resources() == ResourceCounts(livePools: 2, leakedObjects: 0))
        try a.detachPeer()
        #expect(throws: AccessError.errno(.operationNotSupportedByDevice)) { try a.detachPeer() }
        #expect(throws: AccessError.enomem) { try a.attachPeer(failPool: true) }
        #expect(try a.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        try a.finish()
    }
}
