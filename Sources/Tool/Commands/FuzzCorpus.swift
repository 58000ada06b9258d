import Foundation
import ISMAccess
import ISMChecks
import ISMEngine
import ISMFuzzing
import ISMModel
import ISMSimulator

/// The committed fuzz corpus: writing the seeds (`FuzzSeeds`) and the dictionary, and
/// listing which SPEC rules a corpus reaches as the golden model cites them.
enum FuzzCorpus {
    /// Writes Corpus/diff-sim, Corpus/diff-driver and Corpus/parse seeds and Corpus/ism.dict.
    static func writeSeeds(root: String) throws {
        let fm = FileManager.default
        var written = 0
        func put(_ dir: String, _ name: String, _ bytes: [UInt8]) throws {
            let d = root + "/Corpus/" + dir
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            guard fm.createFile(atPath: d + "/" + name, contents: Data(bytes)) else { throw UsageError("cannot write \(d)/\(name)") }
            written += 1
        }
        for seed in FuzzSeeds.all {
            let bytes: [UInt8]
            do { bytes = try FuzzEncoding.encode(seed.operations) } catch { throw UsageError("seed \(seed.name): \(error)") }
            try put("diff-sim", seed.name, bytes)
            try put("diff-driver", seed.name, bytes)
            try put("parse", "ops-" + seed.name, [1] + bytes)
        }
        // Reproducer JSON for the parse target: a seed as a reproducer, and a few broken ones.
        let simulator = ImplementationKind.simulator(mutant: .noClamp).target
        let sample = Reproducer(target: simulator, device: .ism(), seed: 1,
                                operations: FuzzSeeds.all[0].operations, divergence: nil)
        try put("parse", "json-reproducer", [0] + [UInt8](sample.encoded()))
        try put("parse", "json-truncated", [0] + [UInt8](sample.encoded().prefix(200)))
        try put("parse", "json-wrong-version", [0] + Array(#"{"format":"ismkit-reproducer","version":9}"#.utf8))
        try put("parse", "json-bad-offset", [0] + Array(#"{"format":"ismkit-reproducer","version":1,"target":{"kind":"\#(simulator.kind)","parameters":{}},"device":{"barLengths":[1,0,0,0,0,0],"configSize":256,"maxstbl":8,"hostByteOrder":"big","profile":"ism","storeBlocks":"strict","has64BitMMIO":true,"contentSeed":1,"peerMaxstbl":8},"operations":[{"op":"pread","offset":"zz","count":1}]}"#.utf8))

        // The dictionary: records libFuzzer may splice in whole.
        var dict = "# ism.dict: libFuzzer -dict for diff-sim/diff-driver (docs/fuzz-encoding.md). Written by `ismkit fuzz --write-seeds`.\n"
        let entries = FuzzSeeds.dictionary
        for (name, ops) in entries {
            let bytes: [UInt8]
            do { bytes = try FuzzEncoding.encode(ops) } catch { throw UsageError("dictionary entry \(name): \(error)") }
            dict += name + "=\"" + bytes.map { "\\x" + ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined() + "\"\n"
        }
        guard fm.createFile(atPath: root + "/Corpus/ism.dict", contents: Data(dict.utf8)) else { throw UsageError("cannot write Corpus/ism.dict") }
        print("wrote \(written) seed file(s) under \(root)/Corpus and \(entries.count) dictionary entries in Corpus/ism.dict")
    }

    /// Rules that bind user space, not the driver: the model never decides an outcome by them
    /// (R-OFF-2: take region bases from region info; the model answers region info by R-INFO-1/2).
    static let clientRules: Set<Rule> = [.off2]

    /// Replays every file of `folder` (diff-sim inputs) on the correct simulator beside the
    /// model and lists, per rule of SPEC sections 1-8, how many operations' decisions cited it
    /// (went through it), how many it decided (the rule that fixed the outcome), and the first
    /// file that reached it. Throws a finding when a rule of sections
    /// 1-7 is not reached, or when the correct simulator diverges.
    static func ruleCoverage(folder: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else { throw UsageError("\(folder): no such corpus folder") }
        let names = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        guard !names.isEmpty else { throw UsageError("\(folder): empty corpus") }
        let config = DeviceConfig.ism(hostByteOrder: .native)
        var hits: [Rule: Int] = [:]
        var decided: [Rule: Int] = [:]
        var firstFile: [Rule: String] = [:]
        var operations = 0
        var divergences: [String] = []
        for name in names {
            guard let data = fm.contents(atPath: folder + "/" + name) else { continue }
            let ops = FuzzEncoding.decode([UInt8](data))
            var s = Session(implementation: SimulatedDevice(config: config), model: GoldenModel(config: config))
            for (i, op) in ops.enumerated() {
                operations += 1
                if let d = s.step(op, index: i) { divergences.append("\(name): \(d)"); break }
                decided[s.model.lastDecision.rule, default: 0] += 1
                for r in s.model.lastDecision.cited {
                    hits[r, default: 0] += 1
                    if firstFile[r] == nil { firstFile[r] = name }
                }
            }
        }
        print("rule coverage of \(folder): \(names.count) input(s), \(operations) operation(s), rules as the model cites them")
        print("rule       cited decided first input                       summary")
        var missed: [Rule] = []
        for r in Rule.allCases where r.section <= 8 {
            let n = hits[r] ?? 0
            let clientRule = clientRules.contains(r)
            if n == 0 && r.section <= 7 && !clientRule { missed.append(r) }
            let pad = { (s: String, w: Int) in s + String(repeating: " ", count: max(1, w - s.count)) }
            let first = n > 0 ? firstFile[r]! : clientRule ? "n/a: a rule for clients" : r.section <= 7 ? "MISSED" : "-"
            print(pad(r.rawValue, 11) + pad(String(n), 6) + pad(String(decided[r] ?? 0), 8) + pad(first, 34) + r.summary)
        }
        for d in divergences { print("divergence on the correct simulator: \(d)") }
        if !missed.isEmpty || !divergences.isEmpty {
            throw FindingExit(message: missed.isEmpty ? "the correct simulator diverges on the corpus"
                          : "rules of sections 1-7 the corpus does not reach: " + missed.map(\.rawValue).joined(separator: ", "))
        }
        print("every rule of SPEC sections 1-7 is reached")
    }
}
