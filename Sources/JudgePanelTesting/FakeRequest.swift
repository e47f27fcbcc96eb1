import Foundation
import JudgePanel

/// The provider wire format a request to ``FakeProviderServer`` arrived in.
///
/// The server picks the wire from the path:
///
/// ```swift
/// // POST /v1/chat/completions            → .openai
/// // POST /v1/messages                    → .anthropic
/// // POST /v1beta/models/M:generateContent → .gemini
/// // POST /api/chat                       → .ollama
/// let wire: FakeWire = request.wire
/// ```
public enum FakeWire: String, Sendable, CaseIterable {
    /// OpenAI chat completions (`/v1/chat/completions` or `/chat/completions`).
    case openai
    /// Anthropic Messages (`/v1/messages`).
    case anthropic
    /// Gemini `generateContent` (`/v1beta/models/{model}:generateContent`).
    case gemini
    /// Ollama chat, non-streaming (`/api/chat`).
    case ollama
}

/// One non-system turn of a chat request, with its role normalised to `user` or `assistant`.
///
/// ```swift
/// let turn = FakeMessage(role: "user", content: "Which answer is better?")
/// ```
public struct FakeMessage: Sendable, Hashable {
    /// `user` or `assistant` (Gemini's `model` becomes `assistant`).
    public let role: String
    /// The turn's text; several text parts are joined with newlines.
    public let content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// An image a request carried, read from the shape its provider documents (see ``FakeImageShapes``).
public struct FakeImage: Sendable, Hashable {
    /// The media type the request gave (nil for Ollama, whose `images` carry bytes only).
    public let mediaType: String?
    /// The decoded bytes (empty for a URL image).
    public let bytes: Data
    /// The URL, for an image sent by URL.
    public let url: String?

    /// An image from its parts.
    public init(mediaType: String?, bytes: Data, url: String? = nil) {
        self.mediaType = mediaType
        self.bytes = bytes
        self.url = url
    }
}

/// A request received by ``FakeProviderServer``, decoded from whichever wire format it used.
///
/// Handlers receive it and tests can inspect it afterwards through
/// ``FakeProviderServer/recordedRequests()``:
///
/// ```swift
/// let server = FakeProviderServer { request in
///     .text(request.wantsJSON ? #"{"score": 7}"# : "Rating: [[7]]")
/// }
/// try await server.start()
/// // … drive the client …
/// let first = try #require(await server.recordedRequests().first)
/// #expect(first.model == "gpt-4o-mini")
/// #expect(first.lastUserText.contains("[The Start of Assistant's Answer]"))
/// ```
public struct FakeRequest: Sendable {
    /// The wire format, chosen from the request path.
    public let wire: FakeWire
    /// The request path, without the query string.
    public let path: String
    /// The request headers, with lower-cased names; repeated headers are joined with `, `.
    public let headers: [String: String]
    /// The decoded query string (e.g. Gemini's `?key=`).
    public let query: [String: String]
    /// The raw request body.
    public let body: Data
    /// The model: from the body, or from the URL path for Gemini.
    public let model: String
    /// The system prompt: OpenAI/Ollama system (or developer) messages, Anthropic `system`,
    /// Gemini `systemInstruction`. Several are joined with blank lines.
    public let system: String?
    /// The non-system turns, in order, roles normalised to `user`/`assistant`.
    public let messages: [FakeMessage]
    /// The sampling temperature, if sent.
    public let temperature: Double?
    /// `max_completion_tokens`/`max_tokens` (OpenAI), `max_tokens` (Anthropic),
    /// `generationConfig.maxOutputTokens` (Gemini), `options.num_predict` (Ollama).
    public let maxTokens: Int?
    /// `seed` (OpenAI), `generationConfig.seed` (Gemini), `options.seed` (Ollama).
    public let seed: Int?
    /// Whether JSON output was requested: OpenAI `response_format` of type `json_object`/`json_schema`,
    /// Anthropic `output_config.format` (or the beta `output_format`) or a tool offered with `tool_choice`,
    /// Gemini `responseMimeType: application/json`, Ollama `format`.
    public let wantsJSON: Bool
    /// Whether token log-probabilities were requested (OpenAI/Ollama `logprobs`,
    /// Gemini `generationConfig.responseLogprobs`).
    public let logprobs: Bool
    /// How many alternatives per token were requested (`top_logprobs`, Gemini `generationConfig.logprobs`).
    public let topLogprobs: Int?
    /// 0-based arrival order of provider requests across the server.
    public let index: Int
    /// The images the turns carried, in order, each checked against its provider's documented shape.
    public var images: [FakeImage] = []

