import SystemPackage
import ISMAccess
import ISMEngine

/// The fuzz-input encoding: a stable, total map from arbitrary bytes to an operation sequence
/// (every byte string decodes to some valid `[Operation]`), biased towards the edges the SPEC
/// cares about, and its inverse `FuzzEncoding.encode`, used to write corpus seeds from
/// operation lists. The format is documented in docs/fuzz-encoding.md; changing a table here
/// changes what every committed corpus entry means, so tables only ever grow at their ends
/// (bump `FuzzEncoding.version` when they must change).
///
/// Decoding reads records until the input ends; a record cut short by the end of the input
/// reads the missing bytes as zero. At most `maxOperations` records are decoded.
public enum FuzzEncoding {
    /// The encoding's version, recorded in reproducers converted from raw artifacts.
    public static let version = 1
    /// Records past this many are ignored (keeps one fuzz iteration short).
    public static let maxOperations = 256

    // MARK: Tables (append only)

    /// Region selectors (low nibble of a place byte): the region index, or a special form.
    @usableFromInline enum Selector {
        /// Indexes for selectors 0...10.
        @usableFromInline static let indexes: [UInt64] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x7FFF]
        /// `(2 << 40) | pos`: BAR2 as a client with a hard-coded 40-bit shift addresses it.
        @usableFromInline static let shift40 = 11
        /// `(1 << 63) | pos`: a negative offset.
        @usableFromInline static let negative = 12
        /// `UInt64.max - pos`: a negative offset counted down from -1.
        @usableFromInline static let minusOne = 13
        /// A literal 8-byte offset follows; the position nibble is ignored.
        @usableFromInline static let literal = 14
        /// A literal 2-byte region index follows, then the position.
        @usableFromInline static let index16 = 15
    }

    /// Positions an anchor-relative place (position mode 4) starts from.
    @usableFromInline static let anchors: [UInt64] = [
        0, 256, 4096, 8192, 12288, 65536, 1 << 20, 1 << 32,
        1 << 39, 1 << 40, (1 << 40) + 4096, 1 << 41, 1 << 44, 1 << 47, (1 << 48) - 4096, 1 << 48,
    ]

    /// Transfer sizes for count bytes 0x00...0x3F: the sizes around widths, store-block limits
    /// (maxstbl 4096 and the peer's 2048) and pages.
    @usableFromInline static let counts: [Int] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16,
        17, 23, 24, 25, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257,
        511, 512, 1023, 1024, 2047, 2048, 2049, 3071, 4088, 4089, 4094, 4095, 4096, 4097,
        4100, 4104, 6144, 8184, 8191, 8192, 8193, 12288, 16383, 16384, 16385, 32767, 32768,
        65535, 65536, 65537, 131072, 100,
    ]

    /// errno values of device faults (fault byte bits 6-7).
    @usableFromInline static let faultErrnos: [Int32] = [5 /* EIO */, 19 /* ENODEV */, 22 /* EINVAL */, 14 /* EFAULT */]

    /// Region-info indexes for the low nibble 0...14 of an index byte (15: literal u32 follows).
    @usableFromInline static let infoIndexes: [UInt32] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
    /// Region-info argsz values for the high nibble 0...14 of an index byte (15: literal u32 follows).
    @usableFromInline static let infoArgsz: [UInt32] = [32, 32, 32, 32, 32, 40, 64, 256, 0, 1, 8, 16, 24, 31, 33]

    /// Operation kinds by the low nibble of an op byte.
    @usableFromInline enum Kind: UInt8 {
        case pread0 = 0, pread1, pread2, pread3, pwrite0, pwrite1, pwrite2
        case read = 7, write = 8, seek = 9, regionInfo = 10
        case preadFault = 11, pwriteFault = 12, rwFault = 13, recoverHandle = 14, lifecycle = 15
    }

    // MARK: Decoding

    /// Decodes `bytes` into operations (see the type's documentation). With `regionTable` (a
    /// device whose region bases come from a table) the region selectors name the table's
    /// regions: a place that decodes as region index i < 8 and position p is the offset
    /// `base_i + p` (`placeOffset`); without it, `(i << 48) + p`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, regionTable: RegionTable? = nil) -> [Operation] {
        var ops: [Operation] = []
        ops.reserveCapacity(min(maxOperations, bytes.count / 2 + 1))
        var reader = Reader(bytes, bases: regionTable?.bases)
        while !reader.atEnd && ops.count < maxOperations {
            ops.append(reader.operation())
        }
        return ops
    }

    /// Decodes a byte array (convenience for tools and tests).
    public static func decode(_ bytes: [UInt8], regionTable: RegionTable? = nil) -> [Operation] {
        bytes.withUnsafeBytes { decode($0, regionTable: regionTable) }
    }

    /// Decodes `bytes` for `device`: through its region table when it has one.
    public static func decode(_ bytes: [UInt8], for device: DeviceConfig) -> [Operation] {
        decode(bytes, regionTable: device.regionTable)
    }

    /// The offset of a place that names region `index` at position `pos`: `bases[index] + pos`
    /// when a table lists the index, else the encoding's own `(index << 48) + pos` (wrapping;
    /// on a table device an index the table does not list, 8 and above, lands in no region).
    /// The one place where region selectors meet a region table.
    @inline(__always) @usableFromInline
    static func placeOffset(index: UInt64, position pos: UInt64, bases: [UInt64]?) -> UInt64 {
        if let bases, index < UInt64(bases.count) { return bases[Int(index)] &+ pos }
        return (index << 48) &+ pos
    }

    /// A cursor over fuzz input; reads past the end yield zero.
    @usableFromInline struct Reader {
        @usableFromInline let base: UnsafeRawBufferPointer
        /// A region table's bases, which region selectors then name (nil: `index << 48`).
        @usableFromInline let bases: [UInt64]?
        @usableFromInline var at = 0

        @usableFromInline init(_ base: UnsafeRawBufferPointer, bases: [UInt64]? = nil) {
            self.base = base
            self.bases = bases
        }

        @usableFromInline var atEnd: Bool { at >= base.count }

        @inline(__always) @usableFromInline mutating func u8() -> UInt8 {
            defer { at += 1 }
            return at < base.count ? base[at] : 0
        }

        @inline(__always) @usableFromInline mutating func le(_ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(u8()) << UInt64(8 * i) }
            return v
        }

        @usableFromInline mutating func operation() -> Operation {
            let op = u8()
            let flags = op >> 4
            switch Kind(rawValue: op & 0x0F)! {
            case .pread0, .pread1, .pread2, .pread3:
                return .pread(offset: offset(), count: count(), fault: .none)
            case .pwrite0, .pwrite1, .pwrite2:
                let o = offset(), c = count()
                return .pwrite(offset: o, count: c, pattern: u8(), fault: .none)
            case .read:
                return .read(count: count(), fault: .none)
            case .write:
                let c = count()
                return .write(count: c, pattern: u8(), fault: .none)
            case .seek:
                switch flags & 3 {
                case 0: return .seek(offset: Int64(bitPattern: offset()), whence: .set)
                case 1: return .seek(offset: Int64(Int8(bitPattern: u8())), whence: .current)
                case 2: return .seek(offset: Int64(bitPattern: le(8)), whence: .current)
                default: return .seek(offset: Int64(bitPattern: le(8)), whence: .set)
                }
            case .regionInfo:
                let b = u8()
                let lo = Int(b & 0x0F), hi = Int(b >> 4)
                let index = lo < 15 ? infoIndexes[lo] : UInt32(truncatingIfNeeded: le(4))
                let argsz = hi < 15 ? infoArgsz[hi] : UInt32(truncatingIfNeeded: le(4))
                return .regionInfo(index: index, argsz: argsz)
            case .preadFault:
                let o = offset(), c = count()
                return .pread(offset: o, count: c, fault: fault())
            case .pwriteFault:
                let o = offset(), c = count(), p = u8()
                return .pwrite(offset: o, count: c, pattern: p, fault: fault())
            case .rwFault:
                if flags & 1 == 0 {
                    let c = count()
                    return .read(count: c, fault: fault())
                }
                let c = count(), p = u8()
                return .write(count: c, pattern: p, fault: fault())
            case .recoverHandle:
                return .recoverHandle
            case .lifecycle:
                switch flags & 3 {
                case 0: return .attachPeer(failPool: false)
                case 1: return .attachPeer(failPool: true)
                case 2: return .detachPeer
                default: return .checkResources
                }
            }
        }

        /// A place byte: region selector (low nibble) and position mode (high nibble).
        @usableFromInline mutating func offset() -> UInt64 {
            let place = u8()
            let selector = Int(place & 0x0F)
            if selector == Selector.literal { return le(8) }
            let index: UInt64 = selector == Selector.index16 ? le(2) : (selector < Selector.indexes.count ? Selector.indexes[selector] : 0)
            let pos = position(mode: place >> 4)
            switch selector {
            case Selector.shift40: return (2 << 40) &+ pos
            case Selector.negative: return (1 << 63) | pos
            case Selector.minusOne: return UInt64.max &- pos
            default: return placeOffset(index: index, position: pos, bases: bases)
            }
        }

        @usableFromInline mutating func position(mode: UInt8) -> UInt64 {
            switch mode {
            case 0: return 0
            case 1: return le(1)
            case 2: return le(2)
            case 3:
                let page = le(1)
                return (page << 12) &+ UInt64(bitPattern: Int64(Int8(bitPattern: u8())))
            case 4:
                let anchor = anchors[Int(u8() & 0x0F)]
                return anchor &+ UInt64(bitPattern: Int64(Int8(bitPattern: u8())))
            case 5: return le(6)
            case 6: return le(4)
            case 7: return le(4) << 12
            default: return UInt64(mode - 8)
            }
        }

        @usableFromInline mutating func count() -> Int {
            let c = u8()
            switch c {
            case 0x00...0x3F: return counts[Int(c)]
            case 0x40...0x7F: return Int(c - 0x40)
            case 0x80...0xBF: return Int(c - 0x80) << 8 | Int(u8())
            default: return Int(le(2))
            }
        }

        @usableFromInline mutating func fault() -> Fault {
            let f = u8()
            let arg = Int(f >> 2)
            switch f & 3 {
            case 0: return .device(nth: UInt16(arg & 0x0F), errno: Errno(rawValue: faultErrnos[arg >> 4]))
            case 1: return .userBuffer(from: arg)
            case 2:
                if arg == 0 { return .allocation }
                if arg == 0x3F { return .handleChange(after: UInt16(truncatingIfNeeded: le(2))) }
                let nth = UInt16(truncatingIfNeeded: le(2))
                return .device(nth: nth, errno: Errno(rawValue: Int32(max(1, u8()))))  // errno 0 is no failure: reads as 1
            default: return .userBuffer(from: Int(le(2)))
            }
        }
    }
}

