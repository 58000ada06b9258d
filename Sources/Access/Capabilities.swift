/// What an implementation under test can show and accept, so a harness knows which checks
/// it can make and which it must report as not made (SPEC §10).
public struct Capabilities: Hashable, Sendable, Codable {
    /// It reports the trace of PCI loads and store blocks.
    public var trace: Bool
    /// It accepts injected faults (`Fault`): device, user-buffer and allocation faults.
    public var faults: Bool
    /// It supports `attachPeer`, `detachPeer` and `resources` (SPEC §8).
    public var lifecycle: Bool
    /// It supports `recoverHandle` (R-FH-1).
    public var handleRecovery: Bool
    /// It supports `seek`, so `read`/`write` can reach any position.
    public var seek: Bool
    /// It accepts `Fault.handleChange`: the function handle changing inside an operation.
    public var midOperationHandleChange: Bool
    /// It takes region bases from a table (`DeviceConfig.regionTable`), not only `index << shift`.
    public var regionTable: Bool
    /// The byte order of the host the implementation runs on.
    public var hostByteOrder: ByteOrder
    /// Which driver's semantics it claims (SPEC §9).
    public var profile: Profile

    public init(
        trace: Bool, faults: Bool, lifecycle: Bool, handleRecovery: Bool, seek: Bool = true,
        midOperationHandleChange: Bool = false, regionTable: Bool = false, hostByteOrder: ByteOrder, profile: Profile
    ) {
        self.regionTable = regionTable
        self.midOperationHandleChange = midOperationHandleChange
        self.trace = trace
        self.faults = faults
        self.lifecycle = lifecycle
        self.handleRecovery = handleRecovery
        self.seek = seek
        self.hostByteOrder = hostByteOrder
        self.profile = profile
    }
}
