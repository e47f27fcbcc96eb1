import Foundation
import Yams

/// Which wire format a judge speaks.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    /// Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp, Ollama /v1, LM Studio, OpenRouter).
    case openai
    /// Anthropic Messages API.
    case anthropic
    /// Google Gemini `generateContent`.
    case gemini
    /// Ollama's native `/api/chat`.
    case ollama
    /// A local GGUF model served by a `llama-server` that judgepanel starts and stops.
    case llamacpp
    /// Azure OpenAI (`endpoint`, `deployment`, `api_version`; key in the `api-key` header).
    case azure
}

/// Prices per million tokens.
public struct Price: Sendable, Hashable, Codable {
    /// Dollars per million input tokens.
    public var inputPerMTok: Double
    /// Dollars per million output tokens.
    public var outputPerMTok: Double

    /// A price per million tokens.
    public init(inputPerMTok: Double, outputPerMTok: Double) {
        self.inputPerMTok = inputPerMTok
        self.outputPerMTok = outputPerMTok
    }

    /// The dollars a call with these token counts costs.
    public func cost(promptTokens: Int, completionTokens: Int) -> Double {
        (Double(promptTokens) * inputPerMTok + Double(completionTokens) * outputPerMTok) / 1_000_000
    }
}

/// Settings for a `llamacpp` judge: the model file and how to serve it.
public struct LlamaCppSettings: Sendable, Hashable {
    /// Path of the GGUF model file.
    public var gguf: String
    /// Path of the `llama-server` binary (default: found on PATH or under `JUDGEPANEL_HOME`).
    public var server: String?
    /// Parallel slots (`--parallel`).
    public var parallel: Int
    /// Context size in tokens (`--ctx-size`).
    public var contextSize: Int
    /// CPU threads (`--threads`), nil for the server's default.
    public var threads: Int?
    /// A chat template name (`--chat-template`).
    public var chatTemplate: String?
    /// Further arguments for the server.
    public var extraArgs: [String]

    /// Settings for a local `llama-server`.
    public init(
        gguf: String, server: String? = nil, parallel: Int = 2, contextSize: Int = 4096, threads: Int? = nil,
        chatTemplate: String? = nil, extraArgs: [String] = []
    ) {
        self.gguf = gguf
        self.server = server
        self.parallel = parallel
        self.contextSize = contextSize
        self.threads = threads
        self.chatTemplate = chatTemplate
        self.extraArgs = extraArgs
    }
}

/// One judge of a panel.
///
/// ```swift
/// let judge = JudgeConfig(name: "gpt", provider: .openai, model: "gpt-4o-mini",
///                         baseURLs: ["https://api.openai.com/v1"], apiKeyEnv: "OPENAI_API_KEY")
/// ```
public struct JudgeConfig: Sendable, Hashable {
    /// The judge's name, unique in the panel.
    public var name: String
    /// Which wire format the judge speaks.
    public var provider: ProviderKind
    /// The model name sent to the provider.
    public var model: String
    /// The base URLs; more than one spreads calls over replicas.
    public var baseURLs: [String]
    /// The model family (for self-preference probes).
    public var family: String?
    /// The environment variable holding the API key.
    public var apiKeyEnv: String?
    /// Sampling temperature; nil leaves it to the provider.
    public var temperature: Double?
    /// The output-token limit; nil leaves it to the provider.
    public var maxTokens: Int?
    /// The sampling seed, where the provider accepts one.
    public var seed: Int?
    /// Calls in flight at once for this judge.
    public var concurrency: Int
    /// Requests per minute allowed, nil for no limit.
    public var rpm: Double?
    /// Tokens per minute allowed, nil for no limit.
    public var tpm: Double?
    /// The judge's price, for cost figures.
    public var price: Price?
    /// The judge's weight under `weighted` aggregation.
    public var weight: Double
    /// Seconds a call may take.
    public var timeoutSeconds: Double
    /// Retries of a failed call.
    public var retries: Int
    /// Ask for a JSON-schema-constrained answer where the provider supports it.
    public var structuredOutput: Bool
    /// Request this many top log-probabilities per token (nil: none).
    public var topLogprobs: Int?
    /// Independent samples per call (distinct cache entries when temperature > 0).
    public var samples: Int
    /// Settings of the judge's local server (`llamacpp` judges).
    public var llamacpp: LlamaCppSettings?
    /// The share taken off `price` for requests sent through the provider's batch API (`batch_discount`, default 0.5:
    /// batch requests cost half).
    public var batchDiscount: Double = 0.5

