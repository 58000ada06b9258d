import Foundation
import ISMAccess

// The two process pools of out-of-process implementations, named by what they keep:
// `IdleProcessPool` (after a sequence, reused through RESET) and `PrestartedProcesses`
// (started ahead, before anyone asks).

/// Idle harness processes kept for the next operation sequence, on the same device or (a
/// process with the wire feature `reconfig`) on another one, so a sequence costs a `RESET`
/// request instead of a process start (tens of milliseconds for an s390x binary under qemu).
///
/// Promise: only a process whose sequence ended without it breaking (no crash, hang, time-out,
/// sanitizer report or protocol error) and that was not ended is kept; a taken process is
/// handed out only after its `RESET` answered OK, else it is dropped (killed). Each process is
/// handed to one instance at a time. State a driver keeps in file-scope globals survives a
/// `RESET`: use a pool only for checks whose verdicts do not depend on a fresh process (the
/// differential campaign, the concurrency check), never for the lifecycle or leak checks.
public final class IdleProcessPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [(key: String, process: WireProcess)] = []
    private let limit: Int
    /// Sequences served by a reused process (after a successful `RESET`).
    public private(set) var resets = 0
    /// Resource counts (`livePools`, `leakedObjects`) each successful `RESET` reported from
    /// just before it, newest last (at most 64 kept).
    public private(set) var countsBeforeReset: [ResourceCounts] = []

    /// A pool keeping at most `limit` idle processes.
    public init(limit: Int = 2) { self.limit = limit }

    /// `key` names the command, environment and time-out (not the device: `takeReset` can
    /// give a process another device).
    func give(_ process: WireProcess, key: String) {
        guard process.reusable else { return }
        var evicted: [WireProcess] = []
        lock.lock()
        idle.append((key, process))
        while idle.count > limit { evicted.append(idle.removeFirst().process) }
        lock.unlock()
        evicted.removeAll()  // killed outside the lock
    }

    /// An idle process for `key`, reset to a fresh device configured by `config` (the `CONFIG`
    /// request's numbers), with the reset's reply; nil if none (or the reset failed: that
    /// process is dropped). A process last configured the same way is preferred; one with the
    /// `reconfig` feature is given the new device with the reset (`RESET` with the numbers), so
    /// the devices of a run share processes instead of each starting its own; only when
    /// `reconfigure` (else only a process configured the same way is taken).
    func takeReset(key: String, config: String, reconfigure: Bool = true) -> (WireProcess, WireReply)? {
        lock.lock()
        let found = (idle.firstIndex { $0.key == key && $0.process.config == config }
            ?? (reconfigure ? idle.firstIndex { $0.key == key && $0.process.features.contains("reconfig") } : nil))
            .map { idle.remove(at: $0).process }
        lock.unlock()
        guard let p = found, p.reusable else { return nil }
        guard let line = try? p.exchange(p.config == config ? "RESET" : "RESET " + config),
              let reply = try? WireReply.parse(line), reply.status == .ok else {
            _ = p.fail(.protocolError("RESET failed"))
            return nil
        }
        p.config = config
        recordReset(reply.data)
        return (p, reply)
    }

    /// Counts a successful `RESET` of a process of this pool (taken from it, or sent inside a
    /// batch) with the resource counts its answer's data field carries.
    func recordReset(_ data: Substring) {
        let parts = data.split(separator: ".")
        lock.lock()
        resets += 1
        if parts.count == 2, let pools = Int(parts[0]), let leaked = Int(parts[1]) {
            countsBeforeReset.append(ResourceCounts(livePools: pools, leakedObjects: leaked))
            if countsBeforeReset.count > 64 { countsBeforeReset.removeFirst() }
        }
        lock.unlock()
    }
}

/// One started-but-unused process per command, so the next implementation does not wait for
/// a process (a static s390x binary under qemu takes tens of milliseconds to start): taking one
/// starts its successor, which starts up while the taker works. At most two are kept.
final class PrestartedProcesses: @unchecked Sendable {
    static let shared = PrestartedProcesses()
    private let lock = NSLock()
    private var spares: [(key: String, process: WireProcess)] = []

    /// A started process for `arguments`, from the spares or new, and a successor started.
    func take(arguments: [String], environment: [String: String], timeout: Duration) throws(AccessError) -> WireProcess {
        let key = ([timeout.description] + arguments + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .joined(separator: "\u{1}")
        lock.lock()
        let spare = spares.firstIndex { $0.key == key }.map { spares.remove(at: $0).process }
        lock.unlock()
        let process: WireProcess
        if let spare { process = spare } else { process = try WireProcess(arguments: arguments, environment: environment, timeout: timeout) }
        if let next = try? WireProcess(arguments: arguments, environment: environment, timeout: timeout) {
            var evicted: [WireProcess] = []
            lock.lock()
            spares.append((key, next))
            while spares.count > 2 { evicted.append(spares.removeFirst().process) }
            lock.unlock()
            evicted.removeAll()  // killed outside the lock
        }
        return process
    }
}
