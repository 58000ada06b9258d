import ISMAccess
import ISMEngine
import ISMModel
import Testing

/// The linearizability judgement on hand-made observations: two writes side by side whose
/// device bytes come out as one order gives them are explained; the first write's range
/// holding the second write's bytes is not, and neither is a position no order gives.
@Suite struct LinearizabilityTests {
    let device = DeviceConfig.ism()
    let a = Operation.pwrite(offset: 0, count: 8, pattern: 1, fault: .none)
    let b = Operation.pwrite(offset: 16, count: 8, pattern: 2, fault: .none)

    func side(_ n: Int64, _ position: UInt64, _ length: UInt32) -> PairSideResult {
        PairSideResult(result: .success(n), bytes: [], region: nil, trace: [.storeBlock(bar: 0, position: position, length: length, handle: 0)])
    }

    func pattern(_ p: UInt8) -> [UInt8] { (0..<8).map { DeviceContents.patternByte(p, $0) } }

    func judge(firstRange: [UInt8], positions: [Int64] = [0, 0]) -> Linearizability.Judgement {
        let pair = ConcurrentPair(first: a, second: b, secondFD: 2, hold: 1)
        let observed = PairObservation(held: true, boundaries: 2, positions: positions, first: side(8, 0, 8), second: side(8, 16, 8))
        let readBack = [Linearizability.ReadBack(offset: 0, outcome: .count(8), bytes: firstRange),
                        Linearizability.ReadBack(offset: 16, outcome: .count(8), bytes: pattern(2))]
        return Linearizability.judge(pair, start: GoldenModel(config: device), positions: [0, 0], observed: observed, readBack: readBack)
    }

    @Test func ownBytesAreExplained() {
        #expect(judge(firstRange: pattern(1)).explained)
        #expect(pattern(1) != pattern(2))
    }

    @Test func anotherWritesBytesAreNot() {
        let j = judge(firstRange: pattern(2))
        #expect(!j.explained)
        #expect(j.differences.count == 2)
        #expect(j.differences.allSatisfy { $0.contains("device holds") })
    }

    @Test func aMovedPositionIsNot() {
        let j = judge(firstRange: pattern(1), positions: [24, 0])
        #expect(!j.explained)
        #expect(j.differences.allSatisfy { $0.contains("positions") })
    }

    @Test func twoPositionMovingCallsOnOneFDAreNoPair() {
        #expect(!ConcurrentPair(first: .read(count: 8, fault: .none), second: .write(count: 8, pattern: 1, fault: .none), hold: 0).isMeaningful)
        #expect(ConcurrentPair(first: .read(count: 8, fault: .none), second: .write(count: 8, pattern: 1, fault: .none), secondFD: 2, hold: 0).isMeaningful)
        #expect(!ConcurrentPair(first: .seek(offset: 0, whence: .set), second: a, hold: 0).isMeaningful)
    }
}

/// A read of several loads beside a write: the write between two loads is explained (a read is
/// not atomic on the device), bytes no load boundary gives are not.
@Suite struct TornReadTests {
    let device = DeviceConfig.ism()

    func judge(_ bytes: (_ before: [UInt8], _ after: [UInt8]) -> [UInt8]) -> Linearizability.Judgement {
        // Two 1-byte loads at 9 and 10; the write covers 8..<11.
        let read = Operation.pread(offset: 9, count: 2, fault: .none)
        let write = Operation.pwrite(offset: 8, count: 3, pattern: 7, fault: .none)
        let pair = ConcurrentPair(first: read, second: write, hold: 1)
        let start = GoldenModel(config: device)
        let before = (9..<11).map { DeviceContents.initialByte(seed: device.contentSeed, bar: 0, position: UInt64($0)) }
        let after = (1..<3).map { DeviceContents.patternByte(7, $0) }
        let observed = PairObservation(
            held: true, boundaries: 4, positions: [0, 0],
            first: PairSideResult(result: .success(2), bytes: bytes(before, after), region: nil,
                                  trace: [.load(bar: 0, position: 9, width: 1, handle: 0), .load(bar: 0, position: 10, width: 1, handle: 0)]),
            second: PairSideResult(result: .success(3), bytes: [], region: nil, trace: [.storeBlock(bar: 0, position: 8, length: 3, handle: 0)]))
        let readBack = [Linearizability.ReadBack(offset: 8, outcome: .count(3), bytes: (0..<3).map { DeviceContents.patternByte(7, $0) })]
        return Linearizability.judge(pair, start: start, positions: [0, 0], observed: observed, readBack: readBack)
    }