    // Wire settings (reasoning controls, escape hatches, Ollama context, Azure): see JudgeConfig+Wire.swift.
    /// OpenAI `reasoning_effort`.
    public var reasoningEffort: String?
    /// Anthropic extended thinking budget (`thinking: {budget_tokens}`).
    public var thinkingBudget: Int?
    /// Gemini `thinkingConfig.thinkingBudget`.
    public var geminiThinkingBudget: Int?
    /// Extra HTTP headers sent with every request.
    public var headers: [String: String] = [:]
    /// A JSON object deep-merged into every request body.
    public var extraBody: JSONValue?
    /// Body fields never sent (`temperature`, `seed`, …).
    public var omit: Set<String> = []
    /// Ollama `num_ctx` (or llama.cpp's `--ctx-size`); nil sizes Ollama's context from the prompt.
    public var ctxSize: Int?
    /// Azure OpenAI `api-version`, for `provider: azure`.
    public var azureAPIVersion: String?
    /// Sampling fields the panel file set explicitly (never changed silently).
    public var explicitFields: Set<String> = []
    /// Whether the model accepts images (`vision: true|false`); nil: judged by the table of known text-only models
    /// (`VisionSupport`). An item with images is refused at start-up for a judge that cannot see them.
    public var vision: Bool?

    /// A judge from its settings; the defaults match the panel file's.
    public init(
        name: String, provider: ProviderKind = .openai, model: String, baseURLs: [String] = [], family: String? = nil,
        apiKeyEnv: String? = nil, temperature: Double? = 0, maxTokens: Int? = 512, seed: Int? = nil,
        concurrency: Int = 8, rpm: Double? = nil, tpm: Double? = nil, price: Price? = nil, weight: Double = 1,
        timeoutSeconds: Double = 120, retries: Int = 5, structuredOutput: Bool = false, topLogprobs: Int? = nil,
        samples: Int = 1, llamacpp: LlamaCppSettings? = nil
    ) {
        self.name = name
        self.provider = provider
        self.model = model
        self.baseURLs = baseURLs
        self.family = family
        self.apiKeyEnv = apiKeyEnv
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.concurrency = concurrency
        self.rpm = rpm
        self.tpm = tpm
        self.price = price
        self.weight = weight
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.structuredOutput = structuredOutput
        self.topLogprobs = topLogprobs
        self.samples = samples
        self.llamacpp = llamacpp
    }

    /// The default base URL of each provider.
    public static func defaultBaseURL(_ kind: ProviderKind) -> String? {
        switch kind {
        case .openai: return "https://api.openai.com/v1"
        case .anthropic: return "https://api.anthropic.com"
        case .gemini: return "https://generativelanguage.googleapis.com"
        case .ollama: return "http://127.0.0.1:11434"
        case .llamacpp, .azure: return nil
        }
    }

    /// The secrets this judge's settings hold: its key variables' values in `environment`, its `headers` values, and
    /// the credentials written in its base URLs (user, password, `key=`-style query values).
    package func secrets(environment: [String: String]) -> [String] {
        keyVariables.compactMap { environment[$0] } + headers.values + baseURLs.flatMap(SecretScrubber.urlSecrets)
    }

    /// The environment variables consulted for the key, in order.
    public var keyVariables: [String] {
        if let apiKeyEnv { return [apiKeyEnv] }
        switch provider {
        case .openai: return ["OPENAI_API_KEY"]
        case .anthropic: return ["ANTHROPIC_API_KEY"]
        case .gemini: return ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
        case .azure: return ["AZURE_OPENAI_API_KEY"]
        case .ollama, .llamacpp: return []
        }
    }
}

/// A panel of judges and how their votes are reconciled. Loaded from `panels/*.yaml`.
///
/// ```swift
/// let panel = try Panel.load(path: "panels/local.yaml")
/// print(panel.judges.map(\.name), panel.aggregate)
/// ```
public struct Panel: Sendable, Hashable {
    /// The panel file `version:` this build reads.
    public static let supportedVersion = 1

