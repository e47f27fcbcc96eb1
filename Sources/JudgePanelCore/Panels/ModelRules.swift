import Foundation

/// What a known model family accepts, from each provider's documentation. Unknown models get the plain
/// defaults; if their server rejects a parameter, ``WireFix`` adapts once per judge at run time.
package struct ModelTraits: Sendable, Hashable {
    /// OpenAI reasoning model: the output limit is `max_completion_tokens` (`max_tokens` is rejected).
    package var usesMaxCompletionTokens = false
    /// Sampling parameters the model rejects unless left at their default (1).
    package var rejectsSampling: Set<String> = []
    /// Why (for error messages), with the documentation page.
    package var source = ""
}

enum ModelRules {
    /// The traits of `model` behind `provider`, with the judge's thinking settings (Anthropic thinking turns
    /// sampling parameters off).
    package static func traits(provider: ProviderKind, model: String, thinking: Bool) -> ModelTraits {
        var t = ModelTraits()
        let name = model.lowercased().split(separator: "/").last.map(String.init) ?? model.lowercased()
        switch provider {
        case .openai, .azure:
            // https://platform.openai.com/docs/guides/reasoning ("Reasoning models": o1, o3, o4-mini, gpt-5…)
            // and https://platform.openai.com/docs/api-reference/chat/create (`max_tokens` "is not compatible with
            // o-series models"; use `max_completion_tokens`). Reasoning models answer 400 "Unsupported value:
            // 'temperature' does not support 0 with this model. Only the default (1) value is supported." for
            // temperature/top_p. gpt-5-chat-* is the non-reasoning chat model and takes sampling parameters.
            if isOpenAIReasoning(name) {
                t.usesMaxCompletionTokens = true
                t.rejectsSampling = ["temperature", "top_p"]
                t.source = "OpenAI reasoning models (https://platform.openai.com/docs/guides/reasoning)"
            }
        case .anthropic:
            // https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#feature-compatibility:
            // "Thinking isn't compatible with temperature or top_k modifications as well as forced tool use."
            if thinking {
                t.rejectsSampling = ["temperature", "top_k"]
                t.source =
                    "Anthropic extended thinking (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking)"
            }
        case .gemini, .ollama, .llamacpp:
            // Gemini 2.5 thinking models take temperature and maxOutputTokens as before
            // (https://ai.google.dev/gemini-api/docs/thinking); Ollama and llama.cpp take every option.
            break
        }
        return t
    }

    /// o1, o1-mini, o1-pro, o3, o3-mini, o3-pro, o4-mini, codex-mini, gpt-5, gpt-5-mini, gpt-5-nano, gpt-5.1, …
    /// (dated snapshots included); not gpt-5-chat-latest.
    package static func isOpenAIReasoning(_ name: String) -> Bool {
        for prefix in ["o1", "o3", "o4"] {
            if name == prefix || name.hasPrefix(prefix + "-") { return true }
        }
        if name.hasPrefix("codex-mini") { return true }
        if name.hasPrefix("gpt-5") {
            return !name.contains("-chat")
        }
        return false
    }
}
