import ISMAccess
import SystemPackage
import ISMSimulator
import Testing

/// The unmutated simulator against SPEC.md, expected values worked by hand.
@Suite struct ReadTests {
    @Test("R-READ-1: pos 3 count 13 is served by loads 1@3, 4@4, 8@8", arguments: ByteOrder.allCases)
    func splitExample(order: ByteOrder) {
        var d = device(order: order)
        let r = pread(&d, offset(2, 3), 13)
        #expect(r.result == .success(13))
        #expect(r.bytes == initial(bar: 2, 3..<16))
        #expect(r.guardIntact)
        #expect(trace(&d) == [load(2, 3, 1), load(2, 4, 4), load(2, 8, 8)])
    }

    @Test("R-READ-1: pos 1 count 7 → 1@1, 2@2, 4@4; pos 6 count 3 → 2@6, 1@8")
    func moreSplits() {
        var d = device()
        #expect(pread(&d, offset(2, 1), 7).result == .success(7))
        #expect(trace(&d) == [load(2, 1, 1), load(2, 2, 2), load(2, 4, 4)])
        #expect(pread(&d, offset(2, 6), 3).result == .success(3))
        #expect(trace(&d) == [load(2, 6, 2), load(2, 8, 1)])
    }

    @Test("R-READ-3: byte-transparent for every width on both byte orders", arguments: ByteOrder.allCases)
    func byteTransparency(order: ByteOrder) {
        var d = device(order: order)
        for width in [1, 2, 4, 8] {
            let r = pread(&d, offset(2, 64), width)
            #expect(r.bytes == initial(bar: 2, 64..<(64 + UInt64(width))), "width \(width)")
        }
        // (a) one 8-byte read equals two 4-byte reads
        let whole = pread(&d, offset(2, 128), 8).bytes
        let halves = pread(&d, offset(2, 128), 4).bytes + pread(&d, offset(2, 132), 4).bytes
        #expect(whole == halves)
    }

    @Test("written bytes read back unchanged on both byte orders", arguments: ByteOrder.allCases)
    func writeThenRead(order: ByteOrder) {
        var d = device(order: order)
        let data = pattern(24, 0x10)
        #expect(pwrite(&d, offset(0, 4096 + 8), data) == .success(24))
        // straddle the written range: 4 initial bytes, 24 written, 4 initial
        let r = pread(&d, offset(0, 4096 + 4), 32)
        #expect(r.bytes == initial(bar: 0, 4100..<4104) + data + initial(bar: 0, 4128..<4132))
    }

    @Test("R-BAR-3: a read past the end is clamped: BAR2 (8 KiB) pos 8190 count 8 → 2")
    func clamp() {
        var d = device()
        let r = pread(&d, offset(2, 8190), 8)
        #expect(r.result == .success(2))
        #expect(r.bytes[0..<2] == initial(bar: 2, 8190..<8192)[...])
        #expect(trace(&d) == [load(2, 8190, 2)])
    }

    @Test("R-READ-4: a failing load fails the whole read with its errno; position unmoved")
    func loadFault() throws {
        var d = device()
        let r = pread(&d, offset(2, 3), 13, fault: .device(nth: 1, errno: Errno(rawValue: 5)))
        #expect(r.result == .failure(.eio))
        #expect(trace(&d) == [load(2, 3, 1), load(2, 4, 4)])
        #expect(try d.seek(offset: Int64(offset(2, 0)), whence: .set) == Int64(offset(2, 0)))
        #expect(read(&d, 8, fault: .device(nth: 0, errno: Errno(rawValue: 22))) == .failure(.einval))
        #expect(d.position == offset(2, 0))
    }

    @Test("R-READ-5: a user-buffer fault is EFAULT; the load was issued first")
    func userFault() {
        var d = device()
        let r = pread(&d, offset(2, 0), 16, fault: .userBuffer(from: 12))
        #expect(r.result == .failure(.efault))
        #expect(r.bytes[0..<8] == initial(bar: 2, 0..<8)[...])
        #expect(trace(&d) == [load(2, 0, 8), load(2, 8, 8)])
    }
}

@Suite struct OffsetTests {
    @Test("R-OFF-4: bit 63 is EINVAL before anything else, even for count 0")
    func negative() {
        var d = device()
        #expect(pread(&d, 1 << 63, 0).result == .failure(.einval))
        #expect(pwrite(&d, 1 << 63 | offset(2, 0), [1]) == .failure(.einval))
    }

