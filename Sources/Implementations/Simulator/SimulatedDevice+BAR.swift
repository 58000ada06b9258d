import ISMAccess

extension SimulatedDevice {
    /// The driver's BAR path: presence and bounds (R-BAR-1, R-BAR-2), clamping (R-BAR-3), the
    /// transfer, and the file position (R-BAR-4).
    mutating func barTransfer(
        read rbuf: UnsafeMutableRawBufferPointer?, write wbuf: UnsafeRawBufferPointer?,
        bar: Int, pos: UInt64, count requested: Int, ppos: inout UInt64
    ) throws(AccessError) -> Int {
        let end = config.barLengths[bar]
        if end == 0 { throw .einval }
        if mutant == .barEndInclusive ? pos > end : (mutant == .barEndU32 ? pos & 0xFFFF_FFFF : pos) >= end { throw .einval }
        if requested == 0 { return 0 }  // only reached by zero-count-after-decode
        var count = requested
        if mutant != .noClamp, UInt64(count) > end &- pos { count = Int(end &- pos) }
        let done: Int
        do {
            if let rbuf {
                done = try readBar(rbuf, bar: bar, pos: pos, count: count)
            } else {
                done = try writeBar(wbuf!, bar: bar, pos: pos, count: count, unclamped: requested)
            }
        } catch {
            if mutant == .positionAdvancedOnError { ppos &+= UInt64(requested) }
            throw error
        }
        if mutant != .positionNotAdvanced { ppos &+= UInt64(done) }
        return done
    }

    // MARK: Reads

    /// Serves a read with loads (R-READ-1..5); vfio-pci: with the MSI-X table filled with 0xFF.
    mutating func readBar(_ buf: UnsafeMutableRawBufferPointer, bar: Int, pos start: UInt64, count: Int) throws(AccessError) -> Int {
        let base = buf.baseAddress!
        var done = 0
        var pos = start
        if mutant == .readRefusesSub8 {
            if count < 8 || start % 8 != 0 { throw .einval }
            while count - done >= 8 {
                let tmp = try load(bar: bar, pos: pos, width: 8)
                try copyLoaded(tmp, width: 8, to: base, at: done)
                done += 8
                pos &+= 8
            }
            return done
        }
        // handle-cached-per-read: the handle is read once, before the first load.
        let opHandle: UInt32? = mutant == .handleCachedPerRead ? currentHandle : nil
        let vfio = config.profile == .vfioPCI
        let maxWidth = (vfio && !config.has64BitMMIO) ? 4 : 8
        while done < count {
            let remaining = count - done
            var fillable = remaining
            if vfio, let x = config.msix, x.bar == bar {
                let xEnd = x.start &+ x.length
                if pos >= x.start && pos < xEnd {
                    // The MSI-X table: 0xFF, copied byte by byte, no instruction.
                    let n = Int(min(UInt64(remaining), xEnd - pos))
                    for i in 0..<n {
                        if done + i + 1 > userFaultFrom { throw .efault }
                        base.storeBytes(of: 0xFF, toByteOffset: done + i, as: UInt8.self)
                    }
                    done += n
                    pos &+= UInt64(n)
                    continue
                }
                if pos < x.start { fillable = Int(min(UInt64(remaining), x.start - pos)) }
            }
            let n = pieceWidth(pos: pos, remaining: fillable, maxWidth: maxWidth, aligned: mutant != .unalignedLoads)
            let tmp: UInt64
            do {
                tmp = try load(bar: bar, pos: pos, width: n, handle: opHandle)
            } catch {
                if mutant == .partialCountOnLoadError && done > 0 { return done }
                throw error
            }
            try copyLoaded(tmp, width: n, to: base, at: done)
            done += n
            pos &+= UInt64(n)
        }
        if mutant == .readOverrunsBuffer && count & 1 == 1 {
            let p = base + count
            p.storeBytes(of: ~p.load(as: UInt8.self), as: UInt8.self)
        }
        return done
    }

    /// The width of the next piece: the largest n in 8,4,2,1 (up to `maxWidth`) with
    /// `remaining >= n` and, when `aligned`, `pos % n == 0`.
    @inline(__always)
    func pieceWidth(pos: UInt64, remaining: Int, maxWidth: Int, aligned: Bool) -> Int {
        var n = maxWidth
        while n > 1 {
            if remaining >= n && (!aligned || pos & UInt64(n - 1) == 0) { return n }
            n >>= 1
        }
        return 1
    }

