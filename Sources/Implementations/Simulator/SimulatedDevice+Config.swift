import ISMAccess

extension SimulatedDevice {
    /// Config space through the common emulation (R-CFG-1): no clamping (EFAULT past the
    /// config size), aligned 4/2/1-byte pieces, no device instructions, no device faults.
    mutating func configTransfer(
        read rbuf: UnsafeMutableRawBufferPointer?, write wbuf: UnsafeRawBufferPointer?,
        pos start: UInt64, count requested: Int
    ) throws(AccessError) -> Int {
        let size = config.configSize
        if start >= size { throw .efault }
        var count = requested
        if UInt64(count) > size - start {
            if mutant != .configClamped { throw .efault }
            count = Int(size - start)
        }
        if wbuf != nil && configSpace.isEmpty {
            configSpace.reserveCapacity(Int(size))
            for p in 0..<size { configSpace.append(initialConfigByte(p)) }
        }
        var done = 0
        var pos = Int(start)
        while done < count {
            let n = pieceWidth(pos: UInt64(pos), remaining: count - done, maxWidth: 4, aligned: true)
            if done + n > userFaultFrom { throw .efault }
            if let rbuf {
                if configSpace.isEmpty {
                    for i in 0..<n { rbuf[done + i] = initialConfigByte(UInt64(pos + i)) }
                } else {
                    for i in 0..<n { rbuf[done + i] = configSpace[pos + i] }
                }
            } else if let wbuf {
                for i in 0..<n { configSpace[pos + i] = wbuf[done + i] }
            }
            done += n
            pos += n
        }
        return done
    }

    @inline(__always)
    func initialConfigByte(_ pos: UInt64) -> UInt8 {
        DeviceContents.initialByte(seed: config.contentSeed, bar: 7, position: pos)
    }
}
