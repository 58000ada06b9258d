import ISMAccess
import ISMEngine
import SystemPackage

/// The seed inputs committed under Corpus/diff-sim and Corpus/diff-driver, as named operation
/// sequences for the default ISM device (`DeviceConfig.ism`: BAR0 256 TiB, BAR2 8 KiB, BARs
/// 1, 3, 4, 5 absent, 4 KiB config space, maxstbl 4096). Each seed aims at a SPEC rule (its
/// name starts with the rule's ID); which rules the corpus really reaches is measured by
/// replaying it through the model (`ismkit fuzz --rule-coverage`), not taken from these names.
public enum FuzzSeeds {
    static let bar0: UInt64 = 0
    static let bar2: UInt64 = 2 << 48
    static let config: UInt64 = 7 << 48
    static func at(_ index: UInt64, _ pos: UInt64) -> UInt64 { index << 48 | pos }

    static func pr(_ o: UInt64, _ c: Int, _ f: Fault = .none) -> Operation { .pread(offset: o, count: c, fault: f) }
    static func pw(_ o: UInt64, _ c: Int, _ p: UInt8 = 0x5A, _ f: Fault = .none) -> Operation { .pwrite(offset: o, count: c, pattern: p, fault: f) }

    /// Seed name (a file name without extension) and its operations.
    public static let all: [(name: String, operations: [Operation])] = [
        ("R-OFF-1-decoding", [pr(bar2 | 3, 13), pr(at(2, 8190), 2), pr(bar0 | (1 << 40), 8), pr((1 << 48) - 8, 8), pr(at(7, 0x100), 4)]),
        ("R-OFF-2-bases-from-region-info", [.regionInfo(index: 0, argsz: 32), .regionInfo(index: 2, argsz: 32), .regionInfo(index: 7, argsz: 32),
                                            pr(bar2, 8), pr(2 << 40, 8), pw(2 << 40, 8)]),
        ("R-OFF-3-other-indexes", [pr(at(6, 0), 4), pr(at(8, 0), 4), pr(at(9, 16), 8), pr(at(0x7FFF, 0), 1), pw(at(6, 0), 4), pw(at(8, 8), 8),
                                   .regionInfo(index: 6, argsz: 32), .regionInfo(index: 8, argsz: 32)]),
        ("R-OFF-4-negative-offsets", [pr(1 << 63, 8), pr(UInt64.max, 1), pw(1 << 63 | 8, 8), pr(1 << 63, 0), .seek(offset: -1, whence: .set)]),
        ("R-ZERO-1-zero-counts", [pr(at(9, 0), 0), pr(at(1, 0), 0), pw(at(2, 9000), 0), pr(bar2 | 8192, 0), .read(count: 0, fault: .none),
                                  .write(count: 0, pattern: 1, fault: .none), pw(config | 5000, 0)]),
        ("R-BAR-1-absent-bars", [pr(at(1, 0), 8), pr(at(3, 0), 1), pw(at(4, 0), 8), pw(at(5, 4096), 16), .regionInfo(index: 1, argsz: 32)]),
        ("R-BAR-2-past-the-end", [pr(bar2 | 8192, 1), pw(bar2 | 8192, 1), pr(bar2 | 8191, 1), pr((1 << 48) - 1, 1), pr(at(2, 1 << 40), 8)]),
        ("R-BAR-3-clamping", [pr(bar2 | 8190, 16), pr(bar2 | 8184, 4096), pw(bar2 | 8191, 4097), pw(bar2 | 8190, 9), pr((1 << 48) - 4, 4096)]),
        ("R-BAR-4-file-position", [.seek(offset: Int64(bar2 | 8), whence: .set), .read(count: 8, fault: .none), .read(count: 5, fault: .none),
                                   .write(count: 3, pattern: 7, fault: .none), .seek(offset: -4, whence: .current), .read(count: 4, fault: .none),
                                   .seek(offset: Int64(bar2 | 8190), whence: .set), .read(count: 8, fault: .none), .read(count: 1, fault: .none),
                                   .seek(offset: Int64(at(1, 0)), whence: .set), .read(count: 4, fault: .none), .seek(offset: 0, whence: .current)]),
        ("R-READ-1-split", [pr(bar2 | 3, 13), pr(bar2 | 1, 7), pr(bar2 | 6, 11), pr(bar0 | 4093, 11), pr(bar2 | 5, 4096), pr(bar2 | 2, 2)]),
        ("R-READ-2-every-width", [pr(bar2, 1), pr(bar2 | 2, 2), pr(bar2 | 4, 4), pr(bar2 | 8, 8), pr(bar0 | 1, 1), pr(bar0 | 12, 4)]),
        ("R-READ-3-byte-transparency", [pw(bar2 | 64, 32, 0x31), pr(bar2 | 64, 8), pr(bar2 | 64, 4), pr(bar2 | 68, 4), pr(bar2 | 66, 2), pr(bar2 | 71, 1),
                                        pr(bar2 | 65, 15)]),
        ("R-READ-4-load-errors", [pr(bar2 | 3, 13, .device(nth: 1, errno: Errno(rawValue: 5))), pr(bar2, 8, .device(nth: 0, errno: Errno(rawValue: 19))),
                                  .seek(offset: Int64(bar2), whence: .set), .read(count: 16, fault: .device(nth: 1, errno: Errno(rawValue: 5))), .read(count: 8, fault: .none),
                                  pr(bar2 | 4, 4, .device(nth: 0, errno: Errno(rawValue: 5))), pr(bar2 | 2, 2, .device(nth: 0, errno: Errno(rawValue: 5))), pr(bar2 | 1, 1, .device(nth: 0, errno: Errno(rawValue: 5)))]),
        ("R-READ-5-user-buffer", [pr(bar2, 16, .userBuffer(from: 0)), pr(bar2 | 1, 15, .userBuffer(from: 9)), pr(bar2, 4096, .userBuffer(from: 4095)),
                                  .read(count: 8, fault: .userBuffer(from: 4))]),
        ("R-WRITE-1-maxstbl", [pw(bar0, 4097), pw(bar0, 4096), pw(bar2, 4095), pw(bar0 | 1, 4096), pw(bar0 | 8192, 8192)]),
        ("R-WRITE-2-page-crossing", [pw(bar2 | 4095, 2), pw(bar2 | 4092, 4), pw(bar2 | 4088, 9), pw(bar2 | 4096, 4096), pw(bar0 | 8191, 2), pr(bar2 | 4088, 16)]),
        ("R-WRITE-3-one-store-block", [pw(bar2 | 3, 13, 0x11), pr(bar2, 24), pw(bar0 | 7, 1, 0x22), pw(bar2 | 16, 64, 0x33), pr(bar2 | 16, 64),
                                       .seek(offset: Int64(bar2 | 100), whence: .set), .write(count: 27, pattern: 0x44, fault: .none), pr(bar2 | 96, 40)]),
        ("R-WRITE-4-store-block-errors", [pw(bar2, 16, 1, .device(nth: 0, errno: Errno(rawValue: 5))), pw(bar0 | 3, 5, 2, .device(nth: 0, errno: Errno(rawValue: 22))), pr(bar2, 16)]),
        ("R-WRITE-5-copy-and-allocation", [pw(bar2, 16, 3, .userBuffer(from: 0)), pw(bar2, 16, 3, .userBuffer(from: 15)), pw(bar2 | 8, 8, 4, .allocation),
                                          .write(count: 8, pattern: 5, fault: .allocation), pr(bar2, 24)]),
        ("R-INFO-1-config", [.regionInfo(index: 7, argsz: 32), .regionInfo(index: 7, argsz: 64)]),
        ("R-INFO-2-bars", [.regionInfo(index: 0, argsz: 32), .regionInfo(index: 1, argsz: 32), .regionInfo(index: 2, argsz: 32),
                           .regionInfo(index: 3, argsz: 40), .regionInfo(index: 4, argsz: 32), .regionInfo(index: 5, argsz: 256)]),
        ("R-INFO-3-other-indexes", [.regionInfo(index: 6, argsz: 32), .regionInfo(index: 8, argsz: 32), .regionInfo(index: 9, argsz: 32),
                                    .regionInfo(index: 0xFFFF_FFFF, argsz: 32), .regionInfo(index: 0x8000_0000, argsz: 32)]),
        ("R-INFO-4-argsz", [.regionInfo(index: 0, argsz: 31), .regionInfo(index: 7, argsz: 0), .regionInfo(index: 9, argsz: 1), .regionInfo(index: 2, argsz: 24)]),
        ("R-CFG-1-config-space", [pr(config, 4), pr(config | 1, 3), pr(config | 2, 2), pr(config | 3, 1), pr(config | 6, 8), pr(config | 4094, 4),
                                  pr(config | 4096, 1), pr(config | 4092, 4), pw(config | 4, 4), pw(config | 4095, 2), pw(config | 0x40, 1),
                                  .seek(offset: Int64(config | 16), whence: .set), .read(count: 8, fault: .none), .write(count: 2, pattern: 9, fault: .none),
                                  .read(count: 4096, fault: .none)]),
        ("R-FH-1-handle-recovery", [pr(bar2, 8), .recoverHandle, pr(bar2, 8), pw(bar2 | 8, 8), .recoverHandle, .recoverHandle, pr(bar2 | 3, 5)]),
        ("R-BAR-4-config-position", [.seek(offset: Int64(config | 4092), whence: .set), .read(count: 4, fault: .none), .read(count: 4, fault: .none),
                                     .seek(offset: 0, whence: .current)]),
        ("R-FH-1-mid-operation", [pr(bar2, 12, .handleChange(after: 1)), pr(bar2 | 3, 13, .handleChange(after: 2)), pw(bar2, 16, 7, .handleChange(after: 0)),
                                  pw(bar2 | 8, 8, 8, .handleChange(after: 1)), pr(bar2, 8)]),
        ("R-LIFE-1-peer-pools", [.attachPeer(failPool: false), pw(bar0, 4096), pw(bar2, 2048), .checkResources, .detachPeer, pw(bar0, 4096),
                                 .checkResources, .detachPeer]),
        ("R-LIFE-2-init-failure", [.attachPeer(failPool: true), .checkResources, .attachPeer(failPool: false), .attachPeer(failPool: false),
                                   .checkResources, .detachPeer, .checkResources]),
        ("mixed-edges", [pr(bar0 | ((1 << 48) - 4096), 4097), pw(bar0 | ((1 << 48) - 1), 1), pr(1 << 40, 9), pw((1 << 40) - 1, 2),
                         pr(bar2 | 4095, 4097), pw(bar2 | 4094, 3), .seek(offset: 1 << 62, whence: .set), .read(count: 1, fault: .none),
                         .seek(offset: Int64.max, whence: .current), .regionInfo(index: 2, argsz: 31)]),
    ]

