import Foundation
import ISMAccess
import ISMEngine
import enum ISMAccess.Operation
import Testing
@testable import ISMVFIO

/// `ismkit repro --emit-c` output: a C program that compiles and fails cleanly without a device.
@Suite struct CReproducerTests {
    static let bar2: UInt64 = 2 << 48
    static let ops: [Operation] = [
        .regionInfo(index: 2, argsz: 32),
        .pwrite(offset: bar2 + 0x10, count: 8, pattern: 3, fault: .none),
        .pread(offset: bar2 + 0x0c, count: 16, fault: .none),
        .pwrite(offset: bar2 + 0xFFE, count: 4, pattern: 1, fault: .none),  // crosses a 4 KiB page: EINVAL (R-WRITE-2)
        .pread(offset: bar2 + 0x10, count: 4, fault: .userBuffer(from: 0)),   // not possible on hardware: SKIP
        .read(count: 8, fault: .none),
        .seek(offset: 0, whence: .current),
        .regionInfo(index: 6, argsz: 32),
    ]

    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "ismkit-repro-\(UUID().uuidString).c"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func emittedProgramCompiles() throws {
        let c = CReproducer.emit(operations: Self.ops, config: .ism(), title: "test */ title")
        let path = try Self.write(c)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.run("/usr/bin/gcc", ["-fsyntax-only", "-Wall", "-Werror", "-std=gnu11", path])
        #expect(r.status == 0, Comment(rawValue: "gcc: " + r.output))
    }

    @Test func expectationsAreTheSpecs() {
        // Writes are emitted only inside an allow-list (without one they are SKIPs).
        let c = CReproducer.emit(operations: Self.ops, config: .ism(), title: "t", allowList: [(region: 2, first: 0, last: 0x1fff)])
        // Region info for BAR2 on ism: offset 2 << 48, size 8 KiB, READ|WRITE (R-INFO-2).
        #expect(c.contains("EXP_REGION, 0LL, 0, 0x2000000000000ULL, 0x2000ULL, 0x3u"))
        let rows = c.split(separator: "\n")
        // The page-crossing write is EINVAL (22), R-WRITE-2.
        let crossing = rows.first { $0.contains("OP_PWRITE") && $0.contains("0x2000000000ffeULL") }
        #expect(crossing?.contains("EXP_ERRNO, 0LL, 22,") == true)
        // ROM region info is EINVAL on ism (R-INFO-3).
        let rom = rows.first { $0.contains("OP_REGION_INFO") && $0.contains(" 6u, 32u,") }
        #expect(rom?.contains("EXP_ERRNO, 0LL, 22,") == true)
        // The write inside the page succeeds with its count (R-WRITE-4).
        let inside = rows.first { $0.contains("OP_PWRITE") && $0.contains("0x2000000000010ULL") }
        #expect(inside?.contains("EXP_VALUE, 8LL, 0,") == true)
        // The read after the write checks the 8 written bytes at buffer offset 4 (pattern 3: 0x03, 0x28, ...).
        #expect(c.contains("{ 4, 8, "))
        #expect(c.contains("0x03, 0x28, 0x4d, 0x72"))
        // The faulted operation cannot run on hardware: a SKIP with its reason.
        #expect(c.contains("{ OP_SKIP,"))
        #expect(c.contains("\"an injected fault: a real device cannot fail on demand\""))
        // Without an allow-list both writes are SKIPs too, and the program's own guard has no range.
        let readOnly = CReproducer.emit(operations: Self.ops, config: .ism(), title: "t")
        #expect(!readOnly.split(separator: "\n").contains { $0.hasPrefix("    { OP_PWRITE") })
        #expect(readOnly.contains("{ 0xffffffffu, 1, 0 }"))
        #expect(c.contains("#define MODEL_SHIFT 48"))
    }

    @Test func withoutTheDeviceItBailsOutWithExitTwo() throws {
        let c = CReproducer.emit(operations: Self.ops, config: .ism(), title: "t")
        let path = try Self.write(c)
        let binary = path + ".bin"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: binary)
        }
        let build = try Self.run("/usr/bin/gcc", ["-O1", "-o", binary, path])
        try #require(build.status == 0, Comment(rawValue: "gcc: " + build.output))
        let r = try Self.run(binary, ["0000:ff:1f.7"])
        #expect(r.status == 2)
        #expect(r.output.hasPrefix("KTAP version 1\n1..8\nBail out! no IOMMU group for 0000:ff:1f.7"))
    }
}
