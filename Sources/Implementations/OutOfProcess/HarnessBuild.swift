import Foundation
import ISMAccess

/// Which build of the driver-source harness: native little-endian, native with
/// AddressSanitizer + LeakSanitizer, or s390x (big-endian) run under qemu user mode.
public enum HarnessVariant: String, Sendable, Hashable, CaseIterable {
    case little
    case littleSanitized = "little-asan"
    case big

    public var byteOrder: ByteOrder { self == .big ? .big : .little }
}

/// Why a harness could not be built: the driver uses kernel symbols the stand-ins lack (each
/// named, with the file where its stand-in goes), the source does not compile for another
/// reason (with the compiler's first error line), a tool is missing, or the file system refused.
public enum HarnessBuildError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingKernelSymbols([MissingKernelSymbol])
    case sourceDoesNotBuild(firstError: String)
    case toolMissing(String)
    case io(String)

    public var description: String {
        switch self {
        case .missingKernelSymbols(let m):
            "it uses kernel symbols the harness stand-ins lack: " + m.map(\.description).joined(separator: "; ")
        case .sourceDoesNotBuild(let e): "the source does not build: \(e)"
        case .toolMissing(let t): t
        case .io(let e): e
        }
    }
}

/// A kernel symbol a driver source uses that the stand-in kernel headers do not give, and the
/// harness file(s) where its stand-in goes.
public struct MissingKernelSymbol: Sendable, Hashable, CustomStringConvertible {
    /// What kind of symbol the compiler or linker could not find.
    public enum Kind: String, Sendable, Hashable {
        case header, type, identifier, function, member
    }
    public var name: String
    public var kind: Kind
    /// Paths relative to the package root.
    public var standInFiles: [String]

    public var description: String {
        "\(kind.rawValue) `\(name)` (stand-in goes in \(standInFiles.joined(separator: " and ")))"
    }

    static let kernelHeader = "native/driver-harness/include/ismk_kernel.h"
    static let stubs = "native/driver-harness/kernel_stubs.c"

    /// Whether an undeclared identifier is likely the kernel's (a macro or constant in capitals,
    /// or a name with a kernel subsystem's prefix) rather than a typo of the driver's own.
    static func looksLikeKernelName(_ n: String) -> Bool {
        if n.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) && n.contains(where: \.isUppercase) { return true }
        return ["vfio_", "pci_", "zpci_", "kmem_", "dev_", "pm_", "iommufd_", "__"].contains { n.hasPrefix($0) }
    }

    /// The missing kernel symbols named in compiler and linker output, first seen first, each once;
    /// empty when the output names none (another kind of error).
    public static func parse(_ text: String) -> [MissingKernelSymbol] {
        var found: [MissingKernelSymbol] = []
        func add(_ name: String, _ kind: Kind, _ files: [String]) {
            guard !name.isEmpty, !found.contains(where: { $0.name == name && $0.kind == kind }) else { return }
            found.append(MissingKernelSymbol(name: name, kind: kind, standInFiles: files))
        }
        // A name between the quotes gcc and ld use (‘x’, 'x', `x').
        func quoted(_ line: Substring, after marker: String) -> String? {
            guard let r = line.range(of: marker) else { return nil }
            let rest = line[r.upperBound...].drop { " `'‘\"".contains($0) }
            let name = rest.prefix { !"'’`\" \n".contains($0) }
            return name.isEmpty ? nil : String(name)
        }
        // The last quoted name before the marker (‘struct pci_driver’ has no member …).
        func quotedBefore(_ line: Substring, _ marker: String) -> String? {
            guard let r = line.range(of: marker) else { return nil }
            let head = line[..<r.lowerBound].reversed().drop { " '’`\"".contains($0) }
            let name = String(head.prefix { !"'‘`\"".contains($0) }.reversed())
            return name.isEmpty ? nil : name
        }
        for line in text.split(separator: "\n") {
            if line.contains("fatal error:"), line.contains("No such file or directory") {
                if let r = line.range(of: "fatal error: ") {
                    let h = line[r.upperBound...].prefix { $0 != ":" }
                    add(String(h), .header, ["native/driver-harness/include/" + h])
                }
            } else if let n = quoted(line, after: "undefined reference to") {
                add(n, .function, [kernelHeader + " (declaration)", stubs + " (definition)"])
            } else if let n = quoted(line, after: "implicit declaration of function") {
                add(n, .function, [kernelHeader + " (declaration)", stubs + " (definition)"])
            } else if let n = quoted(line, after: "unknown type name") {
                add(n, .type, [kernelHeader])
            } else if line.contains("undeclared"), let n = quotedBefore(line, "undeclared"), looksLikeKernelName(n) {
                add(n, .identifier, [kernelHeader])
            } else if let m = quoted(line, after: "has no member named"), let s = quotedBefore(line, "has no member named") {
                add("\(s).\(m)", .member, [kernelHeader])
            } else if let n = quoted(line, after: "invalid use of undefined type") {
                add(n, .type, [kernelHeader])
            }
        }
        return found
    }
}

