import ISMAccess
import ISMModel
import PropertyBased

/// Test helpers: run one operation on the model and return its result, bytes and trace.
struct Observed {
    var result: Result<Int, AccessError>
    var bytes: [UInt8]
    var trace: [TraceEvent]
}

extension GoldenModel {
    mutating func preadObserved(_ offset: UInt64, _ count: Int, fault: Fault = .none) -> Observed {
        var buf = [UInt8](repeating: 0, count: count)
        let r: Result<Int, AccessError> = buf.withUnsafeMutableBytes { b in
            Result { () throws(AccessError) -> Int in try self.pread(into: b, offset: offset, fault: fault) }
        }
        var t: [TraceEvent] = []
        takeTrace(into: &t)
        return Observed(result: r, bytes: buf, trace: t)
    }

    mutating func pwriteObserved(_ offset: UInt64, _ bytes: [UInt8], fault: Fault = .none) -> Observed {
        let r: Result<Int, AccessError> = bytes.withUnsafeBytes { b in
            Result { () throws(AccessError) -> Int in try self.pwrite(from: b, offset: offset, fault: fault) }
        }
        var t: [TraceEvent] = []
        takeTrace(into: &t)
        return Observed(result: r, bytes: bytes, trace: t)
    }
}

/// The device's initial bytes, straight from the definition of the device contents.
func deviceBytes(_ config: DeviceConfig, bar: Int, at pos: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { DeviceContents.initialByte(seed: config.contentSeed, bar: bar, position: pos + UInt64($0)) }
}

/// Offset of position `pos` in region `index` under the 48-bit ism layout, written out.
func ismOffset(_ index: UInt64, _ pos: UInt64) -> UInt64 { index << 48 | pos }

let TiB: UInt64 = 1 << 40

/// A generator drawing one of `values` (edge cases named explicitly), shrinking toward the first.
func pick<T: Sendable>(_ values: [T]) -> Generator<T, Shrink.Integer<Int>> {
    Gen.int(in: 0...(values.count - 1)).map { values[$0] }
}
