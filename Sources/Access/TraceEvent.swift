/// One device instruction seen by an implementation that can show its trace:
/// a PCI load, a PCI store block, or (vfio-pci profile) a single split store.
///
/// `handle` is the function-handle generation the instruction was issued with (R-FH-1):
/// 0 at device start, incremented by every handle recovery.
public enum TraceEvent: Hashable, Sendable, Codable, CustomStringConvertible {
    case load(bar: UInt8, position: UInt64, width: UInt8, handle: UInt32)
    case storeBlock(bar: UInt8, position: UInt64, length: UInt32, handle: UInt32)
    case store(bar: UInt8, position: UInt64, width: UInt8, handle: UInt32)

    public var description: String {
        switch self {
        case let .load(bar, position, width, handle):
            "load\(width * 8) bar\(bar)@0x\(String(position, radix: 16)) fh\(handle)"
        case let .storeBlock(bar, position, length, handle):
            "stb[\(length)] bar\(bar)@0x\(String(position, radix: 16)) fh\(handle)"
        case let .store(bar, position, width, handle):
            "store\(width * 8) bar\(bar)@0x\(String(position, radix: 16)) fh\(handle)"
        }
    }
}
