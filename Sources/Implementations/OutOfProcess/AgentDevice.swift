import ISMAccess
import enum ISMAccess.Operation
import SystemPackage

/// A real device served by an `ismkit-agent`, as an `ISMAccess`: the in-process VFIO backend's
/// twin for machines where ismkit does not run. Each operation is one request to the agent,
/// which makes the system call on its device fd.
///
/// Promises (as `VFIODevice`'s):
/// - Offsets go to the agent translated with `RegionOffsetMap` from the agent's `REGIONS`
///   answer (SPEC R-OFF-2); region info answers are the kernel's, untranslated.
/// - With `hostGuard` (the default) no write is sent unless every byte it can land on (the
///   kernel-decoded region and position, clamped to the region size) is inside `allowList`;
///   a refused write throws `EPERM`, is counted in `refusedWrites` and sends nothing. Without
///   it every write is sent and only the agent's own `--allow-write` guard stands (tests).
/// - Every write the agent reports accepted goes to `record` (region, position, the bytes).
/// - Capabilities: no trace, faults, lifecycle or handle recovery; `seek` as the agent's
///   greeting says. An operation with a fault throws `EOPNOTSUPP` without a request.
/// - A broken session (hang, death, malformed reply) throws `AccessError.broken` from then on.
/// - Batches (`perform(batch:…)`, AgentBatch.swift) go out as compact frames, many before the
///   first answer is read, with the same outcomes, bytes and journal as one by one.
public final class AgentDevice: ISMAccess {
    /// Where an accepted write goes: region, position in the region, the bytes written.
    public typealias WriteRecorder = (UInt32, UInt64, UnsafeRawBufferPointer) -> Void

    public let connection: AgentConnection
    public let profile: Profile
    public let map: RegionOffsetMap
    public let allowList: WriteAllowList
    public let hostGuard: Bool
    let record: WriteRecorder?
    public internal(set) var refusedWrites = 0
    /// The agent's device fd position in the kernel's offset space, as read/write/lseek results imply.
    public internal(set) var kernelPosition: UInt64 = 0

    /// A device for one sequence: the agent opens its device fd afresh (`REOPEN`) unless
    /// nothing touched the current one yet.
    public init(connection: AgentConnection, profile: Profile, allowList: WriteAllowList, hostGuard: Bool = true,
                record: WriteRecorder? = nil) throws(AccessError) {
        try connection.reopen()
        self.connection = connection
        self.profile = profile
        self.allowList = allowList
        self.hostGuard = hostGuard
        self.record = record
        map = RegionOffsetMap(modelShift: profile.regionShift, regions: connection.regions)
    }

    public var capabilities: Capabilities {
        Capabilities(trace: false, faults: false, lifecycle: false, handleRecovery: false, seek: connection.seekSupported,
                     hostByteOrder: connection.byteOrder, profile: profile)
    }

    /// The device as the model should see it: BAR and config sizes as the agent's kernel reported them.
    public var deviceConfig: DeviceConfig {
        var bars = [UInt64](repeating: 0, count: 6)
        for i in 0..<6 { bars[i] = map.regions[UInt32(i)]?.size ?? 0 }
        return DeviceConfig(barLengths: bars, configSize: map.regions[RegionIndex.config]?.size ?? 256,
                            hostByteOrder: connection.byteOrder, profile: profile)
    }

    /// The regions the agent reported, by index.
    public var regions: [RegionInfo] { map.regions.values.sorted { $0.index < $1.index } }

    // MARK: the host's write guard

    /// Whether a write of `count` bytes at the kernel offset `offset` may be sent.
    public func permitsWrite(kernelOffset offset: UInt64, count: Int) -> Bool {
        !hostGuard || allowList.permits(kernelOffset: offset, count: count, map: map)
    }

    /// Whether `op` would be held back by the host's guard right now (nothing sent).
    public func refuses(_ op: Operation) -> Bool {
        hostGuard && allowList.refuses(op, map: map, kernelPosition: kernelPosition)
    }

    private func guardWrite(kernelOffset: UInt64, count: Int) throws(AccessError) {
        guard permitsWrite(kernelOffset: kernelOffset, count: count) else {
            refusedWrites += 1
            throw .errno(.notPermitted)
        }
    }