    /// Stores a load's temporary into the user buffer at `at` (R-READ-3, R-READ-5): the correct
    /// driver truncates it to the n-byte integer and stores that in host order.
    @inline(__always)
    func copyLoaded(_ tmp: UInt64, width n: Int, to base: UnsafeMutableRawPointer, at: Int) throws(AccessError) {
        if at + n > userFaultFrom { throw .efault }
        let big = config.hostByteOrder == .big
        // `inMemory` is the bytes a host-order store puts in memory, first byte least significant.
        let inMemory: UInt64
        if mutant == .readCopiesU64Prefix {
            // The whole 64-bit temporary is stored in host order; its first n bytes are copied.
            inMemory = big ? tmp.byteSwapped : tmp
        } else {
            // Truncated to the n-byte integer, stored in host order as n bytes.
            let val = n == 8 ? tmp : tmp & ((1 << UInt64(n * 8)) - 1)
            inMemory = big ? val.byteSwapped >> UInt64(64 - 8 * n) : val
        }
        let dst = base + at
        switch n {
        case 8: dst.storeBytes(of: inMemory.littleEndian, as: UInt64.self)
        case 4: dst.storeBytes(of: UInt32(truncatingIfNeeded: inMemory).littleEndian, as: UInt32.self)
        case 2: dst.storeBytes(of: UInt16(truncatingIfNeeded: inMemory).littleEndian, as: UInt16.self)
        default:
            for i in 0..<n { dst.storeBytes(of: UInt8(truncatingIfNeeded: inMemory >> UInt64(8 * i)), toByteOffset: i, as: UInt8.self) }
        }
    }

    // MARK: Writes

    mutating func writeBar(_ buf: UnsafeRawBufferPointer, bar: Int, pos: UInt64, count: Int, unclamped: Int) throws(AccessError) -> Int {
        if config.profile == .vfioPCI { return try writeSplit(buf, bar: bar, pos: pos, count: count) }
        return try writeStoreBlock(buf, bar: bar, pos: pos, count: count, unclamped: unclamped)
    }

    /// ism-vfio-pci: one store block through a bounce buffer (R-WRITE-1..5).
    mutating func writeStoreBlock(_ buf: UnsafeRawBufferPointer, bar: Int, pos: UInt64, count: Int, unclamped: Int) throws(AccessError) -> Int {
        let checked = UInt64(mutant == .clampAfterWriteChecks ? unclamped : count)
        if mutant == .maxstblOffByOne ? checked >= config.maxstbl : checked > config.maxstbl { throw .einval }
        let pageEnd = pos % 4096 + checked
        if mutant == .pageCrossOffByOne ? pageEnd >= 4096 : pageEnd > 4096 { throw .einval }

        switch lifecycle.deviceAPool {
        case .live: break
        case .destroyed: throw .broken(.misuse("use after free: store-block pool"))
        case .missing: throw .broken(.misuse("null pointer dereference: store-block pool"))
        }
        // handle-read-before-copy: the request is built with the handle read before the copy.
        let early: UInt32? = mutant == .handleReadBeforeCopy ? currentHandle : nil
        if allocationFault && mutant != .enomemIgnored { throw .enomem }
        if bounce.count < count { bounce = [UInt8](repeating: 0, count: max(count, 4096)) }

        let src = buf.baseAddress!
        let copyFaults = count > userFaultFrom
        if copyFaults && mutant != .storeBeforeCopy { throw .efault }
        // copy_from_user: what precedes the fault is copied, the rest zero-filled.
        let copied = copyFaults ? max(0, userFaultFrom) : count
        bounce.withUnsafeMutableBytes { b in
            if copied > 0 { b.baseAddress!.copyMemory(from: src, byteCount: copied) }
            for i in copied..<count { b[i] = 0 }
        }

        // The handle may change now, just before the store block (Fault.handleChange(after: 0)).
        if handleChangeAfter == 0 { handleGeneration &+= 1 }
        var storeError: AccessError?
        do {
            if mutant == .writeFragmented {
                try storeFragmented(bar: bar, pos: pos, count: count)
            } else {
                try storeBlock(bar: bar, pos: pos, length: count, handle: early)
            }
        } catch {
            storeError = error
        }
        if copyFaults { throw .efault }
        if let storeError, mutant != .storeErrorSwallowed { throw storeError }
        return count
    }

    /// write-fragmented: the bounce buffer goes out as aligned 8/4/2/1-byte stores.
    mutating func storeFragmented(bar: Int, pos start: UInt64, count: Int) throws(AccessError) {
        var done = 0
        var pos = start
        while done < count {
            let n = pieceWidth(pos: pos, remaining: count - done, maxWidth: 8, aligned: true)
            var word: UInt64 = 0
            for i in 0..<n { word |= UInt64(bounce[done + i]) << UInt64(8 * i) }
            try store(bar: bar, pos: pos, width: n, bytes: word)
            done += n
            pos &+= UInt64(n)
        }
    }