    @Test("R-ZERO-1: count 0 returns 0 whatever the offset decodes to, and issues nothing")
    func zeroCount() {
        var d = device()
        #expect(pread(&d, offset(9, 0), 0).result == .success(0))
        #expect(pread(&d, offset(1, 0), 0).result == .success(0))
        #expect(pwrite(&d, offset(2, 9000), []) == .success(0))
        #expect(trace(&d).isEmpty)
    }

    @Test("R-OFF-3, R-BAR-1, R-BAR-2: bad index, absent BAR, pos at the end are EINVAL")
    func invalid() {
        var d = device()
        #expect(pread(&d, offset(6, 0), 4).result == .failure(.einval))
        #expect(pread(&d, offset(8, 0), 4).result == .failure(.einval))
        #expect(pread(&d, offset(1, 0), 4).result == .failure(.einval))
        #expect(pwrite(&d, offset(3, 0), [1]) == .failure(.einval))
        #expect(pread(&d, offset(2, 8192), 4).result == .failure(.einval))
        #expect(pread(&d, offset(2, 8191), 4).result == .success(1))
        #expect(pread(&d, offset(0, (1 << 48) - 8), 8).result == .success(8))
    }

    @Test("R-BAR-4: read/write move the position by the bytes transferred, errors don't")
    func position() throws {
        var d = device()
        #expect(try d.seek(offset: Int64(offset(2, 8188)), whence: .set) == Int64(offset(2, 8188)))
        #expect(read(&d, 8) == .success(4))  // clamped
        #expect(d.position == offset(2, 8192))
        #expect(read(&d, 8) == .failure(.einval))
        #expect(d.position == offset(2, 8192))
        #expect(try d.seek(offset: -8192, whence: .current) == Int64(offset(2, 0)))
        #expect(write(&d, [1, 2, 3]) == .success(3))
        #expect(d.position == offset(2, 3))
        #expect(pread(&d, offset(2, 0), 3).bytes == [1, 2, 3])
        #expect(d.position == offset(2, 3))  // pread leaves it
        #expect(attempt { () throws(AccessError) in _ = try d.seek(offset: -1, whence: .set) } == .einval)
        #expect(attempt { () throws(AccessError) in _ = try d.seek(offset: -Int64(offset(2, 4)), whence: .current) } == .einval)
        #expect(d.position == offset(2, 3))
    }
}

@Suite struct WriteTests {
    @Test("R-WRITE-3: one store block of count bytes at pos")
    func oneStoreBlock() {
        var d = device()
        #expect(pwrite(&d, offset(0, 3), pattern(13)) == .success(13))
        #expect(trace(&d) == [stb(0, 3, 13)])
    }

    @Test("R-WRITE-1: count > maxstbl is EINVAL; exactly maxstbl is fine")
    func maxstbl() {
        var d = device { $0.maxstbl = 256 }
        #expect(pwrite(&d, offset(0, 0), pattern(257)) == .failure(.einval))
        #expect(pwrite(&d, offset(0, 0), pattern(256)) == .success(256))
        #expect(trace(&d) == [stb(0, 0, 256)])
    }

    @Test("R-WRITE-2: crossing a 4 KiB boundary is EINVAL; ending on it is allowed")
    func pageCross() {
        var d = device()
        #expect(pwrite(&d, offset(0, 4095), [1, 2]) == .failure(.einval))
        #expect(pwrite(&d, offset(0, 4094), [1, 2]) == .success(2))
        #expect(trace(&d) == [stb(0, 4094, 2)])
    }

    @Test("R-BAR-3: clamping comes before the write checks: BAR2 pos 8190 count 10 → 2")
    func clampBeforeChecks() {
        var d = device()
        #expect(pwrite(&d, offset(2, 8190), pattern(10)) == .success(2))
        #expect(trace(&d) == [stb(2, 8190, 2)])
    }

