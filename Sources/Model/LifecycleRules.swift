import ISMAccess
import SystemPackage

extension GoldenModel {
    /// R-FH-1: the handle changes; every later instruction carries the new one.
    public mutating func recoverHandle() throws(AccessError) {
        lastDecision = Decision(rule: .fh1)
        handle &+= 1
    }

    /// R-LIFE-1 / R-LIFE-2: a second device with its own pool; a failed pool creation leaks nothing.
    public mutating func attachPeer(failPool: Bool) throws(AccessError) {
        lastDecision = Decision(rule: .life1)
        if peerAttached { throw .errno(.resourceBusy) }
        if failPool { lastDecision.decide(.life2); throw .enomem }
        peerAttached = true
    }

    public mutating func detachPeer() throws(AccessError) {
        lastDecision = Decision(rule: .life1)
        guard peerAttached else { throw .errno(.operationNotSupportedByDevice) }
        peerAttached = false
    }

    /// One pool per live device (R-LIFE-1), nothing leaked (R-LIFE-2).
    public mutating func resources() throws(AccessError) -> ResourceCounts {
        lastDecision = Decision(rule: .life1)
        lastDecision.cite(.life2)
        return ResourceCounts(livePools: peerAttached ? 2 : 1, leakedObjects: 0)
    }
}
