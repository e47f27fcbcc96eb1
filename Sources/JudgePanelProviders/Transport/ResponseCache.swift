import Foundation
import Synchronization
import JudgePanelCore

/// A content-addressed response cache on disk, shared across runs.
///
/// The key covers everything that can change an answer: the provider kind (`llamacpp` apart from `openai`), the
/// endpoint (the judge's base URLs, sorted, so a replica group is one scope and two servers that serve the same
/// model name never share answers), every field of the ``CompletionRequest`` (messages, sampling, output limits,
/// schema, log-probabilities and any field added later — read by reflection, so a new field is covered without
/// touching the key), the judge settings a provider may apply to the request, and the sample index. It never
/// holds the API key.
///
/// ```swift
/// let cache = ResponseCache(directory: URL(fileURLWithPath: "/tmp/jp-cache"))
/// ```
public struct ResponseCache: Sendable {
    /// The cache directory.
    public let directory: URL

    /// A cache in `directory` (created on first write).
    public init(directory: URL) {
        self.directory = directory
    }

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
        var settings: [String: JSONValue] = [:]
        if case .object(let all)? = CanonicalJSON.value(judge) {
            settings = all.filter { !judgeFieldsOutsideKey.contains($0.key) }
        }
        let o: [String: JSONValue] = [
            "v": 2,
            "provider": .string(judge.provider.rawValue),
            "endpoints": .array(judge.baseURLs.map { .string(normalizedEndpoint($0)) }.sorted { $0.textValue < $1.textValue }),
            "judge": .object(settings),
            "request": CanonicalJSON.value(request) ?? .null,
            "sample": .number(Double(sample)),
        ]
        return ContentHash.hex(bytes: Array(JSONValue.object(o).data))
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

    private func path(_ key: String) -> URL {
        directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".json")
    }

    /// Entries found torn or corrupt (unreadable JSON, not a response) and ignored, in this process.
    public static var corruptEntriesIgnored: Int { corruptCount.load(ordering: .relaxed) }
    private static let corruptCount = Atomic<Int>(0)

    /// The cached response, if any. A torn or corrupt entry (e.g. another process's half-written file on a file
    /// system without atomic rename) is never read as an answer: it is a miss, counted in ``corruptEntriesIgnored``
    /// and named on standard error; the call is made again and its reply replaces the entry.
    public func get(_ key: String) -> CompletionResponse? {
        let url = path(key)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return nil  // no entry (or unreadable): a miss
        }
        do {
            return try JSONDecoder().decode(CompletionResponse.self, from: data)
        } catch {
            Self.corruptCount.add(1, ordering: .relaxed)
            Diagnostics.logger.warning("ignoring a corrupt response-cache entry \(url.path) (treated as a miss)")
            return nil
        }
    }

    /// Stores a response atomically, also when several processes share the directory: the bytes go to a file with a
    /// name unique to this process and call in the entry's own directory, then `rename(2)` puts it in place, so a
    /// reader sees the old entry, no entry or the whole new one — never part of one.
    public func put(_ key: String, _ response: CompletionResponse) {
        let url = path(key)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(key).\(getpid()).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let data = try JSONEncoder.compact.encode(response)
            try data.write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                unlink(tmp.path)
                return  // a cache write failure costs a repeated call later, never a wrong vote
            }
        } catch {
            unlink(tmp.path)
            // A cache write failure costs a repeated call later, never a wrong vote.
        }
    }
}
