import Foundation

/// Token counts reported by a provider.
public struct TokenUsage: Sendable, Hashable, Codable {
    /// Input tokens.
    public var promptTokens: Int
    /// Output tokens, reasoning included (billed as output).
    public var completionTokens: Int
    /// The part of `completionTokens` spent on reasoning, when the provider reports it (OpenAI
    /// `completion_tokens_details.reasoning_tokens`, Gemini `thoughtsTokenCount`); Anthropic counts thinking
    /// in `output_tokens` without a split.
    public var reasoningTokens: Int?

    /// Usage from the provider's counts.
    public init(promptTokens: Int, completionTokens: Int, reasoningTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.reasoningTokens = reasoningTokens
    }

    package enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case reasoningTokens = "reasoning_tokens"
    }

    /// The most tokens one call is believed to use per field (prompt or completion): 10 million, five times the
    /// longest context a provider offers. More is a provider's mistake, not a bill.
    static let plausibleMax = 10_000_000

    /// Whether these counts can be a call's: none negative, none above ``plausibleMax``. A call whose usage is
    /// missing or implausible has an unknown cost (never a negative one, never $0).
    package var isPlausible: Bool {
        (0...Self.plausibleMax).contains(promptTokens) && (0...Self.plausibleMax).contains(completionTokens)
            && (reasoningTokens.map { (0...Self.plausibleMax).contains($0) } ?? true)
    }
}
