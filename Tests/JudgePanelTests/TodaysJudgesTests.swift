import Foundation
import JudgePanel
import JudgePanelTesting
import Synchronization
import Testing

// Today's judges (issue 12): reasoning models, thinking, refusals, finish reasons, Ollama context, logprob
// fallbacks and the per-judge escape hatches, end to end against the fake server's documented behaviour.
// Retries and fixes are counted at the server.

private func judge(
    _ name: String, provider: ProviderKind = .openai, model: String? = nil, base: URL, concurrency: Int = 1,
    configure: (inout JudgeConfig) -> Void = { _ in }
) -> JudgeConfig {
    let url: String
    switch provider {
    case .openai, .llamacpp, .azure: url = base.absoluteString + "/v1"
    default: url = base.absoluteString
    }
    var c = JudgeConfig(
        name: name, provider: provider, model: model ?? name, baseURLs: [url], concurrency: concurrency,
        timeoutSeconds: 10, retries: 2)
    configure(&c)
    return c
}

private func run(_ judges: [JudgeConfig], items: [Item], rubric: String = "pairwise-mtbench") async throws -> RunResult
{
    let panel = Panel(judges: judges)
    return try await PanelRunner(panel: panel, rubric: try loadRubric(rubric), options: panelTestOptions).run(
        items: items)
}

private func bodies(_ server: FakeProviderServer) async -> [JSONValue] {
    await server.recordedRequests().map { (try? JSONValue.parse($0.body)) ?? .null }
}

private let oracle = SimulatedJudge.oracle(quality: { $0.contains("good") ? 9 : 2 })

private let twoItems = [
    Item(
        id: "i1", prompt: "Capital of France?", responseA: "Paris, a good answer.", responseB: "Lyon.",
        label: .pairwise(.a)),
    Item(id: "i2", prompt: "2+2?", responseA: "5.", responseB: "4, the good answer.", label: .pairwise(.b)),
]

