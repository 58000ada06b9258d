import ISMAccess

/// What the operation generator may produce, derived from what the implementation accepts
/// and what the run allows (a hardware run is read-only unless writes are allow-listed).
public struct GeneratorOptions: Sendable {
    public var faults: Bool
    public var lifecycle: Bool
    public var handleRecovery: Bool
    public var seek: Bool
    /// Whether writes may be generated at all.
    public var writes: Bool
    /// Decides whether a write at (region index, position, count) may be issued; nil allows all.
    public var mayWrite: (@Sendable (_ index: UInt64, _ position: UInt64, _ count: Int) -> Bool)?
    /// The largest transfer generated.
    public var maxCount: Int
    /// Mid-operation faults: the function handle changing between two instructions of one
    /// operation or just before its store block, and device faults at any instruction, not
    /// only the first few (needs `faults` and an implementation that accepts them).
    public var midOperation: Bool
    /// The shape edges: region indexes over the whole 16-bit range biased to bit patterns,
    /// and far positions (around every power of two, 4 GiB and more from either BAR end).
    public var shapeEdges: Bool
    /// Store-block rejections: device faults drawn on writes (the device rejecting the store
    /// block, or one split store, with an error status: what a strict device answers a block
    /// outside its rules, `device[N]=EIO`). Off, a write draws no device fault (the draws are
    /// the same, so every other operation is unchanged); the other faults stay.
    public var storeRejections = true

    public init(
        faults: Bool = true, lifecycle: Bool = true, handleRecovery: Bool = true, seek: Bool = true,
        writes: Bool = true, mayWrite: (@Sendable (UInt64, UInt64, Int) -> Bool)? = nil, maxCount: Int = 8192,
        midOperation: Bool = true, shapeEdges: Bool = true
    ) {
        self.midOperation = midOperation
        self.shapeEdges = shapeEdges
        self.faults = faults
        self.lifecycle = lifecycle
        self.handleRecovery = handleRecovery
        self.seek = seek
        self.writes = writes
        self.mayWrite = mayWrite
        self.maxCount = maxCount
    }

    /// Everything the implementation's capabilities allow.
    public init(capabilities c: Capabilities) {
        self.init(faults: c.faults, lifecycle: c.lifecycle, handleRecovery: c.handleRecovery, seek: c.seek,
                  midOperation: c.faults && c.midOperationHandleChange)
    }
}