/// A built harness executable and how to start it (`qemu-s390x-static` in front for s390x).
public struct HarnessBinary: Sendable, Hashable {
    public var executable: String
    public var variant: HarnessVariant
    /// Arguments that start it: the runner (if any) then the executable.
    public var command: [String]
    public var byteOrder: ByteOrder { variant.byteOrder }
}

/// Builds driver sources into harness programs, cached by a content hash of the driver
/// source, the harness sources, the compiler and the variant. Never writes into the driver's
/// folder or the repository: the driver is copied into the cache as `<key>/src/ism/main.c`.
public enum HarnessBuilder {
    /// The package root: `ISMKIT_ROOT`, else derived from this file's location at build time.
    public static var packageRoot: String {
        if let r = ProcessInfo.processInfo.environment["ISMKIT_ROOT"], !r.isEmpty { return r }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // OutOfProcess, Implementations, Sources, root
        return url.path
    }

    static var harnessDir: String { packageRoot + "/native/driver-harness" }
    static var publicInclude: String { packageRoot + "/include" }

    /// Where builds are cached: `ISMKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/ismkit`, else `~/.cache/ismkit`.
    public static var cacheRoot: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["ISMKIT_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/ismkit" }
        if let h = env["HOME"], !h.isEmpty { return h + "/.cache/ismkit" }
        return NSTemporaryDirectory() + "ismkit-cache"
    }

    /// Builds (or finds in the cache) the harness for the driver source at `path`.
    public static func build(driverSource path: String, variant: HarnessVariant) throws(HarnessBuildError) -> HarnessBinary {
        guard let source = FileManager.default.contents(atPath: path) else {
            throw .io("\(path): cannot read the driver source")
        }
        let compiler = try compiler(for: variant)
        let runner: [String] = variant == .big ? [try qemu()] : []
        let harnessFiles = try harnessSources()
        // -pthread: the PAIR request (concurrency.c) runs two operations on two threads.
        var flags = ["-std=gnu11", "-O1", "-g", "-w", "-fno-strict-aliasing", "-pthread"]
        switch variant {
        case .little: break
        case .littleSanitized: flags += ["-fsanitize=address", "-fno-omit-frame-pointer"]
        case .big: flags += ["-static"]
        }
        var hasher = FNV1a()
        hasher.add(variant.rawValue)
        hasher.add(compiler.identity)
        hasher.add(flags.joined(separator: " "))
        hasher.add(source)
        for f in harnessFiles {
            hasher.add(f)
            hasher.add(FileManager.default.contents(atPath: f) ?? Data())
        }
        let key = "\(variant.rawValue)-\(hasher.hex)"
        let dir = cacheRoot + "/driver-harness/" + key
        let exe = dir + "/harness"
        if FileManager.default.isExecutableFile(atPath: exe) {
            return HarnessBinary(executable: exe, variant: variant, command: runner + [exe])
        }
        let tmp = cacheRoot + "/driver-harness/tmp-\(key)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: tmp + "/src/ism", withIntermediateDirectories: true)
            try source.write(to: URL(fileURLWithPath: tmp + "/src/ism/main.c"))
        } catch {
            throw .io("cannot prepare the build folder \(tmp): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: tmp) }
        let h = harnessDir
        let args = flags + [
            "-I", publicInclude, "-I", h, "-I", h + "/include", "-I", h + "/include/ism",
            tmp + "/src/ism/main.c", h + "/kernel_stubs.c", h + "/driver_access.c", h + "/wire.c",
            h + "/lifecycle_walk.c", h + "/callback_contract.c", h + "/concurrency.c",
            "-o", tmp + "/harness",
        ]
        let result = run(compiler.path, args)
        if result.status != 0 {
            let text = result.stderr.replacingOccurrences(of: tmp + "/src/ism/main.c", with: path)
            // -w hides implicit function declarations; a syntax-only pass over the driver names them.
            let implicit = run(compiler.path, ["-std=gnu11", "-fsyntax-only", "-Wimplicit-function-declaration",
                                               "-I", publicInclude, "-I", h, "-I", h + "/include", "-I", h + "/include/ism",
                                               tmp + "/src/ism/main.c"]).stderr
                .split(separator: "\n").filter { $0.contains("implicit declaration of function") }.joined(separator: "\n")
            let missing = MissingKernelSymbol.parse(text + "\n" + implicit)
            if !missing.isEmpty { throw .missingKernelSymbols(missing) }
            throw .sourceDoesNotBuild(firstError: firstError(in: text) ?? "compiler exit status \(result.status)")
        }
        try? (args.joined(separator: " ") + "\n" + result.stderr).write(toFile: tmp + "/build.log", atomically: false, encoding: .utf8)
        do {
            try fm.createDirectory(atPath: cacheRoot + "/driver-harness", withIntermediateDirectories: true)
            if !fm.fileExists(atPath: dir) { try fm.moveItem(atPath: tmp, toPath: dir) }
        } catch {
            if !fm.isExecutableFile(atPath: exe) { throw .io("cannot store the build in \(dir): \(error.localizedDescription)") }
        }
        return HarnessBinary(executable: exe, variant: variant, command: runner + [exe])
    }

    /// Builds (or finds) the library host: the wire protocol over a dlopen'ed ismkit_access.h library.
    public static func buildLibraryHost() throws(HarnessBuildError) -> String {
        let compiler = try compiler(for: .little)
        let sources = [packageRoot + "/native/library-host/library_host.c", harnessDir + "/wire.c"]
        var hasher = FNV1a()
        hasher.add("library-host")
        hasher.add(compiler.identity)
        hasher.add(FileManager.default.contents(atPath: publicInclude + "/ismkit_access.h") ?? Data())
        hasher.add(FileManager.default.contents(atPath: harnessDir + "/wire.h") ?? Data())
        for s in sources {
            guard let d = FileManager.default.contents(atPath: s) else { throw .io("\(s): missing") }
            hasher.add(d)
        }
        let dir = cacheRoot + "/library-host/" + hasher.hex
        let exe = dir + "/library-host"
        if FileManager.default.isExecutableFile(atPath: exe) { return exe }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(dir): \(error.localizedDescription)")
        }
        let tmpExe = exe + ".tmp\(getpid())"
        let r = run(compiler.path, ["-std=gnu11", "-O1", "-g", "-I", publicInclude, "-I", harnessDir] + sources + ["-o", tmpExe, "-ldl"])
        guard r.status == 0 else { throw .io("the library host does not build: " + (firstError(in: r.stderr) ?? r.stderr)) }
        if rename(tmpExe, exe) != 0 { throw .io("cannot store \(exe)") }
        return exe
    }

    /// Compiles C `sources` into a shared library implementing include/ismkit_access.h.
    public static func buildSharedLibrary(sources: [String], output: String) throws(HarnessBuildError) {
        let compiler = try compiler(for: .little)
        let r = run(compiler.path, ["-std=gnu11", "-O1", "-g", "-shared", "-fPIC", "-I", publicInclude] + sources + ["-o", output])
        guard r.status == 0 else { throw .sourceDoesNotBuild(firstError: firstError(in: r.stderr) ?? "compiler exit status \(r.status)") }
    }

    // MARK: tools

    struct Compiler { var path: String; var identity: String }

    static func compiler(for variant: HarnessVariant) throws(HarnessBuildError) -> Compiler {
        let env = ProcessInfo.processInfo.environment
        let candidates: [String]
        if variant == .big {
            candidates = [env["ISMKIT_CROSS_CC"], "s390x-linux-gnu-gcc"].compactMap { $0 }
        } else {
            candidates = [env["ISMKIT_CC"], "gcc", "cc", "clang"].compactMap { $0 }
        }
        for c in candidates where !c.isEmpty {
            if let path = which(c) {
                let v = run(path, ["--version"])
                return Compiler(path: path, identity: path + " " + (v.stdout.split(separator: "\n").first.map(String.init) ?? ""))
            }
        }
        if variant == .big {
            throw .toolMissing("no s390x cross compiler: install gcc-s390x-linux-gnu and libc6-dev-s390x-cross (or set ISMKIT_CROSS_CC)")
        }
        throw .toolMissing("no C compiler found (gcc, cc or clang; or set ISMKIT_CC)")
    }

    static func qemu() throws(HarnessBuildError) -> String {
        let env = ProcessInfo.processInfo.environment
        for c in [env["ISMKIT_QEMU"], "qemu-s390x-static", "qemu-s390x"].compactMap({ $0 }) where !c.isEmpty {
            if let p = which(c) { return p }
        }
        throw .toolMissing("no qemu-s390x to run the big-endian build: install qemu-user-static (or set ISMKIT_QEMU)")
    }

    static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func harnessSources() throws(HarnessBuildError) -> [String] {
        let h = harnessDir
        guard FileManager.default.fileExists(atPath: h + "/kernel_stubs.c") else {
            throw .io("harness sources not found at \(h) (set ISMKIT_ROOT to the ismkit package root)")
        }
        var files: [String] = [publicInclude + "/ismkit_access.h"]
        if let e = FileManager.default.enumerator(atPath: h) {
            for case let f as String in e where f.hasSuffix(".c") || f.hasSuffix(".h") { files.append(h + "/" + f) }
        }
        return files.sorted()
    }

    /// The first line of compiler output that reports an error.
    static func firstError(in text: String) -> String? {
        let lines = text.split(separator: "\n").map(String.init)
        return lines.first(where: { $0.contains("error:") || $0.contains("undefined reference") })
    }

    struct RunResult { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ path: String, _ args: [String]) -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return RunResult(status: 127, stdout: "", stderr: "\(path): \(error.localizedDescription)") }
        // Drain stderr on another thread so neither pipe can fill up and block the compiler.
        let errBox = DataBox()
        let t = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errBox.done { usleep(1000) }
        return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data = Data()
    private var _done = false
    var data: Data {
        get { lock.lock(); defer { lock.unlock() }; return _data }
        set { lock.lock(); _data = newValue; _done = true; lock.unlock() }
    }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return _done }
}

