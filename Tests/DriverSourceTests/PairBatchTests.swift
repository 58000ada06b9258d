import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The concurrency check's pair runs in batches (`WireAccess.runPairs`): what a batch finds is
/// what running the same cases one at a time finds, a crash in the middle of a batch names the
/// pair and hold that caused it, and a pooled harness process given another device (`RESET`
/// with CONFIG's numbers) looks like a process started for that device.
extension DriverSourceTests {
    /// A race that crashes instead of answering wrongly: the write marks itself busy around its
    /// store block and a read that finds the mark set dereferences NULL. Only a read that runs
    /// while a write is held inside its store block sees the mark.
    static let crashingRace = ConcurrencyMutant(name: "read-crashes-inside-a-write", intent: "a read crashes on a flag a concurrent write set", edits: [
        ("static ssize_t ism_vfio_pci_do_io_r(", "static int ism_write_busy;\n\nstatic ssize_t ism_vfio_pci_do_io_r("),
        (" struct zpci_dev *zdev = to_zpci(vdev->pdev);\n ssize_t done = 0;\n int ret;\n\n while (count) {",
         " struct zpci_dev *zdev = to_zpci(vdev->pdev);\n ssize_t done = 0;\n int ret;\n\n if (ism_write_busy)\n  *(volatile int *)0 = 0;\n while (count) {"),
        (" ret = __zpci_store_block(data, req, off);", " ism_write_busy = 1;\n ret = __zpci_store_block(data, req, off);\n ism_write_busy = 0;"),
    ])

