import Foundation
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

// MARK: - Capturing transport

/// Records every request and answers each with the same canned response.
actor ProviderWireCapturingTransport: HTTPTransport {
    private(set) var requests: [HTTPRequest] = []
    let reply: HTTPResponse

    init(_ reply: HTTPResponse) { self.reply = reply }

    init(status: Int = 200, headers: [String: String] = ["content-type": "application/json"], json: String) {
        reply = HTTPResponse(status: status, headers: headers, body: Data(json.utf8))
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.append(request)
        return reply
    }

    var last: HTTPRequest? { requests.last }
}

let providerWireSecret = "sk-test-SECRET-0123456789"

private func bodyJSON(_ request: HTTPRequest?) throws -> JSONValue {
    let data = try #require(request?.body)
    return try JSONDecoder().decode(JSONValue.self, from: data)
}

private func bodyText(_ request: HTTPRequest?) -> String {
    String(decoding: request?.body ?? Data(), as: UTF8.self)
}

/// A judge request touching every field a wire format maps.
private let judgeSchema: JSONValue = [
    "type": "object",
    "additionalProperties": false,
    "properties": [
        "reasoning": ["type": "string"],
        "verdict": ["type": "string", "enum": ["A", "B", "tie"]],
    ],
    "required": ["verdict", "reasoning"],
]

private func fullRequest(model: String, schema: JSONValue? = judgeSchema, topLogprobs: Int? = 5) -> CompletionRequest {
    CompletionRequest(
        model: model,
        messages: [
            .system("You are a strict judge."),
            .system("Answer in JSON."),
            .user("Which answer is better?"),
            .assistant("Let me think."),
            .user("Decide now."),
        ],
        temperature: 0.25, maxTokens: 256, seed: 42, jsonSchema: schema, topLogprobs: topLogprobs)
}

