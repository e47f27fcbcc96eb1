import Foundation
import JudgePanelCore

/// Any OpenAI-compatible chat-completions endpoint: OpenAI, vLLM, llama.cpp's server, Ollama's /v1,
/// LM Studio, OpenRouter.
///
/// ```swift
/// let p = OpenAIProvider(baseURL: URL(string: "https://api.openai.com/v1")!, apiKey: key,
///                        transport: try AsyncHTTPClientTransport())
/// ```
package struct OpenAIProvider: JudgeProvider {
    package let baseURL: URL
    package let apiKey: String?
    package let transport: any HTTPTransport

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
    }

    package func body(_ request: CompletionRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(
                request.messages.map { ["role": .string($0.role.rawValue), "content": ImageWire.openAIContent($0)] }),
            "stream": false,
        ]
        if let t = request.temperature { body["temperature"] = .number(t) }
        // Reasoning models take `max_completion_tokens` (https://platform.openai.com/docs/api-reference/chat/create).
        if let m = request.maxTokens { body[request.wire.tokenLimitField] = .number(Double(m)) }
        if let effort = request.wire.reasoningEffort { body["reasoning_effort"] = .string(effort) }
        if let s = request.seed { body["seed"] = .number(Double(s)) }
        if let schema = request.jsonSchema {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": "judgement", "strict": true, "schema": schema],
            ]
        }
        if let n = request.topLogprobs {
            body["logprobs"] = true
            body["top_logprobs"] = .number(Double(n))
        }
        return request.wire.finish(.object(body))
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        var headers = ["content-type": "application/json"]
        var url = baseURL.appendingPathComponent("chat/completions")
        if let version = request.wire.azureAPIVersion {
            // Azure OpenAI: `?api-version=` and the key in an `api-key` header
            // (https://learn.microsoft.com/azure/ai-services/openai/reference#chat-completions).
            if let apiKey, !apiKey.isEmpty { headers["api-key"] = apiKey }
            var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
            parts?.queryItems = [URLQueryItem(name: "api-version", value: version)]
            url = parts?.url ?? url
        } else if let apiKey, !apiKey.isEmpty {
            headers["authorization"] = "Bearer \(apiKey)"
        }
        let response = try await transport.send(
            HTTPRequest(
                url: url, headers: request.wire.finish(headers: headers), body: body(request).data, timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        return try Self.parse(response.body)
    }

    /// Reads a chat-completion body (also a batch result line's `body`).
    package static func parse(_ data: Data) throws -> CompletionResponse {
        let reply = try ReplyDecoding.decode(Reply.self, from: data)
        if let err = reply.error, !err.isNull {
            throw ProviderError(kind: .server, message: "provider error: \(err["message"]?.textValue ?? err.textValue)")
        }
        guard let choice = reply.choices?.first, let message = choice.message else {
            throw ProviderError.badResponse("no choices[0].message")
        }
        let text = message.content ?? ""
        // A refusal comes as `message.refusal` with null content
        // (https://platform.openai.com/docs/guides/structured-outputs#refusals).
        let refusal = message.refusal.flatMap { $0.isEmpty ? nil : $0 }
        var usage: TokenUsage?
        if let u = reply.usage, let p = u.promptTokens {
            // `completion_tokens` includes reasoning tokens; `completion_tokens_details.reasoning_tokens` is the part
            // spent reasoning (https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage).
            usage = TokenUsage(
                promptTokens: p, completionTokens: u.completionTokens ?? 0, reasoningTokens: u.reasoningTokens)
        }
        var logprobs: [TokenLogprob]?
        if let content = choice.logprobs {
            logprobs = OpenAIStyleLogprob.tokens(content)
        }
        var finish = choice.finishReason
        if refusal != nil { finish = "refusal" }
        // llama.cpp's server says `"truncated": true` when it cut the prompt to its context
        // (https://github.com/ggml-org/llama.cpp/tree/master/tools/server README, response fields).
        let truncated = reply.truncated == true || choice.truncated == true
        var out = CompletionResponse(
            text: text, usage: usage, logprobs: logprobs, finishReason: finish, refusal: refusal,
            promptTruncated: truncated ? true : nil)
        // `model` and `system_fingerprint` of the chat completion object
        // (https://platform.openai.com/docs/api-reference/chat/object).
        out.modelVersion = reply.model.flatMap { $0.isEmpty ? nil : $0 }
        out.systemFingerprint = reply.systemFingerprint.flatMap { $0.isEmpty ? nil : $0 }
        return out
    }

    /// The fields of a chat completion the client reads
    /// (https://platform.openai.com/docs/api-reference/chat/object), read leniently (``ReplyFields``).
    package struct Reply: Decodable {
        /// `error`, whatever its shape (an object with `message`, or a string); `null` when the body says null.
        let error: JSONValue?
        /// `choices`, when it is an array.
        let choices: [Choice]?
        let usage: Usage?
        /// llama.cpp's top-level `truncated`.
        let truncated: Bool?
        let model: String?
        let systemFingerprint: String?

        private enum CodingKeys: String, CodingKey {
            case error, choices, usage, truncated, model
            case systemFingerprint = "system_fingerprint"
        }

        package init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            error = try f.present(JSONValue.self, .error)
            choices = try f.array(Choice.self, .choices)
            usage = try f.present(Usage.self, .usage)
            truncated = try f.bool(.truncated)
            model = try f.string(.model)
            systemFingerprint = try f.string(.systemFingerprint)
        }

        struct Choice: Decodable {
            /// `message`, present whatever its shape.
            let message: Message?
            /// `logprobs.content`, when an array.
            let logprobs: [OpenAIStyleLogprob]?
            let finishReason: String?
            let truncated: Bool?

            private enum CodingKeys: String, CodingKey {
                case message, logprobs, truncated
                case finishReason = "finish_reason"
            }

            private enum LogprobsKeys: String, CodingKey { case content }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                message = try f.present(Message.self, .message)
                logprobs = try f.present(Logprobs.self, .logprobs)?.content
                finishReason = try f.string(.finishReason)
                truncated = try f.bool(.truncated)
            }

            struct Logprobs: Decodable {
                let content: [OpenAIStyleLogprob]?
                init(from decoder: any Decoder) throws {
                    content = try ReplyFields<LogprobsKeys>(decoder).array(OpenAIStyleLogprob.self, .content)
                }
            }
        }

        struct Message: Decodable {
            let content: String?
            let refusal: String?

            private enum CodingKeys: String, CodingKey { case content, refusal }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                content = try f.string(.content)
                refusal = try f.string(.refusal)
            }
        }

        struct Usage: Decodable {
            let promptTokens: Int?
            let completionTokens: Int?
            let reasoningTokens: Int?

            private enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
                case details = "completion_tokens_details"
            }

            private enum DetailKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }

            private struct Details: Decodable {
                let reasoningTokens: Int?
                init(from decoder: any Decoder) throws {
                    reasoningTokens = try ReplyFields<DetailKeys>(decoder).int(.reasoningTokens)
                }
            }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                promptTokens = try f.int(.promptTokens)
                completionTokens = try f.int(.completionTokens)
                reasoningTokens = try f.present(Details.self, .details)?.reasoningTokens
            }
        }
    }
}
