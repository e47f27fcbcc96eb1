import Foundation
import Synchronization

/// Builds the provider for a judge: one per base URL, spread round-robin across replicas.
enum ProviderFactory {
    static func make(
        judge: JudgeConfig, baseURLs: [String], environment: [String: String], transport: (any HTTPTransport)?
    ) throws -> any JudgeProvider {
        let key = judge.keyVariables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        let transport = transport ?? defaultTransport(judge: judge, environment: environment)
        let providers: [any JudgeProvider] = try baseURLs.map { text in
            guard let url = URL(string: text) else { throw JudgePanelError.badInput("judge '\(judge.name)': bad base_url") }
            switch judge.provider {
            case .openai, .llamacpp, .azure: return OpenAIProvider(baseURL: url, apiKey: key, transport: transport)
            case .anthropic: return AnthropicProvider(baseURL: url, apiKey: key, transport: transport)
            case .gemini: return GeminiProvider(baseURL: url, apiKey: key, transport: transport)
            case .ollama: return OllamaProvider(baseURL: url, apiKey: key, transport: transport)
            }
        }
        guard !providers.isEmpty else { throw JudgePanelError.badInput("judge '\(judge.name)' has no base_url") }
        return providers.count == 1 ? providers[0] : ReplicaProvider(replicas: providers)
    }

    /// `SocketHTTPTransport` (which hands `https://` to URLSession), or URLSession for everything when
    /// `JUDGEPANEL_HTTP=urlsession`; either sized to the judge's concurrency.
    static func defaultTransport(judge: JudgeConfig, environment: [String: String]) -> any HTTPTransport {
        let connections = judge.concurrency + 4
        if environment["JUDGEPANEL_HTTP"]?.lowercased() == "urlsession" {
            return URLSessionTransport(maxConnectionsPerHost: connections)
        }
        return SocketHTTPTransport(maxConnectionsPerHost: connections)
    }
}

/// Spreads calls across replicas of one model, round-robin.
final class ReplicaProvider: JudgeProvider {
    let replicas: [any JudgeProvider]
    let next = Mutex(0)

    init(replicas: [any JudgeProvider]) {
        self.replicas = replicas
    }

    func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        let i = next.withLock { n -> Int in
            defer { n = (n + 1) % replicas.count }
            return n
        }
        return try await replicas[i].complete(request, timeout: timeout)
    }
}
