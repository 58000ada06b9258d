import ISMAccess
import SystemPackage
import ISMModel
import PropertyBased
import Testing

/// §4 properties of the model's reads, over positions biased to alignments, page and
/// BAR edges, and the 1 TiB / 128 TiB / 256 TiB boundaries, on both host byte orders.
@Suite struct ReadPropertyTests {
    /// Positions near the places drivers get wrong, with every alignment.
    static let position = Gen.oneOf(
        Gen.uint64(in: 0...64),
        Gen.uint64(in: 4080...4112),
        Gen.uint64(in: (TiB - 24)...(TiB + 24)),
        Gen.uint64(in: ((1 << 47) - 24)...((1 << 47) + 24)),
        Gen.uint64(in: ((1 << 48) - 40)...((1 << 48) - 1)),
        Gen.uint64(in: 0...((1 << 48) - 1))
    )
    static let count = Gen.oneOf(
        pick([0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 31, 33, 4095, 4096, 4097]),
        Gen.int(in: 1...80)
    )
    static let order = pick(ByteOrder.allCases)

    @Test func readsAreByteTransparentOnBothByteOrders() async {
        await propertyCheck(count: 300, input: Self.position, Self.count, Self.order) { pos, count, order in
            let config = DeviceConfig.ism(hostByteOrder: order)
            var model = GoldenModel(config: config)
            let seen = model.preadObserved(ismOffset(0, pos), count)
            let expectedCount = Int(min(UInt64(count), (1 << 48) - pos))
            #expect(seen.result == .success(expectedCount))
            #expect(Array(seen.bytes.prefix(expectedCount)) == deviceBytes(config, bar: 0, at: pos, count: expectedCount))
        }
    }

    @Test func splitIsAlignedGreedyAndCoversTheRange() async {
        await propertyCheck(count: 300, input: Self.position, Self.count) { pos, count in
            var model = GoldenModel(config: .ism())
            let seen = model.preadObserved(ismOffset(0, pos), count)
            guard case .success(let n) = seen.result else { Issue.record("read failed: \(seen.result)"); return }
            var at = pos
            for event in seen.trace {
                guard case let .load(bar, p, w, _) = event else { Issue.record("not a load: \(event)"); return }
                let width = UInt64(w)
                let remaining = pos + UInt64(n) - at
                #expect(bar == 0 && p == at)
                #expect([1, 2, 4, 8].contains(width))
                #expect(p % width == 0, "load \(event) is not aligned")
                // Greedy: no larger width would have been allowed here (R-READ-1).
                for larger in [2, 4, 8] as [UInt64] where larger > width {
                    #expect(!(remaining >= larger && p % larger == 0), "load \(event): \(larger) bytes were allowed")
                }
                at += width
            }
            #expect(at == pos + UInt64(n))
        }
    }

    @Test func oneReadEqualsTwoReadsOfTheSameRange() async {
        await propertyCheck(count: 300, input: Self.position, Gen.int(in: 2...64), Gen.int(in: 1...63)) { pos, count, cut in
            guard cut < count, pos + UInt64(count) <= 1 << 48 else { return }
            var model = GoldenModel(config: .ism(hostByteOrder: .big))
            let whole = model.preadObserved(ismOffset(0, pos), count)
            let head = model.preadObserved(ismOffset(0, pos), cut)
            let tail = model.preadObserved(ismOffset(0, pos + UInt64(cut)), count - cut)
            #expect(whole.bytes == head.bytes + tail.bytes)
        }
    }

    @Test func readsAreClampedAtTheBarEndAndRejectedPastIt() async {
        let len: UInt64 = 8192
        await propertyCheck(count: 200, input: Gen.uint64(in: (len - 40)...(len + 8)), Self.count) { pos, count in
            var model = GoldenModel(config: .ism())
            let seen = model.preadObserved(ismOffset(2, pos), count)
            if count == 0 {
                #expect(seen.result == .success(0))
            } else if pos >= len {
                #expect(seen.result == .failure(.einval))
                #expect(seen.trace.isEmpty)
            } else {
                #expect(seen.result == .success(Int(min(UInt64(count), len - pos))))
            }
        }
    }

    @Test func specExampleSplit() {
        var model = GoldenModel(config: .ism())
        let seen = model.preadObserved(ismOffset(0, 3), 13)
        #expect(seen.trace == [
            .load(bar: 0, position: 3, width: 1, handle: 0),
            .load(bar: 0, position: 4, width: 4, handle: 0),
            .load(bar: 0, position: 8, width: 8, handle: 0),
        ])
    }

    @Test func aFailingLoadFailsTheWholeReadAndTheTraceStopsThere() {
        var model = GoldenModel(config: .ism())
        let seen = model.preadObserved(ismOffset(0, 3), 13, fault: .device(nth: 1, errno: Errno(rawValue: 5)))
        #expect(seen.result == .failure(.eio))
        #expect(seen.trace.count == 2)
        #expect(model.position == 0)
    }

    @Test func aUserBufferFaultIsEFAULT() {
        var model = GoldenModel(config: .ism())
        #expect(model.preadObserved(ismOffset(0, 0), 16, fault: .userBuffer(from: 8)).result == .failure(.efault))
        #expect(model.preadObserved(ismOffset(0, 0), 16, fault: .userBuffer(from: 16)).result == .success(16))
    }
}
