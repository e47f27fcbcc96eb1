import Foundation
import GRDB
import JudgePanelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A content-addressed response cache on disk, shared across runs and processes.
///
/// The key covers everything that can change an answer: the provider kind (`llamacpp` apart from `openai`), the
/// endpoint (the judge's base URLs, sorted, so a replica group is one scope and two servers that serve the same
/// model name never share answers), every field of the ``CompletionRequest`` (messages, sampling, output limits,
/// schema, log-probabilities and any field added later — read by reflection, so a new field is covered without
/// touching the key), the judge settings a provider may apply to the request, and the sample index. It never
/// holds the API key.
///
/// **The store.** One SQLite database per cache directory, `responses.sqlite` (through GRDB), in WAL mode: a
/// crash (of this process or of the machine) leaves every committed entry whole and never a torn one; several
/// processes on one machine may share the directory (writers wait for each other up to a busy timeout, readers
/// never wait). ``put(_:_:)`` only hands the reply to an in-memory buffer, which a writer queue commits in
/// batches (every ``ResponseCache/batchEntries`` entries or ``ResponseCache/batchMilliseconds`` ms, whichever
/// comes first), off the call path; ``get(_:)`` sees the buffer, so a reply put is found at once. ``flush()``
/// commits what is buffered (a `score` run does at its end; so does the process's exit). SQLite's WAL needs
/// shared memory between the processes, so one cache file must not be shared between machines over a network
/// file system (see the README's "Response cache" section).
///
/// A cache directory written by an earlier judgepanel (one JSON file per response, `ab/abcd….json`) stays valid:
/// those entries are read where the database has none, and each one read is copied into the database.
///
/// A cache that cannot be written (an unwritable or full disk, a database another program holds locked past the
/// busy timeout) is said once on standard error (a `warning`), and ``writeFailure`` says why, for the run's
/// facts; the run goes on without it (a lost cache entry costs a repeated call later, never a wrong vote).
///
/// ```swift
/// let cache = ResponseCache(directory: URL(fileURLWithPath: "/tmp/jp-cache"))
/// ```
public struct ResponseCache: Sendable {
    /// The cache directory.
    public let directory: URL

    /// The directory's store, shared by every `ResponseCache` value of the same directory in this process.
    private let store: ResponseStore

    /// A cache in `directory` (created on first use).
    public init(directory: URL) {
        self.directory = directory
        self.store = ResponseStore.shared(for: directory)
    }

    /// The file name of the database inside the cache directory.
    public static let databaseFileName = "responses.sqlite"

    /// Entries buffered before the writer commits them in one transaction.
    public static let batchEntries = 512
    /// The longest an entry waits in the buffer before the writer commits it, in milliseconds.
    public static let batchMilliseconds = 200

