@testable import Calibration
import Testing

@Suite("Waiting for a quiet machine")
struct QuietWaitTests {
    /// A scripted probe on a fake clock: each reading takes one second, each sleep advances the clock.
    final class Script {
        var readings: [Double]
        var clock = 0.0
        var sleeps: [Double] = []
        var lines: [String] = []
        init(_ r: [Double]) { readings = r }
        func read() -> Double { clock += 1; return readings.isEmpty ? 9 : readings.removeFirst() }
        func sleep(_ s: Double) { sleeps.append(s); clock += s }
    }

    @Test func returnsAfterTheNeededQuietReadingsInARow() {
        let s = Script([1.5, 1.1, 1.4, 1.05, 1.2, 3.0])
        let o = QuietWait.wait(maxDrift: 1.2, needed: 2, timeout: 600, interval: 20, read: s.read, sleep: s.sleep, now: { s.clock },
                               progress: { s.lines.append($0) })
        #expect(o.quiet)
        #expect(o.readings == [1.5, 1.1, 1.4, 1.05, 1.2])          // a busy reading (1.4) restarts the count; 1.2 = the limit counts as quiet
        #expect(s.sleeps == [20, 20])                              // sleeps only after the busy readings
        #expect(s.lines.count == 5)
        #expect(s.lines[0].contains("drift 1.50× (limit 1.20×): busy"), "\(s.lines[0])")
        #expect(s.lines[4].contains("quiet (2/2)"), "\(s.lines[4])")
        #expect(o.waited == s.clock)                               // from the start of the first reading
    }

    @Test func givesUpAtTheTimeoutWithTheReadings() {
        let s = Script(Array(repeating: 2.5, count: 20))
        let o = QuietWait.wait(maxDrift: 1.2, needed: 2, timeout: 100, interval: 30, read: s.read, sleep: s.sleep, now: { s.clock })
        #expect(!o.quiet)
        #expect(o.waited >= 100)
        // 1 s per reading + 30 s sleeps (the last one cut to what is left of the timeout): readings at 1, 32, 63, 94, 101.
        #expect(o.readings.count == 5)
        #expect(s.sleeps == [30, 30, 30, 6])
        let text = QuietWait.timeoutMessage(o, maxDrift: 1.2, reference: "devices/host.yaml")
        #expect(text.contains("did not settle within 101 s"), "\(text)")
        #expect(text.contains("2.50, 2.50"), "\(text)")
        #expect(text.contains("nothing was measured or written"), "\(text)")
        #expect(text.contains("devices/host.yaml"), "\(text)")
    }

    @Test func oneQuietReadingIsEnoughWhenOneIsNeeded() {
        let s = Script([0.9])
        let o = QuietWait.wait(maxDrift: 1.2, needed: 1, timeout: 0, read: s.read, sleep: s.sleep, now: { s.clock })
        #expect(o.quiet && o.readings == [0.9] && s.sleeps.isEmpty)
    }

    @Test func probeErrorsPropagate() {
        struct Broken: Error {}
        #expect(throws: Broken.self) {
            _ = try QuietWait.wait(maxDrift: 1.2, timeout: 10, read: { () throws(Broken) -> Double in throw Broken() }, sleep: { _ in })
        }
    }
}
