#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ISMAccess

/// One child process that speaks the wire protocol (docs/wire-protocol.md) on a socket pair
/// bound to its stdin and stdout, with its stderr in an unlinked temporary file.
///
/// Promise: every exchange has a time-out; a child that hangs, crashes, or reports a
/// sanitizer error yields `AccessError.broken(reason)` and is killed, never a crash or hang of
/// the caller (writes use MSG_NOSIGNAL, so a dead child raises no SIGPIPE). Once broken, the
/// process stays broken and every later call repeats the same reason. Nothing is left behind:
/// the child is killed when the value goes away, and gets end-of-input if the caller exits.
final class WireProcess {
    private let pid: pid_t
    private let fd: Int32
    private let errFD: Int32
    private var inbox: [UInt8] = []
    private var inboxStart = 0
    let timeout: Duration
    private(set) var brokenReason: Breakage?
    /// When a stop was asked for during a wait: the end of its grace period.
    private var interruptedWait: ContinuousClock.Instant?
    private var exited = false
    private var exitStatus: Int32 = 0
    /// The greeting line's fields (after `greet()`).
    private(set) var hello: [Substring] = []
    /// What the other side's carry buffer holds at its start (feature `carry`), when known: set
    /// by the batch path after a `CARRY` or a window of `=` reads answered in full.
    var carryMirror: [UInt8]?
    /// The optional features the greeting names (its sixth field, comma-separated), e.g. `carry`.
    private(set) lazy var features: Set<Substring> = hello.count >= 6 ? Set(hello[5].split(separator: ",")) : []
    /// The numbers of the `CONFIG` (or reconfiguring `RESET`) that made its device, once known.
    var config: String?
    /// True while the process may serve another operation sequence: never broken (crash,
    /// hang, time-out, sanitizer report, protocol error) and not ended.
    var reusable: Bool { brokenReason == nil && !exited }