@Suite("Today's judges: reasoning models", .serialized)
struct ReasoningModelTests {
    /// gpt-5-mini with judgepanel's defaults: max_completion_tokens, no temperature, reasoning tokens billed.
    @Test func reasoningModelWithDefaults() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("gpt-5-mini", base: base) {
                $0.price = Price(inputPerMTok: 1, outputPerMTok: 10)
                $0.reasoningEffort = "low"
            }
            let result = try await run([j], items: twoItems)
            #expect(result.votes.count == 4)
            #expect(result.votes.allSatisfy { $0.isOK })
            #expect(await server.requestCount() == 4)  // no 400 on the way
            for body in await bodies(server) {
                #expect(body["max_tokens"] == nil)
                #expect(body["max_completion_tokens"] == 512)
                #expect(body["temperature"] == nil)
                #expect(body["reasoning_effort"] == "low")
            }
            for v in result.votes {
                let usage = try #require(v.usage)
                #expect(usage.reasoningTokens == FakeAPIRules.reasoningTokens)
                #expect(usage.completionTokens > FakeAPIRules.reasoningTokens)
                let cost = (Double(usage.promptTokens) * 1 + Double(usage.completionTokens) * 10) / 1_000_000
                #expect(abs((v.costUSD ?? 0) - cost) < 1e-12)
            }
            #expect(result.adjustments.isEmpty)
        }
    }

    /// o4-mini with `logprobs: 5`: the server refuses logprobs (403); the judge asks again without them, once,
    /// even with every call in flight at the same time (the first call goes alone).
    @Test func refusedLogprobsFallBackOncePerJudge() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("o4-mini", base: base, concurrency: 8) { $0.topLogprobs = 5 }
            let result = try await run([j], items: twoItems)
            #expect(result.votes.count == 4)
            #expect(result.votes.allSatisfy { $0.isOK && $0.logprobs == "unavailable" })
            #expect(await server.requestCount() == 5)  // one 403, then every call without logprobs
            let sent = await bodies(server)
            #expect(sent[0]["logprobs"] == true)
            #expect(sent.dropFirst().allSatisfy { $0["logprobs"] == nil && $0["top_logprobs"] == nil })
            #expect(result.adjustments.count == 1)
            #expect(result.adjustments.first?.contains("logprobs unavailable") == true)
        }
    }

    /// A model the rule table does not know, behind a server that rejects `max_tokens` and `temperature` as
    /// OpenAI documents: renamed and dropped once each, for the rest of the run, and the summary says so.
    @Test func unknownModelAdaptsOnceAndSaysSo() async throws {
        let rules = FakeAPIRules(openAIReasoningModel: { $0 == "acme-reasoner" })
        let server = FakeProviderServer(rules: rules, handler: oracle.handler)
        try await server.start()
        let base = await server.baseURL
        let j = judge("acme-reasoner", base: base, concurrency: 8)
        let result = try await run([j], items: twoItems)
        await server.stop()
        #expect(result.votes.allSatisfy { $0.isOK })
        #expect(await server.requestCount() == 4 + 2)
        let sent = await bodies(server)
        #expect(sent[0]["max_tokens"] == 512)
        #expect(sent[1]["max_completion_tokens"] == 512 && sent[1]["temperature"] == 0)
        #expect(sent[2...].allSatisfy { $0["max_completion_tokens"] == 512 && $0["temperature"] == nil })
        #expect(result.adjustments.count == 2)
        #expect(result.adjustments.contains { $0.contains("'max_tokens'") && $0.contains("max_completion_tokens") })
        #expect(result.adjustments.contains { $0.contains("'temperature'") })
    }

    /// A temperature the panel file wrote is never dropped: the server's 400 stays an error vote.
    @Test func explicitValueIsNotDroppedAtRunTime() async throws {
        let rules = FakeAPIRules(openAIReasoningModel: { $0 == "acme-reasoner" })
        let server = FakeProviderServer(rules: rules, handler: oracle.handler)
        try await server.start()
        let base = await server.baseURL
        let j = judge("acme-reasoner", base: base) { $0.explicitFields = ["temperature"] }
        let result = try await run([j], items: [twoItems[0]])
        await server.stop()
        #expect(result.votes.allSatisfy { $0.status == .error && $0.reason == .http4xx })
        #expect(result.votes.first?.error?.contains("temperature") == true)
        #expect(result.adjustments.count == 1)  // only the rename of max_tokens
    }

    @Test func explicitRejectedValueIsAStartupError() throws {
        let yaml = """
            version: 1
            judges:
              - name: mini
                provider: openai
                model: o4-mini
                temperature: 0
            """
        do {
            _ = try Panel.parse(yaml: yaml, file: "panel.yaml", environment: [:])
            Issue.record("expected an error")
        } catch let e as JudgePanelError {
            let text = "\(e)"
            #expect(text.contains("mini") && text.contains("temperature") && text.contains("panel.yaml"))
            #expect(text.contains(":6") || text.contains("line 6"))
        }
        let ok = try Panel.parse(
            yaml: yaml.replacingOccurrences(of: "temperature: 0", with: "temperature: null"), environment: [:])
        #expect(ok.judges[0].temperature == nil)
        #expect(ok.judges[0].maxTokens == 4096)  // reasoning models get room to reason
        let one = try Panel.parse(
            yaml: yaml.replacingOccurrences(of: "temperature: 0", with: "temperature: 1"), environment: [:])
        #expect(one.judges[0].temperature == 1)
    }

    @Test func yamlNullTurnsDefaultsOff() throws {
        let yaml = """
            version: 1
            judges:
              - name: local
                model: m
                base_url: http://127.0.0.1:1/v1
                temperature: null
                max_tokens: ~
                seed: null
            """
        let j = try Panel.parse(yaml: yaml, environment: [:]).judges[0]
        #expect(j.temperature == nil && j.maxTokens == nil && j.seed == nil)
        #expect(j.explicitFields.isEmpty)
    }
}

