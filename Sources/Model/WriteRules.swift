import ISMAccess

extension GoldenModel {
    /// An ism-profile BAR write (§5): one store block, never fragmented.
    mutating func writeStoreBlock(
        bar: Int, position pos: UInt64, from src: UnsafeRawPointer, count: Int, clamped: Bool, fault: Fault
    ) throws(AccessError) -> Int {
        // R-WRITE-1: the store block limit, checked on the clamped count.
        if UInt64(count) > config.maxstbl { lastDecision.decide(.write1); throw .einval }
        // R-WRITE-2: no 4 KiB page crossing; ending exactly on the boundary is fine.
        if pos % pageSize + UInt64(count) > pageSize { lastDecision.decide(.write2); throw .einval }
        lastDecision.cite(.write1)
        lastDecision.cite(.write2)
        // R-WRITE-5: no bounce buffer, or a fault copying from the user: no store.
        // The bounce buffer comes from this device's own pool (R-LIFE-1).
        lastDecision.cite(.life1)
        if case .allocation = fault { lastDecision.decide(.write5); throw .enomem }
        if case let .userBuffer(from) = fault, from < count { lastDecision.decide(.write5); throw .efault }
        // R-FH-1: the handle may change once the bytes are in the bounce buffer; the store
        // block must use the handle current when it is issued.
        if case .handleChange(0) = fault {
            handle &+= 1
            lastDecision.cite(.fh1)
        }
        // R-WRITE-3: exactly one store block of count bytes at pos.
        trace.append(.storeBlock(bar: UInt8(bar), position: pos, length: UInt32(count), handle: handle))
        if case .handleChange(1) = fault { handle &+= 1; lastDecision.cite(.fh1) }  // after the store block
        lastDecision.cite(.write3)
        // R-WRITE-4: the store block's own error is passed through.
        if case let .device(nth, errno) = fault, nth == 0 {
            lastDecision.decide(.write4)
            throw .errno(errno)
        }
        if config.storeBlocks == .strict, pos % 8 != 0 || count % 8 != 0 || count <= 8 {
            lastDecision.decide(.write4)
            throw .eio
        }
        memory.write(bar: bar, position: pos, from: src, count: count)
        lastDecision.decide(clamped ? .bar3 : .write3)
        return count
    }

    /// A vfio-pci-profile BAR write (§9): split 8/4/2/1 like reads, MSI-X table writes dropped.
    mutating func writeSplit(
        bar: Int, position start: UInt64, from src: UnsafeRawPointer, count: Int, clamped: Bool, fault: Fault
    ) throws(AccessError) -> Int {
        lastDecision.cite(.profile)
        var done = 0
        var instruction: UInt16 = 0
        while done < count {
            let pos = start + UInt64(done)
            let span = msixSpan(bar: bar, position: pos, remaining: UInt64(count - done))
            let n = span.inside ? Int(span.limit)
                : Int(GoldenModel.loadWidth(position: pos, remaining: span.limit, allow8: config.has64BitMMIO))
            // Writes into the MSI-X table are dropped without reading the user buffer.
            if !span.inside, case let .userBuffer(from) = fault, done + n > from {
                lastDecision.decide(.write5)
                throw .efault
            }
            if !span.inside {
                if instruction == 0, case .handleChange(0) = fault { handle &+= 1; lastDecision.cite(.fh1) }
                trace.append(.store(bar: UInt8(bar), position: pos, width: UInt8(n), handle: handle))
                if case let .device(nth, errno) = fault, nth == instruction {
                    lastDecision.decide(.write4)
                    throw .errno(errno)
                }
                instruction &+= 1
                if case let .handleChange(after) = fault, after == instruction { handle &+= 1; lastDecision.cite(.fh1) }
                memory.write(bar: bar, position: pos, from: src + done, count: n)
            }
            done += n
        }
        lastDecision.decide(clamped ? .bar3 : .profile)
        return count
    }
}
