/// Source mutants of the merged driver revision for the bug classes the mid-operation faults
/// and the device shapes reach: each is caught with those checks and survives without them
/// (ShapeMutantTests). Applied at test time to a copy in a temporary folder, like `SourceMutant`.
struct ReachMutant: Sendable, CustomStringConvertible {
    /// What makes the mutant visible.
    enum Check: String, Sendable { case midOperationFaults = "mid-operation faults", deviceShapes = "device shapes" }
    var name: String
    var intent: String
    var check: Check
    var original: String
    var replacement: String
    var description: String { name }

    static let all: [ReachMutant] = [
        // The read works on a snapshot of the function taken when it starts: every load of it
        // uses the handle of that moment.
        .init(name: "handle-snapshot-read", intent: "R-FH-1", check: .midOperationFaults,
              original: " struct zpci_dev *zdev = to_zpci(vdev->pdev);\n ssize_t done = 0;",
              replacement: " struct zpci_dev zsnap = *to_zpci(vdev->pdev), *zdev = &zsnap;\n ssize_t done = 0;"),
        // The write takes its snapshot before copying the user bytes: the store block goes out
        // with the handle of that moment.
        .init(name: "handle-snapshot-write", intent: "R-FH-1", check: .midOperationFaults,
              original: " struct zpci_dev *zdev = to_zpci(vdev->pdev);\n struct ism_vfio_pci_core_device *ivpcd;",
              replacement: " struct zpci_dev zsnap = *to_zpci(vdev->pdev), *zdev = &zsnap;\n struct ism_vfio_pci_core_device *ivpcd;"),
        // The BAR-end check on the low 32 bits of the position: pos = len of a BAR above 4 GiB passes.
        .init(name: "bar-end-u32", intent: "R-BAR-2", check: .deviceShapes,
              original: " if (pos >= end)", replacement: " if ((u32)pos >= end)"),
        // The region index in 8 bits: index 0x100 + i reaches region i.
        .init(name: "index-u8", intent: "R-OFF-3", check: .deviceShapes,
              original: "#define ISM_VFIO_PCI_OFFSET_TO_INDEX(off) ((off) >> ISM_VFIO_PCI_OFFSET_SHIFT)",
              replacement: "#define ISM_VFIO_PCI_OFFSET_TO_INDEX(off) ((u8)((off) >> ISM_VFIO_PCI_OFFSET_SHIFT))"),
    ]
}
