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

extension SourceMutant {
    /// Error-path mutants (issue class 4): each breaks an acquire/release pair only on a path
    /// where an acquire fails, which only the lifecycle walk reaches.
    static let errorPaths: [SourceMutant] = [
        .init(name: "init-failure-keeps-pool", intent: "R-LIFE-2 leak (pool create/destroy)",
              original: " if (ret)\n kmem_cache_destroy(ivpcd->store_block_cache);", replacement: " if (ret)\n ;"),
        .init(name: "register-failure-keeps-device", intent: "R-LIFE-2 leak (device init/release)",
              original: " if (ret)\n vfio_put_device(&ivpcd->core_device.vdev);", replacement: " if (ret)\n ;"),
        .init(name: "register-failure-unregisters", intent: "R-LIFE-2 use after release (device init/release)",
              original: " if (ret)\n vfio_put_device(&ivpcd->core_device.vdev);",
              replacement: " if (ret)\n { vfio_put_device(&ivpcd->core_device.vdev); vfio_pci_core_unregister_device(&ivpcd->core_device); }"),
        .init(name: "enable-failure-ignored", intent: "R-LIFE-2 double release (enable/close)",
              original: " ret = vfio_pci_core_enable(vdev);", replacement: " ret = vfio_pci_core_enable(vdev); ret = 0;"),
    ]

    /// Callback-contract mutants (issue class 5): each breaks what a read/write callback leaves
    /// behind in a way read(2)/pread(2)/write(2) do not show.
    static let callbackContract: [SourceMutant] = [
        .init(name: "position-moved-on-error", intent: "*ppos (R-BAR-4, hidden by the VFS)",
              original: " if (done >= 0)", replacement: " if (done >= 0 || 1)"),
        .init(name: "write-double-fetch", intent: "user bytes read twice",
              original: " if (copy_from_user(data, buf, count)) {",
              replacement: " if (copy_from_user(data, buf, count) || copy_from_user(data, buf, count)) {"),
        .init(name: "failed-load-writes-buffer", intent: "user buffer written on an error",
              original: " ret = __zpci_load(&tmp, req, off); \\",
              replacement: " ret = __zpci_load(&tmp, req, off); if (ret) (void)copy_to_user(buf, &ret, 1); \\"),
    ]
}

extension SourceMutant {
    /// Store-block rejection mutants: each mishandles the error of a store block the device
    /// rejects (an error status: `__zpci_store_block` answers -EIO), which only a rejected store
    /// block reaches: a device fault on a write, or a strict device refusing a block outside its rules.
    static let storeRejection: [SourceMutant] = [
        .init(name: "store-error-ignored", intent: "R-WRITE-4 (a rejected store block reported written)",
              original: " ret = __zpci_store_block(data, req, off);",
              replacement: " ret = __zpci_store_block(data, req, off); ret = 0;"),
        .init(name: "store-error-retried", intent: "R-WRITE-3 (a rejected store block issued again, as for a busy device)",
              original: " ret = __zpci_store_block(data, req, off);",
              replacement: " ret = __zpci_store_block(data, req, off); if (ret) ret = __zpci_store_block(data, req, off);"),
        .init(name: "store-error-bytewise", intent: "R-WRITE-3 (a rejected store block written again byte by byte: the bytes land)",
              original: " ret = __zpci_store_block(data, req, off);",
              replacement: " ret = __zpci_store_block(data, req, off); if (ret) { size_t i; for (ret = 0, i = 0; i < count && !ret; i++) ret = __zpci_store(((u8 *)data)[i], ZPCI_CREATE_REQ(READ_ONCE(zdev->fh), bar, 1), off + i); }"),
    ]
}

/// A rewrite of the merged revision in the style of a newer driver revision (issue class 6):
/// several text edits applied at test time, each occurring exactly once.
struct SourceRewrite: Sendable, CustomStringConvertible {
    var name: String
    var intent: String
    var edits: [(original: String, replacement: String)]
    var description: String { name }

