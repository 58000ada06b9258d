import ISMAccess
import Testing
@testable import ISMVFIO

@Suite struct WriteJournalTests {
    @Test func patternWritesAreCompactOthersAreBytes() {
        let j = WriteJournal()
        let pattern = (0..<300).map { DeviceContents.patternByte(9, $0) }
        pattern.withUnsafeBytes { j.record(region: 2, position: 0x1F0, bytes: $0) }
        [UInt8(0xDE), 0xAD, 0xBE, 0xEF].withUnsafeBytes { j.record(region: 2, position: 0x10, bytes: $0) }
        #expect(j.text() == "ismkit-write-journal 1\nP 2 1f0 300 9\nW 2 10 deadbeef\nE 2\n")
        #expect(j.byteCount == 304)
    }

    @Test func anEmptyJournalStillHasItsTrailer() {
        #expect(WriteJournal().text() == "ismkit-write-journal 1\nE 0\n")
    }
}