    /// Starts the child; `greet()` then waits for its greeting.
    init(arguments: [String], environment: [String: String] = [:], timeout: Duration) throws(AccessError) {
        self.timeout = timeout
        var sv: [Int32] = [0, 0]
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, streamType, 0, &sv) == 0 else { throw .broken(.cannotStart("socketpair failed: errno \(errno)")) }
        var template = Array((NSTemporaryDirectory() + "/ismkit-wire-XXXXXX").utf8CString)
        let errFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard errFD >= 0 else {
            close(sv[0]); close(sv[1])
            throw .broken(.cannotStart("cannot create a stderr file: errno \(errno)"))
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(errFD, F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, sv[1], 0)
        posix_spawn_file_actions_adddup2(&actions, sv[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
        posix_spawn_file_actions_addclose(&actions, sv[0])

        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        // A process group of its own, so ending it ends what it started too (qemu-user, a shell).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var child: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(envStrings) { envp in
                posix_spawnp(&child, arguments[0], &actions, &attributes, argv, envp)
            }
        }
        close(sv[1])
        guard rc == 0 else {
            close(sv[0])
            close(errFD)
            throw .broken(.cannotStart("\(arguments[0]): \(String(cString: strerror(rc)))"))
        }
        pid = child
        ChildProcesses.started(child)
        fd = sv[0]
        self.errFD = errFD
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Speaks the protocol over `socket`, a connected stream socket this value now owns; there
    /// is no child: the other end closing the connection reads as an exit (output closed).
    init(socket: Int32, timeout: Duration) {
        self.timeout = timeout
        pid = 0
        fd = socket
        errFD = -1
        exited = true
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Waits for the greeting line and checks the protocol version.
    func greet() throws(AccessError) {
        let line = try readLine(context: "the greeting")
        hello = line.split(separator: " ")
        if hello.count >= 2, hello[0] == "ISMKIT-WIRE", hello[1] != "1" {
            throw fail(.protocolError("the other side speaks wire protocol version \(hello[1].prefix(20)); this ismkit speaks version 1"))
        }
        guard hello.count >= 5, hello[0] == "ISMKIT-WIRE", hello[1] == "1" else {
            throw fail(.protocolError("unexpected greeting \"\(line.prefix(80))\""))
        }
    }

    deinit {
        close(fd)
        guard pid > 0 else { return }  // a socket: no child (and kill(-0) would be this group)
        kill(-pid, SIGKILL)  // the group: whatever the implementation started goes too
        if !exited {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        ChildProcesses.ended(pid)
        close(errFD)
    }

    /// Sends one request line and returns the response line.
    func exchange(_ request: String) throws(AccessError) -> String {
        if let brokenReason { throw .broken(brokenReason) }
        try send(request + "\n")
        let summary = request.prefix(40)
        return try readLine(context: "\"\(summary)\(request.count > 40 ? "…" : "")\"")
    }

    /// Asks the child to end (QUIT), waits for it, and reports a sanitizer finding or a
    /// non-zero exit as broken.
    func finish() throws(AccessError) {
        if let brokenReason { throw .broken(brokenReason) }
        try send("QUIT\n")
        _ = try? readLine(context: "QUIT")
        if let brokenReason { throw .broken(brokenReason) }
        let status = waitExit(within: timeout)
        guard let status else { throw fail(.hang(timeoutSeconds: timeout.seconds, during: "QUIT (no exit)")) }
        if let report = sanitizerReport() { throw fail(report) }
        if status != 0 { throw fail(.exited(status: status, during: "QUIT")) }
    }

    // MARK: I/O with time-outs

    private func send(_ text: String) throws(AccessError) {
        var bytes = Array(text.utf8)
        var sent = 0
        let deadline = ContinuousClock.now + timeout
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { p in
                Glibc.send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try wait(for: Int16(POLLOUT), until: deadline) else {
                    throw fail(.hang(timeoutSeconds: timeout.seconds, during: "taking a request"))
                }
                continue
            }
            throw fail(deathReason(during: "sending a request"))
        }
        bytes.removeAll()
    }

    private func readLine(context: String) throws(AccessError) -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = takeLine() { return line }
            if try receive(context: context) { continue }
            guard try wait(for: Int16(POLLIN), until: deadline) else {
                throw fail(.hang(timeoutSeconds: timeout.seconds, during: context))
            }
        }
    }

    /// Where the search for the next line's end goes on in `inbox`.
    private var scanFrom = 0

    /// The next complete line in the inbox (without its newline), or nil.
    private func takeLine() -> String? {
        guard let r = nextLine() else { return nil }
        let line = String(decoding: inbox[r], as: UTF8.self)
        consumeLine(r)
        return line
    }

    /// Where the next complete line is in the inbox (without its newline), or nil.
    private func nextLine() -> Range<Int>? {
        guard let nl = inbox[max(scanFrom, inboxStart)...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanFrom = inbox.count
            return nil
        }
        return inboxStart..<nl
    }

