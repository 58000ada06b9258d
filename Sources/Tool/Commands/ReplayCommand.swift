import ArgumentParser
import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMModel

/// `ismkit replay FILE`: runs a reproducer again, deterministically, and says whether it
/// still diverges.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a reproducer file against its implementation and the model.",
        discussion: "Exit 1 when the divergence reproduces, 0 when it no longer does, 2 for a bad file."
    )

    @Argument(help: "A reproducer JSON file written by ismkit.")
    var file: String

    @Flag(help: "Print every operation with the model's and the implementation's result.")
    var verbose = false

    @Flag(help: "FILE is a raw libFuzzer input (automatic for crash-*, leak-*, timeout-*, oom-* files).")
    var artifact = false

    @Option(help: "For a raw fuzz input without a reproducer beside it: the simulator mutant it ran against.")
    var mutant: String?

    @Option(name: .customLong("byte-order"), help: "For a raw fuzz input: the host byte order it ran with.")
    var byteOrder: ByteOrderArgument = .native

    func run() throws {
        let repro: Reproducer
        let name = (file as NSString).lastPathComponent
        let isArtifact = artifact || ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"].contains { name.hasPrefix($0) }
        do {
            if isArtifact {
                repro = try Reproducer.load(path: file, orFuzzArtifactOf: MutantKillRun.kind(mutant: try Targets.mutant(named: mutant)).target,
                                            device: .ism(hostByteOrder: byteOrder.value))
            } else {
                repro = try Reproducer.load(path: file)
            }
        } catch let e as ReproducerError {
            throw UsageError(e.description + (isArtifact ? "" : " (a raw libFuzzer input needs --artifact)"))
        }
        let diff = try Targets.differential(for: repro.target, device: repro.device)
        print("replaying \(file): \(repro.operations.count) operation(s) on \(repro.target), "
            + "\(repro.device.profile.rawValue) profile, \(repro.device.hostByteOrder.rawValue)-endian host")
        var session: Session<AnyISMAccess>
        do { session = try diff.session() } catch { throw UsageError("cannot start \(repro.target): \(error)") }
        var found: Divergence?
        for (i, op) in repro.operations.enumerated() {
            let d = session.step(op, index: i)
            if verbose || d != nil {
                print("  \(i + 1). \(op.summary(in: repro.device.layout))\(d == nil ? ": agrees" : "")")
            }
            if let d { found = d; break }
        }
        guard let d = found else {
            print("no divergence: the finding does not reproduce")
            return
        }
        print(d.description)
        if let recorded = repro.divergence, !recorded.sameFinding(as: d) {
            print("note: the file recorded a different finding: \(recorded.aspect.rawValue) [\(recorded.headline)]")
        }
        throw FindingExit()
    }
}
