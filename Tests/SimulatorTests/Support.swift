import ISMAccess
import ISMSimulator

/// Test helpers: exact-size buffers with guard bytes, expected device bytes from
/// `DeviceContents` (the access layer's definition, not the simulator's), short offsets.

let guardByte: UInt8 = 0xEE
let guardLength = 8

func offset(_ index: UInt64, _ pos: UInt64, shift: UInt64 = 48) -> UInt64 { index << shift | pos }

func device(_ mutant: Mutant? = nil, order: ByteOrder = .little, _ tweak: (inout DeviceConfig) -> Void = { _ in }) -> SimulatedDevice {
    var c = DeviceConfig.ism(hostByteOrder: order)
    tweak(&c)
    return SimulatedDevice(config: c, mutant: mutant)
}

/// The device's initial bytes `range` of `bar`.
func initial(bar: Int, _ range: Range<UInt64>, seed: UInt64 = DeviceConfig.ism().contentSeed) -> [UInt8] {
    range.map { DeviceContents.initialByte(seed: seed, bar: bar, position: $0) }
}

struct ReadOutcome: Equatable {
    var result: Result<Int, AccessError>
    var bytes: [UInt8]
    /// The guard bytes after the exact-size buffer are untouched.
    var guardIntact: Bool
}

func pread(_ d: inout SimulatedDevice, _ off: UInt64, _ count: Int, fault: Fault = .none) -> ReadOutcome {
    var storage = [UInt8](repeating: 0, count: count + guardLength)
    for i in count..<storage.count { storage[i] = guardByte }
    let r: Result<Int, AccessError> = storage.withUnsafeMutableBytes { raw in
        let buf = UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
        do throws(AccessError) { return .success(try d.pread(into: buf, offset: off, fault: fault)) }
        catch { return .failure(error) }
    }
    return ReadOutcome(result: r, bytes: Array(storage[0..<count]), guardIntact: storage[count...].allSatisfy { $0 == guardByte })
}

func read(_ d: inout SimulatedDevice, _ count: Int, fault: Fault = .none) -> Result<Int, AccessError> {
    var storage = [UInt8](repeating: 0, count: count)
    return storage.withUnsafeMutableBytes { buf in
        do throws(AccessError) { return .success(try d.read(into: buf, fault: fault)) }
        catch { return .failure(error) }
    }
}

func pwrite(_ d: inout SimulatedDevice, _ off: UInt64, _ bytes: [UInt8], fault: Fault = .none) -> Result<Int, AccessError> {
    bytes.withUnsafeBytes { buf in
        do throws(AccessError) { return .success(try d.pwrite(from: buf, offset: off, fault: fault)) }
        catch { return .failure(error) }
    }
}

func write(_ d: inout SimulatedDevice, _ bytes: [UInt8], fault: Fault = .none) -> Result<Int, AccessError> {
    bytes.withUnsafeBytes { buf in
        do throws(AccessError) { return .success(try d.write(from: buf, fault: fault)) }
        catch { return .failure(error) }
    }
}

func info(_ d: inout SimulatedDevice, _ index: UInt32, argsz: UInt32 = 32) -> Result<RegionInfo, AccessError> {
    do throws(AccessError) { return .success(try d.regionInfo(index: index, argsz: argsz)) }
    catch { return .failure(error) }
}

/// The error `body` throws, or nil when it succeeds.
func attempt(_ body: () throws(AccessError) -> Void) -> AccessError? {
    do throws(AccessError) { try body(); return nil }
    catch { return error }
}

func failure<T>(_ r: Result<T, AccessError>) -> AccessError? {
    if case .failure(let e) = r { return e }
    return nil
}

func trace(_ d: inout SimulatedDevice) -> [TraceEvent] {
    var t: [TraceEvent] = []
    d.takeTrace(into: &t)
    return t
}

func pattern(_ count: Int, _ p: UInt8 = 0x41) -> [UInt8] {
    (0..<count).map { DeviceContents.patternByte(p, $0) }
}

func load(_ bar: UInt8, _ pos: UInt64, _ width: UInt8, fh: UInt32 = 0) -> TraceEvent {
    .load(bar: bar, position: pos, width: width, handle: fh)
}

func stb(_ bar: UInt8, _ pos: UInt64, _ length: UInt32, fh: UInt32 = 0) -> TraceEvent {
    .storeBlock(bar: bar, position: pos, length: length, handle: fh)
}

func store(_ bar: UInt8, _ pos: UInt64, _ width: UInt8, fh: UInt32 = 0) -> TraceEvent {
    .store(bar: bar, position: pos, width: width, handle: fh)
}

extension AccessError {
    static let ebusy = AccessError.errno(.resourceBusy)
    static let enodev = AccessError.errno(.operationNotSupportedByDevice)
}
