import ArgumentParser
import Foundation
import ISMAccess
import ISMOutOfProcess

/// The `ismkit` command: differential fuzzing and conformance runs for ism-vfio-pci.
struct ISMKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ismkit",
        abstract: "Fuzzing and conformance kit for the Linux ism-vfio-pci driver.",
        discussion: """
            Exit codes: 0 conforming, 1 finding (divergence, surviving mutant), 2 usage or environment error.
            """,
        subcommands: [
            Run.self, Mutants.self, Replay.self, Rules.self, Bench.self, BenchJobs.self, Hw.self, Repro.self, Conform.self, Fuzz.self, Merge.self,
        ]
    )
}

/// Parses, runs, and maps every error to the kit's exit codes with a one-line message.
///
/// Signals: the first SIGINT or SIGTERM asks the run to stop (`Interruption`): generating stops,
/// the current operation finishes (a call into a hanging implementation gets one more second),
/// what was found is shrunk within a short grace period, every report and reproducer is
/// written, and the command exits 130 (SIGINT) or 143 (SIGTERM), or 1 when it found something.
/// A second signal ends the process at once. Every implementation process it started is ended
/// (its whole process group) on every way out.
@main
enum Main {
    static func main() {
        installSignalHandlers()
        let code = runCommand()
        ChildProcesses.killAll()
        // A report on standard output that could not be written is a failure, not a success.
        if fflush(nil) != 0 || standardOutputFailed() {
            FileHandle.standardError.write(Data("ismkit: cannot write standard output: \(String(cString: strerror(errno)))\n".utf8))
            exit(2)
        }
        exit(code)
    }

    /// Whether a write to standard output failed (C stdio's error flag; stdio's `stdout` is found
    /// by name, since Swift 6 refuses the shared C global).
    static func standardOutputFailed() -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "stdout") else { return false }
        guard let stream = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee else { return false }
        return ferror(stream) != 0
    }

    static func runCommand() -> Int32 {
        do {
            var command = try ISMKit.parseAsRoot()
            try command.run()
            return 0
        } catch let finding as FindingExit {
            if !finding.message.isEmpty { FileHandle.standardError.write(Data(("ismkit: " + finding.message + "\n").utf8)) }
            return 1
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            let code = ISMKit.exitCode(for: error)
            if code == .success {
                ISMKit.exit(withError: error)  // --help, --version
            }
            let message = ISMKit.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("ismkit: \(message)\n".utf8))
            return 2
        }
    }

    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                if Interruption.requested { Workers.killAll(); _exit(128 + s) }  // the second signal: at once
                Interruption.request(s)
            }
        }
        signal(SIGPIPE, SIG_IGN)  // a closed reader is a write error, reported, not a silent death
    }
}
