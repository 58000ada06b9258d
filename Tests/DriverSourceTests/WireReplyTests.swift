import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// Reply lines of docs/wire-protocol.md, parsed or refused — never trusted blindly.
@Suite struct WireReplyTests {
    @Test func anOKReplyWithItsTrace() throws {
        let r = try WireReply.parse("OK 8 0011 L0.8.8.0,B2.4095.1.3,S1.4.2.1")
        #expect(r.status == .ok && r.value == 8 && r.data == "0011")
        #expect(r.trace == [
            .load(bar: 0, position: 8, width: 8, handle: 0),
            .storeBlock(bar: 2, position: 4095, length: 1, handle: 3),
            .store(bar: 1, position: 4, width: 2, handle: 1),
        ])
    }

    @Test func anErrReplyCarriesAnErrno() throws {
        let r = try WireReply.parse("ERR 22 - -")
        #expect(r.status == .err && r.value == 22 && r.trace.isEmpty)
    }

    @Test(arguments: ["", "OK", "OK 1 -", "OK x - -", "ERR 0 - -", "ERR 4096 - -", "MAYBE 1 - -", "OK 1 - Q0.0.1.0", "OK 1 - L0.0.1", "OK 1 - - extra"])
    func malformedLinesAreRefused(line: String) {
        do {
            _ = try WireReply.parse(line)
            Issue.record("accepted the malformed reply \"\(line)\"")
        } catch {
            guard case .protocolError = error else { Issue.record("\"\(line)\" read as \(error.kind), not a protocol error"); return }
        }
    }

    @Test func brokenIsReportedWithItsKind() {
        #expect(throws: Breakage.misuse("use after free: pool")) { try WireReply.parse("BROKEN misuse use after free: pool") }
        #expect(throws: Breakage.overrun("slab overflow: x")) { try WireReply.parse("BROKEN overrun slab overflow: x") }
        // A BROKEN line without a known kind word is still a breakage, never a crash of the parser.
        #expect(throws: Breakage.misuse("something odd")) { try WireReply.parse("BROKEN something odd") }
    }
}
