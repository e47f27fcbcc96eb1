import Foundation

/// Any OpenAI-compatible chat-completions endpoint: OpenAI, vLLM, llama.cpp's server, Ollama's /v1,
/// LM Studio, OpenRouter.
///
/// ```swift
/// let p = OpenAIProvider(baseURL: URL(string: "https://api.openai.com/v1")!, apiKey: key,
///                        transport: URLSessionTransport())
/// ```
public struct OpenAIProvider: JudgeProvider {
    public let baseURL: URL
    let apiKey: String?
    let transport: any HTTPTransport

    public init(baseURL: URL, apiKey: String?, transport: any HTTPTransport) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
    }

    func body(_ request: CompletionRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
            "stream": false,
        ]
        if let t = request.temperature { body["temperature"] = .number(t) }
        if let m = request.maxTokens { body["max_tokens"] = .number(Double(m)) }
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
        return .object(body)
    }

    public func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        var headers = ["content-type": "application/json"]
        if let apiKey, !apiKey.isEmpty { headers["authorization"] = "Bearer \(apiKey)" }
        let url = baseURL.appendingPathComponent("chat/completions")
        let response = try await transport.send(
            HTTPRequest(url: url, headers: headers, body: body(request).data, timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        return try Self.parse(response.body)
    }

    static func parse(_ data: Data) throws -> CompletionResponse {
        let json = try JSONValue.decodeBody(data)
        if let err = json["error"], !err.isNull {
            throw ProviderError(kind: .server, message: "provider error: \(err["message"]?.textValue ?? err.textValue)")
        }
        guard let choice = json["choices"]?[0], let message = choice["message"] else {
            throw ProviderError.badResponse("no choices[0].message")
        }
        let text = message["content"]?.stringValue ?? ""
        var usage: TokenUsage?
        if let u = json["usage"], let p = u["prompt_tokens"]?.intValue {
            usage = TokenUsage(promptTokens: p, completionTokens: u["completion_tokens"]?.intValue ?? 0)
        }
        var logprobs: [TokenLogprob]?
        if let content = choice["logprobs"]?["content"]?.arrayValue {
            logprobs = TokenLogprob.parseOpenAIStyle(content)
        }
        return CompletionResponse(
            text: text, usage: usage, logprobs: logprobs, finishReason: choice["finish_reason"]?.stringValue)
    }
}