    /// Rewrites that use the kernel helpers newer revisions use; each must build and conform.
    static let newerHelpers: [SourceRewrite] = [
        .init(name: "helpers-bits-byteorder-sizes", intent: "GENMASK_ULL, BIT, cpu_to_le64/le64_to_cpu, swab64, round_up, min_t, array_size, kzalloc/kfree, WARN_ON, pci_get/set_drvdata", edits: [
            ("#define ISM_VFIO_PCI_OFFSET_MASK (((u64)(1) << ISM_VFIO_PCI_OFFSET_SHIFT) - 1)",
             "#define ISM_VFIO_PCI_OFFSET_MASK GENMASK_ULL(ISM_VFIO_PCI_OFFSET_SHIFT - 1, 0)"),
            (" val = (u##size)tmp; \\", " val = (u##size)le64_to_cpu(cpu_to_le64(swab64(swab64(tmp)))); \\"),
            (" if (count >= 8 && IS_ALIGNED(off, 8)) {", " if (count >= 8 && !(off & (BIT(3) - 1))) {"),
            (" if (((off % PAGE_SIZE) + count) > PAGE_SIZE)", " if (off + count > round_up(off + 1, PAGE_SIZE))"),
            (" count = min(count, (size_t)(end - pos));", " count = min_t(size_t, count, end - pos);"),
            (" char cache_name[20];", " char *cache_name;"),
            (" snprintf(cache_name, sizeof(cache_name), \"ism_sb_fid_%08x\", zdev->fid);",
             " cache_name = kzalloc(array_size(20, sizeof(char)), GFP_KERNEL);\n if (!cache_name)\n return -ENOMEM;\n snprintf(cache_name, 20, \"ism_sb_fid_%08x\", zdev->fid);"),
            (" (SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT));", " (SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT));\n kfree(cache_name);"),
            (" kmem_cache_destroy(ivpcd->store_block_cache);\n vfio_pci_core_release_dev(core_vdev);",
             " WARN_ON(!ivpcd->store_block_cache);\n kmem_cache_destroy(ivpcd->store_block_cache);\n vfio_pci_core_release_dev(core_vdev);"),
            (" dev_set_drvdata(&pdev->dev, &ivpcd->core_device);", " pci_set_drvdata(pdev, &ivpcd->core_device);"),
            (" core_device = dev_get_drvdata(&pdev->dev);", " core_device = pci_get_drvdata(pdev);"),
        ]),
        .init(name: "locks-pm-aer-module-init", intent: "<linux/*.h> includes, mutex + guard, spinlock_irqsave, PM ops, pci_error_handlers with vfio_pci_core_aer_err_detected, module_init/pci_register_driver", edits: [
            ("#include \"linux/slab.h\"",
             "#include \"linux/slab.h\"\n#include <linux/module.h>\n#include <linux/pci.h>\n#include <linux/vfio_pci_core.h>\n#include <linux/mutex.h>\n#include <linux/spinlock.h>\n#include <linux/cleanup.h>\n#include <linux/pm.h>"),
            (" struct kmem_cache *store_block_cache;\n};",
             " struct kmem_cache *store_block_cache;\n struct mutex io_lock;\n spinlock_t stat_lock;\n u64 writes;\n};"),
            (" data = kmem_cache_alloc(ivpcd->store_block_cache, GFP_KERNEL);",
             " guard(mutex)(&ivpcd->io_lock);\n data = kmem_cache_alloc(ivpcd->store_block_cache, GFP_KERNEL);"),
            (" ret = count;\n", " ret = count;\n {\n unsigned long flags;\n spin_lock_irqsave(&ivpcd->stat_lock, flags);\n ivpcd->writes++;\n spin_unlock_irqrestore(&ivpcd->stat_lock, flags);\n }\n"),
            (" snprintf(cache_name, sizeof(cache_name), \"ism_sb_fid_%08x\", zdev->fid);",
             " mutex_init(&ivpcd->io_lock);\n spin_lock_init(&ivpcd->stat_lock);\n snprintf(cache_name, sizeof(cache_name), \"ism_sb_fid_%08x\", zdev->fid);"),
            ("static const struct pci_device_id ism_device_table[] = {",
             "static int ism_vfio_pci_suspend(struct device *dev) { return 0; }\nstatic int ism_vfio_pci_resume(struct device *dev) { return 0; }\nstatic DEFINE_SIMPLE_DEV_PM_OPS(ism_vfio_pci_pm_ops, ism_vfio_pci_suspend, ism_vfio_pci_resume);\n\nstatic const struct pci_error_handlers ism_vfio_pci_err_handlers = {\n .error_detected = vfio_pci_core_aer_err_detected,\n};\n\nstatic const struct pci_device_id ism_device_table[] = {"),
            (" .err_handler = &vfio_pci_core_err_handlers,",
             " .err_handler = &ism_vfio_pci_err_handlers,\n .driver = { .pm = pm_sleep_ptr(&ism_vfio_pci_pm_ops) },"),
            ("module_pci_driver(ism_vfio_pci_driver);",
             "static int __init ism_vfio_pci_init(void)\n{\n return pci_register_driver(&ism_vfio_pci_driver);\n}\nstatic void __exit ism_vfio_pci_exit(void)\n{\n pci_unregister_driver(&ism_vfio_pci_driver);\n}\nmodule_init(ism_vfio_pci_init);\nmodule_exit(ism_vfio_pci_exit);"),
        ]),
    ]

    /// Rewrites that use what no stand-in gives; `ismkit conform` must exit 2 naming each.
    static let unknownSymbols: [(rewrite: SourceRewrite, names: [String], files: [String])] = [
        (.init(name: "unknown-core-helper", intent: "a vfio-pci-core function and type the stand-ins lack", edits: [
            (" vfio_pci_core_finish_enable(vdev);",
             " vfio_pci_core_finish_enable(vdev);\n vfio_pci_core_zap_bars(vdev);\n { struct vfio_pci_zap_ctx *zc = NULL; (void)zc; ism_zap_state_t st; (void)st; }"),
         ]), ["vfio_pci_core_zap_bars", "ism_zap_state_t"], ["native/driver-harness/kernel_stubs.c", "native/driver-harness/include/ismk_kernel.h"]),
        (.init(name: "unknown-header", intent: "a kernel header the stand-ins lack", edits: [
            ("#include \"linux/slab.h\"", "#include \"linux/slab.h\"\n#include <linux/iommufd.h>"),
         ]), ["linux/iommufd.h"], ["native/driver-harness/include/linux/iommufd.h"]),
    ]
}
