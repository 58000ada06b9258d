import Foundation
import ISMAccess

extension Reproducer {
    /// Reads and validates a reproducer file; the error says in one line what is wrong.
    public static func load(path: String) throws(ReproducerError) -> Reproducer {
        guard FileManager.default.fileExists(atPath: path) else { throw ReproducerError("\(path): no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReproducerError("\(path): cannot read") }
        return try decode(data, name: path)
    }

    /// Decodes and validates reproducer JSON.
    public static func decode(_ data: Data, name: String = "reproducer") throws(ReproducerError) -> Reproducer {
        let r: Reproducer
        do {
            r = try JSONDecoder().decode(Reproducer.self, from: data)
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ReproducerError("\(name): not a valid reproducer: \(ctx.debugDescription)\(where_(ctx.codingPath))")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ReproducerError("\(name): not a valid reproducer: missing \"\(key.stringValue)\"\(where_(ctx.codingPath))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ReproducerError("\(name): not a valid reproducer: wrong type\(where_(ctx.codingPath + [])): \(ctx.debugDescription)")
        } catch {
            throw ReproducerError("\(name): not a valid reproducer: \(error)")
        }
        guard r.format == formatName else { throw ReproducerError("\(name): format is \"\(r.format)\", expected \"\(formatName)\"") }
        guard r.version == currentVersion else { throw ReproducerError("\(name): version \(r.version) is not supported (this ismkit reads version \(currentVersion))") }
        guard r.device.barLengths.count == 6 else { throw ReproducerError("\(name): device.barLengths must have 6 entries") }
        guard r.device.maxstbl > 0, r.device.maxstbl <= 1 << 20 else { throw ReproducerError("\(name): device.maxstbl must be 1...1048576") }
        if let big = r.operations.first(where: { ($0.count ?? 0) > Limits.maxTransfer }) {
            throw ReproducerError("\(name): operation \(big.summary(in: r.device.layout)) exceeds the \(Limits.maxTransfer)-byte transfer limit")
        }
        return r
    }

    private static func where_(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// Pretty, stable JSON (sorted keys) so reproducers diff well.
    public func encoded() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(self)) ?? Data()
    }

    /// Writes the file, creating its folder; the error says what failed. Only `ReproducerStore`
    /// writes reproducers: it alone names them.
    func save(path: String) throws(ReproducerError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoded().write(to: url)
        } catch {
            throw ReproducerError("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
