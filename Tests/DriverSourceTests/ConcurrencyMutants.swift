/// Source mutants of the merged driver revision that only a concurrent caller can see: each
/// introduces state shared by two calls on one device without a lock, and leaves every single
/// call doing exactly what the original does. Applied at test time to a copy in a temporary
/// folder (the driver is test data, read from ../shared; nothing is committed).
struct ConcurrencyMutant: Sendable, CustomStringConvertible {
    var name: String
    var intent: String
    /// Exact texts to change, each occurring once in merged/main.c, and their replacements.
    var edits: [(original: String, replacement: String)]
    var description: String { name }

    static let all: [ConcurrencyMutant] = [
        // The store block's data goes through a buffer in the device structure (the per-call
        // slab object is still allocated, so allocation failures behave as before).
        .init(name: "shared-store-block-buffer", intent: "a bounce buffer shared by concurrent writes", edits: [
            (" struct kmem_cache *store_block_cache;\n};", " struct kmem_cache *store_block_cache;\n u64 store_block[512];\n};"),
            (" if (copy_from_user(data, buf, count)) {", " if (copy_from_user(ivpcd->store_block, buf, count)) {"),
            (" ret = __zpci_store_block(data, req, off);", " ret = __zpci_store_block(ivpcd->store_block, req, off);"),
        ]),
        // The read loop's progress counter in static storage: one per driver, not per call.
        .init(name: "static-read-progress", intent: "read progress kept in shared state", edits: [
            (" struct zpci_dev *zdev = to_zpci(vdev->pdev);\n ssize_t done = 0;\n int ret;\n\n while (count) {",
             " struct zpci_dev *zdev = to_zpci(vdev->pdev);\n static ssize_t done;\n int ret;\n\n done = 0;\n while (count) {"),
        ]),
        // A load's value kept in static storage between the load and its copy to the user:
        // only a hold just after an instruction (no stand-in runs there) reaches it.
        .init(name: "static-load-temporary", intent: "a load temporary shared by concurrent reads", edits: [
            (" u64 req, tmp; \\", " u64 req; static u64 tmp; \\"),
        ]),
        // The new file position computed from a start offset kept in static storage: another
        // call in between moves this call's position.
        .init(name: "position-from-shared-start", intent: "a position update that is not atomic", edits: [
            (" loff_t pos = *ppos & ISM_VFIO_PCI_OFFSET_MASK;\n resource_size_t end;\n ssize_t done = 0;\n",
             " static loff_t start;\n loff_t pos = *ppos & ISM_VFIO_PCI_OFFSET_MASK;\n resource_size_t end;\n ssize_t done = 0;\n\n start = *ppos;\n"),
            (" if (done >= 0)\n *ppos += done;", " if (done >= 0)\n *ppos = start + done;"),
        ]),
    ]

    /// Races between two boundaries, where no hold can stop a thread: the shared state is
    /// written and read back with no instruction or user copy in between (only stand-ins that
    /// are no boundary: a free, a resource query). Every hold sees the other call run whole
    /// before or after the window, so only a free-running pair reaches them.
    static let freeRunning: [ConcurrencyMutant] = [
        // The write's result in static storage: set to the count after the store block, read
        // back after the bounce buffer is freed, when another write may have set its own.
        .init(name: "shared-write-result", intent: "a write's return value kept in shared state", edits: [
            (" ssize_t ret;\n void *data;\n u64 req;\n", " static ssize_t ret;\n void *data;\n u64 req;\n"),
        ]),
        // The in-BAR position in static storage: computed from the call's offset, then used for
        // the bounds check and the transfer after the resource queries, when another call may
        // have put its own there.
        .init(name: "shared-bar-position", intent: "a transfer's position kept in shared state between the check and the use", edits: [
            (" loff_t pos = *ppos & ISM_VFIO_PCI_OFFSET_MASK;\n resource_size_t end;\n ssize_t done = 0;\n",
             " static loff_t pos;\n resource_size_t end;\n ssize_t done = 0;\n\n pos = *ppos & ISM_VFIO_PCI_OFFSET_MASK;\n"),
        ]),
    ]
}
