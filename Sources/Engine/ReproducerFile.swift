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
        try checkKeys(data, name: name)
        guard r.device.barLengths.count == 6 else { throw ReproducerError("\(name): device.barLengths must have 6 entries") }
        guard r.device.maxstbl > 0, r.device.maxstbl <= 1 << 20 else { throw ReproducerError("\(name): device.maxstbl must be 1...1048576") }
        guard r.device.peerMaxstbl > 0, r.device.peerMaxstbl <= 1 << 20 else { throw ReproducerError("\(name): device.peerMaxstbl must be 1...1048576") }
        guard r.device.configSize == 256 || r.device.configSize == 4096 else {
            throw ReproducerError("\(name): device.configSize must be 256 or 4096 (PCI or PCI Express config space), not \(r.device.configSize)")
        }
        if let problem = r.device.regionTable?.problem { throw ReproducerError("\(name): device.regionTable \(problem)") }
        let regionSize: UInt64 = r.device.regionLayout.span
        let layoutName = r.device.regionTable == nil ? "the \(r.device.profile.rawValue) layout" : "device.regionTable"
        for (i, len) in r.device.barLengths.enumerated() where len > regionSize {
            throw ReproducerError("\(name): device.barLengths[\(i)] is \(len) bytes, more than a region of \(layoutName) holds (\(regionSize))")
        }
        if let m = r.device.msix {
            let inside = m.bar >= 0 && m.bar < 6 && m.start <= r.device.barLengths[m.bar] && m.length <= r.device.barLengths[m.bar] - m.start
            guard inside else { throw ReproducerError("\(name): device.msix lies outside BAR \(m.bar)") }
        }
        if let p = r.pair, !p.isMeaningful {
            throw ReproducerError("\(name): pair must hold two transfers or region-info requests on fd 1 or 2, a hold >= 0, and not two read/write calls on one fd")
        }
        if let c = r.check, !c.isMeaningful {
            throw ReproducerError("\(name): check must be a lifecycle-walk point (-1...63) or one callback-contract call, and name its finding")
        }
        if let big = r.operations.first(where: { ($0.count ?? 0) > Limits.maxTransfer }) {
            throw ReproducerError("\(name): operation \(big.summary(in: r.device.layout)) exceeds the \(Limits.maxTransfer)-byte transfer limit")
        }
        return r
    }

    /// The keys each object of a reproducer may have: what this version writes (a misspelt key,
    /// such as a fault under the wrong name, must not be dropped silently).
    static let knownKeys: [String: Set<String>] = [
        "": ["format", "version", "target", "device", "seed", "operations", "divergence", "pair", "check"],
        "check": ["mode", "point", "call", "finding"],
        "check.call": ["callback", "offset", "count", "fault"],
        "pair": ["first", "firstFD", "second", "secondFD", "hold"],
        "pair.first": ["op", "offset", "count", "pattern", "fault", "whence", "index", "argsz", "failPool"],
        "pair.second": ["op", "offset", "count", "pattern", "fault", "whence", "index", "argsz", "failPool"],
        "target": ["kind", "parameters"],
        "device": ["barLengths", "configSize", "maxstbl", "hostByteOrder", "profile", "storeBlocks", "has64BitMMIO", "msix",
                   "contentSeed", "peerMaxstbl", "regionTable"],
        "device.msix": ["bar", "start", "length"],
        "device.regionTable": ["bases", "span"],
        "operations[]": ["op", "offset", "count", "pattern", "fault", "whence", "index", "argsz", "failPool"],
        "divergence": ["index", "operation", "aspect", "rule", "expected", "actual", "cited", "failure", "regionShift", "regionTable"],
        "divergence.operation": ["op", "offset", "count", "pattern", "fault", "whence", "index", "argsz", "failPool"],
    ]

    /// Refuses a key this version does not know, naming its path (`operations[3].faul`).
    static func checkKeys(_ data: Data, name: String) throws(ReproducerError) {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        func check(_ object: [String: Any], schema: String, path: String) throws(ReproducerError) {
            guard let allowed = knownKeys[schema] else { return }
            for key in object.keys.sorted() where !allowed.contains(key) {
                throw ReproducerError("\(name): unknown key \"\(path.isEmpty ? key : path + "." + key)\" (this ismkit reads: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        try check(top, schema: "", path: "")
        for key in ["target", "device", "divergence", "pair", "check"] {
            if let o = top[key] as? [String: Any] { try check(o, schema: key, path: key) }
        }
        if let p = top["pair"] as? [String: Any] {
            for key in ["first", "second"] {
                if let o = p[key] as? [String: Any] { try check(o, schema: "pair." + key, path: "pair." + key) }
            }
        }
        if let c = top["check"] as? [String: Any], let o = c["call"] as? [String: Any] { try check(o, schema: "check.call", path: "check.call") }
        if let d = top["device"] as? [String: Any], let m = d["msix"] as? [String: Any] { try check(m, schema: "device.msix", path: "device.msix") }
        for key in ["device", "divergence"] {
            if let d = top[key] as? [String: Any], let t = d["regionTable"] as? [String: Any] {
                try check(t, schema: "device.regionTable", path: key + ".regionTable")
            }
        }
        if let d = top["divergence"] as? [String: Any], let o = d["operation"] as? [String: Any] {
            try check(o, schema: "divergence.operation", path: "divergence.operation")
        }
        for (i, op) in ((top["operations"] as? [Any]) ?? []).enumerated() {
            if let o = op as? [String: Any] { try check(o, schema: "operations[]", path: "operations[\(i)]") }
        }
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