@Suite("Today's judges: thinking", .serialized)
struct ThinkingTests {
    /// claude-sonnet-4-5 with structured_output: the forced tool is answered with a tool_use block.
    @Test func anthropicForcedToolEndToEnd() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("claude-sonnet-4-5", provider: .anthropic, base: base) { $0.structuredOutput = true }
            let result = try await run([j], items: twoItems)
            #expect(result.votes.allSatisfy { $0.isOK })
            #expect(result.votes.filter { $0.item == "i1" }.allSatisfy { $0.verdict == .a })
            #expect(result.votes.filter { $0.item == "i2" }.allSatisfy { $0.verdict == .b })
            #expect(await server.requestCount() == 4)
            let requests = await server.recordedRequests()
            #expect(requests.allSatisfy { $0.wantsJSON })
            #expect((await bodies(server)).allSatisfy { $0["tool_choice"]?["type"] == "tool" })
        }
    }

    /// With thinking on, the tool is offered with tool_choice auto (a forced tool is a 400), no temperature,
    /// max_tokens above the budget; thinking tokens are in output_tokens.
    @Test func anthropicThinkingUsesAnAcceptedMode() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("claude-sonnet-4-5", provider: .anthropic, base: base) {
                $0.structuredOutput = true
                $0.thinkingBudget = 2048
                $0.maxTokens = 3072
            }
            let result = try await run([j], items: twoItems)
            #expect(result.votes.allSatisfy { $0.isOK })
            #expect(await server.requestCount() == 4)
            for body in await bodies(server) {
                #expect(body["tool_choice"] == ["type": "auto"])
                #expect(body["thinking"] == ["type": "enabled", "budget_tokens": 2048])
                #expect(body["temperature"] == nil)
            }
            #expect(result.votes.allSatisfy { ($0.usage?.completionTokens ?? 0) > FakeAPIRules.reasoningTokens })
        }
    }

    @Test func geminiThinkingBudgetAndThoughtTokens() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("gemini-2.5-flash", provider: .gemini, base: base) { $0.geminiThinkingBudget = 512 }
            let result = try await run([j], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.isOK })
            let body = try #require(await bodies(server).first)
            #expect(body["generationConfig"]?["thinkingConfig"] == ["thinkingBudget": 512])
            #expect(result.votes.allSatisfy { $0.usage?.reasoningTokens == FakeAPIRules.reasoningTokens })
        }
    }

    /// Gemini "Logprobs is not enabled for models/…": asked again without them, once.
    @Test func geminiLogprobsNotEnabledFallsBack() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let j = judge("gemini-2.5-pro", provider: .gemini, base: base) { $0.topLogprobs = 5 }
            let result = try await run([j], items: twoItems)
            #expect(result.votes.allSatisfy { $0.isOK && $0.logprobs == "unavailable" })
            #expect(await server.requestCount() == 5)
        }
    }
}

