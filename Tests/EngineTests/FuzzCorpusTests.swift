import Foundation
import ISMAccess
import ISMEngine
import ISMFuzzing
import Testing

/// The committed fuzz corpus and the fuzz-target plumbing.
@Suite struct FuzzCorpusTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The encoding is stable: every committed seed still decodes to the sequence it was written
    /// from (a changed table would silently change what the corpus means).
    @Test func committedSeedsDecodeToTheirSequences() throws {
        for seed in FuzzSeeds.all {
            for dir in ["diff-sim", "diff-driver"] {
                let url = Self.root.appendingPathComponent("Corpus/\(dir)/\(seed.name)")
                let data = try #require(FileManager.default.contents(atPath: url.path), "missing \(url.path): run `ismkit fuzz --write-seeds`")
                #expect(FuzzEncoding.decode([UInt8](data)) == seed.operations, "\(dir)/\(seed.name)")
            }
        }
    }

    /// SHA-1 test vectors of FIPS 180-2 (libFuzzer names artifacts by it).
    @Test func sha1MatchesTheStandardVectors() {
        func h(_ s: String) -> String { Array(s.utf8).withUnsafeBytes { SHA1.hex($0) } }
        #expect(h("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(h("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(h("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test func rawArtifactsAreToldFromReproducerJSON() {
        #expect(Reproducer.looksLikeJSON(Data("  {\"format\": \"ismkit-reproducer\"}".utf8)))
        #expect(!Reproducer.looksLikeJSON(Data([0x7B, 0x00, 0x01])))
        #expect(!Reproducer.looksLikeJSON(Data([0x00, 0xB7, 0x04])))
    }
}
