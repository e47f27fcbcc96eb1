import Foundation
import JudgePanelCore

/// Ollama's native chat API (`POST {base}/api/chat`, non-streaming).
///
/// Messages keep their roles (`system`, `user`, `assistant`). Sampling goes to `options` (`temperature`,
/// `num_predict`, `seed`). Structured output sends the JSON schema itself as `format` (Ollama constrains decoding
/// to it). Log-probabilities use the top-level `logprobs: true` / `top_logprobs: N` and are read from the reply's
/// top-level `logprobs[]` (`token`, `logprob`, `top_logprobs[]`); servers too old to know them simply omit them,
/// leaving ``CompletionResponse/logprobs`` nil. An API key, when given (e.g. for ollama.com), is sent as a bearer
/// token. `done_reason` (`stop`, `length`, …) is passed through.
///
/// ```swift
/// let p = OllamaProvider(baseURL: URL(string: "http://127.0.0.1:11434")!, apiKey: nil,
///                        transport: try AsyncHTTPClientTransport())
/// let reply = try await p.complete(
///     CompletionRequest(model: "qwen3:8b", messages: [.user("Score 1-10: …")], temperature: 0, seed: 7),
///     timeout: 120)
/// print(reply.text)
/// ```
package struct OllamaProvider: JudgeProvider {
    /// The server root, e.g. `http://127.0.0.1:11434` (a trailing `/api` is tolerated).
    package let baseURL: URL
    package let apiKey: String?
    package let transport: any HTTPTransport

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
    }

    /// The endpoint: `{base}/api/chat`.
    package var endpoint: URL {
        var root = baseURL.absoluteString
        while root.hasSuffix("/") { root.removeLast() }
        let path = root.hasSuffix("/api") ? "/chat" : "/api/chat"
        return URL(string: root + path) ?? baseURL.appendingPathComponent("api/chat")
    }

    package func body(_ request: CompletionRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(
                request.messages.map { ImageWire.ollamaMessage($0) }),
            "stream": false,
        ]
        var options: [String: JSONValue] = [:]
        if let t = request.temperature { options["temperature"] = .number(t) }
        if let m = request.maxTokens { options["num_predict"] = .number(Double(m)) }
        if let s = request.seed { options["seed"] = .number(Double(s)) }
        // Without `num_ctx` Ollama uses its default context and silently cuts longer prompts
        // (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion, `options`;
        // https://github.com/ollama/ollama/blob/main/docs/faq.md#how-can-i-specify-the-context-window-size).
        options["num_ctx"] = .number(Double(numCtx(request)))
        body["options"] = .object(options)
        if let schema = request.jsonSchema { body["format"] = schema }
        if let n = request.topLogprobs {
            body["logprobs"] = true
            body["top_logprobs"] = .number(Double(max(n, 0)))
        }
        return request.wire.finish(.object(body))
    }

    /// The context window sent: the judge's `ctx_size`, else sized from the prompt (``OllamaContext``).
    package func numCtx(_ request: CompletionRequest) -> Int {
        request.wire.numCtx ?? OllamaContext.numCtx(for: request, configured: nil)
    }

    package func headers() -> [String: String] {
        var headers = ["content-type": "application/json"]
        if let apiKey, !apiKey.isEmpty { headers["authorization"] = "Bearer \(apiKey)" }
        return headers
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        let response = try await transport.send(
            HTTPRequest(
                url: endpoint, headers: request.wire.finish(headers: headers()), body: body(request).data,
                timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        let body = try ReplyDecoding.decode(Reply.self, from: response.body)
        var reply = try Self.parse(body)
        // `prompt_eval_count` is the number of prompt tokens evaluated, cached ones included (Ollama's
        // llm/llama_server.go: CacheN + PromptN, https://github.com/ollama/ollama/pull/16428). When Ollama cut the
        // prompt to `num_ctx` it fills the whole window, or is below the prompt's size. Versions that reported
        // only newly evaluated tokens give `prompt_eval_cached_count` beside it, so the size check adds it back
        // (an absent count, as on a fully cached prompt in old versions, is not checked). Such a reply is never
        // scored.
        if let evaluated = body.promptEvalCount, evaluated > 0 {
            let cached = body.promptEvalCachedCount ?? 0
            if evaluated >= numCtx(request)
                || evaluated + cached < OllamaContext.minimumPromptTokens(request.messages)
            {
                reply.promptTruncated = true
            }
        }
        return reply
    }

    /// Reads a `/api/chat` body.
    package static func parse(_ data: Data) throws -> CompletionResponse {
        try parse(ReplyDecoding.decode(Reply.self, from: data))
    }

    package static func parse(_ reply: Reply) throws -> CompletionResponse {
        if let err = reply.error, !err.isNull {
            throw ProviderError(kind: .server, message: "provider error: \(err["message"]?.textValue ?? err.textValue)")
        }
        guard let message = reply.message, let text = message.content else {
            throw ProviderError.badResponse("no message.content in Ollama reply")
        }
        var usage: TokenUsage?
        let prompt = reply.promptEvalCount
        let completion = reply.evalCount
        if prompt != nil || completion != nil {
            usage = TokenUsage(promptTokens: prompt ?? 0, completionTokens: completion ?? 0)
        }
        var logprobs: [TokenLogprob]?
        if let entries = reply.logprobs {
            logprobs = OpenAIStyleLogprob.tokens(entries)
        }
        var out = CompletionResponse(text: text, usage: usage, logprobs: logprobs, finishReason: reply.doneReason)
        // `model` of the `/api/chat` reply (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion).
        out.modelVersion = reply.model.flatMap { $0.isEmpty ? nil : $0 }
        return out
    }

    /// The fields of a non-streaming `/api/chat` reply the client reads
    /// (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion), read leniently
    /// (``ReplyFields``).
    package struct Reply: Decodable {
        /// `error`, whatever its shape; `null` when the body says null.
        let error: JSONValue?
        /// `message`, present whatever its shape.
        let message: Message?
        let promptEvalCount: Int?
        let promptEvalCachedCount: Int?
        let evalCount: Int?
        /// Top-level `logprobs`, when an array.
        let logprobs: [OpenAIStyleLogprob]?
        let doneReason: String?
        let model: String?

        private enum CodingKeys: String, CodingKey {
            case error, message, logprobs, model
            case promptEvalCount = "prompt_eval_count"
            case promptEvalCachedCount = "prompt_eval_cached_count"
            case evalCount = "eval_count"
            case doneReason = "done_reason"
        }

        package init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            error = try f.present(JSONValue.self, .error)
            message = try f.present(Message.self, .message)
            promptEvalCount = try f.int(.promptEvalCount)
            promptEvalCachedCount = try f.int(.promptEvalCachedCount)
            evalCount = try f.int(.evalCount)
            logprobs = try f.array(OpenAIStyleLogprob.self, .logprobs)
            doneReason = try f.string(.doneReason)
            model = try f.string(.model)
        }

        struct Message: Decodable {
            let content: String?

            private enum CodingKeys: String, CodingKey { case content }

            init(from decoder: any Decoder) throws {
                content = try ReplyFields<CodingKeys>(decoder).string(.content)
            }
        }
    }
}
