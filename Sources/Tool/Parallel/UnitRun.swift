import ArgumentParser
import ISMAccess

/// Runs a command's units the way its `ParallelOptions` ask: in this process one after the
/// other, dealt to `--jobs` worker processes, or (in a worker) the units it was given, writing
/// each result as it finishes. Results come back in unit order; a unit a stop request kept from
/// running is missing.
enum UnitRun {
    /// The results of `units`, or nil in a worker process (its results are in its result file).
    static func run<R: Codable>(_ units: [Int], _ parallel: ParallelOptions, progress: ProgressLine,
                                show: @escaping ([R], Duration) -> String, one: (Int) throws -> R) throws -> [R]? {
        if let worker = parallel.worker {
            var done = Workers.Results<R>()
            for k in units {
                if Interruption.requested { break }
                done.units.append(.init(unit: k, result: try one(k)))
                try Workers.write(done, to: worker.result)
            }
            try Workers.write(done, to: worker.result)
            return nil
        }
        let assignments = Units.deal(units, jobs: parallel.jobs)
        if assignments.count <= 1 {
            var out: [R] = []
            for k in units {
                if Interruption.requested { break }
                out.append(try one(k))
            }
            return out
        }
        let found = try Workers.run(assignments, as: R.self, interval: progress.interval,
                                    progress: progress.enabled ? { done, elapsed in
                                        progress.show(show(units.compactMap { done[$0] }, elapsed) + ", \(done.count)/\(units.count) units done")
                                    } : nil)
        progress.end()
        return units.compactMap { found[$0] }
    }
}
