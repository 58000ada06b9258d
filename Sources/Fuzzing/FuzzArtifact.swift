import Foundation
import ISMAccess
import ISMEngine

extension Reproducer {
    /// True when `data` looks like reproducer JSON rather than a raw fuzz input: its first
    /// non-blank byte is `{` and it names the reproducer format.
    public static func looksLikeJSON(_ data: Data) -> Bool {
        guard let first = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") else { return false }
        return data.range(of: Data(formatName.utf8)) != nil
    }

    /// A reproducer for a raw libFuzzer input of `diff-sim` or `diff-driver` (a `crash-*` artifact
    /// or a corpus entry): its operations are the input decoded as in docs/fuzz-encoding.md, for
    /// `device` (through its region table when it has one). The input does not say what ran or on
    /// which device, so the caller names both (`FuzzDevice` is diff-sim's choice; the fuzz
    /// targets say both in the `.json` they write beside it).
    public static func fromFuzzInput(_ bytes: [UInt8], target: Target, device: DeviceConfig) -> Reproducer {
        Reproducer(target: target, device: device, seed: nil, operations: FuzzEncoding.decode(bytes, for: device), divergence: nil)
    }

    /// Loads `path` as a reproducer: reproducer JSON as `load(path:)` does; otherwise a raw fuzz
    /// artifact, preferring the reproducer the fuzz target wrote beside it (`<path>.json`), and
    /// else decoding it with `target` and `device`.
    public static func load(path: String, orFuzzArtifactOf target: Target, device: DeviceConfig) throws(ReproducerError) -> Reproducer {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproducerError(FileManager.default.fileExists(atPath: path) ? "\(path): cannot read" : "\(path): no such file")
        }
        if looksLikeJSON(data) { return try decode(data, name: path) }
        let beside = path + ".json"
        if FileManager.default.fileExists(atPath: beside) {
            var r = try load(path: beside)
            // The file beside holds the shrunk sequence; the artifact itself is the original input.
            if r.operations.isEmpty { r.operations = FuzzEncoding.decode([UInt8](data), for: r.device) }
            return r
        }
        return fromFuzzInput([UInt8](data), target: target, device: device)
    }
}
