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
}
