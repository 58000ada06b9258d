#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Every implementation process this process started, each in a process group of its own, so
/// that all of them (and whatever they started: qemu-user, a shell) can be ended at once: on
/// exit, on a signal, and when one hangs. Nothing started here outlives the tool.
public enum ChildProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var groups: Set<pid_t> = []

    static func started(_ pid: pid_t) {
        lock.lock(); groups.insert(pid); lock.unlock()
    }

    static func ended(_ pid: pid_t) {
        lock.lock(); groups.remove(pid); lock.unlock()
    }

    /// Kills every live group with SIGKILL and reaps the leaders.
    public static func killAll() {
        lock.lock()
        let all = groups
        groups.removeAll()
        lock.unlock()
        for g in all {
            kill(-g, SIGKILL)
            var status: Int32 = 0
            waitpid(g, &status, 0)
        }
    }

    /// How many are alive (tests).
    public static var count: Int { lock.lock(); defer { lock.unlock() }; return groups.count }
}