    func recordWrite(kernelOffset: UInt64, buffer: UnsafeRawBufferPointer, count n: Int) {
        guard n > 0, let record else { return }
        let (index, pos) = map.locate(kernel: kernelOffset) ?? (UInt32.max, kernelOffset)
        record(index, pos, UnsafeRawBufferPointer(rebasing: buffer[0..<min(n, buffer.count)]))
    }

    private static func noFault(_ fault: Fault) throws(AccessError) {
        if fault != .none { throw .errno(.notSupported) }
    }

    // MARK: requests

    private func call(_ request: String) throws(AccessError) -> WireReply {
        connection.fresh = false
        return try connection.call(request)
    }

    /// A read: the reply carries the whole buffer after the call, also on an error.
    private func readCall(_ request: String, into buffer: UnsafeMutableRawBufferPointer) throws(AccessError) -> Int {
        connection.fresh = false
        let p = connection.process
        let reply = try AgentConnection.parsed(p, request)
        guard WireAccess.unhex(reply.data, into: buffer) else {
            throw p.fail(.protocolError("\(reply.data.count / 2) data bytes for a \(buffer.count)-byte buffer"))
        }
        if reply.status == .err { throw .errno(Errno(rawValue: CInt(reply.value))) }
        guard reply.value >= 0, reply.value <= Int64(buffer.count) else {
            throw p.fail(.protocolError("\(reply.value) bytes read into a \(buffer.count)-byte buffer"))
        }
        return Int(reply.value)
    }

    private func transferred(_ reply: WireReply, of count: Int) throws(AccessError) -> Int {
        guard reply.value >= 0, reply.value <= Int64(count) else {
            throw connection.process.fail(.protocolError("\(reply.value) bytes written of \(count)"))
        }
        return Int(reply.value)
    }

    // MARK: ISMAccess

    public func regionInfo(index: UInt32, argsz: UInt32) throws(AccessError) -> RegionInfo {
        let r = try call("INFO \(index) \(argsz)")
        let p = r.data.split(separator: ".")
        guard p.count == 3, let off = UInt64(p[0]), let size = UInt64(p[1]), let flags = UInt32(p[2]) else {
            throw connection.process.fail(.protocolError("bad region info \"\(r.data.prefix(60))\""))
        }
        return RegionInfo(index: index, offset: off, size: size, flags: RegionFlags(rawValue: flags))
    }

    public func pread(into buffer: UnsafeMutableRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let k = map.kernelOffset(model: offset)
        return try readCall("PREAD \(k) \(buffer.count) - \(WireAccess.hexInitial(UnsafeRawBufferPointer(buffer)))", into: buffer)
    }

    public func pwrite(from buffer: UnsafeRawBufferPointer, offset: UInt64, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let k = map.kernelOffset(model: offset)
        try guardWrite(kernelOffset: k, count: buffer.count)
        let n = try transferred(try call("PWRITE \(k) - \(WireAccess.hex(buffer))"), of: buffer.count)
        recordWrite(kernelOffset: k, buffer: buffer, count: n)
        return n
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let n = try readCall("READ \(buffer.count) - \(WireAccess.hexInitial(UnsafeRawBufferPointer(buffer)))", into: buffer)
        kernelPosition &+= UInt64(n)
        return n
    }

    public func write(from buffer: UnsafeRawBufferPointer, fault: Fault) throws(AccessError) -> Int {
        try Self.noFault(fault)
        let k = kernelPosition
        try guardWrite(kernelOffset: k, count: buffer.count)
        let n = try transferred(try call("WRITE - \(WireAccess.hex(buffer))"), of: buffer.count)
        recordWrite(kernelOffset: k, buffer: buffer, count: n)
        kernelPosition &+= UInt64(n)
        return n
    }

    /// `lseek`, translated both ways as `VFIODevice.seek` does.
    public func seek(offset: Int64, whence: Operation.Whence) throws(AccessError) -> Int64 {
        let target = whence == .set && offset >= 0 ? Int64(bitPattern: map.kernelOffset(model: UInt64(offset))) : offset
        let p = try call("SEEK \(target) \(whence == .set ? "set" : "cur")").value
        kernelPosition = UInt64(bitPattern: p)
        return Int64(bitPattern: map.modelOffset(kernel: UInt64(bitPattern: p)))
    }
}