    /// Drops the line `nextLine` returned (and its newline) from the inbox.
    private func consumeLine(_ r: Range<Int>) {
        inboxStart = r.upperBound + 1
        if inboxStart > 1 << 16 || inboxStart == inbox.count {
            inbox.removeSubrange(0..<inboxStart)
            inboxStart = 0
        }
        scanFrom = inboxStart
    }

    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    /// Reads what the socket has into the inbox: true when bytes came, false when none are
    /// there yet; throws the death reason when the other side closed its end.
    private func receive(context: @autoclosure () -> String = "") throws(AccessError) -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n > 0 {
            inbox.append(contentsOf: chunk[0..<n])
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return false }
        throw fail(deathReason(during: "waiting for the answer to \(context())"))
    }

    /// Sends every request in `requests` (lines; `ends[i]` is the index just past the `i`-th
    /// line's newline) while reading the answers, and hands each answer line to `answer` in
    /// order with its request's index, so the other side never waits for the client between
    /// requests. The time-out waits for progress: each answer resets it.
    ///
    /// When the process breaks (hangs, crashes, dies, or `answer` throws), what it answered
    /// before has been handed over; the thrown breakage names the request whose answer never
    /// came, and `answered` says how many came.
    func pipeline(_ requests: [UInt8], ends: [Int], answered: inout Int,
                  answer: (Int, UnsafeRawBufferPointer) throws(AccessError) -> Void) throws(AccessError) {
        if let brokenReason { throw .broken(brokenReason) }
        func context(_ i: Int) -> String {
            let start = i == 0 ? 0 : ends[i - 1]
            let line = String(decoding: requests[start..<(ends[i] - 1)], as: UTF8.self)
            return "\"\(line.prefix(40))\(line.count > 40 ? "…" : "")\""
        }
        var sent = 0
        var sendClosed = false
        var deadline = ContinuousClock.now + timeout
        answered = 0
        while answered < ends.count {
            while answered < ends.count, let r = nextLine() {
                var failure: AccessError?
                let i = answered
                inbox.withUnsafeBytes { b in
                    do throws(AccessError) { try answer(i, UnsafeRawBufferPointer(rebasing: b[r])) } catch { failure = error }
                }
                if let failure { throw failure }
                consumeLine(r)
                answered += 1
                deadline = ContinuousClock.now + timeout
            }
            if answered == ends.count { break }
            var progress = false
            if sent < requests.count && !sendClosed {
                let n = requests.withUnsafeBytes { p in
                    Glibc.send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent += n
                    progress = true
                } else if !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    sendClosed = true  // it stopped reading: its answers so far are still to be read
                }
            }
            if try receive(context: context(answered)) { continue }
            if progress { continue }
            let events = sent < requests.count && !sendClosed ? Int16(POLLIN) | Int16(POLLOUT) : Int16(POLLIN)
            guard try wait(for: events, until: deadline) else {
                throw fail(.hang(timeoutSeconds: timeout.seconds, during: context(answered)))
            }
        }
    }

    /// `pipeline` for binary answers (the agent's compact frames): sends `requests` while
    /// reading, and hands the unread answer bytes to `answer(i, bytes)`, which returns how many
    /// bytes the `i`-th answer took, or 0 while it is not complete. `count` answers are read;
    /// `describe(i)` names the `i`-th request in a hang or death. Breaks as `pipeline` does.
    func pipelineFrames(_ requests: [UInt8], count: Int, answered: inout Int, describe: (Int) -> String,
                        answer: (Int, UnsafeRawBufferPointer) throws(AccessError) -> Int) throws(AccessError) {
        if let brokenReason { throw .broken(brokenReason) }
        var sent = 0
        var sendClosed = false
        var deadline = ContinuousClock.now + timeout
        answered = 0
        while answered < count {
            while answered < count, inboxStart < inbox.count {
                let start = inboxStart, i = answered
                let r: Result<Int, AccessError> = inbox.withUnsafeBytes { all in
                    do throws(AccessError) { return .success(try answer(i, UnsafeRawBufferPointer(rebasing: all[start...]))) } catch {
                        return .failure(error)
                    }
                }
                let used = try r.get()
                if used == 0 { break }
                inboxStart += used
                answered += 1
                deadline = ContinuousClock.now + timeout
            }
            if inboxStart > 1 << 16 || inboxStart == inbox.count {
                inbox.removeSubrange(0..<inboxStart)
                inboxStart = 0
            }
            scanFrom = inboxStart
            if answered == count { break }
            var progress = false
            if sent < requests.count && !sendClosed {
                let n = requests.withUnsafeBytes { p in
                    Glibc.send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent += n
                    progress = true
                } else if !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    sendClosed = true
                }
            }
            if try receive(context: describe(answered)) { continue }
            if progress { continue }
            let events = sent < requests.count && !sendClosed ? Int16(POLLIN) | Int16(POLLOUT) : Int16(POLLIN)
            guard try wait(for: events, until: deadline) else {
                throw fail(.hang(timeoutSeconds: timeout.seconds, during: describe(answered)))
            }
        }
    }

    /// Polls until the socket is ready; false at the deadline.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) throws(AccessError) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return false }
            // Asked to stop: the current call gets one more second, then gives up.
            if Interruption.timeBoxOver { throw fail(.interrupted) }  // the run's --seconds are over: no finding
            if Interruption.requested {
                if interruptedWait == nil { interruptedWait = ContinuousClock.now + .seconds(1) }
                if ContinuousClock.now >= interruptedWait! { throw fail(.interrupted) }
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = min(200, Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1))
            let r = poll(&p, 1, ms)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { throw fail(.cannotStart("poll failed: errno \(errno)")) }
        }
    }

    // MARK: ending

    /// Marks the process broken, kills it, and returns the error to throw.
    func fail(_ reason: Breakage) -> AccessError {
        if brokenReason == nil { brokenReason = reason }
        if !exited {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exited = true
        }
        return .broken(brokenReason!)
    }

    /// Waits for the child's exit; its status (signal n as 128+n), or nil at the time-out.
    private func waitExit(within limit: Duration) -> Int32? {
        if exited { return exitStatus }
        let deadline = ContinuousClock.now + limit
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                exited = true
                let sig = status & 0x7f
                exitStatus = sig == 0 ? (status >> 8) & 0xff : 128 + sig
                return exitStatus
            }
            if ContinuousClock.now >= deadline { return nil }
            usleep(2000)
        }
    }

    /// Why the child stopped talking: a sanitizer report, a BROKEN line, a signal or an exit.
    private func deathReason(during what: String) -> Breakage {
        if pid == 0 { return .exited(status: nil, during: what) }
        let status = waitExit(within: .seconds(2))
        if let report = sanitizerReport() { return report }
        guard let status else { return .exited(status: nil, during: what) }
        if status > 128 { return .crash(signal: status - 128, during: what) }
        return .exited(status: status, during: what)
    }

    /// Everything the child wrote to stderr so far (at most the last 1 MiB).
    func stderrText() -> String {
        var st = stat()
        guard errFD >= 0, fstat(errFD, &st) == 0, st.st_size > 0 else { return "" }
        let size = Int(st.st_size)
        let start = max(0, size - (1 << 20))
        var bytes = [UInt8](repeating: 0, count: size - start)
        let n = bytes.withUnsafeMutableBytes { Glibc.pread(errFD, $0.baseAddress!, $0.count, off_t(start)) }
        return n > 0 ? String(decoding: bytes[0..<n], as: UTF8.self) : ""
    }

    /// The first line of an AddressSanitizer / LeakSanitizer / UBSan report in stderr, with its
    /// summary and the first frame that is not the allocator, if there is a report.
    func sanitizerReport() -> Breakage? {
        let text = stderrText()
        let lines = text.split(separator: "\n")
        guard let first = lines.firstIndex(where: { $0.contains("ERROR: AddressSanitizer") || $0.contains("ERROR: LeakSanitizer") || $0.contains("runtime error:") }) else {
            return nil
        }
        var report = String(lines[first].drop(while: { $0 == "=" || $0.isNumber || $0 == " " }))
        // A leak report's useful part is its summary and first allocation site.
        if let summary = lines.first(where: { $0.hasPrefix("SUMMARY:") }) { report += "; " + summary }
        let site = lines[first...].first(where: { $0.contains(" in ") && !$0.contains("malloc") && !$0.contains("calloc") && $0.contains("#") })
        return .sanitizer(report: report, topFrame: site.map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// Recent stderr text, for reports.
    func stderrTail(_ maxBytes: Int = 2000) -> String { String(stderrText().suffix(maxBytes)) }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return body(ptrs)
}
