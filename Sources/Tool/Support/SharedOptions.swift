import ArgumentParser
import Foundation

/// `--output DIR`: where reproducer files go (run, conform, hw), checked before the run.
struct ReproducerOutputOptions: ParsableArguments {
    @Option(help: "Folder for reproducer files (created when missing).")
    var output: String = "reproducers"

    mutating func validate() throws {
        // The folder, or the nearest existing folder above it, must be writable.
        var dir = output
        var isDir: ObjCBool = false
        while !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            // The folder above, by hand: Foundation's deletingLastPathComponent traps on a bare name.
            let trimmed = dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir
            let up = trimmed.lastIndex(of: "/").map { String(trimmed[..<$0]) }
            dir = up.map { $0.isEmpty ? "/" : $0 } ?? "."
            if dir == "." || dir == "/" { break }
        }
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
            throw ValidationError("--output \(output): \(dir) is not a folder")
        }
        if let problem = writeProbe(folder: dir) { throw ValidationError("--output \(output): \(problem)") }
    }
}

/// `--seed S` where a command takes no time budget (mutants, bench).
struct SeedOptions: ParsableArguments {
    @Option(help: "Seed of the operation generator; the same seed gives the same run.")
    var seed: UInt64 = 1
}

/// `--sequence-length N` (run, conform, hw).
struct SequenceOptions: ParsableArguments {
    @Option(name: .customLong("sequence-length"), parsing: .unconditional,
            help: "Operations per sequence, 1...65536; each sequence starts from a fresh device and model.")
    var sequenceLength: Int = 32

    mutating func validate() throws {
        guard (1...65536).contains(sequenceLength) else { throw ValidationError("--sequence-length must be a whole number in 1...65536") }
    }
}

/// Why a file cannot be created in `folder` (tried for real: a probe file is made and removed), or nil.
func writeProbe(folder: String) -> String? {
    let probe = (folder as NSString).appendingPathComponent(".ismkit-write-probe-\(getpid())")
    guard FileManager.default.createFile(atPath: probe, contents: nil) else { return "cannot create files in \(folder)" }
    try? FileManager.default.removeItem(atPath: probe)
    return nil
}
