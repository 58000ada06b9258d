import Foundation
import ISMAccess
import SystemPackage
import Testing
@testable import ISMVFIO

/// Pre-flight checks against fake sysfs and /dev trees: each problem is one actionable line.
@Suite struct PreflightTests {
    /// A temporary folder with `sys/` and `dev/` laid out like the kernel's, removed afterwards.
    final class FakeSystem {
        let root: String
        var sys: String { root + "/sys" }
        var dev: String { root + "/dev" }
        let address = PCIAddress("0000:00:04.0")!

        init() throws {
            root = NSTemporaryDirectory() + "ismkit-preflight-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: sys + "/bus/pci/devices", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: sys + "/bus/pci/drivers", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        var devicePath: String { sys + "/bus/pci/devices/" + address.description }

        func addDevice(driver: String?, group: Int?) throws {
            try FileManager.default.createDirectory(atPath: devicePath, withIntermediateDirectories: true)
            try "0x1af4\n".write(toFile: devicePath + "/vendor", atomically: true, encoding: .utf8)
            try "0x1110\n".write(toFile: devicePath + "/device", atomically: true, encoding: .utf8)
            if let driver {
                try FileManager.default.createDirectory(atPath: sys + "/bus/pci/drivers/" + driver, withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: devicePath + "/driver", withDestinationPath: "../../../bus/pci/drivers/" + driver)
            }
            if let group {
                let g = sys + "/kernel/iommu_groups/\(group)"
                try FileManager.default.createDirectory(atPath: g + "/devices", withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: devicePath + "/iommu_group", withDestinationPath: "../../../kernel/iommu_groups/\(group)")
            }
        }
    }

    private func failure(_ body: () throws(VFIOError) -> Void) -> VFIOError? {
        do throws(VFIOError) { try body(); return nil } catch { return error }
    }

    @Test func missingDeviceIsNamed() throws {
        let fake = try FakeSystem()
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection.preflight(address: fake.address, sysfsRoot: fake.sys) })
        #expect(e == .noSuchDevice(fake.address, sysfsPath: fake.devicePath))
        #expect(e.description == "no PCI device 0000:00:04.0: \(fake.devicePath) does not exist")
    }

    @Test func deviceWithoutDriverIsNotBound() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: nil, group: 3)
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection.preflight(address: fake.address, sysfsRoot: fake.sys) })
        #expect(e == .notBoundToVFIO(fake.address, driver: String?.none))
        #expect(e.description.hasPrefix("device 0000:00:04.0 is not bound to any driver"))
        #expect(!e.description.contains("\n"))
    }

    @Test func deviceOnAnotherDriverNamesThatDriver() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: "e1000e", group: 3)
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection.preflight(address: fake.address, sysfsRoot: fake.sys) })
        #expect(e == .notBoundToVFIO(fake.address, driver: "e1000e"))
        #expect(e.description.contains("bound to 'e1000e', not to a vfio driver"))
    }

    @Test func vfioDeviceWithoutGroupNeedsAnIOMMU() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: "vfio-pci", group: nil)
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection.preflight(address: fake.address, sysfsRoot: fake.sys) })
        #expect(e == .noIOMMUGroup(fake.address))
    }

    @Test func boundDevicePassesAndReportsItsIDs() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: "ism-vfio-pci", group: 7)
        let s = try VFIOConnection.preflight(address: fake.address, sysfsRoot: fake.sys)
        #expect(s.driver == "ism-vfio-pci")
        #expect(s.iommuGroup == 7)
        #expect(s.vendor == 0x1AF4 && s.deviceID == 0x1110)
    }

    @Test func missingGroupNodeSaysWhatToCheck() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: "vfio-pci", group: 5)
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection(address: fake.address, sysfsRoot: fake.sys, devRoot: fake.dev) })
        #expect(e == .noDeviceNode(fake.dev + "/vfio/5"))
        #expect(e.description.hasPrefix(fake.dev + "/vfio/5 does not exist"))
    }

    @Test func aGroupNodeThatIsNotVFIOFailsItsIoctlWithTheErrno() throws {
        let fake = try FakeSystem()
        try fake.addDevice(driver: "vfio-pci", group: 5)
        try FileManager.default.createDirectory(atPath: fake.dev + "/vfio", withIntermediateDirectories: true)
        try "".write(toFile: fake.dev + "/vfio/5", atomically: true, encoding: .utf8)
        let e = try #require(failure { () throws(VFIOError) in _ = try VFIOConnection(address: fake.address, sysfsRoot: fake.sys, devRoot: fake.dev) })
        #expect(e == .system(call: "VFIO_GROUP_GET_STATUS", path: fake.dev + "/vfio/5", errno: Errno(rawValue: 25)))
        #expect(e.description.hasPrefix("VFIO_GROUP_GET_STATUS on \(fake.dev)/vfio/5 failed: ENOTTY"))
    }

    @Test(arguments: [(ProfileChoice.auto, UInt16(0x1014), UInt16(0x04ED), Profile.ism),
                      (.auto, 0x1AF4, 0x1110, .vfioPCI), (.auto, 0x1014, 0x04EE, .vfioPCI),
                      (.ism, 0x1AF4, 0x1110, .ism), (.vfioPCI, 0x1014, 0x04ED, .vfioPCI)])
    func profileComesFromTheDeviceUnlessForced(_ choice: ProfileChoice, _ vendor: UInt16, _ device: UInt16, _ expected: Profile) {
        #expect(choice.resolve(vendor: vendor, device: device) == expected)
    }
}
