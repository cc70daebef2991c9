import Foundation
import RunRecords
import RunStore
import Testing

@Suite struct RunStoreTests {
    func tempStore() throws -> (RunStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runstore-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("sub/runs.sqlite").path
        return (try RunStore(path: path), path)
    }

    @Test func migratesAnEmptyDatabaseAndUsesWAL() throws {
        let (store, path) = try tempStore()
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try store.appliedMigrations() == ["v1"])
        #expect(try store.journalMode() == "wal")
        #expect(try store.counts() == (0, 0, 0))
        // Re-opening an up-to-date store is a no-op.
        let again = try RunStore(path: path)
        #expect(try again.appliedMigrations() == ["v1"])
    }

    @Test func roundTripsARunExactly() throws {
        let (store, _) = try tempStore()
        let run = sampleRun()
        let id = try store.save(run)
        var loaded = try #require(try store.record(id: id))
        #expect(loaded.id == id)
        loaded.id = nil
        #expect(loaded == run)
        let c = try store.counts()
        #expect(c.runs == 1 && c.devices == 2 && c.layers == 6)
    }

    @Test func listFiltersByModelDeviceKindAndTime() throws {
        let (store, _) = try tempStore()
        try store.save(sampleRun(model: "a", createdAt: "2026-01-01T00:00:00Z", devices: ["x"]))
        try store.save(sampleRun(model: "b", createdAt: "2026-02-01T00:00:00Z", devices: ["y"]))
        try store.save(sampleRun(model: "a", createdAt: "2026-03-01T00:00:00Z", devices: ["x", "y"]))
        #expect(try store.list().map(\.id) == [3, 2, 1])
        #expect(try store.list(model: "a").map(\.id) == [3, 1])
        #expect(try store.list(device: "y").map(\.id) == [3, 2])
        #expect(try store.list(since: "2026-02").map(\.id) == [3, 2])
        #expect(try store.list(kind: "measure").isEmpty)
        #expect(try store.list()[0].devices == ["x", "y"])
    }

    @Test func removeDeletesRunWithItsRows() throws {
        let (store, _) = try tempStore()
        let a = try store.save(sampleRun())
        let b = try store.save(sampleRun())
        #expect(try store.remove(ids: [a, 999]) == 1)
        #expect(try store.record(id: a) == nil)
        #expect(try store.record(id: b) != nil)
        let c = try store.counts()
        #expect(c.runs == 1 && c.devices == 2 && c.layers == 6)
    }

    @Test func concurrentWritersInOneProcessLoseNothing() async throws {
        let (_, path) = try tempStore()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<4 {
                group.addTask {
                    let store = try RunStore(path: path)  // separate connection pool per writer
                    for i in 0..<10 { try store.save(sampleRun(model: "w\(w)-\(i)")) }
                }
            }
            try await group.waitForAll()
        }
        let store = try RunStore(path: path)
        #expect(try store.counts().runs == 40)
        #expect(Set(try store.list().map(\.model)).count == 40)
    }

    /// Openers racing on a store that does not exist yet: each must see the schema exactly once
    /// (GRDB checks applied migrations outside its transaction; RunStore serialises opening).
    @Test func concurrentFirstOpensOfAFreshStoreAllSucceed() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgeprof-store-race-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for trial in 0..<15 {
            let path = dir.appendingPathComponent("t\(trial)/runs.sqlite").path
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<4 {
                    group.addTask { try RunStore(path: path).save(sampleRun(model: "t\(trial)-w\(w)")) }
                }
                try await group.waitForAll()
            }
            let store = try RunStore(path: path)
            #expect(try store.counts().runs == 4)
            #expect(try store.appliedMigrations() == ["v1"])
        }
    }

    @Test func unopenablePathIsAClearError() throws {
        #expect(throws: StoreError.self) { try RunStore(path: "/proc/edgeprof-cannot-create/runs.sqlite") }
    }

    @Test func defaultPathIsXDGAware() {
        #expect(RunStore.defaultPath(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/edgeprof/runs.sqlite")
        #expect(RunStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.edgeprof/runs.sqlite")
    }
}

@Suite struct RunDiffTests {
    @Test func diffComputesTotalAndLayerDeltasAndGatesRegressions() {
        var a = sampleRun()
        a.id = 1
        var b = sampleRun(latencyScale: 1.10)
        b.id = 2
        let d = RunDiff(a: a, b: b)
        #expect(d.devices.count == 2)
        #expect(abs(d.devices[0].latencyChange - 0.10) < 1e-9)
        #expect(abs((d.devices[0].layers[0].latencyChange ?? 0) - 0.10) < 1e-9)
        #expect(d.regressions(above: 0.05).count == 4)  // latency and energy on both devices
        #expect(d.regressions(above: 0.15).isEmpty)
    }

    @Test func renamedLayersShowAsAbsent() {
        let d = RunDiff(a: sampleRun(), b: sampleRun(layerName: "conv_renamed"))
        let names = d.devices[0].layers.map(\.name)
        #expect(names.contains("conv1") && names.contains("conv_renamed"))
        #expect(d.devices[0].layers.first { $0.name == "conv1" }?.latencyB == nil)
    }
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
