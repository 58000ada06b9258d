/// Two operations on one device at once, forced into one interleaving: `first` starts on one
/// thread and is held at its `hold`-th boundary (the start of a device instruction or of a user
/// copy, counted from 0) while `second` runs to its end on another thread; then `first` finishes.
/// Each runs on file descriptor 1 or 2 of the same device (two fds have their own positions).
/// With `hold` = `freeRunning` nothing is held: both start together and run at once (an
/// interleaving the scheduler picks, so such a pair is repeated, not replayed exactly).
/// A plain value: generated, shrunk, stored in reproducers and replayed.
public struct ConcurrentPair: Hashable, Sendable, Codable, CustomStringConvertible {
    public var first: Operation
    public var firstFD: Int
    public var second: Operation
    public var secondFD: Int
    public var hold: Int

    public init(first: Operation, firstFD: Int = 1, second: Operation, secondFD: Int = 1, hold: Int) {
        self.first = first
        self.firstFD = firstFD
        self.second = second
        self.secondFD = secondFD
        self.hold = hold
    }

    /// Whether an operation can be one of a pair: transfers and region info (seek and the
    /// lifecycle operations are not made concurrently).
    public static func canPair(_ op: Operation) -> Bool {
        switch op {
        case .pread, .pwrite, .read, .write, .regionInfo: true
        default: false
        }
    }

    /// Whether the operation uses (and moves) its fd's position.
    public static func usesPosition(_ op: Operation) -> Bool {
        switch op {
        case .read, .write: true
        default: false
        }
    }

    /// Two position-moving operations on the same fd race in the VFS itself (a VFIO device fd
    /// has no FMODE_ATOMIC_POS: read/write of one fd at once may use the same position), so
    /// such a pair says nothing about the driver and is never made.
    public var isMeaningful: Bool {
        Self.canPair(first) && Self.canPair(second) && (1...2).contains(firstFD) && (1...2).contains(secondFD) && (hold >= 0 || hold == Self.freeRunning)
            && !(firstFD == secondFD && Self.usesPosition(first) && Self.usesPosition(second))
    }

    /// The hold of a free-running pair: both operations released together, neither held.
    public static let freeRunning = -1

    /// Whether nothing is held (`hold == freeRunning`).
    public var isFreeRunning: Bool { hold == Self.freeRunning }

    public var description: String {
        isFreeRunning ? "free-running fd\(firstFD) \(first) | fd\(secondFD) \(second)"
            : "hold #\(hold) of fd\(firstFD) \(first) | fd\(secondFD) \(second)"
    }
}

/// What one side of a concurrent pair returned.
public struct PairSideResult: Hashable, Sendable {
    /// The count (transfers) or 0, or the errno.
    public var result: Result<Int64, AccessError>
    /// The read buffer after the call (reads), empty otherwise.
    public var bytes: [UInt8]
    /// Region info (region-info requests).
    public var region: RegionInfo?
    /// The device instructions this operation issued, in order.
    public var trace: [TraceEvent]

    public init(result: Result<Int64, AccessError>, bytes: [UInt8], region: RegionInfo?, trace: [TraceEvent]) {
        self.result = result
        self.bytes = bytes
        self.region = region
        self.trace = trace
    }
}

/// What a concurrent pair run showed: whether the first operation was held (it may finish
/// before reaching its hold point), how many boundaries it reached, both fds' positions
/// afterwards, and each side's result.
public struct PairObservation: Hashable, Sendable {
    public var held: Bool
    public var boundaries: Int
    public var positions: [Int64]
    public var first: PairSideResult
    public var second: PairSideResult

    public init(held: Bool, boundaries: Int, positions: [Int64], first: PairSideResult, second: PairSideResult) {
        self.held = held
        self.boundaries = boundaries
        self.positions = positions
        self.first = first
        self.second = second
    }
}

/// An implementation that can run a `ConcurrentPair` (the driver-source harness).
public protocol ConcurrentAccess: ISMAccess {
    /// Runs the pair on this device (its fd 1 is the fd of the other methods).
    mutating func runPair(_ pair: ConcurrentPair) throws(AccessError) -> PairObservation
    /// Whether `runPairs` can run several pair runs, each on a fresh device, as one batch.
    var runsPairsInBatch: Bool { get }
    /// Runs pair runs, each on a fresh device, as one batch (below).
    mutating func runPairs(_ runs: [PairRun], into answers: inout [PairRunAnswer]) throws(AccessError)
}

/// One run of a pair on a fresh device, as a batch of pair runs sends it: the set-up
/// operations, the pair, then a read of each device range the judgement reads back.
public struct PairRun: Sendable {
    public var prefix: [Operation]
    public var pair: ConcurrentPair
    public var readBack: [ReadBackRange]
    public init(prefix: [Operation], pair: ConcurrentPair, readBack: [ReadBackRange]) {
        self.prefix = prefix
        self.pair = pair
        self.readBack = readBack
    }
}

/// A device range read back after a pair (`count` bytes at file offset `offset`).
public struct ReadBackRange: Hashable, Sendable {
    public var offset: UInt64
    public var count: Int
    public init(offset: UInt64, count: Int) {
        self.offset = offset
        self.count = count
    }
}

/// What one `PairRun` answered: each set-up operation's outcome, the pair's observation, and
/// each read-back's outcome with the bytes it read.
public struct PairRunAnswer: Sendable {
    public var prefix: [Outcome]
    public var observation: PairObservation
    public var readBack: [(outcome: Outcome, bytes: [UInt8])]
    public init(prefix: [Outcome], observation: PairObservation, readBack: [(outcome: Outcome, bytes: [UInt8])]) {
        self.prefix = prefix
        self.observation = observation
        self.readBack = readBack
    }
}

extension ConcurrentAccess {
    /// Whether `runPairs` can run several pair runs, each on a fresh device, as one batch.
    public var runsPairsInBatch: Bool { false }

    /// Runs each of `runs` on a fresh device (made fresh before each run, so an instance serves
    /// batch after batch) in one batch, appending each answer to `answers` in order. When
    /// the implementation breaks, the answers before that run are there and the error is
    /// thrown: the run that broke is `runs[answers.count]`. Only where `runsPairsInBatch`.
    public mutating func runPairs(_ runs: [PairRun], into answers: inout [PairRunAnswer]) throws(AccessError) {
        throw .errno(.notSupported)
    }
}