@Suite("Today's judges: refusals, filters, truncation", .serialized)
struct RefusalTests {
    @Test(arguments: [ProviderKind.openai, .anthropic, .gemini])
    func refusalIsRecordedWithoutReask(provider: ProviderKind) async throws {
        let text = "I can't help with comparing these answers."
        try await withFakeServer { _ in
            .stopped(text, .refusal)
        } body: { server, base in
            let j = judge("m", provider: provider, base: base)
            let result = try await run([j], items: [twoItems[0]])
            #expect(await server.requestCount() == 2)  // one per order, no repair re-ask
            for v in result.votes {
                #expect(v.status == .abstain)
                #expect(v.reason == (provider == .gemini ? .contentFilter : .refusal))
                if provider != .gemini { #expect(v.raw?.contains(text) == true) }
            }
        }
    }

    @Test(arguments: [FakeStop.contentFilter, .recitation, .promptBlocked])
    func contentFiltersAreContentFilter(stop: FakeStop) async throws {
        for provider in [ProviderKind.openai, .gemini] {
            try await withFakeServer { _ in
                .stopped("", stop)
            } body: { server, base in
                let result = try await run([judge("m", provider: provider, base: base)], items: [twoItems[0]])
                #expect(result.votes.allSatisfy { $0.status == .abstain && $0.reason == .contentFilter })
                #expect(await server.requestCount() == 2)
            }
        }
    }

    /// A reply cut at the output limit with no verdict is `length`, not `unparsed`; one that holds a verdict
    /// keeps it, flagged.
    @Test(arguments: [ProviderKind.openai, .anthropic, .gemini, .ollama])
    func lengthStops(provider: ProviderKind) async throws {
        try await withFakeServer { _ in
            .stopped("Let me weigh both answers carefully, starting with", .length)
        } body: {
            server, base in
            let result = try await run([judge("m", provider: provider, base: base)], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.status == .abstain && $0.reason == .length })
            #expect(await server.requestCount() == 4)  // the repair re-ask is sent, and cut again
        }
        try await withFakeServer { _ in
            .stopped("Assistant A is better. [[A]] Also,", .length)
        } body: { _, base in
            let result = try await run([judge("m", provider: provider, base: base)], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.isOK && $0.reason == .length })
        }
    }

    /// An empty first reply: the re-ask carries no empty assistant turn (Anthropic and Gemini answer 400 to one).
    @Test(arguments: [ProviderKind.anthropic, .gemini, .openai, .ollama])
    func repairAfterEmptyReplyIsAValidRequest(provider: ProviderKind) async throws {
        // Calls are sequential (concurrency 1): every first call gets an empty reply, every re-ask a verdict.
        let handler: FakeHandler = { request in request.index % 2 == 0 ? .text("") : .text("[[A]]") }
        try await withFakeServer(handler) { server, base in
            let result = try await run([judge("m", provider: provider, base: base)], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.isOK && $0.repaired == true }, "\(result.votes)")
            let requests = await server.recordedRequests()
            #expect(requests.count == 4)
            #expect(requests.allSatisfy { $0.messages.allSatisfy { !$0.content.isEmpty } })
            #expect(requests.allSatisfy { $0.messages.last?.role == "user" })
            // No structured output asked: no tools, no response_format, no null schema anywhere.
            for request in requests {
                let body = try JSONValue.parse(request.body)
                #expect(body["tools"] == nil && body["response_format"] == nil && body["format"] == nil)
                #expect(body["generationConfig"]?["responseSchema"] == nil)
            }
        }
    }

    /// Ollama: num_ctx sized from the prompt; a prompt cut by a too-small ctx_size is never scored.
    @Test func ollamaContext() async throws {
        let long = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 300)  // ~13 500 chars
        let item = Item(id: "long", prompt: "Which is better?", responseA: "good " + long, responseB: "bad " + long)
        try await withFakeServer(oracle.handler) { server, base in
            let sized = try await run([judge("llama3.2", provider: .ollama, base: base)], items: [item])
            #expect(sized.votes.allSatisfy { $0.isOK })
            let numCtx = try #require(await bodies(server).first?["options"]?["num_ctx"]?.intValue)
            #expect(numCtx > 2048 && numCtx % 1024 == 0)
            let cut = try await run(
                [judge("llama3.2", provider: .ollama, base: base) { $0.ctxSize = 2048 }], items: [item, twoItems[0]])
            let longVotes = cut.votes.filter { $0.item == "long" }
            #expect(longVotes.count == 2)
            #expect(longVotes.allSatisfy { $0.status == .abstain && $0.reason == .context && $0.verdict == nil })
            #expect(cut.votes.filter { $0.item == "i1" }.allSatisfy { $0.isOK })
        }
    }

    /// vLLM's 400 for a prompt over max-model-len, and llama.cpp's `truncated`, are `context`.
    @Test func serverContextErrorsAreContext() async throws {
        let vllm =
            #"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 6000 tokens (5488 in the messages, 512 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#
        try await withFakeServer { _ in
            .status(400, body: vllm)
        } body: { server, base in
            let result = try await run([judge("m", base: base)], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.status == .error && $0.reason == .context })
            #expect(await server.requestCount() == 2)
        }
        let reply =
            #"{"choices":[{"index":0,"message":{"role":"assistant","content":"[[A]]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4096,"completion_tokens":3},"truncated":true}"#
        try await withFakeServer { _ in
            .status(200, body: reply)
        } body: { _, base in
            let result = try await run([judge("m", base: base)], items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.status == .abstain && $0.reason == .context })
        }
    }
}

