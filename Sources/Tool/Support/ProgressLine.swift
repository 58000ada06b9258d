import Foundation
import ISMEngine
#if canImport(Glibc)
import Glibc
#endif

/// The progress of a long run on standard error: a live line rewritten in place on a terminal
/// (every half second), a plain line every five seconds otherwise (CI logs); nothing with `--quiet`.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    let live: Bool
    private var shown = false

    init(quiet: Bool) {
        enabled = !quiet
        live = isatty(2) != 0
    }

    /// How often a campaign should report.
    var interval: Duration { live ? .milliseconds(500) : .seconds(5) }

    /// A campaign's progress: elapsed, operations, rate, findings, rules reached.
    func show(_ p: CampaignProgress) {
        let s = p.elapsed.seconds
        show("[\(Int(s)) s] \(p.operations) operations, \(s > 0 ? Int(Double(p.operations) / s) : 0) ops/s, "
            + "\(p.findings) finding(s), \(p.rules) rules reached")
    }

    func show(_ line: String) {
        guard enabled else { return }
        if live {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            shown = true
        } else {
            FileHandle.standardError.write(Data(("  " + line + "\n").utf8))
        }
    }

    /// Ends a live line so what follows starts on its own line.
    func end() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)); shown = false }
    }

    /// A campaign progress callback, or nil when quiet.
    var callback: (@Sendable (CampaignProgress) -> Void)? {
        guard enabled else { return nil }
        return { @Sendable [self] p in self.show(p) }
    }
}
