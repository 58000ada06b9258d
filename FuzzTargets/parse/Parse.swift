import Foundation
import ISMAccess
import ISMOutOfProcess
import ISMEngine
import ISMFuzzing

/// parse: the kit's own input parsers must never crash, whatever the bytes. The first byte
/// picks the parser, the rest is its input:
/// - even: reproducer JSON (`Reproducer.decode`, what `ismkit replay` reads), which must either
///   load or fail with a `ReproducerError`; a loaded one must survive a save/load round trip;
/// - `W` (0x57): a wire-protocol reply line (`WireReply.parse`, docs/wire-protocol.md), which must
///   parse or be refused as broken/malformed;
/// - other odd bytes: a fuzz corpus entry (`FuzzEncoding.decode`), whose canonical encoding must
///   decode to the same operations (a mismatch is a bug in docs/fuzz-encoding.md's implementation).
/// A violated property traps, so libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let selector = data[0]
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if selector == UInt8(ascii: "W") {
        let line = String(decoding: body, as: UTF8.self)
        if let reply = try? WireReply.parse(line), reply.status == .err, !(1..<4096).contains(reply.value) {
            fatalError("parse: an ERR reply with errno \(reply.value) was accepted")
        }
    } else if selector & 1 == 0 {
        let json = Data(body)
        if let r = try? Reproducer.decode(json) {
            guard let again = try? Reproducer.decode(r.encoded()), again == r else {
                fatalError("parse: a loaded reproducer does not survive save and load")
            }
        }
    } else {
        let ops = FuzzEncoding.decode(body)
        let canonical: [UInt8]
        do { canonical = try FuzzEncoding.encode(ops) } catch { fatalError("parse: decoded operations do not encode: \(error)") }
        guard FuzzEncoding.decode(canonical) == ops else { fatalError("parse: the canonical encoding decodes differently") }
    }
    return 0
}

#if !ISMKIT_LIBFUZZER
@main enum Replay {
    static func main() { FuzzTarget.replayMain(fuzzOne) }
}
#endif
