import Foundation
import ISMAccess
import ISMEngine
import SystemPackage
import Testing

/// A reproducer's check point (a lifecycle-walk failure point or one callback call): its JSON,
/// its harness arguments, and what a malformed one is told.
@Suite struct HarnessCheckPointTests {
    static let device = DeviceConfig.ism(hostByteOrder: .little)
    static let target = Reproducer.Target(kind: "driver-source", parameters: ["path": "/x/main.c", "byte-order": "little"])

    @Test func walkPointRoundTripsAndNamesItsArguments() throws {
        let p = HarnessCheckPoint(walkPoint: 3, finding: "leak|pool")
        let r = Reproducer(target: Self.target, device: Self.device, seed: 1, operations: [], divergence: nil, check: p)
        let back = try Reproducer.decode(r.encoded())
        #expect(back == r && back.check == p)
        #expect(p.arguments == ["3"])
        #expect(HarnessCheckPoint(walkPoint: -1, finding: "leak|pool").arguments == ["-1"])
    }

    @Test(arguments: [Fault.none, .allocation, .userBuffer(from: 5), .device(nth: 2, errno: Errno(rawValue: 19))])
    func callRoundTripsAndNamesItsArguments(_ fault: Fault) throws {
        let call = HarnessCheckPoint.Call(write: true, offset: 2 << 48 | 4094, count: 100, fault: fault)
        let p = HarnessCheckPoint(call: call, finding: "position")
        let r = Reproducer(target: Self.target, device: Self.device, seed: nil, operations: [], divergence: nil, check: p)
        let back = try Reproducer.decode(r.encoded())
        #expect(back.check == p)
        let token = try #require(fault.harnessToken)
        #expect(p.arguments == ["write", String(2 << 48 | 4094), "100", token])
        #expect(Fault(harnessToken: token) == fault)
        #expect(String(decoding: r.encoded(), as: UTF8.self).contains("\"offset\" : \"0x2000000000ffe\""))
    }

    @Test func harnessTokensAreTheHarnessSpelling() {
        #expect(Fault.device(nth: 0, errno: Errno(rawValue: 5)).harnessToken == "D0:5")
        #expect(Fault.userBuffer(from: 0).harnessToken == "U0")
        #expect(Fault.allocation.harnessToken == "A")
        #expect(Fault.none.harnessToken == "-")
        #expect(Fault.handleChange(after: 1).harnessToken == nil)
        for bad in ["", "D", "D0", "D0:", "D0:0", "Dx:5", "U", "U-1", "Ux", "B", "D70000:5"] { #expect(Fault(harnessToken: bad) == nil, "\(bad)") }
    }

    static func json(_ check: String) -> Data {
        Data(#"{"format":"ismkit-reproducer","version":1,"target":{"kind":"driver-source","parameters":{"path":"/x/main.c"}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":4096,"hostByteOrder":"little","profile":"ism","storeBlocks":"relaxed","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":2048},"operations":[],"check":\#(check)}"#.utf8)
    }

    @Test(arguments: [
        (#"{"mode":"lifecycle-walk","point":64,"finding":"leak|pool"}"#, "check must be"),
        (#"{"mode":"lifecycle-walk","finding":"leak|pool"}"#, "check must be"),
        (#"{"mode":"lifecycle-walk","point":1,"finding":""}"#, "check must be"),
        (#"{"mode":"callback-contract","finding":"position"}"#, "check must be"),
        (#"{"mode":"walk","point":1,"finding":"x"}"#, "not a valid reproducer"),
        (#"{"mode":"lifecycle-walk","point":1,"finding":"x","pont":2}"#, "unknown key \"check.pont\""),
        (#"{"mode":"callback-contract","finding":"position","call":{"callback":"read","offset":"0x0","count":1,"falt":"allocation"}}"#, "unknown key \"check.call.falt\""),
        (#"{"mode":"callback-contract","finding":"position","call":{"callback":"peek","offset":"0x0","count":1}}"#, "callback \"peek\""),
        (#"{"mode":"callback-contract","finding":"position","call":{"callback":"read","offset":"0x0","count":1,"fault":"handle-change@1"}}"#, "a callback call takes"),
        (#"{"mode":"callback-contract","finding":"position","call":{"callback":"read","offset":"zz","count":1}}"#, "offset \"zz\""),
    ])
    func malformedCheckIsNamed(_ check: String, _ message: String) {
        do {
            _ = try Reproducer.decode(Self.json(check))
            Issue.record("\(check) decoded")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func readerWithoutCheckStillReadsOldFiles() throws {
        let r = try Reproducer.decode(Data(String(decoding: Self.json("null"), as: UTF8.self).replacingOccurrences(of: #","check":null"#, with: "").utf8))
        #expect(r.check == nil)
    }
}