@Suite("Today's judges: escape hatches and Azure")
struct EscapeHatchTests {
    @Test func headersExtraBodyAndOmit() async throws {
        try await withFakeServer(oracle.handler) { server, base in
            let yaml = """
                version: 1
                judges:
                  - name: vllm
                    model: qwen3
                    base_url: \(base.absoluteString)/v1
                    seed: 3
                    headers: {HTTP-Referer: "https://example.org", X-Title: judgepanel}
                    extra_body: {chat_template_kwargs: {enable_thinking: false}, top_k: 20}
                    omit: [seed]
                """
            let panel = try Panel.parse(yaml: yaml, environment: [:])
            let result = try await PanelRunner(
                panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
            )
            .run(items: [twoItems[0]])
            #expect(result.votes.allSatisfy { $0.isOK })
            let request = try #require(await server.recordedRequests().first)
            #expect(request.headers["http-referer"] == "https://example.org")
            #expect(request.headers["x-title"] == "judgepanel")
            let body = try JSONValue.parse(request.body)
            #expect(body["chat_template_kwargs"] == ["enable_thinking": false])
            #expect(body["top_k"] == 20)
            #expect(body["seed"] == nil)
            #expect(body["temperature"] == 0)
        }
    }

    @Test func keysNeverComeFromHeaders() {
        let yaml = """
            version: 1
            judges:
              - name: x
                model: m
                headers: {Authorization: "Bearer sk-abc"}
            """
        #expect(throws: JudgePanelError.self) { try Panel.parse(yaml: yaml, environment: [:]) }
    }

    /// https://learn.microsoft.com/azure/ai-services/openai/reference: deployments URL, api-version query,
    /// `api-key` header.
    @Test func azureDeployment() async throws {
        let yaml = """
            version: 1
            judges:
              - name: az
                provider: azure
                endpoint: https://myres.openai.azure.com/
                deployment: gpt-4o-judge
                api_version: 2024-10-21
            """
        let j = try Panel.parse(yaml: yaml, environment: [:]).judges[0]
        #expect(j.baseURLs == ["https://myres.openai.azure.com/openai/deployments/gpt-4o-judge"])
        #expect(j.model == "gpt-4o-judge")
        #expect(j.keyVariables == ["AZURE_OPENAI_API_KEY"])
        let transport = ProviderWireCapturingTransport(
            json: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"[[A]]"},"finish_reason":"stop"}]}"#)
        let p = OpenAIProvider(baseURL: URL(string: j.baseURLs[0])!, apiKey: "az-key-123", transport: transport)
        var request = CompletionRequest(model: j.model, messages: [.user("hi")], maxTokens: 10)
        request.wire.azureAPIVersion = j.azureAPIVersion
        _ = try await p.complete(request, timeout: 5)
        let sent = try #require(await transport.last)
        #expect(
            sent.url.absoluteString
                == "https://myres.openai.azure.com/openai/deployments/gpt-4o-judge/chat/completions?api-version=2024-10-21"
        )
        #expect(sent.headers["api-key"] == "az-key-123")
        #expect(sent.headers["authorization"] == nil)
    }

    @Test func wireSettingsBelongToTheirProvider() {
        let yaml = """
            version: 1
            judges:
              - name: x
                provider: gemini
                model: gemini-2.5-flash
                reasoning_effort: low
            """
        #expect(throws: JudgePanelError.self) { try Panel.parse(yaml: yaml, environment: [:]) }
    }
}

@Suite("Today's judges: reading provider errors")
struct WireFixTests {
    private func error(_ status: Int, _ body: String) -> ProviderError {
        ProviderError.http(HTTPResponse(status: status, headers: [:], body: Data(body.utf8)))
    }

