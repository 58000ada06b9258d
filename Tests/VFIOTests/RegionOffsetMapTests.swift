import ISMAccess
import Testing
@testable import ISMVFIO

/// The translation from model offsets to the kernel's region offsets (SPEC R-OFF-2).
@Suite struct RegionOffsetMapTests {
    /// What generic vfio-pci reports for a device with BAR0 (256 B), BAR2 (1 MiB) and config: shift 40.
    static let vfioPCIRegions: [UInt32: RegionInfo] = [
        0: RegionInfo(index: 0, offset: 0, size: 0x100, flags: [.read, .write, .mmap]),
        1: RegionInfo(index: 1, offset: 1 << 40, size: 0, flags: []),
        2: RegionInfo(index: 2, offset: 2 << 40, size: 0x10_0000, flags: [.read, .write, .mmap]),
        7: RegionInfo(index: 7, offset: 7 << 40, size: 0x100, flags: [.read, .write]),
    ]

    @Test func sameShiftIsTheIdentityForKnownRegions() {
        let map = RegionOffsetMap(modelShift: 40, regions: Self.vfioPCIRegions)
        #expect(map.span == 1 << 40)
        for off: UInt64 in [0x10, 2 << 40 | 0xFFE, 7 << 40 | 0x40] {
            #expect(map.kernelOffset(model: off) == off)
            #expect(map.modelOffset(kernel: off) == off)
        }
    }

    @Test func ismModelOffsetsGoToTheKernelsRegionBases() {
        let map = RegionOffsetMap(modelShift: 48, regions: Self.vfioPCIRegions)
        #expect(map.kernelOffset(model: 2 << 48 | 0x123) == 0x200_0000_0123)
        #expect(map.kernelOffset(model: 7 << 48 | 0x4) == 0x700_0000_0004)
        #expect(map.modelOffset(kernel: 0x200_0000_0123) == 2 << 48 | 0x123)
        #expect(map.locate(kernel: 0x200_0000_0123)! == (2, 0x123))
    }

    @Test func whatTheKernelDidNotReportGoesUnchanged() {
        let map = RegionOffsetMap(modelShift: 48, regions: Self.vfioPCIRegions)
        #expect(map.kernelOffset(model: 9 << 48) == 9 << 48)                       // no such region
        let negative: UInt64 = 1 << 63 | 5
        #expect(map.kernelOffset(model: negative) == negative)                     // negative
        #expect(map.kernelOffset(model: 2 << 48 | 1 << 40) == 2 << 48 | 1 << 40)   // would spill into region 3
        #expect(map.locate(kernel: 8 << 40) == nil)                                 // past the last region's span
    }
}
