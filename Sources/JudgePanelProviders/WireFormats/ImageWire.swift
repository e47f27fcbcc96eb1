import Foundation
import JudgePanelCore

/// How each provider documents a message with images, in one place. A message without images keeps its plain
/// string content on every wire (requests, cache keys and fingerprints of text items are unchanged).
enum ImageWire {
    /// OpenAI chat completions: `content` becomes a list of parts, `{"type": "text", "text"}` and
    /// `{"type": "image_url", "image_url": {"url": "data:<media type>;base64,<bytes>"}}` (or an http(s) URL)
    /// (https://platform.openai.com/docs/guides/images-vision, "Passing a Base64 encoded image";
    /// https://platform.openai.com/docs/api-reference/chat/create, `ChatCompletionRequestMessageContentPartImage`).
    static func openAIContent(_ m: ChatMessage) -> JSONValue {
        guard let parts = m.parts, !m.images.isEmpty else { return .string(m.content) }
        return .array(
            parts.map { part -> JSONValue in
                switch part {
                case .text(let t): return ["type": "text", "text": .string(t)]
                case .image(let i): return ["type": "image_url", "image_url": ["url": .string(i.dataURL)]]
                }
            })
    }

    /// Anthropic Messages: `content` becomes a list of blocks, `{"type": "text", "text"}` and
    /// `{"type": "image", "source": {"type": "base64", "media_type", "data"}}` (or `{"type": "url", "url"}`)
    /// (https://docs.anthropic.com/en/docs/build-with-claude/vision, "Base64-encoded image example" and
    /// "URL-based image example"; https://docs.anthropic.com/en/api/messages, `content` blocks).
    static func anthropicContent(_ m: ChatMessage) -> JSONValue {
        guard let parts = m.parts, !m.images.isEmpty else { return .string(m.content) }
        return .array(
            parts.map { part -> JSONValue in
                switch part {
                case .text(let t): return ["type": "text", "text": .string(t)]
                case .image(let i):
                    switch i.source {
                    case .base64(let b):
                        return [
                            "type": "image",
                            "source": ["type": "base64", "media_type": .string(i.mediaType), "data": .string(b)],
                        ]
                    case .url(let u):
                        return ["type": "image", "source": ["type": "url", "url": .string(u)]]
                    }
                }
            })
    }

    /// Gemini generateContent: a turn's `parts` become `{"text"}` and `{"inline_data": {"mime_type", "data"}}`,
    /// the bytes base64 without a `data:` prefix (https://ai.google.dev/gemini-api/docs/image-understanding,
    /// "Passing inline image data", REST example; https://ai.google.dev/api/caching#Blob). Gemini takes no
    /// arbitrary image URL inline: a URL image is refused at start-up (`VisionSupport.unsupported`).
    static func geminiParts(_ m: ChatMessage) -> JSONValue {
        guard let parts = m.parts, !m.images.isEmpty else { return [["text": .string(m.content)]] }
        return .array(
            parts.map { part -> JSONValue in
                switch part {
                case .text(let t): return ["text": .string(t)]
                case .image(let i):
                    return ["inline_data": ["mime_type": .string(i.mediaType), "data": .string(i.base64 ?? "")]]
                }
            })
    }

    /// Ollama /api/chat: the message keeps its text `content` and lists its images, base64 without a prefix, in
    /// `images` (https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-images). Ollama cannot
    /// fetch a URL: a URL image is refused at start-up.
    static func ollamaMessage(_ m: ChatMessage) -> JSONValue {
        var o: [String: JSONValue] = ["role": .string(m.role.rawValue), "content": .string(m.content)]
        let images = m.images
        if !images.isEmpty {
            // The text parts, in order; the images follow in `images`.
            o["content"] = .string(
                (m.parts ?? []).compactMap { if case .text(let t) = $0 { return t } else { return nil } }
                    .joined(separator: "\n"))
            o["images"] = .array(images.map { .string($0.base64 ?? "") })
        }
        return .object(o)
    }
}