// MARK: Encoding

/// Why an operation has no byte encoding (its values are outside what the format can carry).
public struct FuzzEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: Operation
    public var reason: String
    public var description: String { "cannot encode \(operation): \(reason)" }
}

extension FuzzEncoding {
    /// The bytes that decode to exactly `operations` (`decode(encode(ops)) == ops`).
    /// Throws for counts above 65535 that are not in the count table, user-buffer fault
    /// positions above 65535, device-fault errnos outside 1...255, and more than
    /// `maxOperations` operations.
    public static func encode(_ operations: [Operation]) throws(FuzzEncodingError) -> [UInt8] {
        var out: [UInt8] = []
        guard operations.count <= maxOperations else {
            throw FuzzEncodingError(operation: operations[maxOperations], reason: "more than \(maxOperations) operations")
        }
        for op in operations { try encode(op, into: &out) }
        return out
    }

    /// Appends the record of one operation.
    public static func encode(_ op: Operation, into out: inout [UInt8]) throws(FuzzEncodingError) {
        func kind(_ k: Kind, _ flags: UInt8 = 0) { out.append(k.rawValue | flags << 4) }
        func fail(_ why: String) -> FuzzEncodingError { FuzzEncodingError(operation: op, reason: why) }
        switch op {
        case let .pread(offset, count, fault):
            kind(fault == .none ? .pread0 : .preadFault)
            appendOffset(offset, &out)
            guard appendCount(count, &out) else { throw fail("count \(count)") }
            if fault != .none { guard appendFault(fault, &out) else { throw fail("fault \(fault)") } }
        case let .pwrite(offset, count, pattern, fault):
            kind(fault == .none ? .pwrite0 : .pwriteFault)
            appendOffset(offset, &out)
            guard appendCount(count, &out) else { throw fail("count \(count)") }
            out.append(pattern)
            if fault != .none { guard appendFault(fault, &out) else { throw fail("fault \(fault)") } }
        case let .read(count, fault):
            if fault == .none { kind(.read) } else { kind(.rwFault, 0) }
            guard appendCount(count, &out) else { throw fail("count \(count)") }
            if fault != .none { guard appendFault(fault, &out) else { throw fail("fault \(fault)") } }
        case let .write(count, pattern, fault):
            if fault == .none { kind(.write) } else { kind(.rwFault, 1) }
            guard appendCount(count, &out) else { throw fail("count \(count)") }
            out.append(pattern)
            if fault != .none { guard appendFault(fault, &out) else { throw fail("fault \(fault)") } }
        case let .seek(offset, whence):
            if whence == .current, let small = Int8(exactly: offset) {
                kind(.seek, 1)
                out.append(UInt8(bitPattern: small))
            } else if whence == .set {
                kind(.seek, 0)
                appendOffset(UInt64(bitPattern: offset), &out)
            } else {
                kind(.seek, 2)
                appendLE(UInt64(bitPattern: offset), 8, &out)
            }
        case let .regionInfo(index, argsz):
            kind(.regionInfo)
            let lo = infoIndexes.firstIndex(of: index) ?? 15
            let hi = infoArgsz.firstIndex(of: argsz) ?? 15
            out.append(UInt8(lo) | UInt8(hi) << 4)
            if lo == 15 { appendLE(UInt64(index), 4, &out) }
            if hi == 15 { appendLE(UInt64(argsz), 4, &out) }
        case .recoverHandle:
            kind(.recoverHandle)
        case let .attachPeer(failPool):
            kind(.lifecycle, failPool ? 1 : 0)
        case .detachPeer:
            kind(.lifecycle, 2)
        case .checkResources:
            kind(.lifecycle, 3)
        }
    }

