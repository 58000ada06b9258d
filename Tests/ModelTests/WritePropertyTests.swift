import ISMAccess
import SystemPackage
import ISMModel
import PropertyBased
import Testing

/// §5 properties of the model's writes, with exact boundaries checked explicitly as well.
@Suite struct WritePropertyTests {
    static let position = Gen.oneOf(
        Gen.uint64(in: 0...16),
        Gen.uint64(in: 4080...4112),
        Gen.uint64(in: 8100...8191),
        Gen.uint64(in: 0...8191)
    )
    static let count = Gen.oneOf(
        pick([0, 1, 2, 3, 7, 8, 9, 15, 16, 4095, 4096, 4097, 2047, 2048, 2049]),
        Gen.int(in: 1...5000)
    )

    /// The acceptance rule written out from SPEC §3 and §5 (not taken from the model).
    static func accepted(pos: UInt64, count: Int, length: UInt64, maxstbl: UInt64) -> Result<Int, AccessError> {
        if count == 0 { return .success(0) }
        if pos >= length { return .failure(.einval) }
        let n = min(UInt64(count), length - pos)
        if n > maxstbl { return .failure(.einval) }
        if pos % 4096 + n > 4096 { return .failure(.einval) }
        return .success(Int(n))
    }

    @Test func writesFollowClampThenMaxstblThenPageRule() async {
        await propertyCheck(count: 400, input: Self.position, Self.count, pick([4096, 2048] as [UInt64])) { pos, count, maxstbl in
            var config = DeviceConfig.ism()
            config.maxstbl = maxstbl
            var model = GoldenModel(config: config)
            let data = (0..<count).map { DeviceContents.patternByte(7, $0) }
            let seen = model.pwriteObserved(ismOffset(2, pos), data)
            let expected = Self.accepted(pos: pos, count: count, length: 8192, maxstbl: maxstbl)
            #expect(seen.result == expected)
            if case .success(let n) = expected, n > 0 {
                #expect(seen.trace == [.storeBlock(bar: 2, position: pos, length: UInt32(n), handle: 0)])
                let back = model.preadObserved(ismOffset(2, pos), n)
                #expect(back.bytes == Array(data.prefix(n)))
            } else {
                #expect(seen.trace.isEmpty)
            }
        }
    }

    @Test func exactBoundaries() {
        var model = GoldenModel(config: .ism())
        let page = [UInt8](repeating: 1, count: 4096)
        // Ending exactly on the page boundary is allowed; one byte more is not (R-WRITE-2).
        #expect(model.pwriteObserved(ismOffset(0, 4095), [1]).result == .success(1))
        #expect(model.pwriteObserved(ismOffset(0, 4095), [1, 2]).result == .failure(.einval))
        #expect(model.pwriteObserved(ismOffset(0, 4088), Array(page.prefix(8))).result == .success(8))
        #expect(model.pwriteObserved(ismOffset(0, 4089), Array(page.prefix(8))).result == .failure(.einval))
        // count == maxstbl is allowed, maxstbl + 1 is not (R-WRITE-1).
        #expect(model.pwriteObserved(ismOffset(0, 8192), page).result == .success(4096))
        #expect(model.pwriteObserved(ismOffset(0, 8192), page + [1]).result == .failure(.einval))
        // The clamp comes before the checks: 32 bytes 16 before the end of an 8 KiB BAR write 16 (R-BAR-3).
        #expect(model.pwriteObserved(ismOffset(2, 8176), Array(page.prefix(32))).result == .success(16))
    }

    @Test func faultsStopTheStore() {
        var model = GoldenModel(config: .ism())
        let eight = [UInt8](repeating: 9, count: 8)
        let efault = model.pwriteObserved(ismOffset(0, 0), eight, fault: .userBuffer(from: 3))
        #expect(efault.result == .failure(.efault) && efault.trace.isEmpty)
        let enomem = model.pwriteObserved(ismOffset(0, 0), eight, fault: .allocation)
        #expect(enomem.result == .failure(.enomem) && enomem.trace.isEmpty)
        let eio = model.pwriteObserved(ismOffset(0, 0), eight, fault: .device(nth: 0, errno: Errno(rawValue: 5)))
        #expect(eio.result == .failure(.eio) && eio.trace.count == 1)
    }

    @Test func strictStoreBlocksRejectWhatTheArchitectureForbids() {
        var config = DeviceConfig.ism()
        config.storeBlocks = .strict
        var model = GoldenModel(config: config)
        #expect(model.pwriteObserved(ismOffset(0, 0), [UInt8](repeating: 0, count: 16)).result == .success(16))
        #expect(model.pwriteObserved(ismOffset(0, 0), [UInt8](repeating: 0, count: 8)).result == .failure(.eio))
        #expect(model.pwriteObserved(ismOffset(0, 4), [UInt8](repeating: 0, count: 16)).result == .failure(.eio))
    }
}
