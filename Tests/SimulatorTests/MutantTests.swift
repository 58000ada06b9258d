import ISMAccess
import SystemPackage
import ISMSimulator
import Testing

/// Every mutant changes behaviour on the input it should: for each one, the same scenario
/// on the correct device and on the mutant, each with its hand-worked expected outcome.
/// The switch is exhaustive, so a new mutant cannot be added without a test here.
@Suite struct MutantTests {
    @Test("catalog: unique raw values, one-line summaries, observable byte orders")
    func catalog() {
        #expect(Mutant.allCases.count >= 29)
        #expect(Set(Mutant.allCases.map(\.rawValue)).count == Mutant.allCases.count)
        for m in Mutant.allCases {
            #expect(!m.summary.isEmpty && !m.summary.contains("\n"), "\(m)")
            #expect(!m.byteOrders.isEmpty, "\(m)")
            #expect(Mutant(rawValue: m.rawValue) == m)
        }
        #expect(Mutant.readCopiesU64Prefix.byteOrders == [.big])
        #expect(Mutant.readCopiesU64Prefix.rule == .read3)
    }

    @Test("each mutant changes behaviour on its input", arguments: Mutant.allCases)
    func changesBehaviour(_ m: Mutant) throws {
        let order = m.byteOrders.last!
        var c = device(order: order)
        var x = device(m, order: order)
        switch m {
        case .readCopiesU64Prefix:
            #expect(pread(&c, offset(2, 0), 2).bytes == initial(bar: 2, 0..<2))
            #expect(pread(&x, offset(2, 0), 2).bytes == [0, 0])
            #expect(pread(&x, offset(2, 0), 8).bytes == initial(bar: 2, 0..<8))  // 8-byte loads are fine
            var little = device(m, order: .little)
            #expect(pread(&little, offset(2, 0), 2).bytes == initial(bar: 2, 0..<2))
        case .readRefusesSub8:
            #expect(pread(&c, offset(2, 0), 4).result == .success(4))
            #expect(pread(&x, offset(2, 0), 4).result == .failure(.einval))
            #expect(pread(&x, offset(2, 4), 8).result == .failure(.einval))
            #expect(pread(&c, offset(2, 0), 12).result == .success(12))
            #expect(pread(&x, offset(2, 0), 12).result == .success(8))
        case .writeFragmented:
            #expect(pwrite(&c, offset(2, 4), pattern(16)) == .success(16))
            #expect(trace(&c) == [stb(2, 4, 16)])
            #expect(pwrite(&x, offset(2, 4), pattern(16)) == .success(16))
            #expect(trace(&x) == [store(2, 4, 4), store(2, 8, 8), store(2, 16, 4)])
        case .globalStorePool:
            try c.attachPeer(failPool: false)
            try x.attachPeer(failPool: false)
            #expect(try c.resources() == ResourceCounts(livePools: 2, leakedObjects: 0))
            #expect(try x.resources() == ResourceCounts(livePools: 2, leakedObjects: 1))
            try c.detachPeer()
            try x.detachPeer()
            #expect(try c.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
            #expect(try x.resources() == ResourceCounts(livePools: 1, leakedObjects: 1))
            #expect(pwrite(&c, offset(2, 0), [1]) == .success(1))
            #expect(pwrite(&x, offset(2, 0), [1]) == .failure(.broken(.misuse("use after free: store-block pool"))))
        case .initFailureLeaksDevice:
            #expect(attempt { () throws(AccessError) in try c.attachPeer(failPool: true) } == .enomem)
            #expect(attempt { () throws(AccessError) in try x.attachPeer(failPool: true) } == .enomem)
            #expect(try c.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
            #expect(try x.resources() == ResourceCounts(livePools: 1, leakedObjects: 1))
        case .offsetShift40:
            // 2 << 40 is BAR0 position 2^41 under the 48-bit decoding, BAR2 position 0 under 40.
            #expect(pread(&c, 2 << 40, 4).result == .success(4))
            #expect(trace(&c) == [load(0, 1 << 41, 4)])
            #expect(pread(&x, 2 << 40, 4).result == .success(4))
            #expect(trace(&x) == [load(2, 0, 4)])
            #expect(try c.regionInfo(index: 2, argsz: 32).offset == 2 << 48)
            #expect(try x.regionInfo(index: 2, argsz: 32).offset == 2 << 40)
        case .positionMask47:
            let p: UInt64 = 1 << 47 | 5
            #expect(pread(&c, offset(0, p), 1).bytes == initial(bar: 0, p..<(p + 1)))
            #expect(trace(&c) == [load(0, p, 1)])
            #expect(pread(&x, offset(0, p), 1).result == .success(1))
            #expect(trace(&x) == [load(0, 5, 1)])
        case .pageCrossOffByOne:
            #expect(pwrite(&c, offset(0, 4094), [1, 2]) == .success(2))
            #expect(pwrite(&x, offset(0, 4094), [1, 2]) == .failure(.einval))
            #expect(pwrite(&x, offset(0, 4093), [1, 2]) == .success(2))
        case .maxstblOffByOne:
            #expect(pwrite(&c, offset(0, 0), pattern(4096)) == .success(4096))
            #expect(pwrite(&x, offset(0, 0), pattern(4096)) == .failure(.einval))
            #expect(pwrite(&x, offset(0, 0), pattern(4095)) == .success(4095))
        case .noClamp:
            #expect(pread(&c, offset(2, 8190), 4).result == .success(2))
            #expect(pread(&x, offset(2, 8190), 4).result == .failure(.eio))
            #expect(trace(&x) == [load(2, 8190, 2), load(2, 8192, 2)])
            // A write can overrun only a BAR shorter than a page: BAR2 of 256 bytes.
            var c256 = device { $0.barLengths[2] = 256 }
            var x256 = device(m) { $0.barLengths[2] = 256 }
            #expect(pwrite(&c256, offset(2, 252), pattern(8)) == .success(4))
            #expect(pwrite(&x256, offset(2, 252), pattern(8)) == .failure(.eio))
            #expect(trace(&x256) == [stb(2, 252, 8)])
        case .clampAfterWriteChecks:
            #expect(pwrite(&c, offset(2, 8190), pattern(10)) == .success(2))
            #expect(pwrite(&x, offset(2, 8190), pattern(10)) == .failure(.einval))
            #expect(pread(&x, offset(2, 8190), 10).result == .success(2))  // reads unaffected
        case .zeroCountAfterDecode:
            #expect(pread(&c, offset(9, 0), 0).result == .success(0))
            #expect(pread(&x, offset(9, 0), 0).result == .failure(.einval))
            #expect(pwrite(&x, offset(1, 0), []) == .failure(.einval))
            #expect(pread(&x, offset(2, 0), 0).result == .success(0))
        case .positionNotAdvanced:
            _ = try c.seek(offset: Int64(offset(2, 16)), whence: .set)
            _ = try x.seek(offset: Int64(offset(2, 16)), whence: .set)
            #expect(read(&c, 4) == .success(4))
            #expect(read(&x, 4) == .success(4))
            #expect(c.position == offset(2, 20))
            #expect(x.position == offset(2, 16))
        case .positionAdvancedOnError:
            _ = try c.seek(offset: Int64(offset(2, 16)), whence: .set)
            _ = try x.seek(offset: Int64(offset(2, 16)), whence: .set)
            #expect(read(&c, 8, fault: .device(nth: 0, errno: Errno(rawValue: 5))) == .failure(.eio))
            #expect(read(&x, 8, fault: .device(nth: 0, errno: Errno(rawValue: 5))) == .failure(.eio))
            #expect(c.position == offset(2, 16))
            #expect(x.position == offset(2, 24))
        case .partialCountOnLoadError:
            #expect(pread(&c, offset(2, 3), 13, fault: .device(nth: 1, errno: Errno(rawValue: 5))).result == .failure(.eio))
            #expect(pread(&x, offset(2, 3), 13, fault: .device(nth: 1, errno: Errno(rawValue: 5))).result == .success(1))
            #expect(pread(&x, offset(2, 3), 13, fault: .device(nth: 0, errno: Errno(rawValue: 5))).result == .failure(.eio))
        case .regionInfoMmap:
            #expect(try c.regionInfo(index: 0, argsz: 32).flags == [.read, .write])
            #expect(try x.regionInfo(index: 0, argsz: 32).flags == [.read, .write, .mmap])
        case .flagsOnZeroSizeBar:
            #expect(try c.regionInfo(index: 1, argsz: 32).flags == [])
            #expect(try x.regionInfo(index: 1, argsz: 32).flags == [.read, .write])
        case .configOffsetShift40:
            #expect(try c.regionInfo(index: 7, argsz: 32).offset == 7 << 48)
            #expect(try x.regionInfo(index: 7, argsz: 32).offset == 7 << 40)
            #expect(pread(&x, offset(7, 0), 4).result == .success(4))  // decoding itself unchanged
        case .cachedFunctionHandle:
            try c.recoverHandle()
            try x.recoverHandle()
            _ = pread(&c, offset(2, 0), 8)
            _ = pread(&x, offset(2, 0), 8)
            #expect(trace(&c) == [load(2, 0, 8, fh: 1)])
            #expect(trace(&x) == [load(2, 0, 8, fh: 0)])
        case .barEndInclusive:
            #expect(pread(&c, offset(2, 8192), 4).result == .failure(.einval))
            #expect(pread(&x, offset(2, 8192), 4).result == .success(0))
            #expect(pwrite(&x, offset(2, 8192), [1]) == .failure(.eio))
            #expect(trace(&x) == [stb(2, 8192, 0)])
        case .romIndexAccepted:
            #expect(info(&c, 6) == .failure(.einval))
            #expect(info(&x, 6) == .success(RegionInfo(index: 6, offset: 6 << 48, size: 0, flags: [])))
            #expect(pread(&x, offset(6, 0), 4).result == .failure(.einval))
        case .unalignedLoads:
            #expect(pread(&c, offset(2, 3), 13).result == .success(13))
            #expect(trace(&c) == [load(2, 3, 1), load(2, 4, 4), load(2, 8, 8)])
            let r = pread(&x, offset(2, 3), 13)
            #expect(r.bytes == initial(bar: 2, 3..<16))
            #expect(trace(&x) == [load(2, 3, 8), load(2, 11, 4), load(2, 15, 1)])
        case .readOverrunsBuffer:
            #expect(pread(&c, offset(2, 0), 3).guardIntact)
            let r = pread(&x, offset(2, 0), 3)
            #expect(r.result == .success(3))
            #expect(r.bytes == initial(bar: 2, 0..<3))  // every returned byte right
            #expect(!r.guardIntact)
            #expect(pread(&x, offset(2, 0), 4).guardIntact)
        case .storeBeforeCopy:
            #expect(pwrite(&c, offset(2, 0), pattern(16), fault: .userBuffer(from: 4)) == .failure(.efault))
            #expect(trace(&c) == [])
            #expect(pwrite(&x, offset(2, 0), pattern(16), fault: .userBuffer(from: 4)) == .failure(.efault))
            #expect(trace(&x) == [stb(2, 0, 16)])
            #expect(pread(&c, offset(2, 0), 16).bytes == initial(bar: 2, 0..<16))
            #expect(pread(&x, offset(2, 0), 16).bytes == Array(pattern(4)) + [UInt8](repeating: 0, count: 12))
        case .storeErrorSwallowed:
            #expect(pwrite(&c, offset(2, 0), pattern(16), fault: .device(nth: 0, errno: Errno(rawValue: 5))) == .failure(.eio))
            #expect(pwrite(&x, offset(2, 0), pattern(16), fault: .device(nth: 0, errno: Errno(rawValue: 5))) == .success(16))
            #expect(pread(&x, offset(2, 0), 16).bytes == initial(bar: 2, 0..<16))
        case .configClamped:
            #expect(pread(&c, offset(7, 4090), 8).result == .failure(.efault))
            #expect(pread(&x, offset(7, 4090), 8).result == .success(6))
        case .negativeOffsetZeroCount:
            #expect(pread(&c, 1 << 63, 0).result == .failure(.einval))
            #expect(pread(&x, 1 << 63, 0).result == .success(0))
            #expect(pread(&x, 1 << 63, 1).result == .failure(.einval))
        case .argszUnchecked:
            #expect(info(&c, 0, argsz: 16) == .failure(.einval))
            #expect(info(&x, 0, argsz: 16) == .success(RegionInfo(index: 0, offset: 0, size: 1 << 48, flags: [.read, .write])))
        case .enomemIgnored:
            #expect(pwrite(&c, offset(2, 0), pattern(8), fault: .allocation) == .failure(.enomem))
            #expect(pwrite(&x, offset(2, 0), pattern(8), fault: .allocation) == .success(8))
            #expect(trace(&x) == [stb(2, 0, 8)])
        case .configPositionNotAdvanced:
            _ = try c.seek(offset: Int64(offset(7, 0)), whence: .set)
            _ = try x.seek(offset: Int64(offset(7, 0)), whence: .set)
            #expect(read(&c, 4) == .success(4))
            #expect(read(&x, 4) == .success(4))
            #expect(c.position == offset(7, 4))
            #expect(x.position == offset(7, 0))
        case .handleCachedPerRead:
            // A 12-byte read is an 8-byte and a 4-byte load; the handle changes after the first.
            _ = pread(&c, offset(2, 0), 12, fault: .handleChange(after: 1))
            #expect(trace(&c) == [load(2, 0, 8), load(2, 8, 4, fh: 1)])
            _ = pread(&x, offset(2, 0), 12, fault: .handleChange(after: 1))
            #expect(trace(&x) == [load(2, 0, 8), load(2, 8, 4)])
            _ = pread(&x, offset(2, 0), 8)
            #expect(trace(&x) == [load(2, 0, 8, fh: 1)])  // the next read takes the new handle
        case .handleReadBeforeCopy:
            #expect(pwrite(&c, offset(2, 0), pattern(16), fault: .handleChange(after: 0)) == .success(16))
            #expect(trace(&c) == [stb(2, 0, 16, fh: 1)])
            #expect(pwrite(&x, offset(2, 0), pattern(16), fault: .handleChange(after: 0)) == .success(16))
            #expect(trace(&x) == [stb(2, 0, 16)])
            #expect(pwrite(&x, offset(2, 0), pattern(16)) == .success(16))
            #expect(trace(&x) == [stb(2, 0, 16, fh: 1)])
        case .barEndU32:
            var big = device { $0.barLengths[1] = (1 << 32) + 4096 }
            var bigX = device(m) { $0.barLengths[1] = (1 << 32) + 4096 }
            #expect(pread(&big, offset(1, (1 << 32) + 4096), 1).result == .failure(.einval))
            #expect(pread(&bigX, offset(1, (1 << 32) + 4096), 1).result != .failure(.einval))
            #expect(pread(&bigX, offset(1, (1 << 32) + 4095), 1).result == .success(1))
            #expect(pread(&x, offset(2, 8192), 1).result == .failure(.einval))  // below 4 GiB: right
        case .regionIndexU8:
            #expect(pread(&c, offset(0x102, 0), 4).result == .failure(.einval))
            #expect(pread(&x, offset(0x102, 0), 4).bytes == initial(bar: 2, 0..<4))
            #expect(pread(&x, offset(0xFF, 0), 4).result == .failure(.einval))
        case .offsetFromShift:
            // On the shift layout it decodes what the correct device decodes.
            #expect(pread(&x, offset(2, 0), 4).bytes == initial(bar: 2, 0..<4))
            var t = device { $0.regionTable = handTable }
            var tX = device(m) { $0.regionTable = handTable }
            #expect(pread(&t, 0x1_0000_0000_A000, 4).bytes == initial(bar: 2, 0..<4))
            #expect(pread(&t, offset(2, 0), 4).result == .failure(.einval))  // in no region of the table
            #expect(pread(&tX, 0x1_0000_0000_A000, 4).result == .failure(.einval))  // 1 << 48 + 0xA000: absent BAR1
            #expect(pread(&tX, offset(2, 0), 4).bytes == initial(bar: 2, 0..<4))
            #expect(try tX.regionInfo(index: 2, argsz: 32).offset == 0x1_0000_0000_A000)
        case .regionInfoShiftBase:
            #expect(try x.regionInfo(index: 2, argsz: 32).offset == 2 << 48)
            var t = device { $0.regionTable = handTable }
            var tX = device(m) { $0.regionTable = handTable }
            #expect(try t.regionInfo(index: 2, argsz: 32).offset == 0x1_0000_0000_A000)
            #expect(try tX.regionInfo(index: 2, argsz: 32).offset == 2 << 48)
            #expect(try tX.regionInfo(index: 7, argsz: 32).offset == 0x4_0000_0001_3000)  // config: right
            #expect(try t.regionInfo(index: 7, argsz: 32).offset == 0x4_0000_0001_3000)
            #expect(pread(&tX, 0x1_0000_0000_A000, 4).bytes == initial(bar: 2, 0..<4))  // transfers: right
        }
    }

    /// Region i at slot s(i) * (2^48 + 0x3000) + 0x7000, slots 3,6,1,7,0,5,2,4: BAR2 at
    /// 0x1_0000_0000_A000, config at 0x4_0000_0001_3000.
    let handTable = RegionTable(
        bases: [3, 6, 1, 7, 0, 5, 2, 4].map { UInt64($0) * ((1 << 48) + 0x3000) + 0x7000 }, span: 1 << 48)
}
