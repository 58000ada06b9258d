import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
@testable import ISMOutOfProcess
import Testing

/// Region bases from a table over the C ABI (`struct ismkit_config`'s region_span and
/// region_bases, `ISMKIT_CAP_REGION_TABLE`): the example takes its bases from the table, a copy
/// that keeps decoding with its hard-coded shift is caught only by the table devices, and a
/// library without the capability gets the check reported as not made.
extension DriverSourceTests {
    /// A copy of example_access.c with `edits` (each original text must occur exactly once), built.
    static func exampleCopy(_ name: String, _ edits: [(String, String)]) throws -> String {
        var source = try String(contentsOfFile: exampleSource, encoding: .utf8)
        for (original, replacement) in edits {
            try #require(source.components(separatedBy: original).count == 2, "\(original) is not in example_access.c once")
            source = source.replacingOccurrences(of: original, with: replacement)
        }
        let dir = try temporaryFolder(name)
        try source.write(toFile: dir + "/\(name).c", atomically: true, encoding: .utf8)
        try HarnessBuilder.buildSharedLibrary(sources: [dir + "/\(name).c"], output: dir + "/lib\(name).so")
        return dir + "/lib\(name).so"
    }

    /// The copy that announces the capability but decodes offsets and answers region info with
    /// `index << SHIFT`, as a client with a hard-coded shift does.
    static let hardCodedShift = [
        ("\tif (a->cfg.region_span == 0) {\n\t\t*index = off >> SHIFT;", "\tif (1) {\n\t\t*index = off >> SHIFT;"),
        ("return a->cfg.region_span ? a->cfg.region_bases[index] : (uint64_t)index << SHIFT;", "return (uint64_t)index << SHIFT;"),
    ]

    /// The bases of BAR0, BAR2, BAR4 and config space of the first table device.
    static func tableBases() throws -> [UInt64] {
        let t = try #require(Conformance.regionTableDevices(.native, seed: 1)[0].regionTable)
        return [0, 2, 4, 7].map { t.bases[$0] }
    }

    /// What `lib`'s region info answers for BAR0, BAR2, BAR4 and config space of the first table device.
    static func reportedBases(_ lib: String) throws -> [UInt64] {
        let host = try HarnessBuilder.buildLibraryHost()
        var a = try WireAccess(libraryHost: host, library: lib, config: Conformance.regionTableDevices(.native, seed: 1)[0])
        return try [0, 2, 4, 7].map { try a.regionInfo(index: UInt32($0), argsz: 32).offset }
    }

    static func tableChecks(_ r: ConformanceReport) -> [ConformanceCheck] {
        r.checks.filter { $0.name.hasPrefix(Conformance.regionTableCheck) }
    }

    @Test func exampleLibraryConformsOnRegionTableDevices() throws {
        let lib = try Self.exampleCopy("example-table", [])
        let r = try Conformance.run(.library(path: lib), byteOrder: .native, options: Self.options(operations: 3000, lifecycle: false))
        #expect(r.conforming, "\(r.findings.map(\.description))")
        let table = Self.tableChecks(r)
        #expect(table.count == Conformance.regionTableDevices(.native, seed: 1).count, "\(r.checks.map(\.name))")
        #expect(table.allSatisfy { $0.notMade == nil && $0.findings.isEmpty }, "\(table.map { "\($0.name): \($0.notMade ?? "made")" })")
        // The table devices place regions elsewhere than index << 48, and region info says where.
        #expect(try Self.reportedBases(lib) == Self.tableBases())
        for d in Conformance.regionTableDevices(.native, seed: 1) {
            let t = try #require(d.regionTable)
            #expect(t.problem == nil)
            #expect(t.bases.enumerated().contains { $0.element != UInt64($0.offset) << 48 })
        }
    }

