import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMOutOfProcess
import Testing

/// The C ABI (include/ismkit_access.h): the example implementation conforms through the
/// library host, and a deliberately broken copy of it, generated here, is caught.
extension DriverSourceTests {
    static var exampleSource: String { HarnessBuilder.packageRoot + "/native/example-access/example_access.c" }

    @Test func exampleLibraryConforms() throws {
        let lib = try Self.temporaryFolder("example") + "/libexample.so"
        try HarnessBuilder.buildSharedLibrary(sources: [Self.exampleSource], output: lib)
        let r = try Conformance.run(.library(path: lib), byteOrder: .native, options: Self.options(operations: 3000))
        #expect(r.conforming, "\(r.findings.map(\.description))")
    }

    @Test func brokenCopyOfTheExampleIsCaught() throws {
        // The copy issues 2-byte loads at odd positions (R-READ-1).
        let source = try String(contentsOfFile: Self.exampleSource, encoding: .utf8)
        let original = "\t   : (left >= 2 && p % 2 == 0) ? 2 : 1;"
        try #require(source.components(separatedBy: original).count == 2)
        let dir = try Self.temporaryFolder("broken-example")
        try source.replacingOccurrences(of: original, with: "\t   : (left >= 2) ? 2 : 1;")
            .write(toFile: dir + "/broken.c", atomically: true, encoding: .utf8)
        try HarnessBuilder.buildSharedLibrary(sources: [dir + "/broken.c"], output: dir + "/libbroken.so")
        let r = try Conformance.run(.library(path: dir + "/libbroken.so"), byteOrder: .native, options: Self.options(operations: 3000))
        #expect(r.violatedRules.contains(.read1), "\(r.violatedRules)")
    }

    @Test func aLibraryMissingAFunctionIsBrokenNotACrash() throws {
        let source = try String(contentsOfFile: Self.exampleSource, encoding: .utf8)
        let dir = try Self.temporaryFolder("missing")
        try source.replacingOccurrences(of: "int ismkit_detach_peer(struct ismkit_access *a)\n", with: "static int unused_detach_peer(struct ismkit_access *a)\n")
            .write(toFile: dir + "/missing.c", atomically: true, encoding: .utf8)
        try HarnessBuilder.buildSharedLibrary(sources: [dir + "/missing.c"], output: dir + "/libmissing.so")
        let host = try HarnessBuilder.buildLibraryHost()
        #expect(throws: AccessError.self) {
            _ = try WireAccess(libraryHost: host, library: dir + "/libmissing.so", config: .ism())
        }
    }
}