private func expectProviderError(
    _ kind: ProviderError.Kind, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> ProviderError? {
    do {
        try await body()
        Issue.record("expected ProviderError(\(kind)), got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as ProviderError {
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        #expect(!e.message.contains(providerWireSecret), sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected ProviderError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - Shared error classification

enum ProviderWireUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case openai, anthropic, gemini, ollama

    func provider(_ transport: any HTTPTransport) -> any JudgeProvider {
        switch self {
        case .openai:
            OpenAIProvider(
                baseURL: URL(string: "https://api.openai.com/v1")!, apiKey: providerWireSecret, transport: transport)
        case .anthropic:
            AnthropicProvider(
                baseURL: URL(string: "https://api.anthropic.com")!, apiKey: providerWireSecret, transport: transport)
        case .gemini:
            GeminiProvider(
                baseURL: URL(string: "https://generativelanguage.googleapis.com")!, apiKey: providerWireSecret,
                transport: transport)
        case .ollama:
            OllamaProvider(
                baseURL: URL(string: "http://127.0.0.1:11434")!, apiKey: providerWireSecret, transport: transport)
        }
    }

    var testDescription: String { rawValue }
}

@Suite("Provider wire formats: error classification")
struct ProviderErrorClassificationTests {
    @Test("429 with Retry-After is rateLimited with retryAfter", arguments: ProviderWireUnderTest.allCases)
    func rateLimited(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(
            status: 429, headers: ["retry-after": "7", "content-type": "application/json"],
            json: #"{"error": {"message": "slow down"}}"#)
        let e = await expectProviderError(.rateLimited) {
            _ = try await wire.provider(transport).complete(
                CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
        #expect(e?.retryAfter == 7)
        #expect(e?.status == 429)
        #expect(e?.isRetryable == true)
    }

    @Test("500 is a retryable server error", arguments: ProviderWireUnderTest.allCases)
    func serverError(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(status: 500, json: #"{"error": "boom"}"#)
        let e = await expectProviderError(.server) {
            _ = try await wire.provider(transport).complete(
                CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
        #expect(e?.status == 500)
        #expect(e?.isRetryable == true)
    }

    @Test("400 is a non-retryable client error", arguments: ProviderWireUnderTest.allCases)
    func clientError(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(status: 400, json: #"{"error": "bad"}"#)
        let e = await expectProviderError(.client) {
            _ = try await wire.provider(transport).complete(
                CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
        #expect(e?.isRetryable == false)
    }

    @Test("a 200 with a garbage body is a retryable badResponse", arguments: ProviderWireUnderTest.allCases)
    func garbage(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(
            HTTPResponse(status: 200, body: Data("<html>\u{1}not json".utf8) + Data([0xFF, 0xFE])))
        let e = await expectProviderError(.badResponse) {
            _ = try await wire.provider(transport).complete(
                CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
        #expect(e?.isRetryable == true)
    }

    @Test("a 200 JSON body without the expected fields is badResponse", arguments: ProviderWireUnderTest.allCases)
    func missingFields(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(json: #"{"id": "x", "unexpected": true}"#)
        _ = await expectProviderError(.badResponse) {
            _ = try await wire.provider(transport).complete(
                CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
    }

    @Test("the key is sent in a header and never in the body", arguments: ProviderWireUnderTest.allCases)
    func keyOnlyInHeader(_ wire: ProviderWireUnderTest) async throws {
        let transport = ProviderWireCapturingTransport(status: 500, json: "{}")
        _ = try? await wire.provider(transport).complete(fullRequest(model: "m"), timeout: 5)
        let request = try #require(await transport.last)
        #expect(!bodyText(request).contains(providerWireSecret))
        #expect(!request.url.absoluteString.contains(providerWireSecret))
        #expect(request.headers.values.contains { $0.contains(providerWireSecret) })
        #expect(request.method == "POST")
        #expect(request.timeout == 5)
        #expect(request.headers["content-type"] == "application/json")
    }
}

// MARK: - OpenAI

@Suite("OpenAI chat completions wire")
struct OpenAIWireTests {
    @Test func requestShape() async throws {
        let transport = ProviderWireCapturingTransport(status: 500, json: "{}")
        let p = OpenAIProvider(
            baseURL: URL(string: "https://api.openai.com/v1")!, apiKey: providerWireSecret, transport: transport)
        _ = try? await p.complete(fullRequest(model: "gpt-4o-mini"), timeout: 30)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "https://api.openai.com/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer \(providerWireSecret)")
        let body = try bodyJSON(request)
        #expect(body["model"] == "gpt-4o-mini")
        #expect(body["stream"] == false)
        #expect(body["temperature"] == 0.25)
        #expect(body["max_tokens"] == 256)
        #expect(body["seed"] == 42)
        #expect(body["logprobs"] == true)
        #expect(body["top_logprobs"] == 5)
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["system", "system", "user", "assistant", "user"])
        #expect(messages[2]["content"] == "Which answer is better?")
        #expect(body["response_format"]?["type"] == "json_schema")
        #expect(body["response_format"]?["json_schema"]?["schema"] == judgeSchema)
        #expect(body["response_format"]?["json_schema"]?["strict"] == true)
    }

    @Test func parsesTopLogprobs() throws {
        let json = """
            {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
             "choices": [{"index": 0,
               "message": {"role": "assistant", "content": "A", "refusal": null},
               "logprobs": {"content": [
                 {"token": "A", "logprob": -0.01, "bytes": [65],
                  "top_logprobs": [{"token": "A", "logprob": -0.01, "bytes": [65]},
                                   {"token": "B", "logprob": -4.7, "bytes": [66]}]}],
                 "refusal": null},
               "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 31, "completion_tokens": 1, "total_tokens": 32}}
            """
        let r = try OpenAIProvider.parse(Data(json.utf8))
        #expect(r.text == "A")
        #expect(r.usage == TokenUsage(promptTokens: 31, completionTokens: 1))
        #expect(r.finishReason == "stop")
        let lp = try #require(r.logprobs)
        #expect(lp.count == 1)
        #expect(
            lp[0]
                == TokenLogprob(
                    token: "A", logprob: -0.01,
                    top: [.init(token: "A", logprob: -0.01), .init(token: "B", logprob: -4.7)]))
    }
}

// MARK: - Anthropic

@Suite("Anthropic Messages wire")
struct AnthropicWireTests {
    static let textReply = """
        {"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
         "model": "claude-sonnet-4-5",
         "content": [{"type": "text", "text": "Answer A is better. "}, {"type": "text", "text": "[[A]]"}],
         "stop_reason": "end_turn", "stop_sequence": null,
         "usage": {"input_tokens": 2095, "output_tokens": 503}}
        """

    @Test func requestShape() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.textReply)
        let p = AnthropicProvider(
            baseURL: URL(string: "https://api.anthropic.com")!, apiKey: providerWireSecret, transport: transport)
        _ = try await p.complete(fullRequest(model: "claude-sonnet-4-5"), timeout: 30)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "https://api.anthropic.com/v1/messages")
        #expect(request.headers["x-api-key"] == providerWireSecret)
        #expect(request.headers["anthropic-version"] == "2023-06-01")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["authorization"] == nil)
        let body = try bodyJSON(request)
        #expect(body["model"] == "claude-sonnet-4-5")
        #expect(body["system"] == "You are a strict judge.\n\nAnswer in JSON.")
        #expect(body["max_tokens"] == 256)
        #expect(body["temperature"] == 0.25)
        #expect(body["seed"] == nil)
        #expect(body["logprobs"] == nil)
        #expect(body["top_logprobs"] == nil)
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user"])
        #expect(
            messages.map { $0["content"]?.stringValue ?? "" } == [
                "Which answer is better?", "Let me think.", "Decide now.",
            ])
        // structured output: a forced tool whose input_schema is the schema
        let tools = try #require(body["tools"]?.arrayValue)
        #expect(tools.count == 1)
        #expect(tools[0]["name"] == "judgement")
        #expect(tools[0]["input_schema"] == judgeSchema)
        #expect(body["tool_choice"] == ["type": "tool", "name": "judgement"])
        #expect(body["output_config"] == nil)
        #expect(body["response_format"] == nil)
    }

    @Test func defaultsAndOptionalFields() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.textReply)
        let p = AnthropicProvider(
            baseURL: URL(string: "https://api.anthropic.com/v1/")!, apiKey: nil, transport: transport)
        _ = try await p.complete(CompletionRequest(model: "claude-haiku-4-5", messages: [.user("hi")]), timeout: 5)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "https://api.anthropic.com/v1/messages")
        #expect(request.headers["x-api-key"] == nil)
        let body = try bodyJSON(request)
        #expect(body["max_tokens"] == 1024)
        #expect(body["system"] == nil)
        #expect(body["temperature"] == nil)
        #expect(body["tools"] == nil)
        #expect(body["tool_choice"] == nil)
    }

    @Test func outputConfigMode() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.textReply)
        var p = AnthropicProvider(
            baseURL: URL(string: "https://api.anthropic.com")!, apiKey: providerWireSecret, transport: transport)
        p.structuredOutput = .outputConfig
        _ = try await p.complete(fullRequest(model: "claude-sonnet-4-5"), timeout: 5)
        let body = try bodyJSON(await transport.last)
        #expect(body["output_config"] == ["format": ["type": "json_schema", "schema": judgeSchema]])
        #expect(body["tools"] == nil)
    }

    @Test func parsesTextBlocks() throws {
        let r = try AnthropicProvider.parse(Data(Self.textReply.utf8))
        #expect(r.text == "Answer A is better. [[A]]")
        #expect(r.usage == TokenUsage(promptTokens: 2095, completionTokens: 503))
        #expect(r.finishReason == "stop")
        #expect(r.logprobs == nil)
    }

    @Test func parsesForcedToolUse() throws {
        let json = """
            {"id": "msg_01A", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
             "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "judgement",
                          "input": {"verdict": "B", "reasoning": "B cites its source."}}],
             "stop_reason": "tool_use", "stop_sequence": null,
             "usage": {"input_tokens": 400, "output_tokens": 40,
                       "cache_creation_input_tokens": 0, "cache_read_input_tokens": 100}}
            """
        let r = try AnthropicProvider.parse(Data(json.utf8))
        #expect(try JSONValue.parse(r.text) == ["verdict": "B", "reasoning": "B cites its source."])
        #expect(r.usage == TokenUsage(promptTokens: 500, completionTokens: 40))
        #expect(r.finishReason == "stop")
        #expect(r.logprobs == nil)
    }

    @Test func maxTokensIsLength() throws {
        let json =
            #"{"type": "message", "content": [{"type": "text", "text": "Answer A"}], "stop_reason": "max_tokens", "usage": {"input_tokens": 1, "output_tokens": 2}}"#
        #expect(try AnthropicProvider.parse(Data(json.utf8)).finishReason == "length")
    }

    @Test func errorBodyIn200() async throws {
        let json = #"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#
        let e = await expectProviderError(.server) { _ = try AnthropicProvider.parse(Data(json.utf8)) }
        #expect(e?.message.contains("Overloaded") == true)
    }

    @Test func overloaded529IsServer() async throws {
        let transport = ProviderWireCapturingTransport(
            status: 529, json: #"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#)
        let p = AnthropicProvider(
            baseURL: URL(string: "https://api.anthropic.com")!, apiKey: providerWireSecret, transport: transport)
        _ = await expectProviderError(.server) {
            _ = try await p.complete(CompletionRequest(model: "m", messages: [.user("hi")]), timeout: 5)
        }
    }
}

// MARK: - Gemini

@Suite("Gemini generateContent wire")
struct GeminiWireTests {
    static let reply = """
        {"candidates": [{
           "content": {"role": "model", "parts": [
             {"text": "thinking about it", "thought": true},
             {"text": "{\\"reasoning\\": \\"A is right\\", "}, {"text": "\\"verdict\\": \\"A\\"}"}]},
           "finishReason": "STOP", "index": 0, "avgLogprobs": -0.2,
           "logprobsResult": {
             "topCandidates": [
               {"candidates": [{"token": "{", "tokenId": 2, "logProbability": 0}, {"token": "```", "tokenId": 3, "logProbability": -9.5}]},
               {"candidates": [{"token": "A", "tokenId": 4, "logProbability": -0.105}, {"token": "B", "tokenId": 5, "logProbability": -2.3}]}],
             "chosenCandidates": [{"token": "{", "tokenId": 2}, {"token": "A", "tokenId": 4, "logProbability": -0.105}],
             "logProbabilitySum": -0.105}}],
         "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 18, "thoughtsTokenCount": 7, "totalTokenCount": 145},
         "modelVersion": "gemini-2.5-flash", "responseId": "abc"}
        """

    @Test func requestShape() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.reply)
        let p = GeminiProvider(
            baseURL: URL(string: "https://generativelanguage.googleapis.com")!, apiKey: providerWireSecret,
            transport: transport)
        _ = try await p.complete(fullRequest(model: "gemini-2.5-flash"), timeout: 30)
        let request = try #require(await transport.last)
        #expect(
            request.url.absoluteString
                == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
        #expect(request.url.query == nil)
        #expect(request.headers["x-goog-api-key"] == providerWireSecret)
        #expect(request.headers["authorization"] == nil)
        let body = try bodyJSON(request)
        #expect(body["model"] == nil)
        #expect(body["systemInstruction"] == ["parts": [["text": "You are a strict judge.\n\nAnswer in JSON."]]])
        let contents = try #require(body["contents"]?.arrayValue)
        #expect(contents.map { $0["role"]?.stringValue ?? "" } == ["user", "model", "user"])
        #expect(contents[1]["parts"] == [["text": "Let me think."]])
        let config = try #require(body["generationConfig"])
        #expect(config["temperature"] == 0.25)
        #expect(config["maxOutputTokens"] == 256)
        #expect(config["seed"] == 42)
        #expect(config["responseMimeType"] == "application/json")
        #expect(config["responseLogprobs"] == true)
        #expect(config["logprobs"] == 5)
        let schema = try #require(config["responseSchema"])
        #expect(
            schema
                == [
                    "type": "OBJECT",
                    "properties": [
                        "reasoning": ["type": "STRING"],
                        "verdict": ["type": "STRING", "enum": ["A", "B", "tie"]],
                    ],
                    "required": ["verdict", "reasoning"],
                    "propertyOrdering": ["verdict", "reasoning"],
                ])
    }

    @Test func minimalRequestAndURLForms() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.reply)
        let p = GeminiProvider(baseURL: URL(string: "https://example.test/v1beta/")!, apiKey: nil, transport: transport)
        _ = try await p.complete(
            CompletionRequest(model: "models/gemini-2.0-flash", messages: [.user("hi")], topLogprobs: 50), timeout: 5)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "https://example.test/v1beta/models/gemini-2.0-flash:generateContent")
        #expect(request.headers["x-goog-api-key"] == nil)
        let body = try bodyJSON(request)
        #expect(body["systemInstruction"] == nil)
        #expect(body["generationConfig"] == ["responseLogprobs": true, "logprobs": 20])
    }

    @Test func parsesTextUsageAndLogprobs() throws {
        let r = try GeminiProvider.parse(Data(Self.reply.utf8))
        #expect(r.text == #"{"reasoning": "A is right", "verdict": "A"}"#)
        #expect(r.usage == TokenUsage(promptTokens: 120, completionTokens: 25, reasoningTokens: 7))
        #expect(r.finishReason == "stop")
        let lp = try #require(r.logprobs)
        #expect(
            lp == [
                TokenLogprob(
                    token: "{", logprob: 0, top: [.init(token: "{", logprob: 0), .init(token: "```", logprob: -9.5)]),
                TokenLogprob(
                    token: "A", logprob: -0.105,
                    top: [.init(token: "A", logprob: -0.105), .init(token: "B", logprob: -2.3)]),
            ])
    }

    @Test func noLogprobsWhenAbsent() throws {
        let json =
            #"{"candidates": [{"content": {"parts": [{"text": "[[B]]"}], "role": "model"}, "finishReason": "MAX_TOKENS"}]}"#
        let r = try GeminiProvider.parse(Data(json.utf8))
        #expect(r.text == "[[B]]")
        #expect(r.logprobs == nil)
        #expect(r.usage == nil)
        #expect(r.finishReason == "length")
    }

    /// https://ai.google.dev/api/generate-content#PromptFeedback: a blocked prompt is a content-filter outcome
    /// (recorded as such on the vote), not a retryable fault.
    @Test func blockedPromptIsContentFilter() async throws {
        let json = """
            {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
               {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
             "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash"}
            """
        let transport = ProviderWireCapturingTransport(json: json)
        let p = GeminiProvider(
            baseURL: URL(string: "https://generativelanguage.googleapis.com")!, apiKey: providerWireSecret,
            transport: transport)
        let r = try await p.complete(CompletionRequest(model: "gemini-2.5-flash", messages: [.user("…")]), timeout: 5)
        #expect(r.finishReason == "content_filter")
        #expect(r.refusal?.contains("SAFETY") == true)
        #expect(r.text.isEmpty)
        #expect(r.usage?.promptTokens == 8)
    }

    @Test(arguments: ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"])
    func blockedCandidateIsContentFilter(reason: String) throws {
        let json =
            #"{"candidates": [{"finishReason": "\#(reason)", "index": 0, "safetyRatings": []}], "usageMetadata": {"promptTokenCount": 8}}"#
        let r = try GeminiProvider.parse(Data(json.utf8))
        #expect(r.finishReason == "content_filter")
        #expect(r.refusal?.contains(reason) == true)
    }

    @Test func noCandidatesIsBadResponse() async throws {
        _ = await expectProviderError(.badResponse) { _ = try GeminiProvider.parse(Data(#"{"candidates": []}"#.utf8)) }
    }

    @Test func googleErrorBodyOn429() async throws {
        let json = """
            {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED",
              "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]}}
            """
        let transport = ProviderWireCapturingTransport(status: 429, headers: ["retry-after": "3"], json: json)
        let p = GeminiProvider(
            baseURL: URL(string: "https://generativelanguage.googleapis.com")!, apiKey: providerWireSecret,
            transport: transport)
        let e = await expectProviderError(.rateLimited) {
            _ = try await p.complete(CompletionRequest(model: "gemini-2.5-flash", messages: [.user("hi")]), timeout: 5)
        }
        #expect(e?.retryAfter == 3)
    }

    @Test func schemaConversion() throws {
        let schema: JSONValue = [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Judgement",
            "type": "object",
            "additionalProperties": false,
            "$defs": [
                "Verdict": ["type": "string", "enum": ["A", "B"], "description": "winner"],
                "Criterion": [
                    "type": "object", "additionalProperties": false,
                    "properties": ["name": ["type": "string"], "ok": ["type": "boolean"]],
                    "required": ["name", "ok"],
                ],
            ],
            "properties": [
                "verdict": ["$ref": "#/$defs/Verdict"],
                "score": ["type": "integer", "enum": [1, 2, 3, 4, 5]],
                "confidence": ["type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1, "format": "double"],
                "note": ["anyOf": [["type": "string"], ["type": "null"]], "description": "optional"],
                "criteria": ["type": "array", "uniqueItems": true, "items": ["$ref": "#/$defs/Criterion"]],
                "kind": ["const": "pairwise"],
            ],
            "required": ["score", "verdict"],
        ]
        let g = GeminiProvider.geminiSchema(schema)
        #expect(g["$schema"] == nil)
        #expect(g["$defs"] == nil)
        #expect(g["additionalProperties"] == nil)
        #expect(g["type"] == "OBJECT")
        #expect(g["title"] == "Judgement")
        #expect(g["required"] == ["score", "verdict"])
        #expect(g["propertyOrdering"] == ["score", "verdict", "confidence", "criteria", "kind", "note"])
        let p = try #require(g["properties"])
        #expect(p["verdict"] == ["type": "STRING", "enum": ["A", "B"], "description": "winner"])
        #expect(p["score"] == ["type": "INTEGER", "minimum": 1, "maximum": 5])
        #expect(p["confidence"] == ["type": "NUMBER", "nullable": true, "minimum": 0, "maximum": 1])
        #expect(p["note"] == ["type": "STRING", "nullable": true, "description": "optional"])
        #expect(
            p["criteria"]
                == [
                    "type": "ARRAY",
                    "items": [
                        "type": "OBJECT",
                        "properties": ["name": ["type": "STRING"], "ok": ["type": "BOOLEAN"]],
                        "required": ["name", "ok"],
                        "propertyOrdering": ["name", "ok"],
                    ],
                ])
        #expect(p["kind"] == ["type": "STRING", "enum": ["pairwise"]])
    }

    @Test func schemaConversionKeepsUnionsAndStopsRecursion() {
        let schema: JSONValue = [
            "$defs": ["Node": ["type": "object", "properties": ["child": ["$ref": "#/$defs/Node"]]]],
            "type": "object",
            "properties": [
                "value": ["oneOf": [["type": "string"], ["type": "integer"]]],
                "tree": ["$ref": "#/$defs/Node"],
            ],
        ]
        let g = GeminiProvider.geminiSchema(schema)
        #expect(g["properties"]?["value"] == ["anyOf": [["type": "STRING"], ["type": "INTEGER"]]])
        // a recursive reference is expanded to a bounded depth, never forever
        var node = g["properties"]?["tree"]
        var depth = 0
        while let child = node?["properties"]?["child"] {
            node = child
            depth += 1
        }
        #expect(depth > 2 && depth < 30)
    }
}

// MARK: - Ollama

@Suite("Ollama native chat wire")
struct OllamaWireTests {
    static let reply = """
        {"model": "qwen3:8b", "created_at": "2025-11-20T10:00:00.000Z",
         "message": {"role": "assistant", "content": "{\\"verdict\\": \\"tie\\"}"},
         "done": true, "done_reason": "stop",
         "total_duration": 5191566416, "load_duration": 2154458, "prompt_eval_count": 26,
         "prompt_eval_duration": 383809000, "eval_count": 6, "eval_duration": 4799921000,
         "logprobs": [
           {"token": "{\\"", "logprob": -0.0002, "bytes": [123, 34],
            "top_logprobs": [{"token": "{\\"", "logprob": -0.0002, "bytes": [123, 34]}, {"token": "{", "logprob": -8.6, "bytes": [123]}]},
           {"token": "verdict", "logprob": -0.01, "bytes": [118], "top_logprobs": []}]}
        """

    @Test func requestShape() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.reply)
        let p = OllamaProvider(
            baseURL: URL(string: "http://127.0.0.1:11434")!, apiKey: providerWireSecret, transport: transport)
        _ = try await p.complete(fullRequest(model: "qwen3:8b"), timeout: 30)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "http://127.0.0.1:11434/api/chat")
        #expect(request.headers["authorization"] == "Bearer \(providerWireSecret)")
        let body = try bodyJSON(request)
        #expect(body["model"] == "qwen3:8b")
        #expect(body["stream"] == false)
        #expect(body["format"] == judgeSchema)
        // num_ctx sized from the prompt: (bytes + 2) / 3 + 8 per message, plus num_predict, rounded up to 1024,
        // never below Ollama's default 2048.
        #expect(body["options"] == ["temperature": 0.25, "num_predict": 256, "seed": 42, "num_ctx": 2048])
        #expect(body["logprobs"] == true)
        #expect(body["top_logprobs"] == 5)
        #expect(body["temperature"] == nil)
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["system", "system", "user", "assistant", "user"])
        #expect(messages[0]["content"] == "You are a strict judge.")
    }

    @Test func minimalRequest() async throws {
        let transport = ProviderWireCapturingTransport(json: Self.reply)
        let p = OllamaProvider(baseURL: URL(string: "http://localhost:11434/")!, apiKey: nil, transport: transport)
        _ = try await p.complete(CompletionRequest(model: "llama3.2", messages: [.user("hi")]), timeout: 5)
        let request = try #require(await transport.last)
        #expect(request.url.absoluteString == "http://localhost:11434/api/chat")
        #expect(request.headers["authorization"] == nil)
        let body = try bodyJSON(request)
        #expect(body["options"] == ["num_ctx": 2048])
        #expect(body["format"] == nil)
        #expect(body["logprobs"] == nil)
        #expect(body["top_logprobs"] == nil)
    }

    @Test func parsesTextUsageAndLogprobs() throws {
        let r = try OllamaProvider.parse(Data(Self.reply.utf8))
        #expect(r.text == #"{"verdict": "tie"}"#)
        #expect(r.usage == TokenUsage(promptTokens: 26, completionTokens: 6))
        #expect(r.finishReason == "stop")
        #expect(
            r.logprobs == [
                TokenLogprob(
                    token: "{\"", logprob: -0.0002,
                    top: [.init(token: "{\"", logprob: -0.0002), .init(token: "{", logprob: -8.6)]),
                TokenLogprob(token: "verdict", logprob: -0.01, top: []),
            ])
    }

    @Test func noLogprobsWhenAbsent() throws {
        let json =
            #"{"model": "m", "message": {"role": "assistant", "content": "[[A]]"}, "done": true, "done_reason": "length", "eval_count": 3}"#
        let r = try OllamaProvider.parse(Data(json.utf8))
        #expect(r.logprobs == nil)
        #expect(r.finishReason == "length")
        #expect(r.usage == TokenUsage(promptTokens: 0, completionTokens: 3))
    }

    @Test func errorBody() async throws {
        let e = await expectProviderError(.server) {
            _ = try OllamaProvider.parse(Data(#"{"error": "model runner has unexpectedly stopped"}"#.utf8))
        }
        #expect(e?.message.contains("unexpectedly stopped") == true)

        let transport = ProviderWireCapturingTransport(
            status: 404, json: #"{"error": "model \"nope\" not found, try pulling it first"}"#)
        let p = OllamaProvider(baseURL: URL(string: "http://127.0.0.1:11434")!, apiKey: nil, transport: transport)
        let notFound = await expectProviderError(.client) {
            _ = try await p.complete(CompletionRequest(model: "nope", messages: [.user("hi")]), timeout: 5)
        }
        #expect(notFound?.status == 404)
        #expect(notFound?.message.contains("not found") == true)
    }
}
