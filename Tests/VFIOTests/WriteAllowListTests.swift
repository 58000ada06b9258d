import ISMAccess
import Testing
@testable import ISMVFIO

@Suite struct WriteAllowListTests {
    private func parseError(_ text: String) -> String? {
        do throws(AllowListError) { _ = try WriteAllowList.parse(text); return nil } catch { return error.description }
    }

    @Test func parsesRegionsAndNumbersInBothBases() throws {
        #expect(try WriteAllowList.parse("2:0x0-0xfff") == .init(region: 2, first: 0, last: 4095))
        #expect(try WriteAllowList.parse("bar2:16-31") == .init(region: 2, first: 16, last: 31))
        #expect(try WriteAllowList.parse("config:0x40-0x4F") == .init(region: 7, first: 0x40, last: 0x4F))
        #expect(try WriteAllowList.parse("0:0-0") == .init(region: 0, first: 0, last: 0))
    }

    @Test(arguments: ["2", "2:", "2:0x10", "x:0-1", "9:0-1", "2:1-0", "2:0x-0x1", "2:-5", "2:0-1-2"])
    func badTextIsOneLineNamingIt(_ text: String) throws {
        let message = try #require(parseError(text))
        #expect(message.hasPrefix("'\(text)'"))
        #expect(!message.contains("\n"))
    }

    @Test func emptyListIsReadOnlyAndRefusesEveryNonEmptyWrite() {
        let list = WriteAllowList()
        #expect(list.isReadOnly)
        #expect(!list.allows(region: 2, position: 0, count: 1))
        #expect(list.allows(region: 2, position: 0, count: 0))  // transfers nothing
    }

    @Test func writesMustLieWhollyInsideOneRangeOfTheirRegion() {
        let list = WriteAllowList([.init(region: 2, first: 0x1000, last: 0x1FFF), .init(region: 2, first: 0x3000, last: 0x3FFF)])
        #expect(list.allows(region: 2, position: 0x1000, count: 0x1000))   // exactly the range
        #expect(list.allows(region: 2, position: 0x1FFF, count: 1))        // last byte
        #expect(!list.allows(region: 2, position: 0x1FFF, count: 2))       // one past the end
        #expect(!list.allows(region: 2, position: 0xFFF, count: 2))        // one before the start
        #expect(!list.allows(region: 2, position: 0x1800, count: 0x2000))  // spans the gap between ranges
        #expect(!list.allows(region: 0, position: 0x1000, count: 1))       // another region
        #expect(!list.allows(region: 7, position: 0x1000, count: 1))       // config is never implied
        #expect(!list.allows(region: 2, position: UInt64.max, count: 2))   // wraps around
    }
}