    /// Records for libFuzzer's dictionary (Corpus/ism.dict): edge operations it may splice in whole.
    public static let dictionary: [(name: String, operations: [Operation])] = [
        ("bar0_end", [.pread(offset: (1 << 48) - 8, count: 8, fault: .none)]),
        ("bar0_past_end", [.pread(offset: 1 << 48, count: 1, fault: .none)]),
        ("bar2_end", [.pread(offset: 2 << 48 | 8190, count: 16, fault: .none)]),
        ("one_tib", [.pread(offset: 1 << 40, count: 8, fault: .none)]),
        ("shift40_bar2", [.pwrite(offset: 2 << 40, count: 8, pattern: 1, fault: .none)]),
        ("config_read", [.pread(offset: 7 << 48 | 1, count: 3, fault: .none)]),
        ("config_end", [.pread(offset: 7 << 48 | 4094, count: 4, fault: .none)]),
        ("rom", [.pread(offset: 6 << 48, count: 4, fault: .none)]),
        ("negative", [.pread(offset: 1 << 63, count: 8, fault: .none)]),
        ("page_cross", [.pwrite(offset: 2 << 48 | 4095, count: 2, pattern: 1, fault: .none)]),
        ("page_end", [.pwrite(offset: 2 << 48 | 4092, count: 4, pattern: 1, fault: .none)]),
        ("maxstbl_plus1", [.pwrite(offset: 0, count: 4097, pattern: 1, fault: .none)]),
        ("maxstbl", [.pwrite(offset: 0, count: 4096, pattern: 1, fault: .none)]),
        ("split_3_13", [.pread(offset: 2 << 48 | 3, count: 13, fault: .none)]),
        ("load_fault", [.pread(offset: 2 << 48 | 3, count: 13, fault: .device(nth: 1, errno: Errno(rawValue: 5)))]),
        ("user_fault", [.pread(offset: 2 << 48, count: 16, fault: .userBuffer(from: 9))]),
        ("alloc_fault", [.pwrite(offset: 2 << 48, count: 8, pattern: 1, fault: .allocation)]),
        ("seek_bar2", [.seek(offset: Int64(2 << 48 | 8), whence: .set)]),
        ("config_read_twice", [.seek(offset: Int64(7 << 48 | 4092), whence: .set), .read(count: 4, fault: .none), .read(count: 4, fault: .none)]),
        ("info_config", [.regionInfo(index: 7, argsz: 32)]),
        ("info_bad_argsz", [.regionInfo(index: 0, argsz: 31)]),
        ("recover", [.recoverHandle]),
        ("handle_change_read", [.pread(offset: 2 << 48, count: 12, fault: .handleChange(after: 1))]),
        ("handle_change_write", [.pwrite(offset: 2 << 48, count: 16, pattern: 1, fault: .handleChange(after: 0))]),
        ("bar2_above_4g", [.pread(offset: 2 << 48 | 1 << 32, count: 1, fault: .none)]),
        ("index_0x102", [.pread(offset: 0x102 << 48, count: 4, fault: .none)]),
        ("attach", [.attachPeer(failPool: false)]),
        ("attach_fail", [.attachPeer(failPool: true)]),
        ("detach", [.detachPeer]),
        ("resources", [.checkResources]),
    ]
}
