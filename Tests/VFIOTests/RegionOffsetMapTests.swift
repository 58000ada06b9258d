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

    /// A kernel whose region bases come from a table (not `index << shift`, shuffled, no power
    /// of two apart): model offsets reach each region at the base region info reported, and
    /// kernel positions come back as model offsets. A map that assumed the shift would send
    /// `2 << 48 + 0x123` unchanged, into no region of this kernel.
    @Test func tableBasesFromTheKernelAreWhereModelOffsetsGo() {
        let bases: [UInt32: UInt64] = [0: 0x3_0000_0000_7000, 2: 0x1_0000_0000_A000, 7: 0x4_0000_0001_3000]
        let regions = Dictionary(uniqueKeysWithValues: bases.map { ($0.key, RegionInfo(index: $0.key, offset: $0.value, size: 0x2000, flags: [.read, .write])) })
        let map = RegionOffsetMap(modelShift: 48, regions: regions)
        #expect(map.span == 0x1_0000_0000_C000)  // the smallest gap: 0x4_0000_0001_3000 - 0x3_0000_0000_7000
        #expect(map.kernelOffset(model: 2 << 48 | 0x123) == 0x1_0000_0000_A123)
        #expect(map.kernelOffset(model: 2 << 48 | 0x123) != 2 << 48 | 0x123)
        #expect(map.kernelOffset(model: 7 << 48 | 0x4) == 0x4_0000_0001_3004)
        #expect(map.kernelOffset(model: 0x10) == 0x3_0000_0000_7010)
        #expect(map.modelOffset(kernel: 0x1_0000_0000_A123) == 2 << 48 | 0x123)
        #expect(map.locate(kernel: 0x4_0000_0001_3004)! == (7, 0x4))
        #expect(map.kernelOffset(model: 5 << 48) == 5 << 48)  // a region the kernel did not report: unchanged
    }
}
