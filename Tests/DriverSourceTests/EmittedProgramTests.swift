import Foundation
import ISMAccess
import enum ISMAccess.Operation
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The C programs `ismkit repro --emit-c` writes, run against a driver source in user space: the
/// program is linked with native/repro-standin (a stand-in for the VFIO device fd served by the
/// driver-source harness) and, for big-endian, built for s390x and run under qemu-s390x.
extension DriverSourceTests {
    /// Builds `c` against `revision`'s driver for `arch` and runs it; exit status, stdout, stderr.
    static func runEmitted(_ c: String, revision: String, device: DeviceConfig, arch: String) throws -> (Int32, String, String) {
        let dir = try Self.temporaryFolder("emitted-\(revision)-\(arch)")
        try c.write(toFile: dir + "/repro.c", atomically: true, encoding: .utf8)
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [HarnessBuilder.packageRoot + "/native/repro-standin/build.sh", dir + "/repro.c", try Shared.driver(revision), dir + "/repro", arch]
        try build.run()
        build.waitUntilExit()
        try #require(build.terminationStatus == 0, "the emitted program did not build for \(arch)")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: arch == "s390x" ? "/usr/bin/qemu-s390x-static" : dir + "/repro")
        run.arguments = (arch == "s390x" ? [dir + "/repro"] : []) + ["0000:00:00.0"]
        let bars = device.barLengths.map(String.init).joined(separator: " ")
        run.environment = ["ISMKIT_STANDIN_TRACE": "1", "ISMKIT_STANDIN_CONFIG":
            "\(bars) \(device.configSize) \(device.maxstbl) \(device.peerMaxstbl) \(device.contentSeed) \(device.storeBlocks == .strict ? 1 : 0)"]
        let out = Pipe(), err = Pipe()
        run.standardOutput = out
        run.standardError = err
        try run.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        return (run.terminationStatus, o, e)
    }

    @Test func theProgramOfV3sBigEndianFindingFailsOnV3AndPassesOnMerged() throws {
        // The reproducer conform writes for v3 on big-endian (R-READ-3).
        let dir = try Self.temporaryFolder("v3-big-repro")
        var options = Self.options(operations: 2000, lifecycle: false)
        options.reproducerDirectory = dir
        let report = try Conformance.run(.driverSource(path: try Shared.driver("v3")), byteOrder: .big, options: options)
        let path = try #require(report.findings.first { $0.rule == .read3 }?.reproducer, "\(report.findings)")
        let repro = try Reproducer.load(path: path)
        let c = CReproducer.emit(operations: repro.operations, config: repro.device, title: "v3 big", describe: { $0.summary(in: repro.device.layout) })
        let onV3 = try Self.runEmitted(c, revision: "v3", device: repro.device, arch: "s390x")
        #expect(onV3.0 == 1, "exit \(onV3.0): \(onV3.1)")
        #expect(onV3.1.contains("not ok 1") && onV3.1.contains("aligned 8-byte-wide read"), "\(onV3.1)")
        let onMerged = try Self.runEmitted(c, revision: "merged", device: repro.device, arch: "s390x")
        #expect(onMerged.0 == 0, "exit \(onMerged.0): \(onMerged.1)")
    }

    @Test func withoutAllowWriteTheProgramIssuesNoWrite() throws {
        let device = DeviceConfig.ism()
        let ops: [Operation] = [.pwrite(offset: 2 << 48, count: 8, pattern: 7, fault: .none), .pread(offset: 2 << 48, count: 8, fault: .none),
                                .write(count: 4, pattern: 1, fault: .none)]
        let describe: (Operation) -> String = { $0.summary(in: device.layout) }
        let readOnly = try Self.runEmitted(CReproducer.emit(operations: ops, config: device, title: "t", describe: describe),
                                           revision: "merged", device: device, arch: "native")
        #expect(readOnly.0 == 0, "\(readOnly.1)")
        #expect(!readOnly.2.contains("standin: pwrite") && !readOnly.2.contains("standin: write"), "\(readOnly.2)")
        #expect(readOnly.1.contains("ok 1 pwrite(2<<48+0x0, 8, pattern 7) # SKIP a write outside --allow-write"), "\(readOnly.1)")
        let writes = try Self.runEmitted(CReproducer.emit(operations: ops, config: device, title: "t", describe: describe,
                                                          allowList: [(region: 2, first: 0, last: 0xfff)]),
                                         revision: "merged", device: device, arch: "native")
        #expect(writes.0 == 0, "\(writes.1)")
        #expect(writes.2.contains("standin: pwrite 8 bytes at 0x2000000000000"), "\(writes.2)")
        // The write at the file position (0, in BAR0) is outside the list: still skipped.
        #expect(!writes.2.contains("standin: write"), "\(writes.2)")
    }
}

extension DriverSourceTests {
    /// A reproducer of a device whose region bases come from a table runs on the driver (whose
    /// kernel bases are `index << 48`): the program finds each model offset's region in the
    /// table and sends it to the base VFIO_DEVICE_GET_REGION_INFO reports. The same program
    /// with the model's layout rewritten to a hard-coded shift sends the offsets elsewhere and fails.
    @Test func aTableLayoutProgramTakesTheKernelsBasesFromRegionInfo() throws {
        let device = DeviceShapes.withRegionTable(.ism(), seed: 7)
        let b = try #require(device.regionTable).bases
        let ops: [Operation] = [.pwrite(offset: b[2] + 16, count: 8, pattern: 7, fault: .none), .pread(offset: b[2] + 16, count: 8, fault: .none),
                                .pread(offset: b[2] + 8190, count: 4, fault: .none), .pread(offset: b[7], count: 4, fault: .none)]
        let describe: (Operation) -> String = { $0.summary(in: device.layout) }
        let c = CReproducer.emit(operations: ops, config: device, title: "table", describe: describe, allowList: [(region: 2, first: 0, last: 0xfff)])
        let run = try Self.runEmitted(c, revision: "merged", device: device, arch: "native")
        #expect(run.0 == 0, "\(run.1)")
        #expect(run.2.contains("standin: pwrite 8 bytes at 0x2000000000010"), "\(run.2)")
        var shift = device
        shift.regionTable = nil
        let hardCoded = c.replacingOccurrences(of: CReproducer.modelLayout(device), with: CReproducer.modelLayout(shift))
        #expect(hardCoded != c)
        let wrong = try Self.runEmitted(hardCoded, revision: "merged", device: device, arch: "native")
        #expect(wrong.0 == 1, "exit \(wrong.0): \(wrong.1)")
        #expect(!wrong.2.contains("standin: pwrite 8 bytes at 0x2000000000010"), "\(wrong.2)")
    }
}