    /// The default location: `$JUDGEPANEL_HOME/cache` or `~/.cache/judgepanel/cache`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["JUDGEPANEL_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("cache")
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("judgepanel/cache")
        }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/judgepanel/cache")
    }

    /// The cache key for one request of `judge`.
    public static func key(judge: JudgeConfig, request: CompletionRequest, sample: Int) -> String {
        // The key's text is the compact, key-sorted JSON of {"endpoints", "judge", "provider", "request", "sample",
        // "v"}: everything before "request" depends on the judge alone, so it is written once per judge and kept.
        var bytes = judgePrefix(judge)
        bytes.append(contentsOf: (CanonicalJSON.value(request) ?? .null).data)
        bytes.append(contentsOf: Array(",\"sample\":".utf8))
        bytes.append(contentsOf: JSONValue.number(Double(sample)).data)
        bytes.append(contentsOf: Array(",\"v\":2}".utf8))
        return ContentHash.hex(bytes: bytes)
    }

    /// `{"endpoints":[...],"judge":{...},"provider":"...","request":` for `judge`, as the key-sorted compact writer
    /// writes that object (the one place that knows the key's layout besides ``key(judge:request:sample:)``).
    static func judgePrefixUncached(_ judge: JudgeConfig) -> [UInt8] {
        var settings: [String: JSONValue] = [:]
        if case .object(let all)? = CanonicalJSON.value(judge) {
            settings = all.filter { !judgeFieldsOutsideKey.contains($0.key) }
        }
        let endpoints = JSONValue.array(
            judge.baseURLs.map { .string(normalizedEndpoint($0)) }.sorted { $0.textValue < $1.textValue })
        var out = Array("{\"endpoints\":".utf8)
        out += endpoints.data
        out += Array(",\"judge\":".utf8)
        out += JSONValue.object(settings).data
        out += Array(",\"provider\":".utf8)
        out += JSONValue.string(judge.provider.rawValue).data
        out += Array(",\"request\":".utf8)
        return out
    }

    /// The judges' key prefixes, computed once per judge configuration (a run has a handful; a long `serve`
    /// process that sees more than 256 starts over).
    private static let judgePrefixes = Mutex<[JudgeConfig: [UInt8]]>([:])

    static func judgePrefix(_ judge: JudgeConfig) -> [UInt8] {
        if let known = judgePrefixes.withLock({ $0[judge] }) { return known }
        let made = judgePrefixUncached(judge)
        judgePrefixes.withLock { m in
            if m.count >= 256 { m.removeAll(keepingCapacity: true) }
            m[judge] = made
        }
        return made
    }

    /// Judge settings that never change an answer (names, limits, prices and the batch discount, retry and
    /// concurrency settings, how many samples are drawn, which sampling values the panel file wrote explicitly —
    /// the values themselves are in the request); the endpoint enters the key on its own, sorted. Every other setting is part of the key.
    package static let judgeFieldsOutsideKey: Set<String> = [
        "name", "family", "apiKeyEnv", "concurrency", "rpm", "tpm", "price", "weight", "timeoutSeconds", "retries",
        "samples", "baseURLs", "batchDiscount", "explicitFields", "vision",
    ]

    /// A base URL without a trailing slash.
    package static func normalizedEndpoint(_ url: String) -> String {
        var u = url.trimmingCharacters(in: .whitespaces)
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// Entries found torn or corrupt (unreadable JSON, not a response) and ignored, in this process.
    public static var corruptEntriesIgnored: Int { ResponseStore.corruptCount.load(ordering: .relaxed) }

    /// The cached response, if any. An entry that does not decode as a response (a torn file of the earlier
    /// one-file-per-entry layout, a row written by a future version) is never read as an answer: it is a miss,
    /// counted in ``corruptEntriesIgnored`` and named on standard error; the call is made again and its reply
    /// replaces the entry.
    public func get(_ key: String) -> CompletionResponse? {
        store.get(key)
    }

    /// Stores a response: it is found by ``get(_:)`` at once and committed by the writer within
    /// ``batchMilliseconds`` (or at ``flush()``). Never blocks on the disk.
    public func put(_ key: String, _ response: CompletionResponse) {
        store.put(key, response)
    }

    /// Commits every buffered entry now and returns when they are on disk (or when writing failed: see
    /// ``writeFailure``).
    public func flush() {
        store.flush()
    }

    /// Why this cache could not be written in this process (nil while every write succeeded): said once on
    /// standard error when it happened, and recorded in a run's facts (`cache_unwritable`).
    public var writeFailure: String? { store.failure }

    /// Entries in the database (committed ones; call ``flush()`` first to count this process's buffer).
    package func committedCount() throws -> Int {
        try store.committedCount()
    }

    /// The keys of the committed entries (tests).
    package func committedKeys() throws -> [String] {
        try store.committedKeys()
    }

    /// A store of the same directory that shares nothing with this process's other values (own connections and
    /// buffer), as another process's would be (tests).
    package static func separateStore(directory: URL) -> ResponseCache {
        ResponseCache(directory: directory, store: ResponseStore(directory: directory.standardizedFileURL))
    }

    private init(directory: URL, store: ResponseStore) {
        self.directory = directory
        self.store = store
    }

    /// Replaces an entry's stored bytes as they are (tests: a corrupt row).
    package func overwriteRawEntry(_ key: String, bytes: Data) throws {
        try store.overwriteRaw(key, bytes: bytes)
    }

    /// Commits every buffered entry of every cache opened in this process (the CLI calls it at exit).
    public static func flushAll() {
        ResponseStore.flushAll()
    }
}

/// One cache directory's database, its write buffer and its writer queue.
final class ResponseStore: Sendable {
    static let corruptCount = Atomic<Int>(0)

    private static let registry = Mutex<[String: ResponseStore]>([:])

    /// The store of `directory` (one per standardized path in a process).
    static func shared(for directory: URL) -> ResponseStore {
        let path = directory.standardizedFileURL.path
        return registry.withLock { all in
            if let s = all[path] { return s }
            let s = ResponseStore(directory: URL(fileURLWithPath: path))
            if all.isEmpty { atexit { ResponseStore.flushAll() } }
            all[path] = s
            return s
        }
    }

