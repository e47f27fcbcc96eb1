import Foundation
import Yams

extension YAMLMap {
    /// Whether `key` is present with a plain `null` / `~` value (which turns a default off).
    func isNull(_ key: String) -> Bool {
        guard let n = node(key), n.null != nil, let scalar = n.scalar, scalar.style == .plain else { return false }
        return scalar.string == "null" || scalar.string == "~" || scalar.string == "Null" || scalar.string == "NULL"
    }
}

extension JudgeConfig {
    /// The model family's documented traits (``ModelRules``).
    package var traits: ModelTraits {
        ModelRules.traits(provider: provider, model: model, thinking: thinkingBudget != nil)
    }

    /// The output-token limit when the panel file sets none: judgepanel's 512, raised where a model spends
    /// output tokens on reasoning before it answers (OpenAI reasoning models, Gemini 2.5 thinking models, and
    /// Anthropic thinking, whose `max_tokens` must exceed `budget_tokens`).
    static func defaultMaxTokens(provider: ProviderKind, model: String, thinkingBudget: Int?) -> Int {
        if let thinkingBudget { return thinkingBudget + 1024 }
        let name = model.lowercased()
        if (provider == .openai || provider == .azure) && ModelRules.isOpenAIReasoning(name) { return 4096 }
        if provider == .gemini && name.contains("gemini-2.5") { return 4096 }
        return 512
    }
}

extension Panel {
    /// Reads a judge's wire settings (reasoning controls, `headers`, `extra_body`, `omit`, `ctx_size`, Azure) and
    /// checks them against the model rule table: a value written in the panel file that the model is documented
    /// to reject is an error naming the judge and the field, never a silent change.
    static func parseWire(_ j: YAMLMap, into config: inout JudgeConfig, environment: [String: String]) throws {
        let name = config.name
        for field in ["temperature", "max_tokens", "seed"] where j.node(field) != nil && !j.isNull(field) {
            config.explicitFields.insert(field)
        }
        if let effort = try j.string("reasoning_effort") {
            guard config.provider == .openai || config.provider == .azure else {
                throw j.error(
                    "reasoning_effort",
                    "judge '\(name)': reasoning_effort is an OpenAI setting (use thinking: for anthropic, thinking_budget: for gemini)"
                )
            }
            config.reasoningEffort = effort
        }
        if let thinking = j.node("thinking"), !j.isNull("thinking") {
            guard config.provider == .anthropic else {
                throw j.error("thinking", "judge '\(name)': thinking: {budget_tokens} is an Anthropic setting")
            }
            if thinking.bool == false {
                config.thinkingBudget = nil
            } else {
                let t = try YAMLMap(node: thinking, file: j.file, context: "'thinking'")
                try t.rejectUnknown(["budget_tokens", "type"], context: "thinking")
                guard let budget = try t.int("budget_tokens") else {
                    throw j.error("thinking", "judge '\(name)': thinking needs budget_tokens (at least 1024)")
                }
                // https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking: budget_tokens ≥ 1024 and
                // less than max_tokens.
                guard budget >= 1024 else {
                    throw j.error("thinking", "judge '\(name)': thinking budget_tokens must be at least 1024")
                }
                config.thinkingBudget = budget
            }
        }
        if let budget = try j.int("thinking_budget") {
            guard config.provider == .gemini else {
                throw j.error(
                    "thinking_budget",
                    "judge '\(name)': thinking_budget is a Gemini setting (anthropic: thinking: {budget_tokens})")
            }
            config.geminiThinkingBudget = budget
        }
        if let h = try j.map("headers") {
            for key in h.keys {
                guard let value = try h.string(key) else { continue }
                let lower = key.lowercased()
                guard !["authorization", "x-api-key", "x-goog-api-key", "api-key"].contains(lower) else {
                    throw j.error("headers", "judge '\(name)': keys come from api_key_env, never from headers (\(key))")
                }
                config.headers[key] = expand(value, environment)
            }
        }
        if let body = j.node("extra_body"), !j.isNull("extra_body") {
            let value = json(body)
            guard case .object = value else {
                throw j.error("extra_body", "judge '\(name)': extra_body must be a mapping")
            }
            config.extraBody = value
        }
        if let omit = try j.stringList("omit") { config.omit = Set(omit) }
        if j.node("ctx_size") != nil, config.provider != .llamacpp {
            guard config.provider == .ollama else {
                throw j.error("ctx_size", "judge '\(name)': ctx_size applies to ollama and llamacpp judges")
            }
            config.ctxSize = try j.int("ctx_size")
        }
        if config.provider == .azure {
            guard let endpoint = try j.string("endpoint").map({ expand($0, environment) }),
                let url = URL(string: endpoint), url.scheme == "https" || url.scheme == "http"
            else {
                throw j.error(
                    "provider", "judge '\(name)': provider azure needs 'endpoint: https://RESOURCE.openai.azure.com'")
            }
            guard let deployment = try j.string("deployment") else {
                throw j.error("provider", "judge '\(name)': provider azure needs 'deployment'")
            }
            guard let version = try j.string("api_version") else {
                throw j.error("provider", "judge '\(name)': provider azure needs 'api_version' (e.g. 2024-10-21)")
            }
            var root = endpoint
            while root.hasSuffix("/") { root.removeLast() }
            // https://learn.microsoft.com/azure/ai-services/openai/reference:
            // POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version={version}, `api-key` header.
            let escaped = deployment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? deployment
            config.baseURLs = ["\(root)/openai/deployments/\(escaped)"]
            config.azureAPIVersion = version
            if config.model.isEmpty { config.model = deployment }
        } else {
            for key in ["endpoint", "deployment", "api_version"] where j.node(key) != nil {
                throw j.error(key, "judge '\(name)': '\(key)' applies to provider azure only")
            }
        }
        // The rule table: an explicit value the model is documented to reject is an error at start-up.
        let traits = config.traits
        if config.explicitFields.contains("temperature"), let t = config.temperature, t != 1,
            traits.rejectsSampling.contains("temperature")
        {
            throw j.error(
                "temperature",
                "judge '\(name)': model '\(config.model)' does not accept temperature \(t) (\(traits.source)); remove it or write 'temperature: null'"
            )
        }
        if !config.explicitFields.contains("max_tokens") {
            let d = JudgeConfig.defaultMaxTokens(
                provider: config.provider, model: config.model, thinkingBudget: config.thinkingBudget)
            if config.maxTokens != nil { config.maxTokens = d }
        } else if let budget = config.thinkingBudget, let m = config.maxTokens, m <= budget {
            throw j.error(
                "max_tokens", "judge '\(name)': max_tokens (\(m)) must exceed thinking budget_tokens (\(budget))")
        }
    }