    @Test func unsupportedParameterShapes() {
        #expect(
            WireFix.detect(
                error(
                    400,
                    #"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#
                ))
                == .rename(from: "max_tokens", to: "max_completion_tokens"))
        #expect(
            WireFix.detect(
                error(
                    400,
                    #"{"error":{"message":"Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#
                ))
                == .drop("temperature"))
        #expect(
            WireFix.detect(
                error(
                    400,
                    #"{"error":{"message":"Unrecognized request argument supplied: seed","type":"invalid_request_error"}}"#
                ))
                == .drop("seed"))
        #expect(
            WireFix.detect(
                error(403, #"{"error":{"message":"You are not allowed to request logprobs from this model"}}"#))
                == .noLogprobs)
        #expect(
            WireFix.detect(
                error(
                    400,
                    #"{"error":{"code":400,"message":"Logprobs is not enabled for models/gemini-2.5-pro","status":"INVALID_ARGUMENT"}}"#
                ))
                == .noLogprobs)
        #expect(WireFix.detect(error(400, #"{"error":{"message":"Invalid value for messages"}}"#)) == nil)
        #expect(WireFix.detect(error(429, #"{"error":{"message":"Unsupported parameter: 'x'"}}"#)) == nil)
        #expect(WireFix.detect(error(500, #"{"error":{"message":"Unsupported parameter: 'x'"}}"#)) == nil)
    }

    @Test func contextOverflowShapes() {
        #expect(
            ContextOverflow.matches(
                error(
                    400,
                    #"{"error":{"message":"This model's maximum context length is 128000 tokens.","code":"context_length_exceeded"}}"#
                )))
        #expect(
            ContextOverflow.matches(
                error(
                    400,
                    #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208000 tokens > 200000 maximum"}}"#
                )))
        #expect(
            ContextOverflow.matches(
                error(
                    400,
                    #"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#
                )))
        #expect(!ContextOverflow.matches(error(400, #"{"error":{"message":"Invalid API key"}}"#)))
        #expect(!ContextOverflow.matches(error(503, #"{"error":{"message":"maximum context length"}}"#)))
    }

    @Test func thinkingRejectsAnExplicitTemperature() throws {
        let yaml = """
            version: 1
            judges:
              - name: claude
                provider: anthropic
                model: claude-sonnet-4-5
                temperature: 0
                thinking: {budget_tokens: 2048}
            """
        #expect(throws: JudgePanelError.self) { try Panel.parse(yaml: yaml, environment: [:]) }
        let ok = try Panel.parse(
            yaml: yaml.replacingOccurrences(of: "temperature: 0", with: "family: claude"), environment: [:])
        #expect(ok.judges[0].thinkingBudget == 2048)
        #expect(ok.judges[0].maxTokens == 2048 + 1024)
        let small = yaml.replacingOccurrences(of: "temperature: 0", with: "max_tokens: 1000")
        #expect(throws: JudgePanelError.self) { try Panel.parse(yaml: small, environment: [:]) }
    }

    /// Ollama's `prompt_eval_count` (cached tokens included; older versions: `prompt_eval_cached_count` apart).
    @Test(arguments: [
        (#""prompt_eval_count": 600"#, false),  // the whole prompt (~500 tokens at 4 bytes a token)
        (#""prompt_eval_count": 40"#, true),  // far below the prompt: cut
        (#""prompt_eval_count": 40, "prompt_eval_cached_count": 560"#, false),  // the rest came from the cache
        (#""prompt_eval_count": 2048"#, true),  // fills the window sent (ctx_size 2048)
    ])
    func ollamaPromptEvalCount(counts: String, truncated: Bool) async throws {
        let transport = ProviderWireCapturingTransport(
            json:
                #"{"model":"m","message":{"role":"assistant","content":"[[A]]"},"done":true,"done_reason":"stop",\#(counts),"eval_count":3}"#
        )
        let p = OllamaProvider(baseURL: URL(string: "http://127.0.0.1:11434")!, apiKey: nil, transport: transport)
        var request = CompletionRequest(model: "m", messages: [.user(String(repeating: "word ", count: 400))])
        request.wire.numCtx = 2048
        let r = try await p.complete(request, timeout: 5)
        #expect((r.promptTruncated == true) == truncated)
    }

    @Test func extraBodyDeepMergesAndNullRemoves() {
        var wire = WireSettings()
        wire.extraBody = ["options": ["num_ctx": 8192, "temperature": nil], "think": false]
        wire.omit = ["seed"]
        let merged = wire.finish(["model": "m", "seed": 1, "options": ["temperature": 0, "num_predict": 10]])
        #expect(merged == ["model": "m", "think": false, "options": ["num_predict": 10, "num_ctx": 8192]])
    }
}

@Suite("Today's judges: the built CLI", .serialized)
struct TodaysJudgesCLITests {
    /// The issue's panel: gpt-5-mini, o4-mini with logprobs, a refusing model, claude-sonnet-4-5 with structured
    /// output and an Ollama model on a long item, each with judgepanel's defaults, against servers that answer as
    /// documented: every vote once, right or with a reason, no ok vote from a cut prompt.
    @Test func todaysPanelEndToEnd() async throws {
        let dir = try tempDir("today")
        let long = String(repeating: "Some long supporting detail about the topic at hand. ", count: 250)
        let items = [
            #"{"id":"a","prompt":"Capital of France?","response_a":"Paris, a good answer.","response_b":"Lyon.","label":"A"}"#,
            #"{"id":"b","prompt":"2+2?","response_a":"5.","response_b":"4, the good answer.","label":"B"}"#,
            #"{"id":"long","prompt":"Explain.","response_a":"good \#(long)","response_b":"bad \#(long)","label":"A"}"#,
        ]
        try (items.joined(separator: "\n") + "\n").write(
            to: dir.appendingPathComponent("items.jsonl"), atomically: true, encoding: .utf8)
        let server = FakeProviderServer { request in
            request.model == "gpt-4o-refuser"
                ? .stopped("I can't help with that.", .refusal) : await oracle.handler(request)
        }
        try await server.start()
        let base = await server.baseURL.absoluteString
        let panel = """
            version: 1
            judges:
              - {name: gpt5, provider: openai, model: gpt-5-mini, base_url: \(base)/v1, retries: 1}
              - {name: o4, provider: openai, model: o4-mini, base_url: \(base)/v1, logprobs: 5, concurrency: 1}
              - {name: refuser, provider: openai, model: gpt-4o-refuser, base_url: \(base)/v1}
              - {name: claude, provider: anthropic, model: claude-sonnet-4-5, base_url: \(base), structured_output: true}
              - {name: ollama, provider: ollama, model: llama3.2, base_url: \(base), ctx_size: 2048}
            """
        try panel.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let r = try await runJudgepanel([
            "score", dir.appendingPathComponent("items.jsonl").path, "--rubric", "rubrics/pairwise-mtbench.yaml",
            "--panel", dir.appendingPathComponent("panel.yaml").path, "--out", dir.appendingPathComponent("run").path,
            "--no-cache",
        ])
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("judge 'o4': logprobs unavailable"))
        let votes = try VotesFile.load(path: dir.appendingPathComponent("run/votes.jsonl").path)
        #expect(votes.count == 3 * 5 * 2)
        #expect(Set(votes.map(\.key)).count == votes.count)
        for v in votes {
            #expect(v.isOK || v.reason != nil, "\(v.judge) \(v.item)")
            #expect(v.status != .error, "\(v.judge) \(v.item): \(v.error ?? "")")
            switch v.judge {
            case "refuser": #expect(v.status == .abstain && v.reason == .refusal && v.raw == "I can't help with that.")
            case "ollama" where v.item == "long": #expect(v.status == .abstain && v.reason == .context)
            case "o4": #expect(v.isOK && v.logprobs == "unavailable")
            default: #expect(v.isOK, "\(v.judge) \(v.item)")
            }
        }
        let report = try JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("run/report.json")))
        #expect(
            report["notes"]?.arrayValue?.contains { $0.stringValue?.contains("logprobs unavailable") == true } == true)
    }

    @Test func rejectedExplicitValueExitsTwo() async throws {
        let dir = try tempDir("today-bad")
        try #"{"id":"a","prompt":"q","response_a":"x","response_b":"y"}"#.write(
            to: dir.appendingPathComponent("items.jsonl"), atomically: true, encoding: .utf8)
        try "version: 1\njudges:\n  - name: mini\n    model: o4-mini\n    temperature: 0\n".write(
            to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let r = try await runJudgepanel([
            "score", dir.appendingPathComponent("items.jsonl").path, "--rubric", "rubrics/pairwise-mtbench.yaml",
            "--panel", dir.appendingPathComponent("panel.yaml").path, "--out", dir.appendingPathComponent("run").path,
        ])
        #expect(r.code == 2)
        #expect(r.err.contains("panel.yaml") && r.err.contains("mini") && r.err.contains("temperature"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/votes.jsonl").path))
    }
}
