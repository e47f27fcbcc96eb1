import Foundation
import JudgePanelCore

/// Per-judge wire settings that travel with every request: reasoning controls, escape hatches (`headers`,
/// `extra_body`, `omit`), Ollama's context size and Azure's API version. Each provider maps what applies to
/// its API and ignores the rest.
public struct WireSettings: Sendable, Hashable {
    /// OpenAI `reasoning_effort` (`minimal`, `low`, `medium`, `high`, …).
    public var reasoningEffort: String?
    /// Anthropic extended thinking: `thinking: {type: enabled, budget_tokens}`.
    public var thinkingBudget: Int?
    /// Gemini `generationConfig.thinkingConfig.thinkingBudget`.
    public var geminiThinkingBudget: Int?
    /// Extra HTTP headers (e.g. OpenRouter's `HTTP-Referer`, `X-Title`); never the key.
    public var headers: [String: String]
    /// A JSON object deep-merged into the request body last (its values win).
    public var extraBody: JSONValue?
    /// Top-level body fields never sent (after every other mapping, before `extraBody`).
    public var omit: Set<String>
    /// OpenAI: the name of the output-token limit field (`max_tokens` or `max_completion_tokens`).
    public var tokenLimitField: String
    /// Ollama `options.num_ctx`.
    public var numCtx: Int?
    /// Azure OpenAI `api-version` query parameter; set, the key goes in an `api-key` header.
    public var azureAPIVersion: String?

    /// Wire settings from their parts; the defaults send nothing extra.
    public init(
        reasoningEffort: String? = nil, thinkingBudget: Int? = nil, geminiThinkingBudget: Int? = nil,
        headers: [String: String] = [:], extraBody: JSONValue? = nil, omit: Set<String> = [],
        tokenLimitField: String = "max_tokens", numCtx: Int? = nil, azureAPIVersion: String? = nil
    ) {
        self.reasoningEffort = reasoningEffort
        self.thinkingBudget = thinkingBudget
        self.geminiThinkingBudget = geminiThinkingBudget
        self.headers = headers
        self.extraBody = extraBody
        self.omit = omit
        self.tokenLimitField = tokenLimitField
        self.numCtx = numCtx
        self.azureAPIVersion = azureAPIVersion
    }

    /// The settings as JSON, for cache keys and fingerprints (headers by name only).
    package var fingerprint: JSONValue {
        var o: [String: JSONValue] = ["token_limit_field": .string(tokenLimitField)]
        if let reasoningEffort { o["reasoning_effort"] = .string(reasoningEffort) }
        if let thinkingBudget { o["thinking_budget"] = .number(Double(thinkingBudget)) }
        if let geminiThinkingBudget { o["gemini_thinking_budget"] = .number(Double(geminiThinkingBudget)) }
        if !headers.isEmpty { o["headers"] = .array(headers.keys.sorted().map { .string($0) }) }
        if let extraBody { o["extra_body"] = extraBody }
        if !omit.isEmpty { o["omit"] = .array(omit.sorted().map { .string($0) }) }
        if let numCtx { o["num_ctx"] = .number(Double(numCtx)) }
        if let azureAPIVersion { o["api_version"] = .string(azureAPIVersion) }
        return .object(o)
    }

    /// Applies `omit` and then `extraBody` to a provider's body.
    package func finish(_ body: JSONValue) -> JSONValue {
        guard case .object(var o) = body else { return body }
        for key in omit { o[key] = nil }
        let merged = JSONValue.object(o)
        return extraBody.map { Self.deepMerge(merged, $0) } ?? merged
    }

    /// Adds `headers` to a provider's headers; a header judgepanel sets for the key is never replaced.
    package func finish(headers base: [String: String]) -> [String: String] {
        var out = base
        let protected: Set<String> = ["authorization", "x-api-key", "x-goog-api-key", "api-key"]
        for (k, v) in headers where !protected.contains(k.lowercased()) { out[k.lowercased()] = v }
        return out
    }

    /// `patch` merged into `base`: objects recursively, anything else replaced; `null` removes a key.
    static func deepMerge(_ base: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(var o) = base, case .object(let p) = patch else { return patch }
        for (k, v) in p {
            if v.isNull {
                o[k] = nil
            } else if let existing = o[k] {
                o[k] = deepMerge(existing, v)
            } else {
                o[k] = v
            }
        }
        return .object(o)
    }
}
