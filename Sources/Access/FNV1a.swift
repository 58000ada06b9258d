import Foundation

/// The 64-bit FNV-1a hash, for content keys (build caches, file names); never for security.
public struct FNV1a: Sendable {
    public init() {}
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public mutating func add(_ d: Data) {
        for b in d { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = (value ^ 0xff) &* 0x100_0000_01b3
    }
    public mutating func add(_ s: String) { add(Data(s.utf8)) }
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
