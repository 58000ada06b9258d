import ISMAccess

extension GoldenModel {
    /// R-READ-1: the width of the next load at `pos` with `remaining` bytes left.
    @inline(__always)
    public static func loadWidth(position pos: UInt64, remaining: UInt64, allow8: Bool) -> UInt64 {
        if allow8 && remaining >= 8 && pos & 7 == 0 { return 8 }
        if remaining >= 4 && pos & 3 == 0 { return 4 }
        if remaining >= 2 && pos & 1 == 0 { return 2 }
        return 1
    }

    /// Where the piece starting at `pos` must stop so it does not cross an MSI-X table edge
    /// (vfio-pci profile), and whether it lies inside the table.
    @inline(__always)
    func msixSpan(bar: Int, position pos: UInt64, remaining: UInt64) -> (limit: UInt64, inside: Bool) {
        guard config.profile == .vfioPCI, let t = config.msix, t.bar == bar, t.length > 0 else {
            return (remaining, false)
        }
        let end = t.start + t.length
        if pos < t.start { return (min(remaining, t.start - pos), false) }
        if pos < end { return (min(remaining, end - pos), true) }
        return (remaining, false)
    }

    /// A BAR read (§4): aligned loads, each stored into the buffer byte-transparently.
    mutating func readBar(
        bar: Int, position start: UInt64, into dst: UnsafeMutableRawPointer, count: Int, clamped: Bool, fault: Fault
    ) throws(AccessError) -> Int {
        let allow8 = config.profile == .ism || config.has64BitMMIO
        var done = 0
        var instruction: UInt16 = 0
        var narrow = false
        var unknown: [Range<Int>] = []
        // First the loads the split issues (R-READ-1), then the bytes they return: the device's
        // bytes whatever the host byte order (R-READ-3), copied once for the whole range.
        var msixBytes = false
        while done < count {
            let pos = start + UInt64(done)
            let span = msixSpan(bar: bar, position: pos, remaining: UInt64(count - done))
            let n: Int
            if span.inside {
                // §9: the MSI-X table reads as 0xFF and issues no load.
                n = Int(span.limit)
                msixBytes = true
                lastDecision.cite(.profile)
            } else {
                n = Int(GoldenModel.loadWidth(position: pos, remaining: span.limit, allow8: allow8))
                if n < 8 { narrow = true }
                trace.append(.load(bar: UInt8(bar), position: pos, width: UInt8(n), handle: handle))
                // R-READ-4: a failing load fails the whole read with its error.
                if case let .device(nth, errno) = fault, nth == instruction {
                    lastDecision.decide(.read4)
                    throw .errno(errno)
                }
                instruction &+= 1
                // R-FH-1: the handle changes after this load; the next one must use the new one.
                if case let .handleChange(after) = fault, after == instruction {
                    handle &+= 1
                    lastDecision.cite(.fh1)
                }
            }
            // R-READ-5: a fault copying to the user buffer fails the read.
            if case let .userBuffer(from) = fault, done + n > from {
                lastDecision.decide(.read5)
                throw .efault
            }
            done += n
        }
        memory.read(bar: bar, position: start, into: dst, count: count, base: 0, unknown: &unknown)
        if msixBytes, let t = config.msix {
            let lo = max(start, t.start), hi = min(start + UInt64(count), t.start + t.length)
            if lo < hi {
                (dst + Int(lo - start)).initializeMemory(as: UInt8.self, repeating: 0xFF, count: Int(hi - lo))
                unknown = unknown.flatMap { r -> [Range<Int>] in
                    let cut = Int(lo - start)..<Int(hi - start)
                    return [r.lowerBound..<min(r.upperBound, cut.lowerBound), max(r.lowerBound, cut.upperBound)..<r.upperBound].filter { !$0.isEmpty }
                }
            }
        }
        lastDecision.unknownBytes = unknown
        lastDecision.cite(.read1)
        lastDecision.cite(.read3)
        // The rule that makes this count right: the clamp, the narrow loads, or the split.
        lastDecision.decide(clamped ? .bar3 : narrow ? .read2 : .read1)
        if clamped && narrow { lastDecision.cite(.read2) }
        return count
    }

    /// Learned-contents mode: the implementation returned `bytes` for a successful read at
    /// `offset`; remember the ones the model did not know. No effect in seeded mode.
    public mutating func learn(readAt offset: UInt64, bytes: UnsafeRawBufferPointer) {
        guard memory.learned, !bytes.isEmpty else { return }
        let d = DecodedOffset(offset: offset, config: config)
        guard let length = config.barLength(d.index), d.position < length else { return }
        let n = Int(min(UInt64(bytes.count), length - d.position))
        memory.write(bar: Int(d.index), position: d.position, from: bytes.baseAddress!, count: n, onlyUnknown: true)
    }
}