    /// The judges, in panel order.
    public var judges: [JudgeConfig]
    /// How the judges' verdicts are combined.
    public var aggregate: AggregationMethod
    /// Whether pairwise items are asked in both orders.
    public var swap: Bool
    /// What a judge whose two orders disagree counts as.
    public var flip: FlipPolicy
    /// The file the panel was loaded from.
    public var source: String?
    /// Cascade tiers (judge names, cheapest first), from `tiers:`; nil when the panel has none.
    public var tiers: [[String]]? = nil
    /// When a cascade tier escalates an item, from `escalate:`.
    public var escalate = EscalationRule()
    /// When adaptive pointwise runs stop, from `adaptive:`; nil runs pointwise rubrics with the full panel.
    public var scoreStopping: ScoreStopping? = nil

    /// A panel from its judges and settings (``Panel/load(path:environment:)`` reads one from a file).
    public init(
        judges: [JudgeConfig], aggregate: AggregationMethod = .majority, swap: Bool = true, flip: FlipPolicy = .tie,
        source: String? = nil
    ) {
        self.judges = judges
        self.aggregate = aggregate
        self.swap = swap
        self.flip = flip
        self.source = source
    }

    /// Loads and validates a panel file.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Panel
    {
        try parse(map: YAMLMap.load(path: path, context: "panel"), environment: environment)
    }