    /// Creates a request by hand, e.g. to call a ``SimulatedJudge`` without a server.
    public init(
        wire: FakeWire = .openai,
        path: String = "/v1/chat/completions",
        headers: [String: String] = [:],
        query: [String: String] = [:],
        body: Data = Data(),
        model: String = "fake-model",
        system: String? = nil,
        messages: [FakeMessage],
        temperature: Double? = nil,
        maxTokens: Int? = nil,
        seed: Int? = nil,
        wantsJSON: Bool = false,
        logprobs: Bool = false,
        topLogprobs: Int? = nil,
        index: Int = 0
    ) {
        self.wire = wire
        self.path = path
        self.headers = headers
        self.query = query
        self.body = body
        self.model = model
        self.system = system
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.wantsJSON = wantsJSON
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.index = index
    }

    /// The text of the last `user` turn, or `""` when there is none.
    public var lastUserText: String {
        messages.last(where: { $0.role == "user" })?.content ?? ""
    }

    /// The system prompt and all turns joined with blank lines: the full prompt as text.
    public var promptText: String {
        ([system].compactMap { $0 } + messages.map(\.content)).joined(separator: "\n\n")
    }

    /// The API key the client sent: `Authorization: Bearer …` (OpenAI, Ollama), `x-api-key` (Anthropic),
    /// `x-goog-api-key` or `?key=` (Gemini).
    public var apiKey: String? {
        if let key = headers["x-api-key"] ?? headers["x-goog-api-key"] ?? query["key"] { return key }
        guard let auth = headers["authorization"] else { return nil }
        let prefix = "bearer "
        return auth.lowercased().hasPrefix(prefix) ? String(auth.dropFirst(prefix.count)) : auth
    }
}

// MARK: - Decoding

/// Why a body could not be decoded; the server answers 400 in the wire's error shape.
struct FakeRequestDecodingError: Error {
    var message: String
}

extension FakeRequest {
    /// Decodes a provider request body for `wire`.
    static func decode(
        wire: FakeWire,
        path: String,
        headers: [String: String],
        query: [String: String],
        body: Data,
        pathModel: String?,
        index: Int
    ) -> Result<FakeRequest, FakeRequestDecodingError> {
        guard let json = try? JSONValue(jsonData: body), case .object = json else {
            return .failure(FakeRequestDecodingError(message: "request body is not a JSON object"))
        }
        var system: [String] = []
        var messages: [FakeMessage] = []
        var temperature: Double?
        var maxTokens: Int?
        var seed: Int?
        var wantsJSON = false
        var logprobs = false
        var topLogprobs: Int?
        var model = json["model"]?.stringValue ?? ""
        var images: [FakeImage] = []
        do {
            images = try FakeImageShapes.images(wire: wire, json: json)
        } catch {
            return .failure(error)
        }

        switch wire {
        case .openai, .ollama:
            for message in json["messages"]?.arrayValue ?? [] {
                let role = message["role"]?.stringValue ?? "user"
                let text = Self.text(of: message["content"])
                if role == "system" || role == "developer" {
                    system.append(text)
                } else {
                    messages.append(FakeMessage(role: Self.normalisedRole(role), content: text))
                }
            }
            if wire == .openai {
                temperature = json["temperature"]?.doubleValue
                maxTokens = (json["max_completion_tokens"] ?? json["max_tokens"])?.intValue
                seed = json["seed"]?.intValue
                let format = json["response_format"]?["type"]?.stringValue
                wantsJSON = format == "json_object" || format == "json_schema"
            } else {
                let options = json["options"]
                temperature = options?["temperature"]?.doubleValue
                maxTokens = options?["num_predict"]?.intValue
                seed = options?["seed"]?.intValue
                if let format = json["format"] {
                    wantsJSON = format != .null && format != .string("")
                }
            }
            logprobs = json["logprobs"]?.boolValue ?? false
            topLogprobs = json["top_logprobs"]?.intValue

        case .anthropic:
            if let value = json["system"] {
                let text = Self.text(of: value)
                if !text.isEmpty { system.append(text) }
            }
            for message in json["messages"]?.arrayValue ?? [] {
                let role = message["role"]?.stringValue ?? "user"
                messages.append(
                    FakeMessage(role: Self.normalisedRole(role), content: Self.text(of: message["content"])))
            }
            temperature = json["temperature"]?.doubleValue
            maxTokens = json["max_tokens"]?.intValue
            // Anthropic has no `response_format`: JSON is asked through `output_config.format`
            // (https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs; `output_format` in the beta)
            // or a tool the model must call (`tool_choice` `tool`/`any`, https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use).
            let format = json["output_config"]?["format"] ?? json["output_format"]
            let choice = json["tool_choice"]?["type"]?.stringValue
            let offersTool = !(json["tools"]?.arrayValue ?? []).isEmpty
            wantsJSON =
                (format != nil && format != .null)
                || (offersTool && (choice == "tool" || choice == "any" || choice == "auto"))

        case .gemini:
            model = pathModel ?? model
            if let instruction = json["systemInstruction"] ?? json["system_instruction"] {
                let text = Self.text(of: instruction["parts"] ?? instruction)
                if !text.isEmpty { system.append(text) }
            }
            for content in json["contents"]?.arrayValue ?? [] {
                let role = content["role"]?.stringValue ?? "user"
                messages.append(FakeMessage(role: Self.normalisedRole(role), content: Self.text(of: content["parts"])))
            }
            let config = json["generationConfig"] ?? json["generation_config"]
            temperature = config?["temperature"]?.doubleValue
            maxTokens = (config?["maxOutputTokens"] ?? config?["max_output_tokens"])?.intValue
            seed = config?["seed"]?.intValue
            let mime = (config?["responseMimeType"] ?? config?["response_mime_type"])?.stringValue
            wantsJSON = mime == "application/json"
            logprobs = (config?["responseLogprobs"] ?? config?["response_logprobs"])?.boolValue ?? false
            topLogprobs = config?["logprobs"]?.intValue
        }

        var request = FakeRequest(
            wire: wire,
            path: path,
            headers: headers,
            query: query,
            body: body,
            model: model,
            system: system.isEmpty ? nil : system.joined(separator: "\n\n"),
            messages: messages,
            temperature: temperature,
            maxTokens: maxTokens,
            seed: seed,
            wantsJSON: wantsJSON,
            logprobs: logprobs,
            topLogprobs: topLogprobs,
            index: index
        )
        request.images = images
        return .success(request)
    }

