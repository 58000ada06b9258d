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

    @Option(name: .customLong("allow-write"), parsing: .upToNextOption,
            help: "Ranges the program may write, REGION:START-END (inclusive; as ismkit hw). Without it the program writes nothing.")
    var allowWrite: [String] = []

    func run() throws {
        let repro: Reproducer
        do { repro = try Reproducer.load(path: emitC) } catch { throw UsageError(error.description) }
        if repro.pair != nil {
            throw UsageError("\(emitC): a concurrency reproducer (two operations at once) replays with 'ismkit replay'; --emit-c writes sequential programs only")
        }
        var ranges: [(region: UInt32, first: UInt64, last: UInt64)] = []
        for text in allowWrite {
            do {
                let r = try WriteAllowList.parse(text)
                ranges.append((r.region, r.first, r.last))
            } catch { throw UsageError("--allow-write " + error.description) }
        }
        let title = "\(repro.target), \(repro.divergence.map { "\($0.aspect.rawValue) differs [\($0.headline)]" } ?? "no recorded divergence")"
        let layout = repro.device.layout
        print(CReproducer.emit(operations: repro.operations, config: repro.device, title: title, describe: { $0.summary(in: layout) },
                               allowList: ranges), terminator: "")
        // Say so when the program can check nothing on a real device.
        var model = repro.operations
        model.removeAll { CReproducer.skipReason($0, allowList: ranges, config: repro.device, position: 0) == nil }
        if model.count == repro.operations.count {
            printError("ismkit: warning: every operation of \(emitC) is one a real device cannot run here (faults, lifecycle, or writes without --allow-write): the program checks nothing")
        }
    }
}