    @Test func writeBetweenTwoLoadsIsExplained() {
        let j = judge { before, after in [before[0], after[1]] }
        #expect(j.explained)
        #expect(j.splitAt == 1)
    }

    @Test func wholeReadOnEitherSideIsAnOrder() {
        #expect(judge { before, _ in before }.splitAt == nil)
        #expect(judge { before, _ in before }.explained)
        #expect(judge { _, after in after }.explained)
    }

    @Test func newThenOldIsNot() {
        // The first load after the write and the second before it: no moment gives that.
        #expect(!judge { before, after in [after[0], before[1]] }.explained)
    }
}

/// A free-running pair holds neither side, so its second operation, too, may be the read that
/// saw the write between two loads; a held pair's second operation runs whole, so it may not.
@Suite struct FreeRunningTornReadTests {
    let device = DeviceConfig.ism()

    func judge(hold: Int, _ bytes: (_ before: [UInt8], _ after: [UInt8]) -> [UInt8]) -> Linearizability.Judgement {
        let write = Operation.pwrite(offset: 8, count: 3, pattern: 7, fault: .none)
        let read = Operation.pread(offset: 9, count: 2, fault: .none)
        let pair = ConcurrentPair(first: write, second: read, hold: hold)
        let before = (9..<11).map { DeviceContents.initialByte(seed: device.contentSeed, bar: 0, position: UInt64($0)) }
        let after = (1..<3).map { DeviceContents.patternByte(7, $0) }
        let observed = PairObservation(
            held: false, boundaries: 0, positions: [0, 0],
            first: PairSideResult(result: .success(3), bytes: [], region: nil, trace: [.storeBlock(bar: 0, position: 8, length: 3, handle: 0)]),
            second: PairSideResult(result: .success(2), bytes: bytes(before, after), region: nil,
                                   trace: [.load(bar: 0, position: 9, width: 1, handle: 0), .load(bar: 0, position: 10, width: 1, handle: 0)]))
        let readBack = [Linearizability.ReadBack(offset: 8, outcome: .count(3), bytes: (0..<3).map { DeviceContents.patternByte(7, $0) })]
        return Linearizability.judge(pair, start: GoldenModel(config: device), positions: [0, 0], observed: observed, readBack: readBack)
    }

    @Test func secondReadTornByFirstWriteIsExplainedOnlyFreeRunning() {
        let free = judge(hold: ConcurrentPair.freeRunning) { before, after in [before[0], after[1]] }
        #expect(free.explained)
        #expect(free.splitAt == 1)
        #expect(!judge(hold: 0) { before, after in [before[0], after[1]] }.explained)
    }

    @Test func freeRunningStillRejectsNewThenOld() {
        #expect(!judge(hold: ConcurrentPair.freeRunning) { before, after in [after[0], before[1]] }.explained)
        #expect(judge(hold: ConcurrentPair.freeRunning) { _, after in after }.explained)
    }

    @Test func freeRunningIsAMeaningfulHold() {
        let p = ConcurrentPair(first: .pread(offset: 0, count: 8, fault: .none), second: .pwrite(offset: 0, count: 8, pattern: 1, fault: .none),
                               hold: ConcurrentPair.freeRunning)
        #expect(p.isMeaningful && p.isFreeRunning)
        #expect(!ConcurrentPair(first: p.first, second: p.second, hold: -2).isMeaningful)
    }
}
