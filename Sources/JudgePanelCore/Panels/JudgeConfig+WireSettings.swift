import Foundation
import Yams

extension YAMLMap {
    /// Whether `key` is present with a plain `null` / `~` value (which turns a default off).
    package func isNull(_ key: String) -> Bool {
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
    package static func defaultMaxTokens(provider: ProviderKind, model: String, thinkingBudget: Int?) -> Int {
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
    package static func json(_ node: Node) -> JSONValue {
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