    /// vfio-pci: writes split like reads; the MSI-X table drops writes (R-PROFILE).
    mutating func writeSplit(_ buf: UnsafeRawBufferPointer, bar: Int, pos start: UInt64, count: Int) throws(AccessError) -> Int {
        let base = buf.baseAddress!
        let maxWidth = config.has64BitMMIO ? 8 : 4
        var done = 0
        var pos = start
        while done < count {
            let remaining = count - done
            var fillable = remaining
            if let x = config.msix, x.bar == bar {
                let xEnd = x.start &+ x.length
                if pos >= x.start && pos < xEnd {
                    let n = Int(min(UInt64(remaining), xEnd - pos))
                    done += n
                    pos &+= UInt64(n)
                    continue
                }
                if pos < x.start { fillable = Int(min(UInt64(remaining), x.start - pos)) }
            }
            let n = pieceWidth(pos: pos, remaining: fillable, maxWidth: maxWidth, aligned: true)
            if done + n > userFaultFrom { throw .efault }
            if issued == 0 && handleChangeAfter == 0 { handleGeneration &+= 1 }
            var word: UInt64 = 0
            for i in 0..<n { word |= UInt64(base.load(fromByteOffset: done + i, as: UInt8.self)) << UInt64(8 * i) }
            try store(bar: bar, pos: pos, width: n, bytes: word)
            done += n
            pos &+= UInt64(n)
        }
        return count
    }

    // MARK: Device instructions

    /// The handle an instruction is issued with (R-FH-1).
    @inline(__always)
    var currentHandle: UInt32 { mutant == .cachedFunctionHandle ? 0 : handleGeneration }

    /// Counts an issued instruction; the injected device fault's errno if it is the one to fail.
    @inline(__always)
    mutating func injected() -> Int32? {
        let i = issued
        issued += 1
        if issued == handleChangeAfter { handleGeneration &+= 1 }  // after this instruction (R-FH-1)
        return i == faultNth ? faultErrno : nil
    }

    /// One PCI load of `width` bytes: returns the bus bytes as a `width`-byte integer in host
    /// order, zero-extended, as the s390 load instruction does.
    mutating func load(bar: Int, pos: UInt64, width n: Int, handle: UInt32? = nil) throws(AccessError) -> UInt64 {
        trace.append(.load(bar: UInt8(bar), position: pos, width: UInt8(n), handle: handle ?? currentHandle))
        if let e = injected() { throw .errno(.init(rawValue: e)) }
        let len = config.barLengths[bar]
        if pos >= len || UInt64(n) > len - pos { throw .eio }
        // The bus bytes in address order, first byte least significant: that is the value
        // as a little-endian host reads it; a big-endian host reads the bytes reversed.
        let bus = memory.bytes(bar: bar, pos: pos, count: n)
        if config.hostByteOrder == .big { return bus.byteSwapped >> UInt64(64 - 8 * n) }
        return bus
    }

    /// One PCI store block of `length` bytes from the bounce buffer (R-WRITE-3, R-WRITE-4).
    mutating func storeBlock(bar: Int, pos: UInt64, length: Int, handle: UInt32? = nil) throws(AccessError) {
        trace.append(.storeBlock(bar: UInt8(bar), position: pos, length: UInt32(truncatingIfNeeded: length), handle: handle ?? currentHandle))
        if let e = injected() { throw .errno(.init(rawValue: e)) }
        let len = config.barLengths[bar]
        if length == 0 || pos >= len || UInt64(length) > len - pos { throw .eio }
        if config.storeBlocks == .strict {
            let l = UInt64(length)
            if pos % 8 != 0 || l % 8 != 0 || l <= 8 || pos % 4096 + l > 4096 { throw .eio }
        }
        bounce.withUnsafeBytes { b in memory.write(bar: bar, pos: pos, from: b.baseAddress!, count: length) }
    }

    /// One single PCI store of `width` bytes (vfio-pci split writes, write-fragmented); `bytes`
    /// holds them in address order from its least significant byte up.
    mutating func store(bar: Int, pos: UInt64, width n: Int, bytes: UInt64) throws(AccessError) {
        trace.append(.store(bar: UInt8(bar), position: pos, width: UInt8(n), handle: currentHandle))
        if let e = injected() { throw .errno(.init(rawValue: e)) }
        let len = config.barLengths[bar]
        if pos >= len || UInt64(n) > len - pos { throw .eio }
        for i in 0..<n {
            memory.write(bar: bar, pos: pos &+ UInt64(i), byte: UInt8(truncatingIfNeeded: bytes >> UInt64(8 * i)))
        }
    }
}
