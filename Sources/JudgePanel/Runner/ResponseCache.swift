import Foundation

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

    /// The cached response, if any.
    public func get(_ key: String) -> CompletionResponse? {
        guard let data = try? Data(contentsOf: path(key)) else { return nil }
        return try? JSONDecoder().decode(CompletionResponse.self, from: data)
    }

    /// Stores a response (atomically: temp file, then rename).
    public func put(_ key: String, _ response: CompletionResponse) {
        let url = path(key)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let data = try JSONEncoder.compact.encode(response)
            try data.write(to: url, options: .atomic)
        } catch {
            // A cache write failure costs a repeated call later, never a wrong vote.
        }
    }
}
