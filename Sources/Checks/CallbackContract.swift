import ISMAccess
import ISMEngine
import ISMOutOfProcess

/// What the driver harness's callback-contract check (`--callback-contract`,
/// native/driver-harness/callback_contract.c) reported: each broken aspect of the driver's
/// read/write callbacks once, headlined as a callback finding (not an fd-visible divergence),
/// with the first call that showed it and the user-space paths that reach it.
struct CallbackContractResult: HarnessCheckResult {
    struct Violation {
        var aspect: String
        var write: Bool
        var offset: UInt64
        var count: UInt64
        var fault: String
        var result: Int64
        var positionAfter: Int64
        var message: String
    }
    var violations: [Violation] = []
    var calls = 0
    /// Calls that broke each aspect (all of them, not only the lines printed).
    var perAspect: [String: Int] = [:]
    var timedOut = false
    var broken: String?

    init(_ run: HarnessCheckRun) {
        for line in run.lines {
            let f = line.split(separator: " ", maxSplits: 8, omittingEmptySubsequences: true).map(String.init)
            switch f.first {
            case "CONTRACT" where f.count >= 9:
                violations.append(Violation(aspect: f[1], write: f[2] == "write", offset: UInt64(f[3]) ?? 0, count: UInt64(f[4]) ?? 0,
                                            fault: f[5], result: Int64(f[6]) ?? 0, positionAfter: Int64(f[7]) ?? 0, message: f[8]))
            case "ASPECTS" where f.count >= 4:
                perAspect = ["position": Int(f[1]) ?? 0, "buffer": Int(f[2]) ?? 0, "user-read": Int(f[3]) ?? 0]
            case "CASES" where f.count >= 2:
                calls = Int(f[1]) ?? 0
            case "BROKEN":
                broken = f.dropFirst().joined(separator: " ")
            default: break
            }
        }
        timedOut = run.timedOut
    }

    /// The finding's own headline per aspect.
    static func title(_ aspect: String) -> String {
        switch aspect {
        case "position": "callback contract: *ppos"
        case "buffer": "callback contract: user buffer"
        case "user-read": "callback contract: user bytes read"
        default: "callback contract: \(aspect)"
        }
    }

    /// The user-space paths that see what read(2)/pread(2) hide.
    static func paths(_ aspect: String, write: Bool) -> String {
        switch aspect {
        case "position":
            "reachable through io_uring IORING_OP_READ/IORING_OP_WRITE at the file position (offset -1: the callback's position becomes the file's) "
                + "and in-kernel kernel_read()/kernel_write() callers, which keep the position the callback left; read(2)/write(2) write it back on success only"
        case "buffer":
            write ? "every write path (write(2), pwrite(2), io_uring writes): the caller's buffer is const and may be shared or read-only"
                : "every read path (read(2), pread(2), readv(2), io_uring reads): bytes past the returned count, or after an error, are caller memory the read did not fill"
        default:
            write ? "a second thread or io_uring's async worker changing the buffer during write(2)/pwrite(2): a second fetch stores bytes the driver did not check, "
                + "and bytes read past the result are taken from memory the caller did not hand over"
                : "every read path: a read callback has no business reading the caller's buffer"
        }
    }

    func cutShort(timedOut: Bool, findings: [Finding]) -> String? {
        guard calls == 0 && findings.isEmpty else { return nil }
        return timedOut ? "the callback-contract check did not end within its time-out" : "the callback-contract check made no call"
    }

    func findings(layout: OffsetLayout, check: String) -> [Finding] {
        var order: [String] = []
        var first: [String: Violation] = [:]
        var seen: [String: Int] = [:]
        for v in violations {
            if first[v.aspect] == nil { order.append(v.aspect); first[v.aspect] = v }
            seen[v.aspect, default: 0] += 1
        }
        var out: [Finding] = order.map { a in
            let v = first[a]!
            let after = v.positionAfter < 0 ? "\(v.positionAfter)" : layout.describe(UInt64(v.positionAfter))
            let call = "\(v.write ? "write" : "read") callback at \(layout.describe(v.offset)), count \(v.count), fault \(v.fault): "
                + "returned \(v.result), *ppos then \(after)"
            var f = Finding(check: check, divergence: nil, rule: a == "position" ? .bar4 : nil, operations: [],
                            detail: "\(v.message) (\(call)); \(perAspect[a] ?? seen[a]!) of \(calls) calls; \(Self.paths(a, write: v.write))", layout: layout)
            f.title = Self.title(a)
            if let fault = Fault(harnessToken: v.fault) {
                f.checkPoint = HarnessCheckPoint(call: .init(write: v.write, offset: v.offset, count: v.count, fault: fault), finding: a)
            }
            return f
        }
        if let broken {
            var f = Finding(check: check, divergence: nil, rule: nil, operations: [], detail: "the harness reported: \(broken)", layout: layout)
            f.title = "callback contract: harness report"
            out.append(f)
        }
        return out
    }
}
