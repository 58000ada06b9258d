/// A PCI function address in sysfs form, `DDDD:BB:DD.F` (domain, bus, device, function; hex).
///
/// Promises: `description` is the canonical lowercase form the kernel uses in sysfs names, and
/// parsing accepts exactly that form (a missing domain means `0000`).
public struct PCIAddress: Hashable, Sendable, CustomStringConvertible {
    public var domain: UInt32
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(domain: UInt32 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Parses `0000:00:01.0` or `00:01.0`; nil when the text is not a PCI address.
    public init?(_ text: String) {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { parts.insert("0000", at: 0) }
        guard parts.count == 3 else { return nil }
        let devFn = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard devFn.count == 2,
              parts[0].count == 4, parts[1].count == 2, devFn[0].count == 2, devFn[1].count == 1,
              let domain = UInt32(parts[0], radix: 16), let bus = UInt8(parts[1], radix: 16),
              let device = UInt8(devFn[0], radix: 16), let function = UInt8(devFn[1], radix: 16),
              device < 32, function < 8
        else { return nil }
        self.init(domain: domain, bus: bus, device: device, function: function)
    }

    public var description: String {
        hex(UInt64(domain), 4) + ":" + hex(UInt64(bus), 2) + ":" + hex(UInt64(device), 2) + "." + String(function, radix: 16)
    }

    private func hex(_ v: UInt64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
