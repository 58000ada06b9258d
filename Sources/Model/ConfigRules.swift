import ISMAccess

extension GoldenModel {
    /// R-CFG-1: config space goes through the common emulation. The model checks bounds and
    /// error codes; the contents belong to the emulation and are not compared.
    mutating func configAccess(
        position pos: UInt64, count: Int, read rbuf: UnsafeMutableRawBufferPointer?, write wbuf: UnsafeRawBufferPointer?, fault: Fault
    ) throws(AccessError) -> Int {
        lastDecision.decide(.cfg1)
        lastDecision.bytesComparable = false
        // No clamping: past the end is a fault of the common code.
        if pos >= config.configSize || pos + UInt64(count) > config.configSize { throw .efault }
        if case let .userBuffer(from) = fault, from < count { throw .efault }
        if let rbuf { rbuf.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: count) }
        return count
    }
}
