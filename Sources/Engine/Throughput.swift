import ISMAccess
import ISMModel

/// The benchmark baseline: the same generated operations run on the model alone, with no
/// implementation and no comparison, so a differential rate can be given as a ratio of it.
public enum Throughput {
    /// Operations per second of generation + model for `operations` operations.
    public static func modelAlone(config: DeviceConfig, seed: UInt64, operations: Int, sequenceLength: Int = 32) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var generator = OperationGenerator(config: config, options: GeneratorOptions(), seed: seed)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.maxTransfer, alignment: 16)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.maxTransfer, alignment: 16)
        defer { buffer.deallocate(); source.deallocate() }
        source.initializeMemory(as: UInt8.self, repeating: 0x5A)
        var model = GoldenModel(config: config)
        var trace: [TraceEvent] = []
        trace.reserveCapacity(1024)
        var sink = 0
        for i in 0..<operations {
            if i % sequenceLength == 0 { model = GoldenModel(config: config) }
            let op = generator.next()
            let outcome = Session<GoldenModel>.perform(op, on: &model, buffer: buffer, writeSource: source, count: min(op.count ?? 0, Limits.maxTransfer))
            if case .count(let n) = outcome { sink &+= n }
            model.takeTrace(into: &trace)
            sink &+= trace.count
            trace.removeAll(keepingCapacity: true)
        }
        return sink == -1 ? 0 : Double(operations) / (clock.now - start).seconds
    }
}
