import ArgumentParser
import Foundation

/// The `ismkit` command: differential fuzzing and conformance runs for ism-vfio-pci.
struct ISMKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ismkit",
        abstract: "Fuzzing and conformance kit for the Linux ism-vfio-pci driver.",
        discussion: """
            Exit codes: 0 conforming, 1 finding (divergence, surviving mutant), 2 usage or environment error.
            """,
        subcommands: [
            Run.self, Mutants.self, Replay.self, Rules.self, Bench.self, Hw.self, Repro.self, Conform.self, Fuzz.self,
        ]
    )
}

/// Parses, runs, and maps every error to the kit's exit codes with a one-line message.
@main
enum Main {
    static func main() {
        do {
            var command = try ISMKit.parseAsRoot()
            try command.run()
        } catch let finding as FindingExit {
            if !finding.message.isEmpty { FileHandle.standardError.write(Data(("ismkit: " + finding.message + "\n").utf8)) }
            exit(1)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = ISMKit.exitCode(for: error)
            if code == .success {
                ISMKit.exit(withError: error)  // --help, --version
            }
            let message = ISMKit.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("ismkit: \(message)\n".utf8))
            exit(2)
        }
    }
}