    /// The concurrency check on the fixed ISM device with the runs batched (a pooled process)
    /// and one at a time (each on a process of its own).
    static func searchBothWays(_ path: String, _ order: ByteOrder, pairs: Int = 40, freeRuns: Int = 0) throws -> (batched: (finding: Finding?, runs: Int), oneByOne: (finding: Finding?, runs: Int)) {
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        let device = Conformance.devices(order)[0]
        let pool = IdleProcessPool()
        let options = ConcurrencyCheck.Options(pairs: pairs, seed: 1, freeRuns: freeRuns)
        let batched = ConcurrencyCheck.search(device: device, options: options) { () throws(AccessError) in
            let a = try WireAccess(harness: bin, config: device, timeout: .seconds(5), reuse: pool)
            #expect(a.runsPairsInBatch)
            return a
        }
        let oneByOne = ConcurrencyCheck.search(device: device, options: options) { () throws(AccessError) in
            let a = try WireAccess(harness: bin, config: device, timeout: .seconds(5))
            #expect(!a.runsPairsInBatch)
            return a
        }
        return (batched, oneByOne)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aCrashInABatchOfPairRunsNamesItsPairAndHold(order: ByteOrder) throws {
        let (batched, oneByOne) = try Self.searchBothWays(try Self.mutate(Self.crashingRace), order)
        let f = try #require(batched.finding, "\(order): the crashing race was not found")
        guard case .crash = f.failure else { Issue.record("\(order): \(f.description)"); return }
        let pair = try #require(f.pair)
        #expect(pair.first.isWrite && pair.second.isRead, "\(pair)")
        #expect(pair == oneByOne.finding?.pair, "batched \(pair), one by one \(oneByOne.finding?.pair.map { "\($0)" } ?? "nothing")")
        #expect(f.headline == oneByOne.finding?.headline)
        // A batch holds runs of many cases: the crash came after other runs of the same batch.
        #expect(batched.runs > 40)
        print("pair-batch | crash | \(order.rawValue) | \(pair) | batched \(batched.runs) runs, one by one \(oneByOne.runs)")
    }

    @Test(arguments: [ByteOrder.little, .big])
    func batchedPairRunsFindWhatRunsOneByOneFind(order: ByteOrder) throws {
        let m = try #require(ConcurrencyMutant.all.first { $0.name == "shared-store-block-buffer" })
        let (batched, oneByOne) = try Self.searchBothWays(try Self.mutate(m), order)
        let f = try #require(batched.finding)
        #expect(f.headline == "not linearizable")
        #expect(f.pair == oneByOne.finding?.pair)
        #expect(f.operations == oneByOne.finding?.operations)
        // Little-endian, enough pairs that a phase takes several batches: every run is made once,
        // batched or not (one by one, each run starts a process: under qemu that is slow).
        let (clean, cleanOneByOne) = try Self.searchBothWays(try Shared.driver("merged"), order, pairs: order == .little ? 120 : 20, freeRuns: 2)
        #expect(clean.finding == nil && cleanOneByOne.finding == nil, "\(clean.finding?.description ?? cleanOneByOne.finding?.description ?? "")")
        #expect(order == .big || clean.runs > 3 * ConcurrencyCheck.batchRuns)
        #expect(clean.runs == cleanOneByOne.runs)
    }

    /// A correct change that takes a lock around the whole write: a write held anywhere inside
    /// it owns the lock, so a second write finds it busy, the held one finishes first and the
    /// second goes on (the harness's `contended` hand-off), which is a pair without a hold.
    static let lockedWrites = ConcurrencyMutant(name: "writes-under-a-lock", intent: "every write under one mutex", edits: [
        ("static ssize_t ism_vfio_pci_do_io_w(", "static DEFINE_MUTEX(ism_write_lock);\n\nstatic ssize_t ism_vfio_pci_do_io_w("),
        (" data = kmem_cache_alloc(ivpcd->store_block_cache, GFP_KERNEL);\n if (!data)\n return -ENOMEM;\n",
         " mutex_lock(&ism_write_lock);\n data = kmem_cache_alloc(ivpcd->store_block_cache, GFP_KERNEL);\n if (!data) {\n  mutex_unlock(&ism_write_lock);\n  return -ENOMEM;\n }\n"),
        ("out_free:\n kmem_cache_free(ivpcd->store_block_cache, data);\n", "out_free:\n kmem_cache_free(ivpcd->store_block_cache, data);\n mutex_unlock(&ism_write_lock);\n"),
    ])

    @Test(arguments: [ByteOrder.little, .big])
    func aHeldWriteThatOwnsALockFinishesBeforeTheOtherGoesOn(order: ByteOrder) throws {
        let path = try Self.mutate(Self.lockedWrites)
        let bin = try HarnessBuilder.build(driverSource: path, variant: order == .big ? .big : .little)
        let device = Conformance.devices(order)[0]
        var a = try WireAccess(harness: bin, config: device, timeout: .seconds(5))
        // Held at its first boundary (its user copy), inside the lock, while a second write comes.
        let pair = ConcurrentPair(first: .pwrite(offset: 0, count: 8, pattern: 1, fault: .none), firstFD: 1,
                                  second: .pwrite(offset: 0, count: 8, pattern: 2, fault: .none), secondFD: 2, hold: 0)
        let seen = try a.runPair(pair)
        #expect(!seen.held, "the second write ran while the first held the lock")
        #expect(seen.first.result == .success(8) && seen.second.result == .success(8))
        // The second write's bytes are the ones left: the first finished first.
        let back = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { back.deallocate() }
        _ = try a.pread(into: back, offset: 0, fault: .none)
        #expect(Array(back) == (0..<8).map { DeviceContents.patternByte(2, $0) })
        // Every pair and hold of the check: linearizable, and no hang.
        let (batched, oneByOne) = try Self.searchBothWays(path, order, pairs: 20, freeRuns: 2)
        #expect(batched.finding == nil && oneByOne.finding == nil, "\(batched.finding?.description ?? oneByOne.finding?.description ?? "")")
    }

    /// What a device shows right after it was made, with the region info of every BAR.
    static func lookWithRegions(_ a: inout WireAccess) throws -> [String] {
        var look: [String] = []
        for i: UInt32 in 0..<6 {
            look.append((try? a.regionInfo(index: i, argsz: 32)).map { "\($0.offset) \($0.size)" } ?? "none")
        }
        // A write of more than the smaller device's maxstbl: one store block, or refused.
        let data = [UInt8](repeating: 0x5A, count: 3000)
        let written: String
        do { written = "\(try data.withUnsafeBytes { buffer throws(AccessError) in try a.pwrite(from: buffer, offset: 0, fault: .none) })" } catch { written = "\(error)" }
        look.append(written)
        return look + (try Self.firstLook(&a))
    }

    @Test(arguments: [ByteOrder.little, .big])
    func aPooledProcessGivenAnotherDeviceLooksStartedForIt(order: ByteOrder) throws {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: order == .big ? .big : .little)
        let (ism, other) = (Conformance.devices(order)[0], Conformance.devices(order)[1])
        var expected: [String: [String]] = [:]
        for d in [ism, other] {
            var fresh = try WireAccess(harness: bin, config: d)
            expected["\(d)"] = try Self.lookWithRegions(&fresh)
        }
        #expect(expected["\(ism)"] != expected["\(other)"])
        let pool = IdleProcessPool()
        // The ISM device, then the other one, then the ISM device again, all in one process.
        for (k, d) in [ism, other, ism].enumerated() {
            var a = try WireAccess(harness: bin, config: d, reuse: pool)
            #expect(pool.resets == k, "device \(k) did not reuse the process")
            #expect(try Self.lookWithRegions(&a) == expected["\(d)"], "device \(k) (\(d == ism ? "ISM" : "other"))")
        }
    }
}
