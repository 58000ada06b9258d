import ISMAccess
import ISMSimulator
import Testing

/// Random operations against every variant (each mutant, both profiles, both byte orders):
/// the simulator never traps, never returns more than asked, keeps its guard bytes (except
/// the overrun mutant), answers only with errno values SPEC.md names or the pool mutant's
/// `broken`, and traces at most one instruction per transferred byte plus one.
@Suite struct RandomOperationTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let allowed: Set<CInt> = [5, 12, 14, 16, 19, 22]  // EIO ENOMEM EFAULT EBUSY ENODEV EINVAL

    @Test("random operations keep the simulator's promises", arguments: [nil] + Mutant.allCases.map { Optional($0) })
    func random(_ mutant: Mutant?) throws {
        for profile in Profile.allCases {
            for order in ByteOrder.allCases {
                var config = DeviceConfig.ism(hostByteOrder: order)
                config.profile = profile
                config.barLengths[4] = 300
                if profile == .vfioPCI { config.msix = MSIXTable(bar: 2, start: 64, length: 32) }
                var d = SimulatedDevice(config: config, mutant: mutant)
                var rng = Rng(state: 7)
                let shift = profile.regionShift
                for _ in 0..<600 {
                    let index = UInt64([0, 2, 4, 7, 1, 6][rng.below(6)])
                    let pos: UInt64 = [0, 8, 4090, 8188, 299, 1 << 39].randomElement(using: &rng)! &+ UInt64(rng.below(16))
                    let count = [0, 1, 2, 3, 7, 8, 13, 16, 64, 4096][rng.below(10)]
                    let fault: Fault = [.none, .none, .device(nth: UInt16(rng.below(3)), errno: .ioError),
                                        .userBuffer(from: rng.below(20)), .allocation][rng.below(5)]
                    let off = index << shift | pos
                    switch rng.below(8) {
                    case 0, 1, 2:
                        let r = pread(&d, off, count, fault: fault)
                        try check(r.result, count: count)
                        if mutant != .readOverrunsBuffer { #expect(r.guardIntact) }
                    case 3, 4:
                        try check(pwrite(&d, off, pattern(count), fault: fault), count: count)
                    case 5:
                        _ = try? d.seek(offset: Int64(off), whence: .set)
                        try check(read(&d, count, fault: fault), count: count)
                    case 6:
                        _ = attempt { () throws(AccessError) in _ = try d.regionInfo(index: UInt32(index), argsz: 32) }
                        try d.recoverHandle()
                    default:
                        _ = attempt { () throws(AccessError) in try d.attachPeer(failPool: rng.below(2) == 0) }
                        if rng.below(2) == 0 { _ = attempt { () throws(AccessError) in try d.detachPeer() } }
                        let res = try d.resources()
                        #expect(res.livePools >= 0 && res.leakedObjects >= 0)
                        if mutant != .globalStorePool && mutant != .initFailureLeaksDevice {
                            #expect(res.leakedObjects == 0)
                        }
                    }
                    let events = trace(&d)
                    #expect(events.count <= max(count, 1) + 1)
                }
            }
        }
    }

    func check(_ r: Result<Int, AccessError>, count: Int) throws {
        switch r {
        case .success(let n):
            #expect(n >= 0 && n <= count)
        case .failure(.errno(let e)):
            #expect(Self.allowed.contains(e.rawValue), "unexpected errno \(e.rawValue)")
        case .failure(.broken(let why)):
            #expect(why.description.contains("store-block pool"))
        }
    }
}

extension RandomOperationTests.Rng: RandomNumberGenerator {}
