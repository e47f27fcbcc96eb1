import Foundation
import JudgePanelCore

/// Anthropic's Messages API (`POST {base}/v1/messages`).
///
/// System messages are joined (blank line between) into the top-level `system` string; the other turns go to
/// `messages`. `max_tokens` is required by the API, so it defaults to 1024 when the request leaves it unset.
/// Anthropic has no `seed` and no log-probabilities: `seed` is not sent and replies carry `logprobs == nil`.
///
/// Structured output (``CompletionRequest/jsonSchema``) uses one of two documented mechanisms:
/// - ``StructuredOutput/forcedTool`` (default, works on every Claude model): a single tool named `judgement`
///   whose `input_schema` is the schema, forced with `tool_choice: {type: tool, name: judgement}`. The reply's
///   `tool_use` block `input` comes back as compact JSON text. The schema must describe an object
///   (`input_schema` is always an object schema).
/// - ``StructuredOutput/outputConfig``: constrained decoding through `output_config.format`
///   (`{type: json_schema, schema}`) on models that support it; the JSON arrives as a text block.
///
/// `stop_reason` is normalised: `end_turn`, `stop_sequence` and `tool_use` → `stop`, `max_tokens` → `length`;
/// anything else (e.g. `refusal`, https://docs.anthropic.com/en/api/handling-stop-reasons) passes through.
/// Extended thinking (``WireSettings/thinkingBudget``) sends `thinking: {type: enabled, budget_tokens}`; thinking
/// blocks are not part of the text, and their tokens are in `output_tokens` (billed as output).
///
/// ```swift
/// let p = AnthropicProvider(baseURL: URL(string: "https://api.anthropic.com")!, apiKey: key,
///                           transport: try AsyncHTTPClientTransport())
/// let reply = try await p.complete(
///     CompletionRequest(model: "claude-sonnet-4-5", messages: [.system("You are a judge."), .user("Rate: …")]),
///     timeout: 60)
/// print(reply.text, reply.usage?.completionTokens ?? 0)
/// ```
package struct AnthropicProvider: JudgeProvider {
    /// How a JSON schema is enforced.
    package enum StructuredOutput: String, Sendable, Hashable {
        /// A forced tool call whose `input_schema` is the schema (every model).
        case forcedTool
        /// `output_config.format` constrained decoding (newer models only).
        case outputConfig
    }

    /// The API version header sent with every request.
    package static let apiVersion = "2023-06-01"
    /// `max_tokens` when the request does not set one.
    package static let defaultMaxTokens = 1024
    /// The name of the forced tool in ``StructuredOutput/forcedTool`` mode.
    package static let toolName = "judgement"

    /// The API root, e.g. `https://api.anthropic.com` (a trailing `/v1` is tolerated).
    package let baseURL: URL
    package let apiKey: String?
    package let transport: any HTTPTransport
    /// How ``CompletionRequest/jsonSchema`` is enforced; ``StructuredOutput/forcedTool`` by default.
    package var structuredOutput: StructuredOutput = .forcedTool

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
    }

    /// The endpoint: `{base}/v1/messages`.
    package var endpoint: URL {
        let trimmed =
            baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        let path = trimmed.hasSuffix("/v1") ? "/messages" : "/v1/messages"
        return URL(string: trimmed + path) ?? baseURL.appendingPathComponent("v1/messages")
    }

    package func body(_ request: CompletionRequest) -> JSONValue {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        let turns: [JSONValue] = request.messages.filter { $0.role != .system }.map {
            ["role": .string($0.role == .assistant ? "assistant" : "user"), "content": ImageWire.anthropicContent($0)]
        }
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "max_tokens": .number(Double(request.maxTokens ?? Self.defaultMaxTokens)),
            "messages": .array(turns),
        ]
        if !system.isEmpty { body["system"] = .string(system) }
        if let t = request.temperature { body["temperature"] = .number(t) }
        if let budget = request.wire.thinkingBudget {
            body["thinking"] = ["type": "enabled", "budget_tokens": .number(Double(budget))]
        }
        if let schema = request.jsonSchema {
            switch structuredOutput {
            case .forcedTool:
                body["tools"] = [
                    [
                        "name": .string(Self.toolName),
                        "description": "Record the judgement in the required structure.",
                        "input_schema": schema,
                    ]
                ]
                // Extended thinking rejects a forced tool ("Thinking may not be enabled when tool_choice forces
                // tool use"); with thinking on the tool is offered with `tool_choice: auto`, the documented mode
                // that works with thinking, and a JSON answer in text is read as well
                // (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#extended-thinking-with-tool-use).
                body["tool_choice"] =
                    request.wire.thinkingBudget == nil
                    ? ["type": "tool", "name": .string(Self.toolName)] : ["type": "auto"]
            case .outputConfig:
                body["output_config"] = ["format": ["type": "json_schema", "schema": schema]]
            }
        }
        return request.wire.finish(.object(body))
    }

    package func headers() -> [String: String] {
        var headers = ["content-type": "application/json", "anthropic-version": Self.apiVersion]
        if let apiKey, !apiKey.isEmpty { headers["x-api-key"] = apiKey }
        return headers
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        let response = try await transport.send(
            HTTPRequest(
                url: endpoint, headers: request.wire.finish(headers: headers()), body: body(request).data,
                timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        return try Self.parse(response.body)
    }

    /// Reads a Messages API body (also a batch result's `message`).
    package static func parse(_ data: Data) throws -> CompletionResponse {
        let reply = try ReplyDecoding.decode(Reply.self, from: data)
        if reply.type == "error" || (reply.error.map { !$0.isNull } ?? false) {
            let err = reply.error ?? .null
            let kind = err["type"]?.stringValue.map { "\($0): " } ?? ""
            throw ProviderError(
                kind: .server, message: "provider error: \(kind)\(err["message"]?.textValue ?? err.textValue)")
        }
        guard let blocks = reply.content else {
            throw ProviderError.badResponse("no content[] in Anthropic reply")
        }
        let text: String
        if let tool = blocks.first(where: { $0.type == "tool_use" }), let input = tool.input {
            text = input.textValue
        } else {
            text = blocks.filter { $0.type == "text" }.compactMap(\.text).joined()
        }
        var usage: TokenUsage?
        if let u = reply.usage, let input = u.inputTokens {
            // Cached prompt tokens are reported apart from `input_tokens`; the prompt is all three.
            let cached = (u.cacheCreationInputTokens ?? 0) + (u.cacheReadInputTokens ?? 0)
            usage = TokenUsage(promptTokens: input + cached, completionTokens: u.outputTokens ?? 0)
        }
        let finish = reply.stopReason.map { reason -> String in
            switch reason {
            case "end_turn", "stop_sequence", "tool_use": return "stop"
            case "max_tokens": return "length"
            default: return reason
            }
        }
        var out = CompletionResponse(text: text, usage: usage, logprobs: nil, finishReason: finish)
        // `model`: "The model that handled the request" (https://docs.anthropic.com/en/api/messages).
        out.modelVersion = reply.model.flatMap { $0.isEmpty ? nil : $0 }
        return out
    }

    /// The fields of a Messages API reply the client reads (https://docs.anthropic.com/en/api/messages), read
    /// leniently (``ReplyFields``).
    package struct Reply: Decodable {
        let type: String?
        /// `error`, whatever its shape; `null` when the body says null.
        let error: JSONValue?
        /// `content`, when it is an array.
        let content: [Block]?
        let usage: Usage?
        let stopReason: String?
        let model: String?

        private enum CodingKeys: String, CodingKey {
            case type, error, content, usage, model
            case stopReason = "stop_reason"
        }

        package init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            type = try f.string(.type)
            error = try f.present(JSONValue.self, .error)
            content = try f.array(Block.self, .content)
            usage = try f.present(Usage.self, .usage)
            stopReason = try f.string(.stopReason)
            model = try f.string(.model)
        }

        /// A content block: `text`, or `tool_use` with its `input` (kept as JSON: the answer is its compact text).
        struct Block: Decodable {
            let type: String?
            let text: String?
            let input: JSONValue?

            private enum CodingKeys: String, CodingKey { case type, text, input }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                type = try f.string(.type)
                text = try f.string(.text)
                input = try f.present(JSONValue.self, .input)
            }
        }

        struct Usage: Decodable {
            let inputTokens: Int?
            let outputTokens: Int?
            let cacheCreationInputTokens: Int?
            let cacheReadInputTokens: Int?

            private enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
                case cacheCreationInputTokens = "cache_creation_input_tokens"
                case cacheReadInputTokens = "cache_read_input_tokens"
            }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                inputTokens = try f.int(.inputTokens)
                outputTokens = try f.int(.outputTokens)
                cacheCreationInputTokens = try f.int(.cacheCreationInputTokens)
                cacheReadInputTokens = try f.int(.cacheReadInputTokens)
            }
        }
    }
}
