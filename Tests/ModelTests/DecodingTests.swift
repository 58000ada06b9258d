import ISMAccess
import SystemPackage
import ISMModel
import Testing

/// §1, §2, §6, §7 and §9 cases written out by hand from SPEC.md.
@Suite struct DecodingTests {
    @Test func zeroCountsReturnZeroWhateverTheOffsetDecodesTo() {
        var model = GoldenModel(config: .ism())
        for offset in [ismOffset(0, 0), ismOffset(1, 0), ismOffset(6, 0), ismOffset(0x7FFF, 5), ismOffset(2, 1 << 40)] {
            #expect(model.preadObserved(offset, 0).result == .success(0))
            #expect(model.pwriteObserved(offset, []).result == .success(0))
        }
        // The VFS rejects a negative offset before the driver's zero check (R-OFF-4).
        #expect(model.preadObserved(1 << 63, 0).result == .failure(.einval))
    }

    @Test func regionIndexIsInTheTop16Bits() {
        var model = GoldenModel(config: .ism())
        // BAR0 is 256 TiB: positions above 1 TiB belong to BAR0, not to BAR1 (R-OFF-1).
        #expect(model.preadObserved(ismOffset(0, TiB + 8), 8).result == .success(8))
        #expect(model.preadObserved(ismOffset(0, (1 << 48) - 8), 8).result == .success(8))
        #expect(model.preadObserved(ismOffset(1, 0), 8).result == .failure(.einval))  // absent BAR (R-BAR-1)
        #expect(model.preadObserved(ismOffset(6, 0), 8).result == .failure(.einval))  // ROM (R-OFF-3)
        #expect(model.preadObserved(ismOffset(8, 0), 8).result == .failure(.einval))  // VGA (R-OFF-3)
    }

    @Test func regionInfoTable() throws {
        var model = GoldenModel(config: .ism())
        #expect(try model.regionInfo(index: 0, argsz: 32) == RegionInfo(index: 0, offset: 0, size: 1 << 48, flags: [.read, .write]))
        #expect(try model.regionInfo(index: 1, argsz: 32) == RegionInfo(index: 1, offset: 1 << 48, size: 0, flags: []))
        #expect(try model.regionInfo(index: 2, argsz: 32) == RegionInfo(index: 2, offset: 2 << 48, size: 8192, flags: [.read, .write]))
        #expect(try model.regionInfo(index: 7, argsz: 32) == RegionInfo(index: 7, offset: 7 << 48, size: 4096, flags: [.read, .write]))
        #expect(throws: AccessError.einval) { try model.regionInfo(index: 6, argsz: 32) }
        #expect(throws: AccessError.einval) { try model.regionInfo(index: 9, argsz: 32) }
        #expect(throws: AccessError.einval) { try model.regionInfo(index: 0, argsz: 31) }
    }

    @Test func vfioPCIProfileUsesThe40BitShift() throws {
        var config = DeviceConfig(barLengths: [0, 0, 1 << 20, 0, 0, 0], profile: .vfioPCI)
        config.msix = MSIXTable(bar: 2, start: 0x1000, length: 0x100)
        var model = GoldenModel(config: config)
        #expect(try model.regionInfo(index: 2, argsz: 32).offset == 2 << 40)
        let msix = model.preadObserved(2 << 40 | 0x1000, 4)
        #expect(msix.bytes == [0xFF, 0xFF, 0xFF, 0xFF] && msix.trace.isEmpty)
        let w = model.pwriteObserved(2 << 40 | 0x3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
        #expect(w.trace.map { if case let .store(_, p, width, _) = $0 { return [p, UInt64(width)] } else { return [] } }
            == [[3, 1], [4, 4], [8, 8]] as [[UInt64]])
    }

    @Test func configSpaceIsBoundedNotClamped() {
        var model = GoldenModel(config: .ism())
        #expect(model.preadObserved(ismOffset(7, 4092), 4).result == .success(4))
        #expect(model.preadObserved(ismOffset(7, 4092), 5).result == .failure(.efault))
        #expect(model.preadObserved(ismOffset(7, 4096), 1).result == .failure(.efault))
    }

    @Test func positionMovesOnSuccessOnly() throws {
        var model = GoldenModel(config: .ism())
        var buf = [UInt8](repeating: 0, count: 8)
        _ = try buf.withUnsafeMutableBytes { b throws(AccessError) in try model.read(into: b, fault: .none) }
        #expect(model.position == 8)
        _ = try? buf.withUnsafeMutableBytes { b throws(AccessError) in try model.read(into: b, fault: .device(nth: 0, errno: Errno(rawValue: 5))) }
        #expect(model.position == 8)
        #expect(throws: AccessError.einval) { try model.seek(offset: -9, whence: .current) }
        #expect(try model.seek(offset: -8, whence: .current) == 0)
    }

    @Test func handlesAndLifecycle() throws {
        var model = GoldenModel(config: .ism())
        try model.recoverHandle()
        #expect(model.preadObserved(0, 1).trace == [.load(bar: 0, position: 0, width: 1, handle: 1)])
        #expect(throws: AccessError.enomem) { try model.attachPeer(failPool: true) }
        #expect(try model.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        try model.attachPeer(failPool: false)
        #expect(try model.resources() == ResourceCounts(livePools: 2, leakedObjects: 0))
        try model.detachPeer()
        #expect(try model.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
    }

    @Test func learnedContentsAreUnknownUntilSeen() throws {
        var model = GoldenModel(config: .ism(), contents: .learned)
        _ = model.preadObserved(ismOffset(0, 0), 8)
        #expect(model.lastDecision.unknownBytes == [0..<8])
        let seen: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        seen.withUnsafeBytes { model.learn(readAt: ismOffset(0, 0), bytes: $0) }
        let again = model.preadObserved(ismOffset(0, 4), 8)
        #expect(Array(again.bytes.prefix(4)) == [5, 6, 7, 8])
        #expect(model.lastDecision.unknownBytes == [4..<8])
    }
}
