import Foundation
import JudgePanel

/// The request rules each provider documents, which ``FakeProviderServer`` enforces before a request reaches
/// its handler, answering violations with the provider's documented error JSON (the handler is not called, the
/// request is still recorded and counted). Use ``none`` to turn them off.
///
/// ```swift
/// var rules = FakeAPIRules.documented
/// rules.geminiLogprobsEnabled = { _ in false }      // every Gemini model refuses logprobs
/// let server = FakeProviderServer(rules: rules) { _ in .text("[[A]]") }
/// ```
public struct FakeAPIRules: Sendable {
    /// Whether an OpenAI model is a reasoning model (rejects `max_tokens`, non-default `temperature`/`top_p`,
    /// and logprobs). Default: o1/o3/o4/codex-mini/gpt-5 names, not gpt-5-chat.
    public var openAIReasoningModel: @Sendable (String) -> Bool
    /// Whether a Gemini model offers logprobs. Default: all but `gemini-2.5-pro*` and `*thinking*` models.
    public var geminiLogprobsEnabled: @Sendable (String) -> Bool
    /// Whether any rule is enforced.
    public var enabled: Bool

    /// Creates rules.
    public init(
        openAIReasoningModel: @escaping @Sendable (String) -> Bool = FakeAPIRules.isOpenAIReasoning,
        geminiLogprobsEnabled: @escaping @Sendable (String) -> Bool = {
            !($0.hasPrefix("gemini-2.5-pro") || $0.contains("thinking"))
        },
        enabled: Bool = true
    ) {
        self.openAIReasoningModel = openAIReasoningModel
        self.geminiLogprobsEnabled = geminiLogprobsEnabled
        self.enabled = enabled
    }

    /// The rules as documented (the default of every server).
    public static let documented = FakeAPIRules()
    /// No rule enforced.
    public static let none = FakeAPIRules(enabled: false)

    /// Reasoning tokens the fake reports for a reasoning request (OpenAI reasoning model, Anthropic thinking,
    /// Gemini `thinkingBudget` > 0), on top of the reply's own tokens.
    public static let reasoningTokens = 64

    /// o1, o3, o4-mini, codex-mini, gpt-5 (not gpt-5-chat) and their dated snapshots.
    @Sendable public static func isOpenAIReasoning(_ model: String) -> Bool {
        let name = model.lowercased()
        for prefix in ["o1", "o3", "o4"] where name == prefix || name.hasPrefix(prefix + "-") { return true }
        return name.hasPrefix("codex-mini") || (name.hasPrefix("gpt-5") && !name.contains("-chat"))
    }

    /// The documented error for a request that breaks a rule, or nil.
    func violation(_ request: FakeRequest) -> RenderedReply? {
        guard enabled, let body = try? JSONValue(jsonData: request.body) else { return nil }
        switch request.wire {
        case .openai: return openAI(request, body)
        case .anthropic: return anthropic(request, body)
        case .gemini: return gemini(request, body)
        case .ollama: return nil
        }
    }

    private func reply(_ status: Int, _ json: JSONValue) -> RenderedReply {
        .response(status: status, headers: WireRenderer.jsonHeaders, body: json.encoded())
    }

