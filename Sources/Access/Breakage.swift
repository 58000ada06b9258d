/// How an implementation under test broke instead of answering, as a value a report can name:
/// the finding's headline is the kind (a hang, a crash, an overrun), never the rule of the
/// operation that happened to be running.
public enum Breakage: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// No answer within the time-out (seconds) while doing `during`.
    case hang(timeoutSeconds: Double, during: String)
    /// Killed by a signal (its number) while doing `during`.
    case crash(signal: Int32, during: String)
    /// Ended (an exit status, or closed its output) without answering.
    case exited(status: Int32?, during: String)
    /// A sanitizer's report: its first line and the top frame in the implementation, when known.
    case sanitizer(report: String, topFrame: String?)
    /// Memory outside a buffer was touched: a slab overflow, a copy outside the user buffer.
    case overrun(String)
    /// An interface was misused: use after free, a NULL or foreign pool, a double release.
    case misuse(String)
    /// The other side did not follow the wire protocol (stray output, a malformed reply).
    case protocolError(String)
    /// It could not be started at all.
    case cannotStart(String)
    /// The tool was asked to stop (SIGINT, SIGTERM) while waiting for it: no finding.
    case interrupted

    /// The kind in one word, as reports and finding signatures name it.
    public var kind: String {
        switch self {
        case .hang: "hang"
        case .crash: "crash"
        case .exited: "exit"
        case .sanitizer: "sanitizer"
        case .overrun: "overrun"
        case .misuse: "misuse"
        case .protocolError: "protocol-error"
        case .cannotStart: "cannot-start"
        case .interrupted: "interrupted"
        }
    }

    /// A short headline: the kind with its one distinguishing value.
    public var headline: String {
        switch self {
        case .hang(let t, _): "hang (no answer within \(Self.seconds(t)))"
        case .crash(let s, _): "crash (\(Self.signalName(s)))"
        case .exited(let s, _): s.map { "exit (status \($0))" } ?? "exit (output closed)"
        case .sanitizer(let r, _): "sanitizer (\(r.split(separator: ":").prefix(2).joined(separator: ":").prefix(60)))"
        case .overrun: "buffer overrun"
        case .misuse: "misuse"
        case .protocolError: "protocol error"
        case .cannotStart: "cannot start"
        case .interrupted: "interrupted"
        }
    }

    public var description: String {
        switch self {
        case let .hang(t, during): "hang: no answer within \(Self.seconds(t)) to \(during)"
        case let .crash(s, during): "crash: \(Self.signalName(s)) while \(during)"
        case let .exited(s?, during): "the implementation exited (status \(s)) while \(during)"
        case let .exited(nil, during): "the implementation closed its output while \(during)"
        case let .sanitizer(r, frame?): "\(r); at \(frame)"
        case let .sanitizer(r, nil): r
        case .overrun(let what): "overrun: \(what)"
        case .misuse(let what): "misuse: \(what)"
        case .protocolError(let what): "protocol: \(what)"
        case .cannotStart(let what): "cannot start: \(what)"
        case .interrupted: "interrupted: the run was asked to stop while waiting for an answer"
        }
    }

    static func seconds(_ t: Double) -> String {
        t == t.rounded() ? "\(Int(t)) s" : "\(t) s"
    }

    /// `SIGSEGV` for 11, and so on; `signal N` for others.
    public static func signalName(_ s: Int32) -> String {
        [1: "SIGHUP", 2: "SIGINT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
         11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"][s] ?? "signal \(s)"
    }
}
