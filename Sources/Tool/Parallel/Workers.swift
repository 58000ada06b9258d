import Foundation
import ISMAccess
#if canImport(Glibc)
import Glibc
#endif

/// Worker processes of this executable: each is started with the command line of this run
/// plus the units it runs and a result file, in a process group of its own; it rewrites its
/// result file after every unit. The coordinator waits for them, shows progress from their
/// result files, passes a SIGINT/SIGTERM on to them (they stop, shrink briefly and write what
/// they have), and returns every finished unit's result. No worker outlives the coordinator.
enum Workers {
    /// What a worker has finished, unit by unit.
    struct Results<R: Codable>: Codable {
        var units: [Unit] = []
        struct Unit: Codable {
            var unit: Int
            var result: R
        }
    }

    /// The worker groups alive, for the second signal's immediate exit (read by a signal handler).
    nonisolated(unsafe) static let live: UnsafeMutablePointer<pid_t> = {
        let p = UnsafeMutablePointer<pid_t>.allocate(capacity: ParallelOptions.maxJobs)
        p.initialize(repeating: 0, count: ParallelOptions.maxJobs)
        return p
    }()

    /// Kills every worker group at once (async-signal-safe: only kill(2)).
    static func killAll() {
        for i in 0..<ParallelOptions.maxJobs where live[i] > 0 { kill(-live[i], SIGKILL) }
    }

    /// A worker's side: rewrites its result file with what it has finished so far.
    static func write<R: Codable>(_ results: Results<R>, to path: String) throws(UsageError) {
        let data: Data
        do { data = try JSONEncoder().encode(results) } catch { throw UsageError("cannot encode the worker result: \(error)") }
        try ReportOptions.atomicWrite(data, to: path, what: "worker result")
    }

    static func read<R: Codable>(_ path: String, as: R.Type) -> [Int: R] {
        guard let data = FileManager.default.contents(atPath: path),
              let r = try? JSONDecoder().decode(Results<R>.self, from: data) else { return [:] }
        return Dictionary(r.units.map { ($0.unit, $0.result) }, uniquingKeysWith: { _, b in b })
    }

    /// Runs each list of units in a worker process and returns every finished unit's result.
    /// `progress` is called about every `interval` with what has finished so far. A worker that
    /// fails on bad input (exit 2) or dies is an error (exit 2), its own message first.
    static func run<R: Codable>(_ assignments: [[Int]], as: R.Type, interval: Duration,
                                progress: (([Int: R], Duration) -> Void)?) throws(UsageError) -> [Int: R] {
        let folder = NSTemporaryDirectory() + "ismkit-workers-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw UsageError("cannot create a folder for the worker results in \(NSTemporaryDirectory())")
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let base = Array(CommandLine.arguments.dropFirst())
        var pids: [pid_t] = []
        defer {
            for (i, pid) in pids.enumerated() where live[i] > 0 {
                kill(-pid, SIGKILL)
                var st: Int32 = 0
                waitpid(pid, &st, 0)
                live[i] = 0
            }
        }
        for (i, units) in assignments.enumerated() {
            let args = [exe] + base + ["--worker-units", units.map(String.init).joined(separator: ","),
                                       "--worker-result", "\(folder)/\(i).json"]
            pids.append(try spawn(exe, args, stderr: "\(folder)/\(i).err"))
            live[i] = pids[i]
        }
        let clock = ContinuousClock()
        let start = clock.now
        var lastShown = start
        var stopSentAt: ContinuousClock.Instant?
        var statuses = [Int32?](repeating: nil, count: pids.count)
        func collect() -> [Int: R] {
            var all: [Int: R] = [:]
            for i in pids.indices { all.merge(read("\(folder)/\(i).json", as: R.self)) { a, _ in a } }
            return all
        }
        while statuses.contains(where: { $0 == nil }) {
            for (i, pid) in pids.enumerated() where statuses[i] == nil {
                var st: Int32 = 0
                if waitpid(pid, &st, WNOHANG) == pid {
                    statuses[i] = st
                    kill(-pid, SIGKILL)  // whatever it started and left behind
                    live[i] = 0
                    if let problem = failure(st, worker: i, stderr: "\(folder)/\(i).err", stopped: stopSentAt != nil) { throw problem }
                }
            }
            if Interruption.requested && stopSentAt == nil {
                stopSentAt = clock.now
                for (i, pid) in pids.enumerated() where statuses[i] == nil { kill(-pid, Interruption.requestedBy) }
            }
            if let sent = stopSentAt, clock.now - sent > .seconds(10) {
                for (i, pid) in pids.enumerated() where statuses[i] == nil { kill(-pid, SIGKILL) }
            }
            if let progress, clock.now - lastShown >= interval {
                lastShown = clock.now
                progress(collect(), clock.now - start)
            }
            usleep(20_000)
        }
        return collect()
    }

    /// Why a worker's end is an error, or nil when it ended as a worker should.
    static func failure(_ status: Int32, worker i: Int, stderr: String, stopped: Bool) -> UsageError? {
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff, sig = status & 0x7f
        if exited && code == 0 { return nil }
        if stopped { return nil }  // ended by the stop request: what it wrote stands
        let said = (try? String(contentsOfFile: stderr, encoding: .utf8))?
            .split(separator: "\n").last { !$0.isEmpty }.map { String($0).replacingOccurrences(of: "ismkit: ", with: "") }
        if exited { return UsageError("worker \(i + 1) failed (exit \(code))" + (said.map { ": \($0)" } ?? "")) }
        return UsageError("worker \(i + 1) was ended by signal \(sig)" + (said.map { ": \($0)" } ?? ""))
    }

    /// Starts `exe` in a process group of its own: standard input and output /dev/null,
    /// standard error into `stderr`.
    static func spawn(_ exe: String, _ args: [String], stderr: String) throws(UsageError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var cargs = args.map { strdup($0) }
        cargs.append(nil)
        defer { for a in cargs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, &attr, cargs, environ)
        guard rc == 0 else { throw UsageError("cannot start a worker process (\(exe)): \(String(cString: strerror(rc)))") }
        return pid
    }
}