    static func appendLE(_ v: UInt64, _ n: Int, _ out: inout [UInt8]) {
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }

    /// The shortest place form that decodes to `offset`.
    static func appendOffset(_ offset: UInt64, _ out: inout [UInt8]) {
        let index = offset >> 48, pos = offset & ((1 << 48) - 1)
        let selector: Int
        if let i = Selector.indexes.firstIndex(of: index) {
            selector = i
        } else if index <= 0xFFFF && offset >> 63 == 0 {
            selector = Selector.index16
        } else {
            out.append(UInt8(Selector.literal))
            appendLE(offset, 8, &out)
            return
        }
        let mode: UInt8, extra: Int
        switch pos {
        case 0...7: (mode, extra) = (UInt8(8 + pos), 0)
        case 8...0xFF: (mode, extra) = (1, 1)
        case 0x100...0xFFFF: (mode, extra) = (2, 2)
        case 0x1_0000...0xFFFF_FFFF: (mode, extra) = (6, 4)
        default: (mode, extra) = (5, 6)
        }
        out.append(UInt8(selector) | mode << 4)
        if selector == Selector.index16 { appendLE(index, 2, &out) }
        appendLE(pos, extra, &out)
    }

    static func appendCount(_ count: Int, _ out: inout [UInt8]) -> Bool {
        if let i = counts.firstIndex(of: count) {
            out.append(UInt8(i))
        } else if (0...0x3F).contains(count) {
            out.append(0x40 + UInt8(count))
        } else if (0...0x3FFF).contains(count) {
            out.append(0x80 | UInt8(count >> 8))
            out.append(UInt8(count & 0xFF))
        } else if (0...0xFFFF).contains(count) {
            out.append(0xC0)
            appendLE(UInt64(count), 2, &out)
        } else {
            return false
        }
        return true
    }

    static func appendFault(_ fault: Fault, _ out: inout [UInt8]) -> Bool {
        switch fault {
        case .none:
            return false
        case let .device(nth, e):
            let errno = e.rawValue
            if nth < 16, let e = faultErrnos.firstIndex(of: errno) {
                out.append(UInt8(nth) << 2 | UInt8(e) << 6)
            } else if (1...255).contains(errno) {
                out.append(2 | 1 << 2)
                appendLE(UInt64(nth), 2, &out)
                out.append(UInt8(errno))
            } else {
                return false
            }
        case let .userBuffer(from):
            if (0..<64).contains(from) {
                out.append(1 | UInt8(from) << 2)
            } else if (0...0xFFFF).contains(from) {
                out.append(3)
                appendLE(UInt64(from), 2, &out)
            } else {
                return false
            }
        case let .handleChange(after):
            out.append(2 | 0x3F << 2)
            appendLE(UInt64(after), 2, &out)
        case .allocation:
            out.append(2)
        }
        return true
    }
}
