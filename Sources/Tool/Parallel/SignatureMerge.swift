import ISMEngine

/// The one deduplication of findings across workers, shards and runs: a finding whose
/// signature (`Finding.signature`: kind or rule, shrunk operations, sanitizer top frame) is
/// already there adds its occurrences to it; any other is appended, first seen first. `merge`
/// applies it to findings read from JSON reports, `--jobs` and multi-unit runs to `Finding`s.
enum SignatureMerge {
    static func add<T>(_ new: [T], to list: inout [T], signature: (T) -> String?, addOccurrences: (inout T, T) -> Void) {
        for f in new {
            if let s = signature(f), let k = list.firstIndex(where: { signature($0) == s }) {
                addOccurrences(&list[k], f)
            } else {
                list.append(f)
            }
        }
    }

    /// `Finding`s by their signature.
    static func add(_ new: [Finding], to list: inout [Finding]) {
        add(new, to: &list, signature: { $0.signature }, addOccurrences: { $0.occurrences += $1.occurrences })
    }

    /// Findings of JSON reports (their `signature` and `occurrences` fields).
    static func add(_ new: [[String: Any]], to list: inout [[String: Any]]) {
        add(new, to: &list, signature: { $0["signature"] as? String },
            addOccurrences: { $0["occurrences"] = ($0["occurrences"] as? Int ?? 1) + ($1["occurrences"] as? Int ?? 1) })
    }
}
