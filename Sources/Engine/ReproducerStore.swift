import Foundation
import ISMAccess

/// The one place that names and writes reproducer files. A finding's file is
/// `<stem>-<finding>-<discriminator>.json` in the store's folder: the implementation's stem
/// (its kind and what tells runs of it apart, from the implementation registry), the finding's
/// slug (rule and aspect, or the kind of breakage), and a discriminator (the seed, or a hash of
/// what makes the finding distinct). A fuzz artifact's reproducer sits beside the artifact as
/// `<artifact>.json`, so `replay` finds it.
public struct ReproducerStore: Sendable, Hashable {
    /// The folder findings are written into (created on the first write).
    public var directory: String
    public init(directory: String) { self.directory = directory }

    /// The path a finding's reproducer is written to.
    public func path(stem: String, finding: String, discriminator: String) -> String {
        let name = [stem, finding, discriminator].filter { !$0.isEmpty }.joined(separator: "-")
        return (directory as NSString).appendingPathComponent(Self.safe(name) + ".json")
    }

    /// Writes `reproducer` for a finding and returns its path.
    @discardableResult
    public func save(_ reproducer: Reproducer, stem: String, finding: String, discriminator: String) throws(ReproducerError) -> String {
        let p = path(stem: stem, finding: finding, discriminator: discriminator)
        try reproducer.save(path: p)
        return p
    }

    /// Writes the reproducer of a raw fuzz artifact beside it (`<artifact>.json`) and returns its path.
    @discardableResult
    public static func saveBeside(artifact: String, _ reproducer: Reproducer) throws(ReproducerError) -> String {
        let p = artifact + ".json"
        try reproducer.save(path: p)
        return p
    }

    /// `seed7`, or the first 8 hex digits of a 64-bit FNV-1a hash of `text`.
    public static func discriminator(seed: UInt64?, distinguishing text: String = "") -> String {
        if text.isEmpty, let seed { return "seed\(seed)" }
        var h = FNV1a()
        h.add(text)
        return String(h.hex.prefix(8))
    }

    /// File-name safe: letters, digits, `-`, `_` and `.`; anything else becomes `_`.
    static func safe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }
}