    static func flushAll() {
        let all = registry.withLock { Array($0.values) }
        for s in all { s.flush() }
    }

    let directory: URL
    private let writer = DispatchQueue(label: "judgepanel.response-cache.writer")

    private struct Buffer {
        /// Put and not yet handed to the writer.
        var pending: [String: CompletionResponse] = [:]
        /// Handed to the writer and not yet committed.
        var inflight: [String: CompletionResponse] = [:]
        var timerArmed = false
        var flushQueued = false
        var failure: String?
    }
    private let buffer = Mutex(Buffer())

    private enum Opened: @unchecked Sendable {
        case notYet
        case open(DatabasePool, legacy: Bool)
        case unavailable
    }
    private let database = Mutex<Opened>(.notYet)

    init(directory: URL) {
        self.directory = directory
    }

    var failure: String? { buffer.withLock { $0.failure } }

    // MARK: Reading

    func get(_ key: String) -> CompletionResponse? {
        if let r = buffer.withLock({ $0.pending[key] ?? $0.inflight[key] }) { return r }
        let (pool, legacy) = opened()
        if let pool, let blob = Self.keyBlob(key) {
            do {
                let data = try pool.unsafeRead { db in
                    try Data.fetchOne(
                        db.cachedStatement(sql: "SELECT response FROM responses WHERE key = ?"), arguments: [blob])
                }
                if let data {
                    if let r = decode(data, what: "response-cache entry \(key) in \(dbPath)") { return r }
                    return nil
                }
            } catch {
                Diagnostics.logger.warning(
                    "the response cache \(dbPath) could not be read (\(error)); treated as a miss")
                return nil
            }
        }
        if legacy { return legacyGet(key) }
        return nil
    }

    private func decode(_ data: Data, what: String) -> CompletionResponse? {
        do {
            return try JSONDecoder().decode(CompletionResponse.self, from: data)
        } catch {
            Self.corruptCount.add(1, ordering: .relaxed)
            Diagnostics.logger.warning("ignoring a corrupt \(what) (treated as a miss)")
            return nil
        }
    }

