import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The reference revisions' verdicts (shared/kernel/README.md), on the real compiled code:
/// little-endian natively, big-endian as an s390x process under qemu.
extension DriverSourceTests {
    @Test func mergedConformsOnBothByteOrders() throws {
        let path = try Shared.driver("merged")
        for order in ByteOrder.allCases {
            let r = try Self.verdict(path, order)
            #expect(r.conforming, "merged \(order): \(r.findings.map(\.description))")
            #expect(r.operations >= 3000)
        }
    }

    @Test func v3ConformsLittleButBreaksByteOrderOnBig() throws {
        let path = try Shared.driver("v3")
        let little = try Self.verdict(path, .little)
        #expect(little.conforming, "v3 little: \(little.findings.map(\.description))")
        let big = try Self.verdict(path, .big)
        #expect(big.violatedRules.contains(.read3))
        // The finding is a sub-8-byte read whose bytes are zero on big-endian.
        let d = try #require(big.findings.first(where: { $0.rule == .read3 })?.divergence)
        #expect(d.aspect == .bytes)
        #expect(d.actual.contains("00"))
    }

    @Test func v4RefusesNarrowReadsOnBoth() throws {
        let path = try Shared.driver("v4")
        for order in ByteOrder.allCases {
            let r = try Self.verdict(path, order)
            #expect(r.violatedRules.contains(.read2), "v4 \(order): \(r.violatedRules)")
        }
    }

    @Test func v3ProbeBreaksLifecycleRules() throws {
        let path = try Shared.driver("v3-probe")
        for order in ByteOrder.allCases {
            let r = try Self.verdict(path, order)
            #expect(r.violatedRules.contains(.life1), "v3-probe \(order): \(r.violatedRules)")
            #expect(r.violatedRules.contains(.life2), "v3-probe \(order): \(r.violatedRules)")
        }
        // LeakSanitizer, on the little-endian build, sees the device leaked by the failed probe.
        let r = try Conformance.run(.driverSource(path: path), byteOrder: .little, options: Self.options(operations: 1))
        #expect(r.findings.contains { $0.check.contains("LeakSanitizer") && $0.detail.contains("LeakSanitizer") })
    }
}
