import Foundation
import ISMAccess
import ISMEngine

/// What the libFuzzer targets under FuzzTargets/ share: reading their settings from the
/// environment, reporting a finding (a reproducer file next to libFuzzer's artifact, then a
/// trap so libFuzzer saves the input), and the replay `main` of the plain (non-fuzzer) build,
/// which runs files through the same entry point and so doubles as a corpus regression runner.
public enum FuzzTarget {
    /// True in the replay build: findings are printed and counted instead of trapping.
    nonisolated(unsafe) public static var replaying = false
    nonisolated(unsafe) static var findings = 0
    nonisolated(unsafe) static var currentFile: String?

    /// An environment variable, or nil when unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    /// Bad settings: one line on stderr, exit code 2.
    public static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
        exit(2)
    }

    /// The host byte order to simulate, from `ISMKIT_BYTE_ORDER` (`little`, `big`; default native).
    public static func byteOrderFromEnvironment() -> ByteOrder {
        guard let s = environment("ISMKIT_BYTE_ORDER") else { return .native }
        guard let o = ByteOrder(rawValue: s) else { usageError("ISMKIT_BYTE_ORDER=\(s): expected little or big") }
        return o
    }

    /// libFuzzer's `-artifact_prefix=` argument, or "./" as libFuzzer defaults to.
    public static var artifactPrefix: String {
        for a in CommandLine.arguments where a.hasPrefix("-artifact_prefix=") {
            return String(a.dropFirst("-artifact_prefix=".count))
        }
        return "./"
    }

    /// One fuzz input through the shared run loop: decodes it (docs/fuzz-encoding.md), runs the
    /// operations as one sequence on a fresh implementation beside a fresh model, and on a
    /// divergence shrinks it (at most `shrinkChecks` re-runs) and reports it with `finding`.
    /// The body of a differential `LLVMFuzzerTestOneInput`: `check` of the raw input; returns 0.
    public static func testOneInput<Impl: ISMAccess>(
        _ data: UnsafePointer<UInt8>?, _ size: Int, _ differential: Differential<Impl>, _ target: Reproducer.Target
    ) -> CInt {
        check(UnsafeRawBufferPointer(start: data, count: size), differential: differential, target: target, shrinkChecks: 2_000)
        return 0
    }

    public static func check<Impl: ISMAccess>(
        _ input: UnsafeRawBufferPointer, differential: Differential<Impl>, target: Reproducer.Target, shrinkChecks: Int
    ) {
        guard let r = reproducer(for: input, differential: differential, target: target, shrinkChecks: shrinkChecks) else { return }
        finding(r, input: input)
    }

    /// The shrunk reproducer of the divergence `input` shows on `differential`, or nil when it
    /// shows none. The input is decoded for the differential's device (through its region table
    /// when it has one), and the reproducer carries that device.
    public static func reproducer<Impl: ISMAccess>(
        for input: UnsafeRawBufferPointer, differential: Differential<Impl>, target: Reproducer.Target, shrinkChecks: Int
    ) -> Reproducer? {
        var campaign = Campaign(differential: differential, options: nil, seed: 0, budget: .operations(FuzzEncoding.maxOperations))
        campaign.prelude = FuzzEncoding.decode(input, regionTable: differential.config.regionTable)
        campaign.shrink = .init(checks: shrinkChecks)
        guard let result = try? campaign.run(), let f = result.findings.first, let d = f.divergence else { return nil }
        return Reproducer(target: target, device: differential.config, seed: nil, operations: f.operations, divergence: d)
    }

    /// Reports a finding on `input`. Fuzzing: writes `reproducer` beside the `crash-<sha1>`
    /// file libFuzzer writes for the same input (`<artifact_prefix>crash-<sha1>.json`), prints it,
    /// and traps. Replaying: prints it and counts it.
    public static func finding(_ reproducer: Reproducer, input: UnsafeRawBufferPointer) {
        let err = FileHandle.standardError
        let what = reproducer.divergence.map(\.description) ?? "divergence"
        if replaying {
            findings += 1
            err.write(Data("FINDING in \(currentFile ?? "input"):\n\(what)\n".utf8))
            return
        }
        var note: String
        do throws(ReproducerError) {
            note = "ismkit reproducer: " + (try ReproducerStore.saveBeside(artifact: artifactPrefix + "crash-" + SHA1.hex(input), reproducer))
        } catch { note = "could not write the reproducer: \(error)" }
        err.write(Data("==ismkit== divergence: \(what)\n==ismkit== \(note)\n".utf8))
        fatalError("ismkit: divergence from the golden model [\(reproducer.divergence?.headline ?? "?")]")
    }

    /// The replay `main`: runs `entry` on every file named on the command line (a folder: every
    /// regular file in it, sorted by name) and exits 1 when any input showed a finding, 2 on bad
    /// arguments, 0 otherwise. Arguments starting with `-` are ignored (libFuzzer flags).
    public static func replayMain(_ entry: (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
        replaying = true
        let paths = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("-") }
        if paths.isEmpty {
            usageError("usage: \(CommandLine.arguments.first ?? "target") FILE-OR-FOLDER... (this is the replay build; build with -DISMKIT_LIBFUZZER and --sanitize=fuzzer to fuzz)")
        }
        let fm = FileManager.default
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { usageError("\(p): no such file or folder") }
            if isDir.boolValue {
                let names = (try? fm.contentsOfDirectory(atPath: p)) ?? []
                for n in names.sorted() where !n.hasPrefix(".") {
                    var sub: ObjCBool = false
                    let full = p + "/" + n
                    if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { files.append(full) }
                }
            } else {
                files.append(p)
            }
        }
        for f in files {
            guard let data = fm.contents(atPath: f) else { usageError("\(f): cannot read") }
            currentFile = f
            _ = data.withUnsafeBytes { entry($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        }
        print("replayed \(files.count) input(s): \(findings) finding(s)")
        exit(findings == 0 ? 0 : 1)
    }
}

/// SHA-1 of a byte string, as libFuzzer names its artifacts (`crash-<sha1>`); only used to
/// pair a reproducer with its artifact, never for security.
public enum SHA1 {
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var msg = [UInt8](bytes)
        let bitLength = UInt64(bytes.count) * 8
        msg.append(0x80)
        while msg.count % 64 != 56 { msg.append(0) }
        for i in (0..<8).reversed() { msg.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(i * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: msg.count, by: 64) {
            for i in 0..<16 {
                w[i] = UInt32(msg[chunk + 4 * i]) << 24 | UInt32(msg[chunk + 4 * i + 1]) << 16
                    | UInt32(msg[chunk + 4 * i + 2]) << 8 | UInt32(msg[chunk + 4 * i + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let t = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, t)
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }
        return [h.0, h.1, h.2, h.3, h.4].map { v in
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}