    // https://platform.openai.com/docs/guides/reasoning (reasoning models take `max_completion_tokens`; sampling
    // parameters are not supported) and https://platform.openai.com/docs/guides/error-codes (error object:
    // message, type, param, code). The exact messages are the API's.
    private func openAI(_ request: FakeRequest, _ body: JSONValue) -> RenderedReply? {
        guard openAIReasoningModel(request.model) else { return nil }
        func error(_ status: Int, _ message: String, param: String?, code: String?) -> RenderedReply {
            reply(
                status,
                [
                    "error": [
                        "message": .string(message), "type": "invalid_request_error",
                        "param": param.map { .string($0) } ?? .null, "code": code.map { .string($0) } ?? .null,
                    ]
                ])
        }
        if body["max_tokens"] != nil {
            return error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                param: "max_tokens", code: "unsupported_parameter")
        }
        for field in ["temperature", "top_p"] {
            if let v = body[field]?.doubleValue, v != 1 {
                let shown = v == v.rounded() ? String(Int(v)) : String(v)
                return error(
                    400,
                    "Unsupported value: '\(field)' does not support \(shown) with this model. Only the default (1) value is supported.",
                    param: field, code: "unsupported_value")
            }
        }
        if body["logprobs"]?.boolValue == true {
            return error(403, "You are not allowed to request logprobs from this model", param: nil, code: nil)
        }
        return nil
    }

    // https://docs.anthropic.com/en/api/versioning (the `anthropic-version` header is required),
    // https://docs.anthropic.com/en/api/messages (`max_tokens` required; non-empty content),
    // https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking (no forced tool, no temperature,
    // budget_tokens < max_tokens), https://docs.anthropic.com/en/api/errors (error shape).
    private func anthropic(_ request: FakeRequest, _ body: JSONValue) -> RenderedReply? {
        func error(_ message: String) -> RenderedReply {
            reply(
                400,
                ["type": "error", "error": ["type": "invalid_request_error", "message": .string(message)]])
        }
        if request.headers["anthropic-version"] == nil { return error("anthropic-version: header is required") }
        guard let maxTokens = body["max_tokens"]?.intValue else { return error("max_tokens: Field required") }
        let messages = body["messages"]?.arrayValue ?? []
        for (i, m) in messages.enumerated() {
            let isFinalAssistant = i == messages.count - 1 && m["role"]?.stringValue == "assistant"
            // An image block is content too (https://docs.anthropic.com/en/docs/build-with-claude/vision).
            let hasBlocks = (m["content"]?.arrayValue ?? []).contains { $0["type"]?.stringValue != "text" }
            if FakeRequest.text(of: m["content"]).isEmpty && !hasBlocks && !isFinalAssistant {
                return error(
                    "messages.\(i): all messages must have non-empty content except for the optional final assistant message"
                )
            }
        }
        if body["thinking"]?["type"]?.stringValue == "enabled" {
            let type = body["tool_choice"]?["type"]?.stringValue
            if type == "tool" || type == "any" {
                return error("Thinking may not be enabled when tool_choice forces tool use.")
            }
            if let t = body["temperature"]?.doubleValue, t != 1 {
                return error("`temperature` may only be set to 1 when thinking is enabled.")
            }
            if let budget = body["thinking"]?["budget_tokens"]?.intValue, budget >= maxTokens {
                return error("`max_tokens` must be greater than `thinking.budget_tokens`.")
            }
        }
        return nil
    }

    // https://ai.google.dev/api/generate-content and https://ai.google.dev/gemini-api/docs/troubleshooting
    // (400 INVALID_ARGUMENT in the google.rpc.Status shape): empty text parts are rejected; logprobs only where
    // the model offers them.
    private func gemini(_ request: FakeRequest, _ body: JSONValue) -> RenderedReply? {
        func error(_ message: String) -> RenderedReply {
            reply(400, ["error": ["code": 400, "message": .string(message), "status": "INVALID_ARGUMENT"]])
        }
        for content in body["contents"]?.arrayValue ?? [] {
            for part in content["parts"]?.arrayValue ?? [] where part["text"]?.stringValue == "" {
                return error(
                    "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again."
                )
            }
        }
        let config = body["generationConfig"]
        if config?["responseLogprobs"]?.boolValue == true, !geminiLogprobsEnabled(request.model) {
            return error("Logprobs is not enabled for models/\(request.model)")
        }
        return nil
    }
}

extension FakeRequest {
    /// The request body as JSON (nil when it is not JSON).
    var json: JSONValue? { try? JSONValue(jsonData: body) }
}
