import Foundation
import JudgePanelCore
import Synchronization

/// What a provider factory is given: the judge, one of its base URLs, its API key (from the environment) and the
/// transport to send through.
public struct ProviderContext: Sendable {
    /// The judge being built.
    public let judge: JudgeConfig
    /// One base URL of the judge (a factory is called once per replica).
    public let baseURL: URL
    /// The judge's API key, when its key variable is set.
    public let apiKey: String?
    /// The HTTP transport the provider must send through.
    public let transport: any HTTPTransport
}

/// Maps a provider kind (its name, as `provider:` in a panel) to a factory, so a library user can add or replace a
/// provider without editing a switch.
///
/// ```swift
/// var providers = ProviderRegistry.standard
/// providers.register(.openai) { ctx in MySigningProvider(baseURL: ctx.baseURL, key: ctx.apiKey, transport: ctx.transport) }
/// let runner = PanelRunner(panel: panel, rubric: rubric, options: RunOptions(cache: nil, providers: providers))
/// ```
public struct ProviderRegistry: Sendable {
    /// Builds the provider for one base URL of a judge.
    public typealias Factory = @Sendable (ProviderContext) throws -> any JudgeProvider

    private var factories: [String: Factory] = [:]

    /// An empty registry.
    public init() {}

    /// Registers (or replaces) the factory for the provider named `kind`.
    public mutating func register(_ kind: String, _ factory: @escaping Factory) {
        factories[kind] = factory
    }

    /// Registers (or replaces) the factory for a built-in provider kind.
    public mutating func register(_ kind: ProviderKind, _ factory: @escaping Factory) {
        register(kind.rawValue, factory)
    }

    /// The factory for `kind`, if registered.
    public func factory(for kind: String) -> Factory? { factories[kind] }

    /// The provider kinds registered, sorted.
    public var kinds: [String] { factories.keys.sorted() }

    /// The built-in providers, one line each.
    public static let standard: ProviderRegistry = {
        var r = ProviderRegistry()
        r.register(.openai) { OpenAIProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        r.register(.llamacpp) { OpenAIProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        r.register(.azure) { OpenAIProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        r.register(.anthropic) { AnthropicProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        r.register(.gemini) { GeminiProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        r.register(.ollama) { OllamaProvider(baseURL: $0.baseURL, apiKey: $0.apiKey, transport: $0.transport) }
        return r
    }()
}

/// Builds the provider for a judge from a ``ProviderRegistry``: one per base URL, spread round-robin across replicas.
package enum ProviderFactory {
    package static func make(
        judge: JudgeConfig, baseURLs: [String], environment: [String: String], transport: any HTTPTransport,
        registry: ProviderRegistry = .standard
    ) throws -> any JudgeProvider {
        let key = judge.keyVariables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        guard let factory = registry.factory(for: judge.provider.rawValue) else {
            throw JudgePanelError.badInput(
                "judge '\(judge.name)': no provider registered for '\(judge.provider.rawValue)' "
                    + "(registered: \(registry.kinds.joined(separator: ", ")))")
        }
        let providers: [any JudgeProvider] = try baseURLs.map { text in
            guard let url = URL(string: text) else {
                throw JudgePanelError.badInput("judge '\(judge.name)': bad base_url")
            }
            return try factory(ProviderContext(judge: judge, baseURL: url, apiKey: key, transport: transport))
        }
        guard !providers.isEmpty else { throw JudgePanelError.badInput("judge '\(judge.name)' has no base_url") }
        return providers.count == 1 ? providers[0] : ReplicaProvider(replicas: providers)
    }
}

/// Spreads calls across replicas of one model, round-robin.
final class ReplicaProvider: JudgeProvider {
    package let replicas: [any JudgeProvider]
    package let next = Mutex(0)

    package init(replicas: [any JudgeProvider]) {
        self.replicas = replicas
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        let i = next.withLock { n -> Int in
            defer { n = (n + 1) % replicas.count }
            return n
        }
        return try await replicas[i].complete(request, timeout: timeout)
    }
}
