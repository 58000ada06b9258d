import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// Issue classes 4, 5 and 6: the lifecycle walk, the callback contract and newer revisions'
/// kernel API. Each mutant is shown caught with its check and missed without it.
extension DriverSourceTests {
    @Test(arguments: SourceMutant.errorPaths)
    func errorPathMutantNeedsTheWalk(_ m: SourceMutant) throws {
        let path = try Self.mutate(m)
        let with = try Self.verdict(path, .little)
        let walk = with.findings.filter { $0.check.hasPrefix("lifecycle error paths") }
        #expect(!walk.isEmpty, "mutant \(m.name) (\(m.intent)) not caught by the lifecycle walk")
        #expect(walk.allSatisfy { $0.rule == .life2 })
        var off = Self.options()
        off.lifecycleWalk = false
        let without = try Self.verdict(path, .little, options: off)
        #expect(without.conforming, "mutant \(m.name) is caught without the walk too: \(without.headlines)")
        print("mutant-table | \(m.name) | \(m.intent) | caught with: \(walk.map(\.detail).first ?? "-") | without: \(without.conforming ? "conforming (missed)" : "caught")")
    }

    @Test(arguments: SourceMutant.callbackContract)
    func callbackMutantNeedsTheContract(_ m: SourceMutant) throws {
        let path = try Self.mutate(m)
        let with = try Self.verdict(path, .little)
        let contract = with.findings.filter { $0.check.hasPrefix("driver callback contract") }
        #expect(!contract.isEmpty, "mutant \(m.name) (\(m.intent)) not caught by the callback contract")
        #expect(contract.allSatisfy { $0.headline.hasPrefix("callback contract:") }, "its own headline")
        #expect(contract.allSatisfy { $0.detail.contains("io_uring") }, "names the paths that reach it")
        var off = Self.options()
        off.callbackContract = false
        let without = try Self.verdict(path, .little, options: off)
        #expect(without.conforming, "mutant \(m.name) is caught without the contract check too: \(without.headlines)")
        print("mutant-table | \(m.name) | \(m.intent) | caught with: \(contract.map(\.headline).joined(separator: ", ")) | without: \(without.conforming ? "conforming (missed)" : "caught")")
    }

    /// The merged revision passes both new checks on both byte orders (the s390x build under qemu).
    @Test(arguments: [ByteOrder.little, .big])
    func mergedPassesWalkAndContract(_ order: ByteOrder) throws {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: order == .big ? .big : .little)
        let device = Conformance.devices(order)[0]
        let walk = try #require(HarnessCheckRun.run(bin, mode: .lifecycleWalk, device: device, timeout: .seconds(60)))
        #expect(walk.status == 0)
        #expect(!walk.lines.contains { $0.hasPrefix("VIOLATION") || $0.hasPrefix("BROKEN") }, "\(walk.lines)")
        // Every failable acquire of the scenario was failed once: probe/init/open, I/O, the peer.
        let failed = walk.lines.filter { $0.hasPrefix("FAILED") }.map { $0.split(separator: " ")[2] }
        for fn in ["vfio_alloc_device", "kmem_cache_create", "vfio_pci_core_init_dev", "vfio_pci_core_register_device",
                   "vfio_pci_core_enable", "kmem_cache_alloc"] {
            #expect(failed.contains(Substring(fn)), "\(fn) never failed in the walk")
        }
        let contract = try #require(HarnessCheckRun.run(bin, mode: .callbackContract, device: device, timeout: .seconds(60)))
        #expect(contract.lines.last?.hasPrefix("CASES") == true)
        #expect(contract.lines.last?.hasSuffix(" 0") == true, "\(contract.lines.suffix(3))")
        #expect(!contract.lines.contains { $0.hasPrefix("CONTRACT") })
    }

    static func rewrite(_ r: SourceRewrite) throws -> String {
        var source = try String(contentsOfFile: try Shared.driver("merged"), encoding: .utf8)
        for e in r.edits {
            let n = source.components(separatedBy: e.original).count - 1
            try #require(n == 1, "rewrite \(r.name): `\(e.original)` occurs \(n) times")
            source = source.replacingOccurrences(of: e.original, with: e.replacement)
        }
        let dir = try Self.temporaryFolder("rewrite-\(r.name)")
        try source.write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        return dir + "/main.c"
    }

    @Test(arguments: SourceRewrite.newerHelpers)
    func newerRevisionBuildsAndConforms(_ r: SourceRewrite) throws {
        let path = try Self.rewrite(r)
        for order in [ByteOrder.little, .big] {
            let v = try Self.verdict(path, order)
            #expect(v.conforming, "\(r.name) (\(r.intent)), \(order): \(v.headlines)")
        }
    }

    @Test(arguments: SourceRewrite.unknownSymbols.map { $0.rewrite.name })
    func unknownSymbolIsNamed(_ name: String) throws {
        let u = try #require(SourceRewrite.unknownSymbols.first { $0.rewrite.name == name })
        let path = try Self.rewrite(u.rewrite)
        do {
            _ = try HarnessBuilder.build(driverSource: path, variant: .little)
            Issue.record("\(name) built")
        } catch {
            guard case .missingKernelSymbols(let missing) = error else {
                Issue.record("\(name): not a missing-symbol error: \(error)")
                return
            }
            for n in u.names { #expect(missing.contains { $0.name == n }, "\(n) not named in \(error)") }
            for f in u.files { #expect(missing.contains { $0.standInFiles.contains { $0.hasPrefix(f) } }, "\(f) not named in \(error)") }
            print("unknown-symbol | \(name) | \(error)")
        }
    }

    @Test func missingSymbolParser() {
        let text = """
        /x/main.c:12:3: error: unknown type name ‘spinlock_fancy_t’
        /x/main.c:13:9: error: ‘FOO_MASK’ undeclared (first use in this function)
        /x/main.c:14:2: error: ‘struct pci_driver’ has no member named ‘frob’
        /x/main.c:2:10: fatal error: linux/iommufd.h: No such file or directory
        /usr/bin/ld: /tmp/cc.o: in function `probe':
        main.c:(.text+0x1a): undefined reference to `vfio_pci_core_zap_bars'
        main.c:(.text+0x2a): undefined reference to `vfio_pci_core_zap_bars'
        """
        let m = MissingKernelSymbol.parse(text)
        #expect(m.map(\.name) == ["spinlock_fancy_t", "FOO_MASK", "struct pci_driver.frob", "linux/iommufd.h", "vfio_pci_core_zap_bars"])
        #expect(m.map(\.kind) == [.type, .identifier, .member, .header, .function])
        #expect(m.last?.standInFiles.contains { $0.hasPrefix("native/driver-harness/kernel_stubs.c") } == true)
        #expect(MissingKernelSymbol.parse("main.c:3:1: error: expected ‘;’ before ‘}’ token").isEmpty)
    }
}