    /// A YAML node as JSON (mappings, sequences, null, booleans, numbers, strings).
    static func json(_ node: Node) -> JSONValue {
        if let m = node.mapping {
            var o: [String: JSONValue] = [:]
            for (k, v) in m { if let key = k.string { o[key] = json(v) } }
            return .object(o)
        }
        if let s = node.sequence { return .array(s.map(json)) }
        guard let scalar = node.scalar else { return .null }
        if scalar.style == .plain {
            if node.null != nil { return .null }
            if let b = node.bool { return .bool(b) }
            if let i = node.int { return .number(Double(i)) }
            if let f = node.float { return .number(f) }
        }
        return .string(scalar.string)
    }
}

/// Builds the request a judge sends: the panel's settings, the model rule table and what the judge's server
/// asked for during this run (``JudgeAdjustments``).
package enum RequestBuilder {
    package static func request(
        config: JudgeConfig, messages: [ChatMessage], jsonSchema: JSONValue?, sample: Int,
        adjustments: JudgeAdjustments? = nil, maxTokensFloor: Int? = nil
    ) -> CompletionRequest {
        let traits = config.traits
        // `cond ? schema : nil` infers `nil` as JSONValue.null (ExpressibleByNilLiteral): a null schema is none.
        var schema = jsonSchema
        if schema?.isNull == true { schema = .none }
        var request = CompletionRequest(
            model: config.model, messages: messages, temperature: config.temperature,
            maxTokens: config.maxTokens.map { max($0, maxTokensFloor ?? 0) }, seed: config.seed.map { $0 + sample },
            jsonSchema: schema, topLogprobs: config.topLogprobs)
        // A sampling default the model rejects is left out (an explicit one was refused at load time).
        if let t = request.temperature, t != 1, traits.rejectsSampling.contains("temperature") {
            request.temperature = nil
        }
        // llama.cpp's server computes no probabilities at temperature 0 and reports 1.0 for the greedy token;
        // a negative temperature is the same greedy decoding with the probabilities of a plain softmax of the
        // logits (https://github.com/ggml-org/llama.cpp/tree/master/tools/server README, `/completion`:
        // "If temperature is negative, tokens are sampled greedily but the probabilities are calculated").
        if config.provider == .llamacpp, let n = request.topLogprobs {
            if request.temperature == 0 { request.temperature = -1 }
            // A short top-k list often holds one verdict label only, which renormalises to P = 1.0: read at least
            // 20 alternatives at the verdict position (llama.cpp's `n_probs` has no small cap).
            request.topLogprobs = max(n, 20)
        }
        var wire = WireSettings(
            reasoningEffort: config.reasoningEffort, thinkingBudget: config.thinkingBudget,
            geminiThinkingBudget: config.geminiThinkingBudget, headers: config.headers, extraBody: config.extraBody,
            omit: config.omit, tokenLimitField: traits.usesMaxCompletionTokens ? "max_completion_tokens" : "max_tokens",
            numCtx: nil, azureAPIVersion: config.azureAPIVersion)
        for field in config.omit {
            switch field {
            case "temperature": request.temperature = nil
            case "max_tokens", "max_completion_tokens": request.maxTokens = nil
            case "seed": request.seed = nil
            case "logprobs", "top_logprobs": request.topLogprobs = nil
            default: break
            }
        }
        if config.provider == .ollama { wire.numCtx = config.ctxSize }  // nil: sized from each request's prompt
        request.wire = wire
        return adjustments?.apply(request) ?? request
    }
}

/// Ollama's context window for a request.
package enum OllamaContext {
    /// Ollama's documented default context when `num_ctx` is not sent
    /// (https://github.com/ollama/ollama/blob/main/docs/faq.md "How can I specify the context window size?").
    package static let defaultNumCtx = 2048

    /// Generous prompt-token estimate: 1 token per 3 UTF-8 bytes plus 8 per message (chat-template tokens).
    package static func generousPromptTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + ($1.content.utf8.count + 2) / 3 + 8 }
    }

    /// A conservative lower bound of the prompt's tokens (1 per 6 UTF-8 bytes): a server that reports fewer
    /// evaluated prompt tokens than this cut the prompt.
    package static func minimumPromptTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + $1.content.utf8.count / 6 }
    }

    /// `num_ctx`: the judge's `ctx_size`, or the prompt estimate plus the output limit, rounded up to a multiple
    /// of 1024 and never below Ollama's default.
    package static func numCtx(for request: CompletionRequest, configured: Int?) -> Int {
        if let configured { return configured }
        let needed = generousPromptTokens(request.messages) + (request.maxTokens ?? 512)
        return max(defaultNumCtx, (needed + 1023) / 1024 * 1024)
    }
}
