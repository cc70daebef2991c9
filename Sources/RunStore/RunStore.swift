import Foundation
import GRDB
import RunRecords

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One row of `runs list`.
public struct RunSummary: Sendable, Hashable, Codable {
    public var id: Int64
    public var uuid: String
    public var kind: String
    public var createdAt: String
    public var model: String
    public var scenario: String?
    public var devices: [String]
    public var command: String
}

/// SQLite run history (GRDB, WAL). A run is written in one transaction together with its
/// device and per-layer rows, so an interrupted write leaves nothing behind.
public final class RunStore: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// `$XDG_DATA_HOME/edgeprof/runs.sqlite` when XDG_DATA_HOME is set, else `~/.edgeprof/runs.sqlite`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return "\(xdg)/edgeprof/runs.sqlite" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return "\(home)/.edgeprof/runs.sqlite"
    }

    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var config = Configuration()
            // Concurrent writers from other processes wait instead of failing.
            config.busyMode = .timeout(30)
            config.foreignKeysEnabled = true
            // Opening a new store switches it to WAL and creates the schema. GRDB's migrator
            // checks which migrations are applied outside its write transaction, so two
            // processes opening a fresh store at once could both try to create the tables
            // (CI saw "table runs already exists"). Opening and migrating therefore run under
            // an exclusive advisory lock on a sidecar file (never on the database file: closing
            // any descriptor of it would drop SQLite's own POSIX locks).
            pool = try Self.withOpenLock(path: path) {
                let pool = try DatabasePool(path: path, configuration: config)
                try Self.migrator.migrate(pool)
                return pool
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError("\(path): cannot open run store (\(error))")
        }
    }

    /// Runs `body` while holding `flock(LOCK_EX)` on `<path>.lock`; the lock is released when
    /// the descriptor closes, including when the process dies.
    static func withOpenLock<T>(path: String, _ body: () throws -> T) throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError("\(lockPath): cannot open lock file (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw StoreError("\(lockPath): cannot lock (\(String(cString: strerror(errno))))")
            }
        }
        return try body()
    }

    /// Schema history. Never edit a shipped migration; add a new one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("uuid", .text).notNull().unique()
                t.column("kind", .text).notNull()
                t.column("created_at", .text).notNull().indexed()
                t.column("model_name", .text).notNull().indexed()
                t.column("model_hash", .text).notNull()
                t.column("scenario", .text)
                t.column("tool_version", .text).notNull()
                t.column("build_id", .text).notNull()
                t.column("command", .text).notNull()
                t.column("record_json", .blob).notNull()
            }
            try db.create(table: "run_devices") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade).indexed()
                t.column("device_id", .text).notNull().indexed()
                t.column("device_name", .text).notNull()
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("content", .text).notNull()
            }
            try db.create(table: "layers") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade).indexed()
                t.column("device_id", .text).notNull()
                t.column("layer_index", .integer).notNull()
                t.column("name", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("op_class", .text).notNull()
                t.column("latency_s", .double).notNull()
                t.column("energy_j", .double).notNull()
                t.column("macs", .integer).notNull()
                t.column("provenance", .text).notNull()
            }
        }
        return m
    }

    /// Applied migration identifiers (for tests and `runs` diagnostics).
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedIdentifiers(db).sorted() }
    }

    /// Saves a run atomically and returns its id.
    @discardableResult
    public func save(_ record: RunRecord) throws(StoreError) -> Int64 {
        do {
            return try pool.write { db -> Int64 in
                var stored = record
                stored.id = nil
                try db.execute(sql: """
                    INSERT INTO runs (uuid, kind, created_at, model_name, model_hash, scenario, tool_version, build_id, command, record_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [record.uuid, record.kind, record.createdAt, record.model.name, record.model.sha256, record.scenario,
                                     record.toolVersion, record.buildID, record.commandLine.joined(separator: " "), stored.jsonData(pretty: false)])
                let id = db.lastInsertedRowID
                for d in record.devices {
                    try db.execute(sql: "INSERT INTO run_devices (run_id, device_id, device_name, path, sha256, content) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [id, d.id, d.name, d.path, d.sha256, d.content])
                }
                for dev in record.profile?.devices ?? [] {
                    for l in dev.layers {
                        try db.execute(sql: """
                            INSERT INTO layers (run_id, device_id, layer_index, name, kind, op_class, latency_s, energy_j, macs, provenance)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [id, dev.id, l.index, l.name, l.kind, l.opClass, l.latencyS, l.energyJ, l.macs, "predicted"])
                    }
                }
                // Fault-injection hook for the crash-safety test: stall inside the open transaction.
                if let pause = ProcessInfo.processInfo.environment["EDGEPROF_TEST_PAUSE_IN_TRANSACTION"], let s = Double(pause) {
                    FileHandle.standardError.write(Data("edgeprof-test: paused inside the write transaction\n".utf8))
                    Thread.sleep(forTimeInterval: s)
                }
                return id
            }
        } catch {
            throw StoreError("\(path): cannot save run (\(error))")
        }
    }

    public func record(id: Int64) throws(StoreError) -> RunRecord? {
        do {
            return try pool.read { db -> RunRecord? in
                guard let data = try Data.fetchOne(db, sql: "SELECT record_json FROM runs WHERE id = ?", arguments: [id]) else { return nil }
                var r = try RunRecord.decode(data)
                r.id = id
                return r
            }
        } catch {
            throw StoreError("\(path): cannot read run \(id) (\(error))")
        }
    }

    /// Runs, newest first, optionally filtered by model name, device id and creation time (ISO 8601 prefix compare).
    public func list(model: String? = nil, device: String? = nil, since: String? = nil, kind: String? = nil) throws(StoreError) -> [RunSummary] {
        do {
            return try pool.read { db in
                var sql = "SELECT id, uuid, kind, created_at, model_name, scenario, command FROM runs WHERE 1=1"
                var args: [any DatabaseValueConvertible] = []
                if let model { sql += " AND model_name = ?"; args.append(model) }
                if let since { sql += " AND created_at >= ?"; args.append(since) }
                if let kind { sql += " AND kind = ?"; args.append(kind) }
                if let device { sql += " AND id IN (SELECT run_id FROM run_devices WHERE device_id = ?)"; args.append(device) }
                sql += " ORDER BY id DESC"
                let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
                return try rows.map { row in
                    let id: Int64 = row["id"]
                    let devices = try String.fetchAll(db, sql: "SELECT device_id FROM run_devices WHERE run_id = ? ORDER BY rowid", arguments: [id])
                    return RunSummary(id: id, uuid: row["uuid"], kind: row["kind"], createdAt: row["created_at"], model: row["model_name"],
                                      scenario: row["scenario"], devices: devices, command: row["command"])
                }
            }
        } catch {
            throw StoreError("\(path): cannot list runs (\(error))")
        }
    }

    /// Deletes runs (with their device and layer rows); returns how many existed.
    @discardableResult
    public func remove(ids: [Int64]) throws(StoreError) -> Int {
        do {
            return try pool.write { db in
                var n = 0
                for id in ids {
                    try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id])
                    n += db.changesCount
                }
                return n
            }
        } catch {
            throw StoreError("\(path): cannot remove runs (\(error))")
        }
    }

    /// Row counts per table (integrity checks in tests and diagnostics).
    public func counts() throws(StoreError) -> (runs: Int, devices: Int, layers: Int) {
        do {
            return try pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run_devices") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM layers") ?? 0)
            }
        } catch {
            throw StoreError("\(path): cannot count rows (\(error))")
        }
    }

    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
