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
            "messages": .array(request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
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

    package static func parse(_ data: Data) throws -> CompletionResponse {
        let json = try JSONValue.decodeBody(data)
        if let err = json["error"], !err.isNull {
            throw ProviderError(kind: .server, message: "provider error: \(err["message"]?.textValue ?? err.textValue)")
        }
        guard let choice = json["choices"]?[0], let message = choice["message"] else {
            throw ProviderError.badResponse("no choices[0].message")
        }
        let text = message["content"]?.stringValue ?? ""
        // A refusal comes as `message.refusal` with null content
        // (https://platform.openai.com/docs/guides/structured-outputs#refusals).
        let refusal = message["refusal"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        var usage: TokenUsage?
        if let u = json["usage"], let p = u["prompt_tokens"]?.intValue {
            // `completion_tokens` includes reasoning tokens; `completion_tokens_details.reasoning_tokens` is the part
            // spent reasoning (https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage).
            usage = TokenUsage(
                promptTokens: p, completionTokens: u["completion_tokens"]?.intValue ?? 0,
                reasoningTokens: u["completion_tokens_details"]?["reasoning_tokens"]?.intValue)
        }
        var logprobs: [TokenLogprob]?
        if let content = choice["logprobs"]?["content"]?.arrayValue {
            logprobs = TokenLogprob.parseOpenAIStyle(content)
        }
        var finish = choice["finish_reason"]?.stringValue
        if refusal != nil { finish = "refusal" }
        // llama.cpp's server says `"truncated": true` when it cut the prompt to its context
        // (https://github.com/ggml-org/llama.cpp/tree/master/tools/server README, response fields).
        let truncated = json["truncated"]?.boolValue == true || choice["truncated"]?.boolValue == true
        return CompletionResponse(
            text: text, usage: usage, logprobs: logprobs, finishReason: finish, refusal: refusal,
            promptTruncated: truncated ? true : nil)
    }
}