    /// An entry of the earlier layout (one JSON file per response); one found is copied into the database.
    private func legacyGet(_ key: String) -> CompletionResponse? {
        let url = directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".json")
        guard let data = try? Data(contentsOf: url) else { return nil }  // no entry (or unreadable): a miss
        guard let r = decode(data, what: "response-cache entry \(url.path)") else { return nil }
        put(key, r)
        return r
    }

    // MARK: Writing

    func put(_ key: String, _ response: CompletionResponse) {
        enum Next { case nothing, flushNow, armTimer, commitHere }
        let next: Next = buffer.withLock { b in
            b.pending[key] = response
            // Back-pressure when replies arrive faster than the disk takes them (never in a judged run: the
            // writer commits hundreds of thousands of entries a second): the caller commits.
            if b.pending.count >= 64 * ResponseCache.batchEntries { return .commitHere }
            if b.pending.count >= ResponseCache.batchEntries, !b.flushQueued {
                b.flushQueued = true
                return .flushNow
            }
            if !b.timerArmed, !b.flushQueued {
                b.timerArmed = true
                return .armTimer
            }
            return .nothing
        }
        switch next {
        case .nothing: break
        case .flushNow: writer.async { self.commitPending() }
        case .commitHere: writer.sync { commitPending() }
        case .armTimer:
            writer.asyncAfter(deadline: .now() + .milliseconds(ResponseCache.batchMilliseconds)) {
                self.commitPending()
            }
        }
    }

    /// Commits what is buffered; returns once it is on disk (or failed).
    func flush() {
        writer.sync { commitPending() }
    }

    /// On the writer queue: takes the buffer and commits it in one transaction.
    private func commitPending() {
        let batch: [String: CompletionResponse] = buffer.withLock { b in
            b.timerArmed = false
            b.flushQueued = false
            let taken = b.pending
            b.pending = [:]
            b.inflight.merge(taken) { _, new in new }
            return taken
        }
        guard !batch.isEmpty else { return }
        var failure: String?
        let (pool, _) = opened()
        if let pool {
            let encoder = JSONEncoder.compact
            var rows: [(Data, Data)] = []
            rows.reserveCapacity(batch.count)
            for (key, response) in batch {
                // An entry that cannot be stored is a write failure like any other: said once and recorded in the
                // run (`cache_unwritable`), never dropped in silence.
                guard let blob = Self.keyBlob(key) else {
                    failure = failure ?? "a malformed cache key (\(key.prefix(16))…)"
                    continue
                }
                do { rows.append((blob, try encoder.encode(response))) } catch {
                    failure = failure ?? "a reply could not be encoded: \(error)"
                }
            }
            do {
                try pool.write { db in
                    let insert = try db.cachedStatement(
                        sql: "INSERT OR REPLACE INTO responses(key, response) VALUES (?, ?)")
                    for (k, v) in rows { try insert.execute(arguments: [k, v]) }
                }
            } catch {
                failure = "\(error)"
            }
        } else {
            failure = buffer.withLock { $0.failure } ?? "the database could not be opened"
        }
        let first: String? = buffer.withLock { b in
            for k in batch.keys where b.inflight[k] != nil { b.inflight[k] = nil }
            guard let failure, b.failure == nil else { return nil }
            b.failure = failure
            return failure
        }
        if let first { sayUnwritable(first) }
    }

    private func sayUnwritable(_ why: String) {
        Diagnostics.logger.warning(
            "the response cache \(directory.path) cannot be written (\(why)); replies of this run are not cached")
    }

    // MARK: Opening

    private var dbPath: String { directory.appendingPathComponent(ResponseCache.databaseFileName).path }

    /// The database (opened on first use) and whether the directory holds entries of the earlier file layout.
    private func opened() -> (DatabasePool?, Bool) {
        database.withLock { state in
            switch state {
            case .open(let pool, let legacy): return (pool, legacy)
            case .unavailable: return (nil, false)
            case .notYet:
                do {
                    let (pool, legacy) = try open()
                    state = .open(pool, legacy: legacy)
                    return (pool, legacy)
                } catch {
                    state = .unavailable
                    let why = "\(error)"
                    let first = buffer.withLock { b -> Bool in
                        guard b.failure == nil else { return false }
                        b.failure = why
                        return true
                    }
                    if first { sayUnwritable(why) }
                    return (nil, false)
                }
            }
        }
    }

    private func open() throws -> (DatabasePool, Bool) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Several processes may create the database at once: setting WAL mode and the schema happen under an
        // advisory lock on a file beside it.
        let lockPath = directory.appendingPathComponent(ResponseCache.databaseFileName + ".open-lock").path
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CacheOpenError(message: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw CacheOpenError(message: "cannot lock \(lockPath): \(String(cString: strerror(errno)))")
            }
        }
        defer { flock(fd, LOCK_UN) }
        var config = Configuration()
        config.label = "judgepanel.response-cache"
        config.busyMode = .timeout(60)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: dbPath, configuration: config)
        try pool.write { db in
            try db.execute(
                sql: "CREATE TABLE IF NOT EXISTS responses (key BLOB PRIMARY KEY NOT NULL, response BLOB NOT NULL)")
        }
        return (pool, hasLegacyEntries())
    }

    /// Whether the directory holds two-hex-digit folders of the earlier one-file-per-entry layout.
    private func hasLegacyEntries() -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return false }
        return names.contains { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The 32 bytes of a 64-hex-digit key (nil for a key of another shape, which is then never stored).
    static func keyBlob(_ key: String) -> Data? {
        let utf8 = Array(key.utf8)
        guard utf8.count == 64 else { return nil }
        var out = Data(count: 32)
        for i in 0..<32 {
            guard let hi = hexValue(utf8[2 * i]), let lo = hexValue(utf8[2 * i + 1]) else { return nil }
            out[i] = hi << 4 | lo
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    // MARK: Tests and benchmarks

    func committedCount() throws -> Int {
        guard let pool = opened().0 else { throw CacheOpenError(message: failure ?? "unavailable") }
        return try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM responses") ?? 0 }
    }

    func committedKeys() throws -> [String] {
        guard let pool = opened().0 else { throw CacheOpenError(message: failure ?? "unavailable") }
        return try pool.read { db in
            try Data.fetchAll(db, sql: "SELECT key FROM responses").map { d in
                d.map { String(format: "%02x", $0) }.joined()
            }
        }
    }

    func overwriteRaw(_ key: String, bytes: Data) throws {
        flush()
        guard let pool = opened().0, let blob = Self.keyBlob(key) else { throw CacheOpenError(message: "unavailable") }
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO responses(key, response) VALUES (?, ?)", arguments: [blob, bytes])
        }
    }
}

struct CacheOpenError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
