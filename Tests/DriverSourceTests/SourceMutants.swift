/// One-line source mutants of the merged driver revision, applied at test time to a copy in a
/// temporary folder (the driver is test data, read from ../shared; nothing is committed).
/// Each names the rule it is meant to break; the test requires only that it is caught.
struct SourceMutant: Sendable, CustomStringConvertible {
    var name: String
    var intent: String
    /// The exact text of the line (or of the line with its neighbour) to change, occurring once.
    var original: String
    var replacement: String
    var description: String { name }

    static let all: [SourceMutant] = [
        .init(name: "offset-shift-40", intent: "R-OFF-1", original: "#define ISM_VFIO_PCI_OFFSET_SHIFT 48",
              replacement: "#define ISM_VFIO_PCI_OFFSET_SHIFT 40"),
        .init(name: "read64-align4", intent: "R-READ-1", original: " if (count >= 8 && IS_ALIGNED(off, 8)) {",
              replacement: " if (count >= 8 && IS_ALIGNED(off, 4)) {"),
        .init(name: "read32-needs-more", intent: "R-READ-1", original: " } else if (count >= 4 && IS_ALIGNED(off, 4)) {",
              replacement: " } else if (count > 4 && IS_ALIGNED(off, 4)) {"),
        .init(name: "read16-unaligned", intent: "R-READ-1", original: " } else if (count >= 2 && IS_ALIGNED(off, 2)) {",
              replacement: " } else if (count >= 2) {"),
        .init(name: "value-shifted", intent: "R-READ-3", original: " val = (u##size)tmp; \\",
              replacement: " val = (u##size)(tmp >> 8); \\"),
        .init(name: "copy-8-bytes", intent: "R-READ-5", original: " if (copy_to_user(buf, &val, sizeof(val))) \\",
              replacement: " if (copy_to_user(buf, &val, sizeof(tmp))) \\"),
        .init(name: "maxstbl-off-by-one", intent: "R-WRITE-1", original: " if (count > zdev->maxstbl)",
              replacement: " if (count > zdev->maxstbl + 1)"),
        .init(name: "page-end-rejected", intent: "R-WRITE-2", original: " if (((off % PAGE_SIZE) + count) > PAGE_SIZE)",
              replacement: " if (((off % PAGE_SIZE) + count) >= PAGE_SIZE)"),
        .init(name: "user-fault-ignored", intent: "R-WRITE-5", original: " if (copy_from_user(data, buf, count)) {",
              replacement: " if (copy_from_user(data, buf, count) && 0) {"),
        .init(name: "write-returns-short", intent: "R-WRITE-4", original: " ret = count;", replacement: " ret = count - 1;"),
        .init(name: "bounce-buffer-leak", intent: "R-LIFE-2", original: " kmem_cache_free(ivpcd->store_block_cache, data);",
              replacement: " ;"),
        .init(name: "stale-handle", intent: "R-FH-1", original: " req = ZPCI_CREATE_REQ(READ_ONCE(zdev->fh), bar, count);",
              replacement: " req = ZPCI_CREATE_REQ(READ_ONCE(zdev->fh) & 0xff00000fu, bar, count);"),
        .init(name: "bar-end-accepted", intent: "R-BAR-2", original: " if (pos >= end)", replacement: " if (pos > end)"),
        .init(name: "clamp-one-past", intent: "R-BAR-3", original: " count = min(count, (size_t)(end - pos));",
              replacement: " count = min(count, (size_t)(end - pos + 1));"),
        .init(name: "write-keeps-position", intent: "R-BAR-4", original: " if (done >= 0)",
              replacement: " if (done >= 0 && !iswrite)"),
        .init(name: "zero-count-rejected", intent: "R-ZERO-1", original: " if (!count)\n return 0;",
              replacement: " if (!count)\n return -EINVAL;"),
        .init(name: "config-size-256", intent: "R-INFO-1", original: " info->size = pdev->cfg_size;",
              replacement: " info->size = 256;"),
        .init(name: "absent-bar-readable", intent: "R-INFO-2", original: " info->flags = 0;\n break;",
              replacement: " info->flags = VFIO_REGION_INFO_FLAG_READ;\n break;"),
        .init(name: "config-offset-unmasked", intent: "R-CFG-1",
              original: " ret = vfio_pci_config_rw_single(vdev, buf, count, &pos, iswrite);",
              replacement: " ret = vfio_pci_config_rw_single(vdev, buf, count, ppos, iswrite);"),
        .init(name: "pool-not-destroyed", intent: "R-LIFE-1",
              original: " kmem_cache_destroy(ivpcd->store_block_cache);\n vfio_pci_core_release_dev(core_vdev);",
              replacement: " ;\n vfio_pci_core_release_dev(core_vdev);"),
        .init(name: "pool-failure-ignored", intent: "R-LIFE-2", original: " if (!ivpcd->store_block_cache)\n return -ENOMEM;",
              replacement: " if (0)\n return -ENOMEM;"),
    ]
}
