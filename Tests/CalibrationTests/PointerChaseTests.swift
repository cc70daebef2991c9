import Calibration
import Testing

@Suite("Pointer-chase memory latency")
struct PointerChaseTests {
    /// A synthetic sweep with steps at 32 KiB, 512 KiB and 8 MiB.
    static let points: [PointerChase.Point] = PointerChase.sizes(quick: false).map { size in
        let ns: Double = size <= 32 << 10 ? 1.2 : size <= 512 << 10 ? 4.0 : size <= 8 << 20 ? 14.0 : 120.0
        return PointerChase.Point(workingSetBytes: size, secondsPerLoad: ns * 1e-9)
    }

    @Test func levelLatenciesUseWorkingSetsThatFitEachLevelHalfFull() throws {
        let sizes: [Double] = [32 * 1024, 512 * 1024, 8 * 1024 * 1024, 16e9]
        let lat = PointerChase.levelLatencies(Self.points, levelSizes: sizes)
        #expect(lat.count == 4)
        for (got, want) in zip(lat, [1.2e-9, 4.0e-9, 14.0e-9, 120e-9]) {
            let value = try #require(got)
            #expect(abs(value / want - 1) < 1e-9)
        }
        // A level too small for any swept working set has no latency.
        #expect(PointerChase.levelLatencies(Self.points, levelSizes: [4096, 16e9])[0] == nil)
    }

    @Test func edgesAreWhereLatencyJumps() {
        #expect(PointerChase.edges(Self.points) == [32 << 10, 512 << 10, 8 << 20])
        #expect(PointerChase.edges([]) == [])
    }

    @Test func sweepSizesAndARealChaseAreWellFormed() {
        #expect(PointerChase.sizes(quick: false).first == 8 << 10 && PointerChase.sizes(quick: false).last == 64 << 20)
        #expect(PointerChase.sizes(quick: true).count < PointerChase.sizes(quick: false).count)
        // A real chase gives a finite positive time per load (no timing assertion beyond that).
        let t = PointerChase.measure(workingSetBytes: 64 << 10, loads: 10_000, repeats: 3)
        #expect(t > 0 && t.isFinite)
    }

    /// A real cold read gives a finite positive time (no timing assertion beyond that); nonsense input gives nil.
    @Test func coldStreamReadsAreWellFormed() throws {
        let t = try #require(ColdStream.measure(repeats: 3))
        #expect(t > 0 && t.isFinite)
        #expect(ColdStream.measure(bytes: 0, repeats: 3) == nil)
        #expect(ColdStream.measure(repeats: 0) == nil)
    }
}
