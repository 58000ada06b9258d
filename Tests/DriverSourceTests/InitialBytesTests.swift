import Foundation
import ISMAccess
import ISMDriverSource
import Testing

/// The C harness's device bytes (ismkit_initial_byte in include/ismkit_access.h) must be the
/// bytes `DeviceContents.initialByte` gives, or no read could ever agree with the model.
extension DriverSourceTests {
    @Test(arguments: [(UInt64(0x15A_15A), 0, UInt64(0)), (0x5EED_0F_15A, 2, 4093), (0, 5, (1 << 48) - 64), (UInt64.max, 1, 1 << 40)])
    func cAndSwiftAgree(seed: UInt64, bar: Int, position: UInt64) throws {
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: .little)
        let out = try Shared.output(of: bin.command + ["--initial-bytes", "\(seed)", "\(bar)", "\(position)", "64"])
        let expected = (0..<64).map { i in
            let b = DeviceContents.initialByte(seed: seed, bar: bar, position: position + UInt64(i))
            return b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }
}
