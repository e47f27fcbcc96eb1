import Foundation
import JudgePanelCore

/// One generated token with its log-probability and the most likely alternatives.
public struct TokenLogprob: Sendable, Hashable, Codable {
    /// A likely alternative to the generated token.
    public struct Alternative: Sendable, Hashable, Codable {
        /// The alternative token.
        public var token: String
        /// Its log-probability.
        public var logprob: Double

        /// An alternative from its parts.
        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    /// The generated token.
    public var token: String
    /// Its log-probability.
    public var logprob: Double
    /// The most likely alternatives at this position.
    public var top: [Alternative]

    /// A token from its parts.
    public init(token: String, logprob: Double, top: [Alternative] = []) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

/// What a judge is asked: messages plus sampling parameters.
public struct CompletionRequest: Sendable, Hashable {
    /// The model name sent to the provider.
    public var model: String
    /// The conversation.
    public var messages: [ChatMessage]
    /// Sampling temperature; nil leaves it to the provider.
    public var temperature: Double?
    /// The output-token limit.
    public var maxTokens: Int?
    /// The sampling seed, where accepted.
    public var seed: Int?
    /// A JSON schema the answer must follow (structured output), when the judge asks for it.
    public var jsonSchema: JSONValue?
    /// How many top alternatives per token to return (nil: no log-probabilities).
    public var topLogprobs: Int?
    /// Per-judge wire settings (reasoning controls, headers, extra body fields, …).
    public var wire = WireSettings()

    /// A request from its parts.
    public init(
        model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil, seed: Int? = nil,
        jsonSchema: JSONValue? = nil, topLogprobs: Int? = nil
    ) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.jsonSchema = jsonSchema
        self.topLogprobs = topLogprobs
    }
}

/// A judge's reply.
public struct CompletionResponse: Sendable, Hashable, Codable {
    /// The reply's text.
    public var text: String
    /// Tokens the call used, as the provider reported them.
    public var usage: TokenUsage?
    /// Per-token log-probabilities, when asked for and offered.
    public var logprobs: [TokenLogprob]?
    /// Why the provider stopped, normalised: `stop`, `length`, `refusal`, `content_filter`, or the provider's
    /// own word (lower-cased) for anything else.
    public var finishReason: String?
    /// The model's refusal text (OpenAI `message.refusal`), when it declined.
    public var refusal: String?
    /// The server reported that it cut the prompt to fit the context (Ollama `prompt_eval_count` below the
    /// prompt's size, llama.cpp `truncated`): the reply must not be scored.
    public var promptTruncated: Bool?
    /// The model the provider says answered, as it reported it: the reply's `model` (OpenAI
    /// https://platform.openai.com/docs/api-reference/chat/object, Anthropic https://docs.anthropic.com/en/api/messages,
    /// Ollama https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion) or `modelVersion`
    /// (Gemini https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse). An alias such as `gpt-4o`
    /// comes back as the snapshot that served it, which is how a silent provider change shows.
    public var modelVersion: String?
    /// OpenAI's `system_fingerprint`: the backend configuration the model ran with
    /// (https://platform.openai.com/docs/api-reference/chat/object).
    public var systemFingerprint: String?

    /// A response from its parts.
    public init(
        text: String, usage: TokenUsage? = nil, logprobs: [TokenLogprob]? = nil, finishReason: String? = nil,
        refusal: String? = nil, promptTruncated: Bool? = nil
    ) {
        self.text = text
        self.usage = usage
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.refusal = refusal
        self.promptTruncated = promptTruncated
    }

}

/// A failure talking to a provider, classified for the retry policy. Messages never contain keys.
public struct ProviderError: Error, Sendable, CustomStringConvertible, Hashable {
    /// What went wrong, which decides whether a retry can help.
    public enum Kind: String, Sendable, Hashable {
        /// Too many requests (429): retried after the wait the provider asks for.
        case rateLimited
        /// A server error (5xx): retried.
        case server
        /// A client error (a 4xx that is neither a rate limit nor a quota answer): not retried.
        case client
        /// No answer within the judge's timeout: retried.
        case timeout
        /// The connection failed or closed early: retried.
        case connection
        /// A response that could not be read (not JSON, or without the expected fields): retried.
        case badResponse
        /// The account's quota is exhausted (OpenAI `insufficient_quota`, a Gemini per-day limit, Anthropic
        /// billing): never retried, and the judge stops.
        case quota
    }

    /// What went wrong.
    public let kind: Kind
    /// The HTTP status, when there was a response.
    public let status: Int?
    /// The provider's message (scrubbed of keys).
    public let message: String
    /// Seconds the provider asked to wait (Retry-After, retry-after-ms, Gemini `RetryInfo`, a reset header), when given.
    public let retryAfter: Double?
    /// Where ``retryAfter`` came from (`Retry-After`, `retry-after-ms`, `RetryInfo.retryDelay`, `x-ratelimit-reset-tokens`, …).
    public let retryAfterSource: String?