    @Test("R-WRITE-5: allocation failure ENOMEM, user fault EFAULT, no store either way; memory unchanged")
    func writeFaults() {
        var d = device()
        #expect(pwrite(&d, offset(2, 0), pattern(16), fault: .allocation) == .failure(.enomem))
        #expect(pwrite(&d, offset(2, 0), pattern(16), fault: .userBuffer(from: 15)) == .failure(.efault))
        #expect(pwrite(&d, offset(2, 0), pattern(16), fault: .userBuffer(from: 16)) == .success(16))
        #expect(trace(&d) == [stb(2, 0, 16)])
    }

    @Test("R-WRITE-4: the store block's error is returned; nothing is written")
    func storeError() {
        var d = device()
        #expect(pwrite(&d, offset(2, 0), pattern(16), fault: .device(nth: 0, errno: Errno(rawValue: 5))) == .failure(.eio))
        #expect(trace(&d) == [stb(2, 0, 16)])
        #expect(pread(&d, offset(2, 0), 16).bytes == initial(bar: 2, 0..<16))
    }

    @Test("R-WRITE-4 strict device: offset and length multiples of 8, length > 8, else EIO (still issued)")
    func strict() {
        var d = device { $0.storeBlocks = .strict }
        #expect(pwrite(&d, offset(0, 0), pattern(8)) == .failure(.eio))
        #expect(pwrite(&d, offset(0, 4), pattern(16)) == .failure(.eio))
        #expect(pwrite(&d, offset(0, 0), pattern(12)) == .failure(.eio))
        #expect(pwrite(&d, offset(0, 0), pattern(16)) == .success(16))
        #expect(trace(&d) == [stb(0, 0, 8), stb(0, 4, 16), stb(0, 0, 12), stb(0, 0, 16)])
        #expect(pread(&d, offset(0, 0), 16).bytes == pattern(16))
    }
}

@Suite struct ConfigAndInfoTests {
    @Test("R-CFG-1: config bounds are EFAULT, not clamped; pieces issue no instructions")
    func config() {
        var d = device()
        #expect(pread(&d, offset(7, 4090), 8).result == .failure(.efault))
        #expect(pread(&d, offset(7, 4096), 1).result == .failure(.efault))
        #expect(pread(&d, offset(7, 4088), 8).result == .success(8))
        #expect(pwrite(&d, offset(7, 2), [9, 8, 7]) == .success(3))
        #expect(pread(&d, offset(7, 2), 3).bytes == [9, 8, 7])
        #expect(pread(&d, offset(7, 0), 8, fault: .userBuffer(from: 5)).result == .failure(.efault))
        #expect(pread(&d, offset(7, 0), 8, fault: .device(nth: 0, errno: Errno(rawValue: 5))).result == .success(8))
        #expect(trace(&d).isEmpty)
    }

    @Test("R-INFO-1..4: region info answers")
    func regionInfo() {
        var d = device()
        #expect(info(&d, 7) == .success(RegionInfo(index: 7, offset: 7 << 48, size: 4096, flags: [.read, .write])))
        #expect(info(&d, 0) == .success(RegionInfo(index: 0, offset: 0, size: 1 << 48, flags: [.read, .write])))
        #expect(info(&d, 2) == .success(RegionInfo(index: 2, offset: 2 << 48, size: 8192, flags: [.read, .write])))
        #expect(info(&d, 1) == .success(RegionInfo(index: 1, offset: 1 << 48, size: 0, flags: [])))
        #expect(info(&d, 6) == .failure(.einval))
        #expect(info(&d, 8) == .failure(.einval))
        #expect(info(&d, 7, argsz: 31) == .failure(.einval))
        #expect(info(&d, 99, argsz: 0) == .failure(.einval))
    }

    @Test("R-FH-1: instructions carry the handle generation current when issued")
    func handle() throws {
        var d = device()
        #expect(pread(&d, offset(2, 0), 8).result == .success(8))
        try d.recoverHandle()
        try d.recoverHandle()
        #expect(pwrite(&d, offset(2, 0), [1]) == .success(1))
        #expect(trace(&d) == [load(2, 0, 8, fh: 0), stb(2, 0, 1, fh: 2)])
    }

