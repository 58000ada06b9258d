import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The C harness's device bytes (ismkit_initial_byte in include/ismkit_access.h) must be the
/// bytes `DeviceContents.initialByte` gives, or no read could ever agree with the model.
extension DriverSourceTests {
    struct Place: Sendable, CustomStringConvertible {
        var seed: UInt64, bar: Int, position: UInt64
        var description: String { "seed \(seed) bar \(bar) @\(position)" }
    }

    @Test(arguments: [Place(seed: 0x15A_15A, bar: 0, position: 0), Place(seed: 0x5EED_0F_15A, bar: 2, position: 4093),
                      Place(seed: 0, bar: 5, position: (1 << 48) - 64), Place(seed: .max, bar: 1, position: 1 << 40)])
    func cAndSwiftAgree(place: Place) throws {
        let (seed, bar, position) = (place.seed, place.bar, place.position)
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: .little)
        let out = try Shared.output(of: bin.command + ["--initial-bytes", "\(seed)", "\(bar)", "\(position)", "64"])
        let expected = (0..<64).map { i in
            let b = DeviceContents.initialByte(seed: seed, bar: bar, position: position + UInt64(i))
            return b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }
}