    /// The vote reason this failure records.
    public var reason: VoteReason {
        switch kind {
        case .rateLimited: return .rateLimited
        case .server: return .http5xx
        case .client: return .http4xx
        case .timeout: return .timeout
        case .connection: return .network
        case .badResponse: return .badResponse
        case .quota: return .quota
        }
    }

    /// An error from its parts.
    public init(
        kind: Kind, status: Int? = nil, message: String, retryAfter: Double? = nil, retryAfterSource: String? = nil
    ) {
        self.kind = kind
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
        self.retryAfterSource = retryAfter == nil ? nil : retryAfterSource
    }

    /// Whether another attempt may succeed (429, 5xx, timeouts, connection errors, garbage bodies; not a client
    /// error and not an exhausted quota).
    public var isRetryable: Bool { kind != .client && kind != .quota }

    /// The call took longer than `seconds`.
    public static func timeout(after seconds: Double) -> ProviderError {
        ProviderError(kind: .timeout, message: "timed out after \(seconds) s")
    }

    /// The connection failed.
    public static func connection(_ detail: String) -> ProviderError {
        ProviderError(kind: .connection, message: "connection failed: \(detail)")
    }

    /// The response could not be read.
    public static func badResponse(_ detail: String) -> ProviderError {
        ProviderError(kind: .badResponse, message: "unreadable response: \(detail)")
    }

    /// Classifies a non-2xx HTTP response, reading the wait it asks for and whether a quota is exhausted
    /// (`RateLimitHints`). The body is scrubbed of anything key-like (`SecretScrubber`) before it is quoted.
    public static func http(_ response: HTTPResponse) -> ProviderError {
        let hint = RateLimitHints.parse(status: response.status, headers: response.headers, body: response.body)
        let scrubbed = SecretScrubber.generic.scrub(String(decoding: response.body.prefix(4096), as: UTF8.self))
        let snippet = String(scrubbed.prefix(300)).replacingOccurrences(of: "\n", with: " ")
        let retryAfter = hint.retryAfter
        let source = hint.source
        if let quota = hint.quota {
            return ProviderError(
                kind: .quota, status: response.status,
                message: "HTTP \(response.status) quota exhausted (\(quota)): \(snippet)")
        }
        switch response.status {
        case 429:
            return ProviderError(
                kind: .rateLimited, status: 429, message: "HTTP 429 rate limited: \(snippet)", retryAfter: retryAfter,
                retryAfterSource: source)
        case 408:
            return ProviderError(
                kind: .timeout, status: 408, message: "HTTP 408: \(snippet)", retryAfter: retryAfter,
                retryAfterSource: source)
        case 500...599:
            return ProviderError(
                kind: .server, status: response.status, message: "HTTP \(response.status): \(snippet)",
                retryAfter: retryAfter,
                retryAfterSource: source)
        default:
            return ProviderError(kind: .client, status: response.status, message: "HTTP \(response.status): \(snippet)")
        }
    }

    /// The same error with its message scrubbed of `scrubber`'s secrets.
    package func scrubbed(_ scrubber: SecretScrubber) -> ProviderError {
        ProviderError(
            kind: kind, status: status, message: scrubber.scrub(message), retryAfter: retryAfter,
            retryAfterSource: retryAfterSource)
    }

    /// The error's message.
    public var description: String { message }
}

/// A judge model behind some wire format. One provider per file; each has a default base URL
/// and takes an injected ``HTTPTransport``.
///
/// ```swift
/// let provider = OpenAIProvider(baseURL: URL(string: "http://127.0.0.1:8080/v1")!, apiKey: nil,
///                               transport: try AsyncHTTPClientTransport())
/// let reply = try await provider.complete(CompletionRequest(model: "m", messages: [.user("Hi")]))
/// ```
public protocol JudgeProvider: Sendable {
    /// Sends one request; throws ``ProviderError`` for faults.
    func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse
}

extension JSONValue {
    /// Decodes a provider body, classifying garbage as a retryable bad response.
    package static func decodeBody(_ data: Data) throws -> JSONValue {
        do {
            return try JSONValue(jsonData: data)
        } catch {
            throw notJSON(data, error)
        }
    }

    /// The retryable bad response for a body that is not JSON: its size, its start and what was wrong.
    static func notJSON(_ data: Data, _ error: JSONReadError) -> ProviderError {
        let snippet = String(decoding: data.prefix(120), as: UTF8.self)
        return ProviderError.badResponse(
            "body is not JSON (\(data.count) bytes: \(snippet.debugDescription)): \(error)")
    }
}
