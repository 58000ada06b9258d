/// A normative rule of SPEC.md, cited by the model, mutants, tests and reports.
///
/// The raw value is the rule's ID exactly as SPEC.md spells it (`R-READ-3`).
public enum Rule: String, CaseIterable, Codable, Sendable, Hashable, Comparable {
    case off1 = "R-OFF-1", off2 = "R-OFF-2", off3 = "R-OFF-3", off4 = "R-OFF-4"
    case zero1 = "R-ZERO-1"
    case bar1 = "R-BAR-1", bar2 = "R-BAR-2", bar3 = "R-BAR-3", bar4 = "R-BAR-4"
    case read1 = "R-READ-1", read2 = "R-READ-2", read3 = "R-READ-3", read4 = "R-READ-4", read5 = "R-READ-5"
    case write1 = "R-WRITE-1", write2 = "R-WRITE-2", write3 = "R-WRITE-3", write4 = "R-WRITE-4", write5 = "R-WRITE-5"
    case info1 = "R-INFO-1", info2 = "R-INFO-2", info3 = "R-INFO-3", info4 = "R-INFO-4"
    case cfg1 = "R-CFG-1"
    case fh1 = "R-FH-1"
    case life1 = "R-LIFE-1", life2 = "R-LIFE-2"
    case profile = "R-PROFILE"

    /// One line saying what the rule requires.
    public var summary: String {
        switch self {
        case .off1: "region index = offset >> 48, position = offset & (2^48-1)"
        case .off2: "region base offsets come from VFIO_DEVICE_GET_REGION_INFO, never a hard-coded shift"
        case .off3: "index 7 is config, 0..5 are BARs; every other index is EINVAL for read, write and region info"
        case .off4: "a negative file offset is EINVAL (VFS); counts above MAX_RW_COUNT are cut to it"
        case .zero1: "a 0-byte transfer returns 0 and touches nothing, whatever the offset decodes to"
        case .bar1: "a BAR the device does not implement rejects every transfer with EINVAL"
        case .bar2: "pos >= BAR length is EINVAL"
        case .bar3: "count is clamped to length - pos before anything else (before the write checks)"
        case .bar4: "the file position advances by the bytes transferred on success and not at all on error"
        case .read1: "reads split into aligned loads: largest n in 8,4,2,1 with remaining >= n and pos % n == 0"
        case .read2: "loads of width 1, 2, 4 and 8 all work; refusing sub-8-byte reads is non-conforming"
        case .read3: "reads are byte-transparent on every host byte order (n-byte value stored as n-byte host integer)"
        case .read4: "a failing load fails the whole read with its error: no partial count, position unchanged"
        case .read5: "a user-buffer fault fails a read with EFAULT; no byte outside [buf, buf+count) is written"
        case .write1: "after clamping, a write with count > maxstbl is EINVAL"
        case .write2: "a write crossing a 4 KiB page boundary is EINVAL; ending exactly on it is allowed"
        case .write3: "a write is exactly one store block of count bytes at pos: never split, reordered or merged"
        case .write4: "a write returns count or the store block's error (relaxed or strict store-block device)"
        case .write5: "a user-buffer fault is EFAULT, a bounce-buffer allocation failure ENOMEM; no store issued"
        case .info1: "config region info: offset 7 << 48, size = config size, flags READ|WRITE"
        case .info2: "BAR region info: offset i << 48, size = length, READ|WRITE if non-zero else 0, never MMAP"
        case .info3: "region info for any other index is EINVAL"
        case .info4: "region info with argsz below the fixed struct size is EINVAL"
        case .cfg1: "config accesses use the 48-bit decoding, aligned 4/2/1 pieces, EFAULT beyond the config size"
        case .fh1: "every PCI instruction uses the function handle current when it is issued"
        case .life1: "each device owns its store-block pool; devices never share or replace each other's"
        case .life2: "every init/probe failure path releases what it took: no leak"
        case .profile: "vfio-pci profile: shift 40, writes split like reads, MSI-X table reads 0xFF, writes dropped"
        }
    }

    /// The SPEC section a rule belongs to (1...10); used for coverage listings.
    public var section: Int {
        switch self {
        case .off1, .off2, .off3, .off4: 1
        case .zero1: 2
        case .bar1, .bar2, .bar3, .bar4: 3
        case .read1, .read2, .read3, .read4, .read5: 4
        case .write1, .write2, .write3, .write4, .write5: 5
        case .info1, .info2, .info3, .info4: 6
        case .cfg1: 7
        case .fh1, .life1, .life2: 8
        case .profile: 9
        }
    }

    public static func < (a: Rule, b: Rule) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
