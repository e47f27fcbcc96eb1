import Foundation

/// Which judges can see an item's images: a small table of models known to take text only, the judge's
/// `vision: true|false` setting (which overrides the table), and the providers that cannot send a URL image.
///
/// A judge that cannot see an item's images is refused before any call (exit 2): a text-only judge would grade
/// an image task from the `[image N]` markers alone and its votes would look like any other.
package enum VisionSupport {
    /// Model-name prefixes (lowercased, after the last `/`) of models documented to take text input only.
    /// Anything not listed is assumed to accept images unless the panel says `vision: false`.
    static let textOnlyPrefixes: [(prefix: String, source: String)] = [
        // https://platform.openai.com/docs/models/gpt-3-5-turbo ("Input: text"), https://platform.openai.com/docs/models/gpt-4
        // (gpt-4 / gpt-4-0613 take text only; gpt-4-turbo and gpt-4o take images), o1-mini and o3-mini (text only).
        ("gpt-3.5", "OpenAI model page: text input only"),
        ("gpt-4-0613", "OpenAI model page: text input only"),
        ("gpt-4-0314", "OpenAI model page: text input only"),
        ("gpt-4-32k", "OpenAI model page: text input only"),
        ("o1-mini", "OpenAI model page: text input only"),
        ("o3-mini", "OpenAI model page: text input only"),
        // https://docs.anthropic.com/en/docs/about-claude/models: vision starts with the Claude 3 family.
        ("claude-2", "Anthropic models overview: vision starts with Claude 3"),
        ("claude-instant", "Anthropic models overview: vision starts with Claude 3"),
        // Small local models this project runs (model cards: text-only instruction models).
        ("smollm", "SmolLM2 model card: text-only"),
        ("gemma-3-270m", "Gemma 3 model card: the 270M and 1B sizes take text only"),
        ("gemma3:270m", "Gemma 3 model card: the 270M and 1B sizes take text only"),
        ("gemma-3-1b", "Gemma 3 model card: the 270M and 1B sizes take text only"),
        ("gemma3:1b", "Gemma 3 model card: the 270M and 1B sizes take text only"),
        ("deepseek-r1", "DeepSeek-R1 model card: text-only"),
        ("deepseek-chat", "DeepSeek API docs: text-only"),
        ("deepseek-reasoner", "DeepSeek API docs: text-only"),
        ("mistral-7b", "Mistral 7B model card: text-only"),
        ("phi3", "Phi-3 mini/medium model cards: text-only"),
        ("phi-3-mini", "Phi-3 mini/medium model cards: text-only"),
    ]

    /// The exact name `gpt-4` (an alias of the text-only gpt-4-0613).
    static let textOnlyExact: Set<String> = ["gpt-4"]

    /// Why `judge` cannot see images, or nil when it can (its `vision` setting, else the table).
    static func textOnlyReason(_ judge: JudgeConfig) -> String? {
        if let v = judge.vision { return v ? nil : "the panel sets vision: false" }
        let name = judge.model.lowercased().split(separator: "/").last.map(String.init) ?? judge.model.lowercased()
        if textOnlyExact.contains(name) { return "model \(judge.model) takes text only (OpenAI model page)" }
        if let hit = textOnlyPrefixes.first(where: { name.hasPrefix($0.prefix) }) {
            return "model \(judge.model) is known to take text only (\(hit.source))"
        }
        return nil
    }

    /// Why `provider` cannot send `image`, or nil when it can.
    package static func unsupported(_ image: ImageContent, provider: ProviderKind) -> String? {
        guard image.url != nil else { return nil }
        switch provider {
        case .gemini: return "Gemini takes images inline (inline_data) or through its Files API, not by URL"
        case .ollama: return "Ollama takes images as base64 in `images`, not by URL"
        case .llamacpp: return "llama.cpp's server is given images inline, not by URL"
        case .openai, .azure, .anthropic: return nil
        }
    }

    /// Refuses an item with images for a judge that cannot see them, naming the judge, the reason, the item,
    /// its file and line, and the way out.
    package static func check(_ item: Item, panel: Panel, file: String) throws {
        guard let first = item.images.first else { return }
        for judge in panel.judges {
            if let why = textOnlyReason(judge) {
                throw JudgePanelError.badInput(
                    "judge '\(judge.name)' cannot see images (\(why)), but item '\(item.id)' carries \(item.images.count) image(s); "
                        + "remove the judge, or set 'vision: true' on it if the model does accept images",
                    file: file, line: item.line)
            }
            for image in item.images {
                if let why = unsupported(image, provider: judge.provider) {
                    throw JudgePanelError.badInput(
                        "judge '\(judge.name)' cannot be sent the image at \(image.url ?? first.mediaType) of item '\(item.id)': \(why); "
                            + "give the image as a path or data",
                        file: file, line: item.line)
                }
            }
        }
    }
}