    @Test("R-LIFE-1, R-LIFE-2: pools per device, nothing leaked, EBUSY/ENODEV")
    func lifecycle() throws {
        var d = device()
        #expect(try d.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        #expect(attempt { () throws(AccessError) in try d.detachPeer() } == .enodev)
        #expect(attempt { () throws(AccessError) in try d.attachPeer(failPool: true) } == .enomem)
        #expect(try d.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        try d.attachPeer(failPool: false)
        #expect(try d.resources() == ResourceCounts(livePools: 2, leakedObjects: 0))
        #expect(attempt { () throws(AccessError) in try d.attachPeer(failPool: false) } == .ebusy)
        try d.detachPeer()
        #expect(try d.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        #expect(pwrite(&d, offset(2, 0), [1]) == .success(1))
    }

    @Test("reset() returns to the initial state")
    func reset() throws {
        var d = device()
        #expect(pwrite(&d, offset(2, 0), [1, 2]) == .success(2))
        _ = try d.seek(offset: 5, whence: .set)
        try d.recoverHandle()
        try d.attachPeer(failPool: false)
        d.reset()
        #expect(d.position == 0 && d.handleGeneration == 0)
        #expect(try d.resources() == ResourceCounts(livePools: 1, leakedObjects: 0))
        #expect(pread(&d, offset(2, 0), 2).bytes == initial(bar: 2, 0..<2))
        #expect(trace(&d) == [load(2, 0, 2)])
    }
}

@Suite struct VFIOPCIProfileTests {
    func vfio(_ tweak: (inout DeviceConfig) -> Void = { _ in }) -> SimulatedDevice {
        device {
            $0.profile = .vfioPCI
            $0.barLengths = [1 << 20, 0, 8192, 0, 0, 0]
            tweak(&$0)
        }
    }

    @Test("shift 40, writes split like reads, no maxstbl or page limit, allocation faults ignored")
    func splitWrites() {
        var d = vfio { $0.maxstbl = 8 }
        #expect(pwrite(&d, offset(2, 3, shift: 40), pattern(13), fault: .allocation) == .success(13))
        #expect(trace(&d) == [store(2, 3, 1), store(2, 4, 4), store(2, 8, 8)])
        #expect(pwrite(&d, offset(2, 4092, shift: 40), pattern(8)) == .success(8))
        #expect(trace(&d) == [store(2, 4092, 4), store(2, 4096, 4)])
        #expect(pread(&d, offset(2, 3, shift: 40), 13).bytes == pattern(13))
        #expect(info(&d, 2) == .success(RegionInfo(index: 2, offset: 2 << 40, size: 8192, flags: [.read, .write])))
        #expect(info(&d, 7) == .success(RegionInfo(index: 7, offset: 7 << 40, size: 4096, flags: [.read, .write])))
    }

    @Test("without 64-bit MMIO reads and writes split 4/2/1")
    func no64() {
        var d = vfio { $0.has64BitMMIO = false }
        #expect(pread(&d, offset(2, 0, shift: 40), 10).result == .success(10))
        #expect(trace(&d) == [load(2, 0, 4), load(2, 4, 4), load(2, 8, 2)])
    }

    @Test("the MSI-X table reads 0xFF, drops writes, issues nothing, and pieces stop at its edges")
    func msix() {
        var d = vfio { $0.msix = MSIXTable(bar: 2, start: 4, length: 8) }
        let r = pread(&d, offset(2, 0, shift: 40), 16)
        #expect(r.result == .success(16))
        #expect(r.bytes == initial(bar: 2, 0..<4) + [UInt8](repeating: 0xFF, count: 8) + initial(bar: 2, 12..<16))
        #expect(trace(&d) == [load(2, 0, 4), load(2, 12, 4)])
        #expect(pwrite(&d, offset(2, 0, shift: 40), pattern(16)) == .success(16))
        #expect(trace(&d) == [store(2, 0, 4), store(2, 12, 4)])
        #expect(pread(&d, offset(2, 12, shift: 40), 4).bytes == Array(pattern(16)[12..<16]))
    }

    @Test("split-write faults: nth store fails, user fault stops before the faulting piece")
    func faults() {
        var d = vfio()
        #expect(pwrite(&d, offset(2, 0, shift: 40), pattern(12), fault: .device(nth: 1, errno: Errno(rawValue: 5))) == .failure(.eio))
        #expect(trace(&d) == [store(2, 0, 8), store(2, 8, 4)])
        #expect(pwrite(&d, offset(2, 0, shift: 40), pattern(12), fault: .userBuffer(from: 10)) == .failure(.efault))
        #expect(trace(&d) == [store(2, 0, 8)])
    }
}
