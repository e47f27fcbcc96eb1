import Foundation
import Synchronization

/// A content-addressed response cache on disk, shared across runs.
///
/// The key covers the provider kind, model, sampling parameters, rendered messages and sample index
/// (never the API key or base URL), so re-running identical inputs makes no calls.
///
/// ```swift
/// let cache = ResponseCache(directory: URL(fileURLWithPath: "/tmp/jp-cache"))
/// ```
public struct ResponseCache: Sendable {
    public let directory: URL

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

    /// The cache key for one request.
    public static func key(provider: ProviderKind, request: CompletionRequest, sample: Int) -> String {
        var o: [String: JSONValue] = [
            "v": 1,
            "provider": .string(provider == .llamacpp ? "openai" : provider.rawValue),
            "model": .string(request.model),
            "messages": .array(request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
            "sample": .number(Double(sample)),
        ]
        if let t = request.temperature { o["temperature"] = .number(t) }
        if let m = request.maxTokens { o["max_tokens"] = .number(Double(m)) }
        if let s = request.seed { o["seed"] = .number(Double(s)) }
        if let j = request.jsonSchema { o["schema"] = j }
        if let l = request.topLogprobs { o["top_logprobs"] = .number(Double(l)) }
        return SHA256.hex(bytes: Array(JSONValue.object(o).data))
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
            FileHandle.standardError.write(
                Data("judgepanel: ignoring a corrupt response-cache entry \(url.path) (treated as a miss)\n".utf8))
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
