import ArgumentParser
import Foundation
import ISMAccess
import ISMEngine
import ISMVFIO

/// `ismkit repro --emit-c FILE.json`: a reproducer as a self-contained C program for a bug report.
struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a reproducer file into a standalone C program (pread/pwrite through VFIO, KTAP output).",
        discussion: """
            The program opens the device given by PCI address through its IOMMU group, takes region \
            offsets from VFIO_DEVICE_GET_REGION_INFO and checks each operation's result against the \
            golden model. Build it with 'gcc -O2 -static -o repro repro.c'; run './repro 0000:00:01.0'.
            """
    )

    @Option(name: .customLong("emit-c"), help: "The reproducer JSON file to turn into C (printed on standard output).")
    var emitC: String

    func run() throws {
        let repro: Reproducer
        do { repro = try Reproducer.load(path: emitC) } catch { throw UsageError(error.description) }
        let title = "\(repro.target), \(repro.divergence.map { "\($0.aspect.rawValue) differs [\($0.rule.rawValue)]" } ?? "no recorded divergence")"
        print(CReproducer.emit(operations: repro.operations, config: repro.device, title: title, describe: { $0.summary(in: repro.device.layout) }), terminator: "")
    }
}
