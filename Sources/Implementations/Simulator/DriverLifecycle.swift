import ISMAccess

/// The simulated driver module's objects beyond the access path (SPEC §8): store-block pools,
/// which device references which pool, and device structures leaked by failed inits.
///
/// The correct driver gives each device its own pool (R-LIFE-1) and releases everything a
/// failed init took (R-LIFE-2). The `globalStorePool` and `initFailureLeaksDevice` switches
/// model the two probe defects of an earlier revision.
struct DriverLifecycle {
    /// What device A finds when it allocates a bounce buffer.
    enum PoolState { case live, destroyed, missing }

    let globalPool: Bool
    let leakDeviceOnPoolFailure: Bool

    /// Pool id → not yet destroyed.
    private var poolAlive: [Bool] = []
    /// Device A's own pool (per-device pools).
    private var devicePool: Int?
    /// The peer's own pool (per-device pools).
    private var peerPool: Int?
    /// The module-wide pool pointer (global-pool defect).
    private var modulePool: Int?
    private(set) var peerAttached = false
    private var leakedDevices = 0

    init(globalPool: Bool, leakDeviceOnPoolFailure: Bool) {
        self.globalPool = globalPool
        self.leakDeviceOnPoolFailure = leakDeviceOnPoolFailure
        poolAlive.reserveCapacity(8)
        reset()
    }

    /// Back to "driver loaded, device A initialised".
    mutating func reset() {
        poolAlive.removeAll(keepingCapacity: true)
        devicePool = nil
        peerPool = nil
        modulePool = nil
        peerAttached = false
        leakedDevices = 0
        let a = createPool()
        if globalPool { modulePool = a } else { devicePool = a }
    }

    private mutating func createPool() -> Int {
        poolAlive.append(true)
        return poolAlive.count - 1
    }

    private func state(of pool: Int?) -> PoolState {
        guard let pool else { return .missing }
        return poolAlive[pool] ? .live : .destroyed
    }

    /// The pool device A's writes allocate from.
    var deviceAPool: PoolState {
        state(of: globalPool ? modulePool : devicePool)
    }

    mutating func attachPeer(failPool: Bool) throws(AccessError) {
        if peerAttached { throw .errno(.resourceBusy) }
        if failPool {
            // Pool creation fails.
            if globalPool { modulePool = nil }  // the module pointer is overwritten with NULL
            if leakDeviceOnPoolFailure { leakedDevices += 1 }
            throw .enomem
        }
        let p = createPool()
        if globalPool { modulePool = p } else { peerPool = p }
        peerAttached = true
    }

    mutating func detachPeer() throws(AccessError) {
        guard peerAttached else { throw .errno(.operationNotSupportedByDevice) }
        if globalPool {
            if let p = modulePool { poolAlive[p] = false }
        } else if let p = peerPool {
            poolAlive[p] = false
            peerPool = nil
        }
        peerAttached = false
    }

    var resources: ResourceCounts {
        var live = 0
        for alive in poolAlive where alive { live += 1 }
        var reachable = 0
        if let p = devicePool, poolAlive[p] { reachable += 1 }
        if let p = peerPool, poolAlive[p] { reachable += 1 }
        if let p = modulePool, poolAlive[p] { reachable += 1 }
        return ResourceCounts(livePools: live, leakedObjects: leakedDevices + live - reachable)
    }
}
