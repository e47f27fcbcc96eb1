import Foundation

/// One alternative token at a position, with its log-probability.
///
/// ```swift
/// let alternative = FakeTopLogprob(token: "B", logprob: -2.3)
/// ```
public struct FakeTopLogprob: Sendable, Hashable {
    /// The alternative token's text.
    public let token: String
    /// Its natural-log probability (≤ 0).
    public let logprob: Double

    /// Creates an alternative.
    public init(token: String, logprob: Double) {
        self.token = token
        self.logprob = logprob
    }
}

/// The log-probability of one generated token and, optionally, its top alternatives.
///
/// Rendered as OpenAI `choices[0].logprobs.content[]`, Gemini `candidates[0].logprobsResult`
/// and Ollama's top-level `logprobs`; Anthropic has no log-probabilities and omits them.
///
/// ```swift
/// let verdict = FakeTokenLogprob(token: "A", logprob: -0.1, top: [
///     FakeTopLogprob(token: "A", logprob: -0.1),
///     FakeTopLogprob(token: "B", logprob: -2.4),
/// ])
/// let reply = FakeReply.text("A", logprobs: [verdict])
/// ```
public struct FakeTokenLogprob: Sendable, Hashable {
    /// The generated token's text.
    public let token: String
    /// Its natural-log probability (≤ 0).
    public let logprob: Double
    /// The most likely alternatives at this position, most likely first.
    public let top: [FakeTopLogprob]

    /// Creates a token log-probability.
    public init(token: String, logprob: Double, top: [FakeTopLogprob] = []) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

/// What ``FakeProviderServer`` answers to one request: a completion or a fault.
///
/// Every reply is rendered in the wire format of the request it answers.
///
/// ```swift
/// let server = FakeProviderServer { request in
///     switch request.index {
///     case 0: .rateLimited(retryAfterSeconds: 0.05)
///     case 1: .status(503)
///     case 2: .delayed(.seconds(5), .text("too late"))
///     default: .text("Rating: [[8]]", promptTokens: 120, completionTokens: 6)
///     }
/// }
/// ```
public indirect enum FakeReply: Sendable {
    /// A successful completion whose text is `String`. Token counts default to an estimate
    /// (characters / 4, rounded up); `logprobs` are rendered where the wire supports them.
    case text(String, promptTokens: Int? = nil, completionTokens: Int? = nil, logprobs: [FakeTokenLogprob]? = nil)
    /// Any HTTP status. An empty `body` is replaced by the provider's error JSON for that status
    /// (or an empty completion for 2xx); a non-empty one is sent verbatim.
    case status(Int, body: String = "", headers: [String: String] = [:])
    /// 429 with the provider's rate-limit error and its wait where that provider documents it: a `Retry-After`
    /// header (whole seconds as an integer, otherwise a decimal such as `0.05`) for OpenAI (plus `retry-after-ms`),
    /// Anthropic and Ollama; for Gemini only the body's `RetryInfo.retryDelay` detail — the Gemini API sends no
    /// `Retry-After` (https://ai.google.dev/gemini-api/docs/troubleshooting).
    case rateLimited(retryAfterSeconds: Double)
    /// 429 with its wait in one provider-documented shape (HTTP-date, `retry-after-ms`, reset headers, body-only
    /// `retryDelay`).
    case rateLimitedAs(FakeRateLimit)
    /// The provider's quota-exhausted answer (OpenAI `insufficient_quota`, Gemini per-day `QuotaFailure`, Anthropic
    /// `billing_error`), which a client must not retry.
    case quotaExhausted
    /// 401 whose error message (and an `X-Echoed-Key` header) echoes `echo`, a masked key such as `sk-proj-****MxYA`.
    case invalidKey(echo: String)
    /// Sleeps for the duration, then sends the inner reply (use it to exceed client timeouts).
    /// The sleep ends early when the server stops.
    case delayed(Duration, FakeReply)
    /// Closes the TCP connection without sending a single byte of response.
    case dropConnection
    /// 200 with a valid-looking completion body for the wire, cut in half.
    case truncatedJSON
    /// 200 with `Content-Type: application/json` and bytes that are not JSON (nor valid UTF-8).
    case garbage
    /// A completion that stopped for `FakeStop`, rendered as each provider documents it (see ``FakeStop``).
    case stopped(String, FakeStop)
}

/// Why a completion stopped, rendered per provider:
///
/// | | OpenAI | Anthropic | Gemini | Ollama |
/// |---|---|---|---|---|
/// | `length` | `finish_reason: length` | `stop_reason: max_tokens` | `finishReason: MAX_TOKENS` | `done_reason: length` |
/// | `refusal` | `message.refusal`, null content | `stop_reason: refusal` | `finishReason: SAFETY`, no content | text |
/// | `contentFilter` | `finish_reason: content_filter` | `stop_reason: refusal` | `finishReason: SAFETY`, no content | text |
/// | `recitation` | `finish_reason: content_filter` | `stop_reason: refusal` | `finishReason: RECITATION`, no content | text |
/// | `promptBlocked` | `finish_reason: content_filter` | `stop_reason: refusal` | `promptFeedback.blockReason: SAFETY`, no candidates | text |
public enum FakeStop: String, Sendable, Hashable {
    case length, refusal, contentFilter, recitation, promptBlocked
}

/// Answers one request to ``FakeProviderServer``; called concurrently for concurrent requests.
///
/// ```swift
/// let echo: FakeHandler = { request in .text("You said: \(request.lastUserText)") }
/// ```
public typealias FakeHandler = @Sendable (FakeRequest) async -> FakeReply