    /// Parses panel YAML text; `file` names it in errors.
    public static func parse(
        yaml: String, file: String = "<panel>", environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Panel {
        try parse(map: YAMLMap.parse(text: yaml, file: file, context: "panel"), environment: environment)
    }

    static let judgeKeys: Set<String> = [
        "name", "provider", "base_url", "base_urls", "model", "family", "api_key_env", "temperature", "max_tokens",
        "seed", "concurrency", "rpm", "tpm", "price", "weight", "timeout", "retries", "structured_output",
        "logprobs", "top_logprobs", "samples", "gguf", "server", "parallel", "ctx_size", "threads", "chat_template",
        "server_args", "batch_discount", "vision",
        // wire settings (JudgeConfig+Wire.swift)
        "reasoning_effort", "thinking", "thinking_budget", "headers", "extra_body", "omit", "endpoint", "deployment",
        "api_version",
    ]

    package static func parse(map: YAMLMap, environment: [String: String]) throws -> Panel {
        try map.rejectUnknown(
            ["version", "judges", "aggregate", "swap", "flip", "tiers", "escalate", "adaptive"], context: "panel")
        let version = try map.int("version") ?? 1
        guard version >= 1, version <= supportedVersion else {
            throw map.error(
                "version",
                "panel version \(version) is not supported (this judgepanel reads version \(supportedVersion))")
        }
        guard let judgeNodes = try map.sequence("judges"), !judgeNodes.isEmpty else {
            throw JudgePanelError.badInput(
                "panel needs at least one judge under 'judges'", file: map.file, line: map.line)
        }
        var judges: [JudgeConfig] = []
        var names = Set<String>()
        for node in judgeNodes {
            let j = try YAMLMap(node: node, file: map.file, context: "judge")
            try j.rejectUnknown(judgeKeys, context: "judge")
            let name = try j.requiredString("name", context: "judge")
            guard names.insert(name).inserted else { throw j.error("name", "duplicate judge name '\(name)'") }
            guard !name.contains("|") else { throw j.error("name", "judge names cannot contain '|'") }
            let providerText = try j.string("provider") ?? "openai"
            guard let provider = ProviderKind(rawValue: providerText) else {
                throw j.error(
                    "provider",
                    "unknown provider '\(providerText)' (\(ProviderKind.allCases.map(\.rawValue).joined(separator: " | ")))"
                )
            }
            var config = JudgeConfig(name: name, provider: provider, model: try j.string("model") ?? "")
            var urls = try j.stringList("base_urls") ?? []
            if let u = try j.string("base_url") { urls.insert(u, at: 0) }
            urls = urls.map { expand($0, environment) }
            for u in urls {
                guard let url = URL(string: u), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw j.error("base_url", "base_url '\(u)' is not an http(s) URL")
                }
            }
            if urls.isEmpty, let d = JudgeConfig.defaultBaseURL(provider) { urls = [d] }
            config.baseURLs = urls
            config.family = try j.string("family")
            config.apiKeyEnv = try j.string("api_key_env")
            config.temperature = j.isNull("temperature") ? nil : try j.double("temperature") ?? 0
            config.maxTokens = j.isNull("max_tokens") ? nil : try j.int("max_tokens") ?? 512
            config.seed = j.isNull("seed") ? nil : try j.int("seed")
            config.concurrency = try j.int("concurrency") ?? 8
            guard config.concurrency >= 1 else { throw j.error("concurrency", "concurrency must be at least 1") }
            config.rpm = try j.double("rpm")
            config.tpm = try j.double("tpm")
            if let p = try j.map("price") {
                try p.rejectUnknown(["input_per_mtok", "output_per_mtok"], context: "price")
                config.price = Price(
                    inputPerMTok: try p.double("input_per_mtok") ?? 0,
                    outputPerMTok: try p.double("output_per_mtok") ?? 0)
            }
            config.weight = try j.double("weight") ?? 1
            config.batchDiscount = try j.double("batch_discount") ?? 0.5
            guard (0...1).contains(config.batchDiscount) else {
                throw j.error("batch_discount", "batch_discount must be between 0 and 1")
            }
            config.timeoutSeconds = try j.double("timeout") ?? 120
            config.retries = try j.int("retries") ?? 5
            config.structuredOutput = try j.bool("structured_output") ?? false
            config.vision = try j.bool("vision")
            if let lp = j.node("logprobs") {
                if let b = lp.bool {
                    config.topLogprobs = b ? 5 : nil
                } else if let n = lp.int {
                    config.topLogprobs = n
                } else {
                    throw j.error("logprobs", "logprobs must be true/false or a number of top tokens")
                }
            }
            if let n = try j.int("top_logprobs") { config.topLogprobs = n }
            config.samples = try j.int("samples") ?? 1
            guard config.samples >= 1 else { throw j.error("samples", "samples must be at least 1") }
            if provider == .llamacpp {
                guard let gguf = try j.string("gguf") else {
                    throw j.error("provider", "a llamacpp judge needs 'gguf: PATH'")
                }
                config.llamacpp = LlamaCppSettings(
                    gguf: expand(gguf, environment), server: try j.string("server").map { expand($0, environment) },
                    parallel: try j.int("parallel") ?? config.concurrency, contextSize: try j.int("ctx_size") ?? 4096,
                    threads: try j.int("threads"), chatTemplate: try j.string("chat_template"),
                    extraArgs: try j.stringList("server_args") ?? [])
                if config.model.isEmpty {
                    config.model = URL(fileURLWithPath: gguf).deletingPathExtension().lastPathComponent
                }
            } else if config.model.isEmpty, provider != .azure {
                throw j.error("name", "judge '\(name)' needs 'model'")
            }
            try parseWire(j, into: &config, environment: environment)
            // Known before anything can quote them (a validation message, a log line, a reply that echoes them).
            SecretScrubber.register(config.secrets(environment: environment))
            try PanelValidation.check(config, in: j)
            judges.append(config)
        }
        let aggText = try map.string("aggregate") ?? "majority"
        guard let aggregate = AggregationMethod(rawValue: aggText) else {
            throw map.error(
                "aggregate",
                "unknown aggregate '\(aggText)' (\(AggregationMethod.allCases.map(\.rawValue).joined(separator: " | ")))"
            )
        }
        let flipText = try map.string("flip") ?? "tie"
        guard let flip = FlipPolicy(rawValue: flipText) else { throw map.error("flip", "flip must be tie or abstain") }
        var panel = Panel(
            judges: judges, aggregate: aggregate, swap: try map.bool("swap") ?? true, flip: flip, source: map.file)
        try parseCascade(map: map, into: &panel)
        return panel
    }

    /// Expands `~`, `$VAR` and `${VAR}`; `JUDGEPANEL_HOME` defaults to `~/.cache/judgepanel`.
    static func expand(_ text: String, _ environment: [String: String]) -> String {
        var env = environment
        let home = env["HOME"] ?? NSHomeDirectory()
        if env["JUDGEPANEL_HOME"] == nil { env["JUDGEPANEL_HOME"] = home + "/.cache/judgepanel" }
        var s = text
        if s.hasPrefix("~/") { s = home + s.dropFirst() }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "$" {
                var j = s.index(after: i)
                var name = ""
                if j < s.endIndex, s[j] == "{" {
                    j = s.index(after: j)
                    while j < s.endIndex, s[j] != "}" {
                        name.append(s[j])
                        j = s.index(after: j)
                    }
                    if j < s.endIndex { j = s.index(after: j) }
                } else {
                    while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" {
                        name.append(s[j])
                        j = s.index(after: j)
                    }
                }
                if name.isEmpty {
                    out.append("$")
                    i = s.index(after: i)
                    continue
                }
                out += env[name] ?? ""
                i = j
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out
    }
}