    @Test func aHardCodedShiftIsCaughtOnTableDevicesAndMissedWithout() throws {
        let lib = try Self.exampleCopy("hard-coded-shift", Self.hardCodedShift)
        var with = Self.options(operations: 3000, lifecycle: false)
        with.regionTables = true
        let caught = try Conformance.run(.library(path: lib), byteOrder: .native, options: with)
        // The copy reads the wrong place of a region the table put elsewhere: the divergence's
        // rule is the aspect that differs (bytes, R-READ-3, or region info's offset, R-INFO-*),
        // and the model's path goes through the offset decoding (R-OFF-*).
        let d = try #require(caught.findings.first?.divergence, "\(caught.findings.map(\.description))")
        let path = (d.cited ?? []) + [d.rule]
        #expect(path.contains { $0.rawValue.hasPrefix("R-OFF-") || $0.rawValue.hasPrefix("R-INFO-") }, "\(d)")
        #expect(caught.findings.allSatisfy { $0.check.hasPrefix(Conformance.regionTableCheck) }, "\(caught.findings.map(\.check))")
        print("library-table | hard-coded shift | with table devices: \(caught.violatedRules.map(\.rawValue).joined(separator: " ")) after \(caught.findings.first?.operationsBefore ?? -1) operations on \(caught.findings.first?.check ?? "-")")

        #expect(try Self.reportedBases(lib) == [0, 2, 4, 7].map { UInt64($0) << 48 })
        #expect(try Self.reportedBases(lib) != Self.tableBases())

        var without = with
        without.regionTables = false
        let missed = try Conformance.run(.library(path: lib), byteOrder: .native, options: without)
        #expect(missed.conforming, "\(missed.findings.map(\.description))")
        #expect(Self.tableChecks(missed).isEmpty)
        print("library-table | hard-coded shift | without table devices: conforming after \(missed.operations) operations")
    }

    @Test func aLibraryWithoutTheCapabilityHasTheTableCheckNotMade() throws {
        let lib = try Self.exampleCopy("no-table-cap", [(" |\n\t       ISMKIT_CAP_REGION_TABLE;", ";")])
        let host = try HarnessBuilder.buildLibraryHost()
        let device = Conformance.regionTableDevices(.native, seed: 1)[0]
        // The client never sends a table to it: the device is not configured at all.
        #expect(throws: AccessError.errno(.notSupported)) {
            _ = try WireAccess(libraryHost: host, library: lib, config: device)
        }
        #expect(try WireAccess(libraryHost: host, library: lib, config: .ism()).capabilities.regionTable == false)
        let r = try Conformance.run(.library(path: lib), byteOrder: .native, options: Self.options(operations: 1000, lifecycle: false))
        #expect(r.conforming, "\(r.findings.map(\.description))")
        let table = Self.tableChecks(r)
        #expect(table.count == 1)
        #expect(table.first?.notMade?.contains("ISMKIT_CAP_REGION_TABLE") == true, "\(table.map { $0.notMade ?? "made" })")
        #expect(table.first?.findings.isEmpty == true)
    }

    /// The answer of a process started with `command` to the CONFIG line of `device`.
    static func rawConfigAnswer(_ command: [String], _ device: DeviceConfig) throws -> String {
        let p = try WireProcess(arguments: command, timeout: .seconds(10))
        try p.greet()
        let answer = try p.exchange(WireAccess.configRequest(device))
        try? p.finish()
        return answer
    }

    @Test func theHostsRefuseATableTheImplementationDoesNotTake() throws {
        let device = Conformance.regionTableDevices(.native, seed: 1)[0]
        let t = try #require(device.regionTable)
        #expect(WireAccess.configRequest(device).split(separator: " ").count == 21)
        #expect(WireAccess.configRequest(Conformance.devices(.native)[0]).split(separator: " ").count == 12)
        // A driver source keeps its own layout: the harness does not announce the capability,
        // and a table CONFIG sent to it anyway is refused (BAD), never taken as a shift device.
        let bin = try HarnessBuilder.build(driverSource: try Shared.driver("merged"), variant: .little)
        #expect(try Self.rawConfigAnswer(bin.command, device).hasPrefix("BAD "))
        #expect(try Self.rawConfigAnswer(bin.command, .ism()).hasPrefix("OK "))
        #expect(throws: AccessError.errno(.notSupported)) { _ = try WireAccess(harness: bin, config: device) }
        // The library host: refused for a library without the bit, taken by the example.
        let host = try HarnessBuilder.buildLibraryHost()
        let noCap = try Self.exampleCopy("no-table-cap-raw", [(" |\n\t       ISMKIT_CAP_REGION_TABLE;", ";")])
        #expect(try Self.rawConfigAnswer([host, noCap], device).hasPrefix("BAD "))
        let example = try Self.exampleCopy("example-raw", [])
        #expect(try Self.rawConfigAnswer([host, example], device).hasPrefix("OK "))
        var a = try WireAccess(libraryHost: host, library: example, config: device)
        #expect(try a.regionInfo(index: 7, argsz: 32).offset == t.bases[7])
    }
}
