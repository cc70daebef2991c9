@testable import EdgeProfKit
import Testing

@Suite("calibrate's cache-size check")
struct CacheSizeWarningTests {
    /// A level whose template size differs from the CPU's cache of the same level by more than 1.5× either
    /// way is named with both sizes; levels within 1.5×, or that sysfs does not report, are not.
    @Test func namesLevelsFarFromWhatTheCPUReports() {
        let reported: [Int: Int] = [1: 48 << 10, 2: 2 << 20, 3: 300 << 20]
        let template: [(name: String, bytes: Double)] = [("l1", 32 * 1024), ("l2", 512 * 1024), ("l3", 32 * 1024 * 1024)]
        let w = CalibrateWorkflow.cacheSizeWarnings(template, template: "devices/host.yaml", sysfs: { reported[$0] })
        #expect(w.count == 2, "\(w)")                         // l1: 48 KiB / 32 KiB = 1.5, not more
        #expect(w.first?.contains("level 'l2' is 512 KiB") == true && w.first?.contains("level-2 cache of 2.00 MiB") == true, "\(w)")
        #expect(w.last?.contains("'l3'") == true && w.last?.contains("devices/host.yaml") == true, "\(w)")
        #expect(CalibrateWorkflow.cacheSizeWarnings(template, template: "t.yaml", sysfs: { _ in nil }).isEmpty)
        let matching: [(name: String, bytes: Double)] = [("l1", 48 * 1024), ("l2", 2 * 1024 * 1024)]
        #expect(CalibrateWorkflow.cacheSizeWarnings(matching, template: "t.yaml", sysfs: { reported[$0] }).isEmpty)
    }
}
