import ISMAccess
@testable import ISMOutOfProcess
import Testing

/// The batch path's byte parser takes only lines `WireReply.parse` takes, and reads them the
/// same: status, value, data field and every trace event.
@Suite struct WireReplyBytesTests {
    static let lines = [
        "OK 8 0011 L0.8.8.0,B2.4095.1.3,S1.4.2.1", "ERR 22 - -", "OK 0 - -", "OK -5 - -", "ERR 4095 - -",
        "OK 13 b9a38a60435e378e68fe950ed0 L0.3.1.0,L0.4.4.0,L0.8.8.0", "OK 1 - L255.18446744073709551615.4294967295.4294967295",
        // Lines the byte parser leaves to WireReply.parse (or both refuse).
        "", "OK", "OK 1 -", "OK x - -", "ERR 0 - -", "ERR 4096 - -", "MAYBE 1 - -", "OK 1 - Q0.0.1.0", "OK 1 - L0.0.1",
        "OK 1 - - extra", "OK +1 - -", "OK 1  -", "OK 1 - ", "OK 1 - L256.0.1.0", "OK 1 - L0.0.4294967296.0", "OK 1 - L0..1.0.0",
        "OK 1 - L0.0.1.0,,L0.0.1.0", "OK 1 - L0.0.1.0,", "OK 99999999999999999999 - -", "BROKEN misuse x", "OK 1 - L0.18446744073709551616.1.0",
    ]

    @Test(arguments: lines)
    func theByteParserAgreesWithTheLineParser(line: String) {
        var trace: [TraceEvent] = [.load(bar: 9, position: 9, width: 9, handle: 9)]  // events already there stay
        let fast = Array(line.utf8).withUnsafeBytes { WireReplyBytes.parse($0, trace: &trace) }
        let slow = try? WireReply.parse(line)
        guard let fast else {
            #expect(trace.count == 1, "a refused line leaves the trace as it was")
            return
        }
        guard let slow else { Issue.record("the byte parser took \"\(line)\", which WireReply.parse refuses"); return }
        #expect(fast.ok == (slow.status == .ok) && fast.value == slow.value)
        #expect(String(decoding: Array(line.utf8)[fast.data], as: UTF8.self) == String(slow.data))
        #expect(Array(trace.dropFirst()) == slow.trace)
    }

    /// Lines built from valid and malformed fields (seeded): whatever the byte parser takes, the
    /// line parser takes alike.
    @Test func generatedLinesAgree() {
        let status = ["OK", "ERR", "ok", "BROKEN"]
        let values = ["0", "1", "-3", "22", "4095", "4096", "+1", "x", "", "007"]
        let data = ["-", "0a", "", "ab", "0.4096.7"]
        let events = ["L0.8.8.0", "B2.4095.1.3", "S1.4.2.1", "L256.0.1.0", "L0..1.0", "Q0.0.1.0", "L0.0.4294967296.0", "", "L1.2.3", "-"]
        var state: UInt64 = 1
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var taken = 0
        for _ in 0..<20000 {
            let trace = (0...next(3)).map { _ in events[next(events.count)] }.joined(separator: ",")
            var line = [status[next(status.count)], values[next(values.count)], data[next(data.count)], trace].joined(separator: " ")
            if next(20) == 0 { line += " extra" }
            var got: [TraceEvent] = []
            guard let fast = Array(line.utf8).withUnsafeBytes({ WireReplyBytes.parse($0, trace: &got) }) else { continue }
            taken += 1
            guard let slow = try? WireReply.parse(line) else { Issue.record("took \"\(line)\""); continue }
            #expect(fast.ok == (slow.status == .ok) && fast.value == slow.value && got == slow.trace, "\(line)")
        }
        #expect(taken > 500, "the generated lines include many well-formed ones")
    }
}
