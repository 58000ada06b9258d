import ISMAccess
import SystemPackage
import ISMEngine
import ISMFuzzing
import Testing

/// The fuzz-input encoding (docs/fuzz-encoding.md): totality, round trips, and the documented
/// examples, whose expected operations were worked out by hand from the document.
@Suite struct FuzzEncodingTests {
    @Test func documentedExamplesDecodeAsDocumented() {
        #expect(FuzzEncoding.decode([0x00, 0xB7, 0x04]) == [.pread(offset: 7 << 48 | 3, count: 4, fault: .none)])
        #expect(FuzzEncoding.decode([0x00, 0x40, 0x0F, 0xEC, 0x08]) == [.pread(offset: (1 << 48) - 20, count: 8, fault: .none)])
        #expect(FuzzEncoding.decode([0x00, 0x40, 0x0F, 0x14]) == [.pread(offset: (1 << 48) + 20, count: 0, fault: .none)])
        #expect(FuzzEncoding.decode([0x04, 0x32, 0x01, 0x00, 0x2C, 0xAB]) == [.pwrite(offset: 2 << 48 | 4096, count: 4096, pattern: 0xAB, fault: .none)])
        #expect(FuzzEncoding.decode([0x0F, 0x1F, 0x2F, 0x3F]) == [.attachPeer(failPool: false), .attachPeer(failPool: true), .detachPeer, .checkResources])
        #expect(FuzzEncoding.decode([UInt8]()) == [])
    }

    @Test func edgeFormsReachTheEdges() {
        // Negative offsets: selector 12 and 13.
        #expect(FuzzEncoding.decode([0x00, 0x0C, 0x00]) == [.pread(offset: 1 << 63, count: 0, fault: .none)])
        #expect(FuzzEncoding.decode([0x00, 0x0D, 0x00]) == [.pread(offset: UInt64.max, count: 0, fault: .none)])
        // Hard-coded 40-bit shift to BAR2, position 5.
        #expect(FuzzEncoding.decode([0x00, 0xDB, 0x01]) == [.pread(offset: 2 << 40 | 5, count: 1, fault: .none)])
        // Page boundary minus one in BAR2, count 4097 (maxstbl + 1) write.
        #expect(FuzzEncoding.decode([0x04, 0x32, 0x01, 0xFF, 0x2D, 0x00]) == [.pwrite(offset: 2 << 48 | 4095, count: 4097, pattern: 0, fault: .none)])
        // Faults: device fault on the 3rd load with ENODEV; user buffer from byte 9; allocation.
        #expect(FuzzEncoding.decode([0x0B, 0x00, 0x08, UInt8(2 << 2 | 1 << 6)]) == [.pread(offset: 0, count: 8, fault: .device(nth: 2, errno: Errno(rawValue: 19)))])
        #expect(FuzzEncoding.decode([0x0D, 0x0F, UInt8(9 << 2 | 1)]) == [.read(count: 16, fault: .userBuffer(from: 9))])
        #expect(FuzzEncoding.decode([0x1D, 0x0F, 0x77, 0x02]) == [.write(count: 16, pattern: 0x77, fault: .allocation)])
        // Region info with index 0xFFFFFFFF and argsz 31 (below the fixed size).
        #expect(FuzzEncoding.decode([0x0A, 0xDE]) == [.regionInfo(index: 0xFFFF_FFFF, argsz: 31)])
    }

    @Test func everyByteStringDecodesAndItsCanonicalFormDecodesTheSame() throws {
        var rng = SplitMix64(seed: 42)  // the same random inputs on every run
        for length in 0..<600 {
            let bytes = (0..<(length % 300)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let ops = FuzzEncoding.decode(bytes)
            #expect(ops.count <= FuzzEncoding.maxOperations)
            if !bytes.isEmpty { #expect(!ops.isEmpty) }
            let canonical = try FuzzEncoding.encode(ops)
            #expect(FuzzEncoding.decode(canonical) == ops)
        }
    }

    @Test func arbitraryOperationsRoundTrip() throws {
        var rng = SplitMix64(seed: 7)
        func offset() -> UInt64 {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: UInt64.random(in: 0...UInt64.max, using: &rng)
            case 1: UInt64.random(in: 0...9, using: &rng) << 48 | UInt64.random(in: 0..<(1 << 48), using: &rng)
            case 2: UInt64.random(in: 0...0xFFFF, using: &rng) << 48 | UInt64.random(in: 0..<300, using: &rng)
            default: UInt64.random(in: 0..<70_000, using: &rng)
            }
        }
        func fault() -> Fault {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: .none
            case 1: .device(nth: UInt16.random(in: 0...UInt16.max, using: &rng), errno: Errno(rawValue: Int32.random(in: 1...255, using: &rng)))
            case 2: .userBuffer(from: Int.random(in: 0...0xFFFF, using: &rng))
            default: .allocation
            }
        }
        for _ in 0..<2000 {
            let count = Int.random(in: 0...0xFFFF, using: &rng)
            let pattern = UInt8.random(in: 0...255, using: &rng)
            let op: Operation = switch Int.random(in: 0..<10, using: &rng) {
            case 0: .pread(offset: offset(), count: count, fault: fault())
            case 1: .pwrite(offset: offset(), count: count, pattern: pattern, fault: fault())
            case 2: .read(count: count, fault: fault())
            case 3: .write(count: count, pattern: pattern, fault: fault())
            case 4: .seek(offset: Int64(bitPattern: offset()), whence: Bool.random(using: &rng) ? .set : .current)
            case 5: .regionInfo(index: UInt32.random(in: 0...UInt32.max, using: &rng), argsz: UInt32.random(in: 0...64, using: &rng))
            case 6: .recoverHandle
            case 7: .attachPeer(failPool: Bool.random(using: &rng))
            case 8: .detachPeer
            default: .checkResources
            }
            #expect(FuzzEncoding.decode(try FuzzEncoding.encode([op])) == [op])
        }
    }

    @Test func unencodableOperationsAreRefused() {
        #expect(throws: FuzzEncodingError.self) { try FuzzEncoding.encode([.pread(offset: 0, count: 70_000, fault: .none)]) }
        #expect(throws: FuzzEncodingError.self) { try FuzzEncoding.encode([.read(count: 1, fault: .userBuffer(from: 1 << 20))]) }
        #expect(throws: FuzzEncodingError.self) { try FuzzEncoding.encode([.read(count: 1, fault: .device(nth: 99, errno: Errno(rawValue: 0)))]) }
        #expect(throws: FuzzEncodingError.self) { try FuzzEncoding.encode(Array(repeating: .recoverHandle, count: FuzzEncoding.maxOperations + 1)) }
    }
}
