import Foundation
import enum ISMAccess.Operation
import ISMAccess
import ISMEngine
import ISMFuzzing
import Testing

/// `Fault.handleChange` in every form a run stores it: the reproducer string, the fuzz bytes,
/// and the committed corpora, which must decode as they did before the fault existed.
@Suite struct HandleChangeCodingTests {
    @Test(arguments: [UInt16(0), 1, 2, 300, .max])
    func roundTrips(_ k: UInt16) throws {
        let f = Fault.handleChange(after: k)
        #expect(f.description == "handle-change@\(k)")
        #expect(Fault(parsing: f.description) == f)
        let ops: [Operation] = [.pread(offset: 2 << 48, count: 12, fault: f), .pwrite(offset: 8, count: 16, pattern: 3, fault: f),
                                .read(count: 5, fault: f), .write(count: 9, pattern: 1, fault: f)]
        #expect(FuzzEncoding.decode(try FuzzEncoding.encode(ops)) == ops)
        let json = try JSONEncoder().encode(ops)
        #expect(try JSONDecoder().decode([Operation].self, from: json) == ops)
    }

    @Test func malformedFormsAreRejected() {
        for s in ["handle-change@", "handle-change@-1", "handle-change@65536", "handle-change@x", "handle-change"] {
            #expect(Fault(parsing: s) == nil, "\(s)")
        }
    }

    /// No committed corpus file other than the seed written for it decodes to a handle change:
    /// the fault byte it takes (kind 2, arg 63) was a device fault before, and no file used it.
    @Test func committedCorporaDecodeAsBefore() throws {
        let root = FuzzCorpusTests.root.appendingPathComponent("Corpus")
        var files = 0
        for dir in ["diff-sim", "diff-driver"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)
            for name in names where name != "R-FH-1-mid-operation" {
                let data = try #require(FileManager.default.contents(atPath: root.appendingPathComponent("\(dir)/\(name)").path))
                files += 1
                for op in FuzzEncoding.decode([UInt8](data)) {
                    switch op {
                    case .pread(_, _, .handleChange), .pwrite(_, _, _, .handleChange), .read(_, .handleChange), .write(_, _, .handleChange):
                        Issue.record("\(dir)/\(name) decodes to \(op)")
                    default: break
                    }
                }
            }
        }
        #expect(files > 40)
    }
}
