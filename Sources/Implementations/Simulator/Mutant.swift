import ISMAccess

/// One small, realistic defect the simulated device can be built with: each case switches one
/// code path of the simulated driver away from SPEC.md, and names the rule it breaks.
///
/// A mutant promises to change behaviour on some input of a run whose host byte order is in
/// `byteOrders`; the differential harness must find every one of them (a mutant that survives
/// a campaign is a hole in the generator or the model, not a harmless variant).
public enum Mutant: String, CaseIterable, Codable, Sendable, Hashable, CustomStringConvertible {
    case readCopiesU64Prefix = "read-copies-u64-prefix"
    case readRefusesSub8 = "read-refuses-sub8"
    case writeFragmented = "write-fragmented"
    case globalStorePool = "global-store-pool"
    case initFailureLeaksDevice = "init-failure-leaks-device"
    case offsetShift40 = "offset-shift-40"
    case positionMask47 = "position-mask-47"
    case pageCrossOffByOne = "page-cross-off-by-one"
    case maxstblOffByOne = "maxstbl-off-by-one"
    case noClamp = "no-clamp"
    case clampAfterWriteChecks = "clamp-after-write-checks"
    case zeroCountAfterDecode = "zero-count-after-decode"
    case positionNotAdvanced = "position-not-advanced"
    case positionAdvancedOnError = "position-advanced-on-error"
    case partialCountOnLoadError = "partial-count-on-load-error"
    case regionInfoMmap = "region-info-mmap"
    case flagsOnZeroSizeBar = "flags-on-zero-size-bar"
    case configOffsetShift40 = "config-offset-shift-40"
    case cachedFunctionHandle = "cached-function-handle"
    case barEndInclusive = "bar-end-inclusive"
    case romIndexAccepted = "rom-index-accepted"
    case unalignedLoads = "unaligned-loads"
    case readOverrunsBuffer = "read-overruns-buffer"
    case storeBeforeCopy = "store-before-copy"
    case storeErrorSwallowed = "store-error-swallowed"
    case configClamped = "config-clamped"
    case negativeOffsetZeroCount = "negative-offset-zero-count"
    case argszUnchecked = "argsz-unchecked"
    case enomemIgnored = "enomem-ignored"
    case configPositionNotAdvanced = "config-position-not-advanced"
    case handleCachedPerRead = "handle-cached-per-read"
    case handleReadBeforeCopy = "handle-read-before-copy"
    case barEndU32 = "bar-end-u32"
    case regionIndexU8 = "region-index-u8"
    case offsetFromShift = "offset-from-shift"
    case regionInfoShiftBase = "region-info-shift-base"

    public var description: String { rawValue }

    /// The SPEC.md rule the mutant breaks.
    public var rule: Rule {
        switch self {
        case .readCopiesU64Prefix: .read3
        case .readRefusesSub8: .read2
        case .writeFragmented: .write3
        case .globalStorePool: .life1
        case .initFailureLeaksDevice: .life2
        case .offsetShift40, .positionMask47, .offsetFromShift: .off1
        case .regionInfoShiftBase: .info2
        case .pageCrossOffByOne: .write2
        case .maxstblOffByOne: .write1
        case .noClamp, .clampAfterWriteChecks: .bar3
        case .zeroCountAfterDecode: .zero1
        case .positionNotAdvanced, .positionAdvancedOnError, .configPositionNotAdvanced: .bar4
        case .partialCountOnLoadError: .read4
        case .regionInfoMmap, .flagsOnZeroSizeBar: .info2
        case .configOffsetShift40: .info1
        case .cachedFunctionHandle, .handleCachedPerRead, .handleReadBeforeCopy: .fh1
        case .barEndU32: .bar2
        case .regionIndexU8: .off3
        case .barEndInclusive: .bar2
        case .romIndexAccepted: .off3
        case .unalignedLoads: .read1
        case .readOverrunsBuffer: .read5
        case .storeBeforeCopy, .enomemIgnored: .write5
        case .storeErrorSwallowed: .write4
        case .configClamped: .cfg1
        case .negativeOffsetZeroCount: .off4
        case .argszUnchecked: .info4
        }
    }