    static func normalisedRole(_ role: String) -> String {
        switch role {
        case "assistant", "model": "assistant"
        default: "user"
        }
    }

    /// The text of a content value: a string, or an array of parts/blocks with `text` fields.
    static func text(of value: JSONValue?) -> String {
        switch value {
        case .string(let text):
            return text
        case .array(let parts):
            return parts.compactMap { part -> String? in
                if case .string(let text) = part { return text }
                return part["text"]?.stringValue
            }.joined(separator: "\n")
        case .object:
            return value?["text"]?.stringValue ?? ""
        default:
            return ""
        }
    }
}

/// The image shapes each provider documents; anything else in a turn's content is a 400, as the real API answers.
enum FakeImageShapes {
    static func fail(_ m: String) -> FakeRequestDecodingError { FakeRequestDecodingError(message: m) }

    /// Media types the providers document for image input.
    static let mediaTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    static func base64(_ text: String?, _ what: String) throws(FakeRequestDecodingError) -> Data {
        guard let text, !text.hasPrefix("data:"), let data = Data(base64Encoded: text), !data.isEmpty else {
            throw fail("\(what): expected base64 image bytes (no data: prefix)")
        }
        return data
    }

    static func images(wire: FakeWire, json: JSONValue) throws(FakeRequestDecodingError) -> [FakeImage] {
        var out: [FakeImage] = []
        switch wire {
        case .openai:
            // https://platform.openai.com/docs/api-reference/chat/create: a user message's `content` is a string or
            // an array of parts, `{"type": "text", "text"}` or `{"type": "image_url", "image_url": {"url", "detail"?}}`
            // where `url` is an http(s) URL or a `data:<media type>;base64,<bytes>` URL
            // (https://platform.openai.com/docs/guides/images-vision).
            for message in json["messages"]?.arrayValue ?? [] {
                guard case .array(let parts)? = message["content"] else { continue }
                for part in parts {
                    switch part["type"]?.stringValue {
                    case "text"?:
                        guard part["text"]?.stringValue != nil else { throw fail("text part without text") }
                    case "image_url"?:
                        guard let url = part["image_url"]?["url"]?.stringValue else {
                            throw fail("image_url part needs image_url.url")
                        }
                        if url.hasPrefix("data:") {
                            let head = url.prefix { $0 != "," }
                            guard head.hasSuffix(";base64") else { throw fail("image data URL must be base64") }
                            let type = String(head.dropFirst(5).dropLast(7))
                            guard mediaTypes.contains(type) else { throw fail("unsupported image type \(type)") }
                            out.append(
                                FakeImage(
                                    mediaType: type,
                                    bytes: try base64(String(url.dropFirst(head.count + 1)), "image_url")))
                        } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
                            out.append(FakeImage(mediaType: nil, bytes: Data(), url: url))
                        } else {
                            throw fail("image_url.url must be an http(s) or data URL")
                        }
                    default: throw fail("unknown content part type \(part["type"]?.textValue ?? "none")")
                    }
                }
            }
        case .anthropic:
            // https://docs.anthropic.com/en/docs/build-with-claude/vision and https://docs.anthropic.com/en/api/messages:
            // an image block is `{"type": "image", "source": {"type": "base64", "media_type", "data"}}` (media types
            // image/jpeg, image/png, image/gif, image/webp) or `{"type": "url", "url"}`.
            for message in json["messages"]?.arrayValue ?? [] {
                guard case .array(let blocks)? = message["content"] else { continue }
                for block in blocks {
                    switch block["type"]?.stringValue {
                    case "text"?:
                        guard block["text"]?.stringValue != nil else { throw fail("text block without text") }
                    case "image"?:
                        let source = block["source"]
                        switch source?["type"]?.stringValue {
                        case "base64"?:
                            guard let type = source?["media_type"]?.stringValue, mediaTypes.contains(type) else {
                                throw fail(
                                    "messages: image source.media_type must be one of image/jpeg, image/png, image/gif, image/webp"
                                )
                            }
                            out.append(
                                FakeImage(
                                    mediaType: type,
                                    bytes: try base64(source?["data"]?.stringValue, "image source.data")))
                        case "url"?:
                            guard let url = source?["url"]?.stringValue else { throw fail("image source.url missing") }
                            out.append(FakeImage(mediaType: nil, bytes: Data(), url: url))
                        default: throw fail("image source.type must be base64 or url")
                        }
                    default: throw fail("unknown content block type \(block["type"]?.textValue ?? "none")")
                    }
                }
            }
        case .gemini:
            // https://ai.google.dev/api/caching#Part and https://ai.google.dev/gemini-api/docs/image-understanding: a
            // part is `{"text"}` or `{"inline_data": {"mime_type", "data"}}` (REST also takes the camelCase
            // `inlineData`/`mimeType`), the data base64 bytes.
            for content in json["contents"]?.arrayValue ?? [] {
                for part in content["parts"]?.arrayValue ?? [] {
                    if part["text"] != nil { continue }
                    guard let blob = part["inline_data"] ?? part["inlineData"] else {
                        throw fail("a part needs text or inline_data")
                    }
                    guard let type = (blob["mime_type"] ?? blob["mimeType"])?.stringValue, mediaTypes.contains(type)
                    else {
                        throw fail("inline_data.mime_type must be an image type")
                    }
                    out.append(
                        FakeImage(mediaType: type, bytes: try base64(blob["data"]?.stringValue, "inline_data.data")))
                }
            }
        case .ollama:
            // https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-images: a message's `content`
            // is a string and its images a list of base64 strings in `images`.
            for message in json["messages"]?.arrayValue ?? [] {
                if let content = message["content"], content.stringValue == nil, !content.isNull {
                    throw fail("message content must be a string")
                }
                guard let list = message["images"] else { continue }
                guard case .array(let items) = list else { throw fail("images must be a list of base64 strings") }
                for item in items {
                    out.append(FakeImage(mediaType: nil, bytes: try base64(item.stringValue, "images[]")))
                }
            }
        }
        return out
    }
}
