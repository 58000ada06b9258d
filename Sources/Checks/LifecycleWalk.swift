import ISMAccess
import ISMEngine
import ISMOutOfProcess

/// What the driver harness's lifecycle walk (`--lifecycle-walk`, native/driver-harness/lifecycle_walk.c)
/// reported, read into R-LIFE-2 findings: each broken acquire/release pair once, with the failure
/// point that first showed it.
struct LifecycleWalkResult: HarnessCheckResult {
    struct Violation {
        var point: Int
        var kind: String
        var pair: String
        var phase: String
        var message: String
    }
    var violations: [Violation] = []
    /// Failure point -> the acquire that failed there and the lifecycle step it was in.
    var failed: [Int: (function: String, phase: String)] = [:]
    var points = 0
    var timedOut = false

    init(_ run: HarnessCheckRun) {
        var current = -1
        for line in run.lines {
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init)
            switch f.first {
            case "FAILED" where f.count >= 4:
                current = Int(f[1]) ?? current
                failed[current] = (f[2], f[3])
            case "VIOLATION" where f.count >= 6:
                violations.append(Violation(point: Int(f[1]) ?? current, kind: f[2], pair: f[3], phase: f[4], message: f[5]))
            case "BROKEN":
                violations.append(Violation(point: current, kind: "broken", pair: f.count > 1 ? f[1] : "?", phase: "-",
                                            message: f.dropFirst().joined(separator: " ")))
            case "PAIRS" where f.count >= 2:
                // The plain counts must balance too; an imbalance no entry explained is its own finding.
                let p = Int(f[1]) ?? current
                for item in line.split(separator: " ").dropFirst(2) {
                    let kv = item.split(separator: "=")
                    let counts = kv.count == 2 ? kv[1].split(separator: "/").compactMap { Int($0) } : []
                    guard counts.count == 2, counts[0] != counts[1] else { continue }
                    let pair = String(kv[0])
                    if violations.contains(where: { $0.point == p && $0.pair == pair }) { continue }
                    violations.append(Violation(point: p, kind: counts[0] > counts[1] ? "missing-release" : "double-release", pair: pair,
                                                phase: "after-teardown",
                                                message: "\(counts[0]) acquired, \(counts[1]) released"))
                }
            case "POINT" where f.count >= 4:
                let p = Int(f[1]) ?? current
                if f[3].hasPrefix("status=signal-") {
                    violations.append(Violation(point: p, kind: "crash", pair: String(f[3].dropFirst("status=".count)), phase: "-",
                                                message: "the harness ended with \(f[3].dropFirst("status=".count))"))
                }
                points += 1
                current = p + 1
            default: break
            }
        }
        if run.timedOut {
            timedOut = true
            violations.append(Violation(point: current, kind: "hang", pair: "-", phase: "-", message: "no answer within the walk's time-out"))
        }
    }

    static func kindText(_ k: String) -> String {
        switch k {
        case "leak": "leak"
        case "missing-release": "missing release"
        case "double-release": "double release"
        case "use-after-release": "use after release"
        case "broken": "the harness reported a misuse"
        case "crash": "crash"
        case "hang": "hang"
        default: k
        }
    }

    /// Where a failure point is: the acquire that failed and in which step, or the plain path.
    func pointText(_ p: Int) -> String {
        guard p >= 0 else { return "on the path where nothing failed" }
        guard let f = failed[p] else { return "at failure point \(p)" }
        return "when \(f.function) failed during \(f.phase) (failure point \(p))"
    }

    var calls: Int { points }

    func cutShort(timedOut: Bool, findings: [Finding]) -> String? {
        points > 0 ? nil : timedOut ? "the lifecycle walk did not end within its time-out" : "the lifecycle walk printed nothing"
    }

    func findings(layout: OffsetLayout, check: String) -> [Finding] {
        var order: [String] = []
        var first: [String: Violation] = [:]
        var seen: [String: Int] = [:]
        for v in violations {
            let key = v.kind + "|" + v.pair
            if first[key] == nil { order.append(key); first[key] = v }
            seen[key, default: 0] += 1
        }
        return order.map { key in
            let v = first[key]!
            let pair = ["device", "core-init", "register", "enable", "pool", "allocation"].contains(v.pair) ? " of the \(v.pair) pair" : ""
            let detail = "\(Self.kindText(v.kind))\(pair): \(v.message), \(pointText(v.point))"
                + (v.phase != "-" && v.phase != "after-teardown" ? ", seen during \(v.phase)" : "")
                + "; \(seen[key]!) time(s) over \(points) failure points"
            var f = Finding(check: check, divergence: nil, rule: .life2, operations: [], detail: detail, layout: layout)
            f.checkPoint = HarnessCheckPoint(walkPoint: v.point, finding: key)
            return f
        }
    }
}