    /// One line saying what the defect does.
    public var summary: String {
        switch self {
        case .readCopiesU64Prefix:
            "loads into a 64-bit temporary and copies its first n bytes (zero bytes on big-endian hosts)"
        case .readRefusesSub8:
            "refuses reads unless count >= 8 and pos % 8 == 0, issues only 8-byte loads, drops a trailing remainder"
        case .writeFragmented:
            "splits writes into 8/4/2/1-byte stores instead of one store block"
        case .globalStorePool:
            "one module-wide store-block pool, re-created by every device init (the old one leaks) and destroyed by any release"
        case .initFailureLeaksDevice:
            "leaks the device structure when store-block pool creation fails"
        case .offsetShift40:
            "decodes offsets and reports region offsets with the generic 40-bit shift"
        case .positionMask47:
            "masks the position with 2^47-1 instead of 2^48-1"
        case .pageCrossOffByOne:
            "rejects writes that end exactly on a 4 KiB boundary (>= instead of >)"
        case .maxstblOffByOne:
            "rejects writes of exactly maxstbl bytes (>= instead of >)"
        case .noClamp:
            "does not clamp count to the BAR end; loads and stores past it fail in the device with EIO"
        case .clampAfterWriteChecks:
            "runs the maxstbl and page checks on the unclamped count"
        case .zeroCountAfterDecode:
            "checks for a zero count only after the index and BAR checks"
        case .positionNotAdvanced:
            "does not advance the file position after a successful BAR transfer"
        case .positionAdvancedOnError:
            "advances the file position by the requested count when a BAR transfer fails"
        case .partialCountOnLoadError:
            "returns the bytes read so far when a later load fails"
        case .regionInfoMmap:
            "reports the MMAP flag for implemented BARs"
        case .flagsOnZeroSizeBar:
            "reports READ|WRITE for BARs of size zero"
        case .configOffsetShift40:
            "reports the config region offset as 7 << 40"
        case .cachedFunctionHandle:
            "uses the function handle read at open instead of the current one"
        case .barEndInclusive:
            "accepts pos == BAR length (pos > len instead of pos >= len)"
        case .romIndexAccepted:
            "treats index 6 (ROM) like an absent BAR: region info answers size 0, flags 0"
        case .unalignedLoads:
            "takes the largest load width that fits the remaining count, ignoring alignment"
        case .readOverrunsBuffer:
            "writes one byte past the user buffer when count is odd"
        case .storeBeforeCopy:
            "checks the copy-from-user result only after issuing the store block"
        case .storeErrorSwallowed:
            "ignores the store block's error and returns count"
        case .configClamped:
            "clamps config accesses at the config size instead of failing with EFAULT"
        case .negativeOffsetZeroCount:
            "returns 0 for a zero count before rejecting a negative offset"
        case .argszUnchecked:
            "answers region info whatever argsz is"
        case .enomemIgnored:
            "falls back to a stack buffer when the bounce-buffer allocation fails and writes anyway"
        case .configPositionNotAdvanced:
            "does not advance the file position after a successful config-space transfer"
        case .handleCachedPerRead:
            "reads the function handle once per read and issues every load of it with that handle"
        case .handleReadBeforeCopy:
            "builds the store-block request with the handle read before copying the user bytes"
        case .barEndU32:
            "compares the low 32 bits of the position with the BAR length, so pos = len of a BAR above 4 GiB is accepted"
        case .regionIndexU8:
            "decodes the region index of a transfer into 8 bits, so index 0x100 + i is region i"
        case .offsetFromShift:
            "decodes transfers with index << shift although region info reports the bases of a region table"
        case .regionInfoShiftBase:
            "reports BAR bases in region info as index << shift although transfers decode with a region table"
        }
    }

    /// Where the defect comes from, when it was seen in a real revision or review.
    public var origin: String? {
        switch self {
        case .readCopiesU64Prefix: "review of v3: read loop (endianness question on 1/2/4-byte reads)"
        case .readRefusesSub8: "v4 changelog: reads limited to 8-byte loads"
        case .globalStorePool: "review of v3: probe (global store_block_cache replaced per device)"
        case .initFailureLeaksDevice: "review of v3: probe (device leaked when the cache cannot be created)"
        case .writeFragmented: "generic vfio-pci write path, which the patch description rules out for ISM"
        case .offsetShift40: "review thread: the generic 40-bit region shift cannot hold a 256 TiB BAR"
        case .romIndexAccepted: "review thread: no regions beyond config space and the BARs are supported"
        case .regionInfoMmap: "review thread: the ISM device does not support mmap"
        case .offsetFromShift, .regionInfoShiftBase: "a region layout from a table (a maple tree of regions), where index << shift is no longer a base"
        default: nil
        }
    }

    /// Whether the defect shows only on a device whose region bases come from a table
    /// (`DeviceConfig.regionTable`): with the shift layout it computes the same bases.
    public var needsRegionTable: Bool {
        self == .offsetFromShift || self == .regionInfoShiftBase
    }

    /// The host byte orders on which the mutant is expected to be observable.
    public var byteOrders: [ByteOrder] {
        switch self {
        case .readCopiesU64Prefix: [.big]
        default: [.little, .big]
        }
    }
}
