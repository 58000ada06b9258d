#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ISMAccess

/// A driver-source harness run in one of its check modes (`--lifecycle-walk`,
/// `--callback-contract`): the lines it printed and how it ended. It runs in a process group
/// of its own (registered with `ChildProcesses`), so a hang is ended at the time-out with
/// everything it started (qemu-user).
public struct HarnessCheckRun: Sendable {
    /// The harness's standard output, one element a line.
    public var lines: [String]
    /// The exit status, or nil when it was killed (signal or time-out).
    public var status: Int32?
    public var timedOut: Bool

    /// Which check a run makes.
    public enum Mode: String, Sendable {
        case lifecycleWalk = "--lifecycle-walk"
        case callbackContract = "--callback-contract"
    }

    /// Runs `binary` in `mode` on `device` for at most `timeout`; nil when it could not be started.
    /// `only` narrows the run to one point of the check: a lifecycle walk's failure point
    /// (`["3"]`), or one callback call (`["write", "<file offset>", "<count>", "<fault token>"]`).
    public static func run(_ binary: HarnessBinary, mode: Mode, device: DeviceConfig, timeout: Duration, only: [String] = []) -> HarnessCheckRun? {
        let d = device
        let numbers: [UInt64] = d.barLengths + [d.configSize, d.maxstbl, d.peerMaxstbl, d.contentSeed, d.storeBlocks == .strict ? 1 : 0]
        let argv = binary.command + [mode.rawValue] + numbers.map(String.init) + only
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        let devNull = open("/dev/null", O_RDWR)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, devNull, 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cargs, environ)
        close(fds[1])
        close(devNull)
        guard rc == 0 else { close(fds[0]); return nil }
        ChildProcesses.started(pid)
        let deadline = ContinuousClock.now + timeout
        var data = Data()
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { timedOut = true; break }
            var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(1000, max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            let r = poll(&p, 1, ms)
            if r < 0 && errno == EINTR { continue }
            if r == 0 { continue }
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            data.append(buffer, count: n)
        }
        close(fds[0])
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        ChildProcesses.ended(pid)
        let exited = (status & 0x7f) == 0
        return HarnessCheckRun(lines: String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init),
                               status: exited && !timedOut ? (status >> 8) & 0xff : nil, timedOut: timedOut)
    }
}
