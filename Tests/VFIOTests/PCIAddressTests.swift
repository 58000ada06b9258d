import Testing
@testable import ISMVFIO

@Suite struct PCIAddressTests {
    @Test func parsesTheSysfsForm() throws {
        let a = try #require(PCIAddress("0000:00:01.0"))
        #expect(a.domain == 0 && a.bus == 0 && a.device == 1 && a.function == 0)
        #expect(PCIAddress("00:1f.3")?.description == "0000:00:1f.3")
        #expect(PCIAddress("0001:3A:00.7")?.description == "0001:3a:00.7")
    }

    @Test(arguments: ["", "0000:00:01", "0000:00:01.8", "0000:00:20.0", "zz:00.0", "0000:000:01.0", "/dev/vfio/3"])
    func rejectsWhatIsNotAnAddress(_ text: String) {
        #expect(PCIAddress(text) == nil)
    }
}
