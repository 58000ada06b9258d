import Foundation
import ISMChecks
import ISMEngine
import ISMOutOfProcess

/// Where the reference driver sources are: `ISMKIT_SHARED`, else `../shared` beside the package root.
enum Shared {
    struct Missing: Error, CustomStringConvertible { var description: String }

    static var root: String {
        if let s = ProcessInfo.processInfo.environment["ISMKIT_SHARED"], !s.isEmpty { return s }
        return URL(fileURLWithPath: HarnessBuilder.packageRoot).deletingLastPathComponent().path + "/shared"
    }

    /// The path of `kernel/<revision>/main.c`; throws when the test data is not there.
    static func driver(_ revision: String) throws -> String {
        let p = root + "/kernel/\(revision)/main.c"
        guard FileManager.default.fileExists(atPath: p) else { throw Missing(description: "\(p) not found (set ISMKIT_SHARED)") }
        return p
    }

    /// Runs a command and returns its standard output.
    static func output(of command: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: command[0])
        p.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
