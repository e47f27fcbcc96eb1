import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One raw request to the fake: status and JSON body.
private func post(_ base: URL, _ path: String, _ body: String, headers: [String: String] = [:]) async throws -> (
    Int, JSONValue
) {
    var request = URLRequest(url: URL(string: base.absoluteString + path)!)
    request.httpMethod = "POST"
    request.httpBody = Data(body.utf8)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONValue.parse(data))
}

private let anthropicVersion = ["anthropic-version": "2023-06-01"]

/// Each documented rule the fake enforces, with the provider's own error shape; the handler is never called
/// for a violation, and the request is still counted.
@Suite("Fake server: documented request rules")
struct FakeDocumentedRulesTests {
    /// https://platform.openai.com/docs/guides/reasoning — reasoning models reject max_tokens, temperature ≠ 1
    /// and logprobs.
    @Test func openAIReasoningModelErrors() async throws {
        try await withFakeServer { _ in
            .text("[[A]]")
        } body: { server, base in
            let (s1, e1) = try await post(
                base, "/v1/chat/completions",
                #"{"model":"o4-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(s1 == 400)
            #expect(e1["error"]?["param"] == "max_tokens")
            #expect(e1["error"]?["code"] == "unsupported_parameter")
            #expect(e1["error"]?["type"] == "invalid_request_error")
            #expect(e1["error"]?["message"]?.stringValue?.contains("Use 'max_completion_tokens' instead") == true)
            let (s2, e2) = try await post(
                base, "/v1/chat/completions",
                #"{"model":"gpt-5-mini","temperature":0,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(s2 == 400)
            #expect(e2["error"]?["code"] == "unsupported_value")
            #expect(e2["error"]?["message"]?.stringValue?.contains("Only the default (1) value is supported") == true)
            let (s3, e3) = try await post(
                base, "/v1/chat/completions",
                #"{"model":"o3","logprobs":true,"top_logprobs":5,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(s3 == 403)
            #expect(e3["error"]?["message"]?.stringValue?.contains("not allowed to request logprobs") == true)
            let (s4, _) = try await post(
                base, "/v1/chat/completions",
                #"{"model":"gpt-5-mini","temperature":1,"max_completion_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
            )
            #expect(s4 == 200)
            let (s5, _) = try await post(
                base, "/v1/chat/completions",
                #"{"model":"gpt-5-chat-latest","temperature":0,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
            )
            #expect(s5 == 200)
            #expect(await server.requestCount() == 5)
        }
    }

    /// https://docs.anthropic.com/en/api/versioning, /en/api/messages, /en/docs/build-with-claude/extended-thinking.
    @Test func anthropicRequestRules() async throws {
        try await withFakeServer { _ in
            .text("[[A]]")
        } body: { _, base in
            let plain = #"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
            let (s1, e1) = try await post(base, "/v1/messages", plain)
            #expect(s1 == 400)
            #expect(e1["type"] == "error")
            #expect(e1["error"]?["type"] == "invalid_request_error")
            #expect(e1["error"]?["message"]?.stringValue?.contains("anthropic-version") == true)
            let (s2, e2) = try await post(
                base, "/v1/messages", #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#,
                headers: anthropicVersion)
            #expect(s2 == 400)
            #expect(e2["error"]?["message"]?.stringValue?.contains("max_tokens") == true)
            let empty =
                #"{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":""},{"role":"user","content":"again"}]}"#
            let (s3, e3) = try await post(base, "/v1/messages", empty, headers: anthropicVersion)
            #expect(s3 == 400)
            #expect(e3["error"]?["message"]?.stringValue?.contains("non-empty content") == true)
            let forced =
                #"{"model":"c","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":2048},"tools":[{"name":"judgement","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"judgement"},"messages":[{"role":"user","content":"hi"}]}"#
            let (s4, e4) = try await post(base, "/v1/messages", forced, headers: anthropicVersion)
            #expect(s4 == 400)
            #expect(e4["error"]?["message"] == "Thinking may not be enabled when tool_choice forces tool use.")
            let (s5, _) = try await post(base, "/v1/messages", plain, headers: anthropicVersion)
            #expect(s5 == 200)
        }
    }

    /// A forced tool is always answered with a tool_use block (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use).
    @Test func anthropicForcedToolGetsToolUse() async throws {
        try await withFakeServer { request in
            .text(request.wantsJSON ? #"{"verdict": "A"}"# : "[[A]]")
        } body: { server, base in
            let forced =
                #"{"model":"c","max_tokens":100,"tools":[{"name":"judgement","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"judgement"},"messages":[{"role":"user","content":"hi"}]}"#
            let (status, reply) = try await post(base, "/v1/messages", forced, headers: anthropicVersion)
            #expect(status == 200)
            #expect(reply["stop_reason"] == "tool_use")
            #expect(reply["content"]?[0]?["type"] == "tool_use")
            #expect(reply["content"]?[0]?["name"] == "judgement")
            #expect(reply["content"]?[0]?["input"] == ["verdict": "A"])
            #expect(await server.recordedRequests().first?.wantsJSON == true)
            // `response_format` is not an Anthropic field: it does not ask for JSON.
            let rf =
                #"{"model":"c","max_tokens":100,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"hi"}]}"#
            let (_, plain) = try await post(base, "/v1/messages", rf, headers: anthropicVersion)
            #expect(plain["content"]?[0]?["text"] == "[[A]]")
        }
    }

    /// https://ai.google.dev/gemini-api/docs/troubleshooting: empty text parts and logprobs on a model that
    /// does not offer them are 400 INVALID_ARGUMENT.
    @Test func geminiRequestRules() async throws {
        try await withFakeServer { _ in
            .text("[[A]]")
        } body: { _, base in
            let empty =
                #"{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":""}]},{"role":"user","parts":[{"text":"again"}]}]}"#
            let (s1, e1) = try await post(base, "/v1beta/models/gemini-2.5-flash:generateContent", empty)
            #expect(s1 == 400)
            #expect(e1["error"]?["status"] == "INVALID_ARGUMENT")
            #expect(e1["error"]?["message"]?.stringValue?.contains("empty text parameter") == true)
            let lp =
                #"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"responseLogprobs":true,"logprobs":5}}"#
            let (s2, e2) = try await post(base, "/v1beta/models/gemini-2.5-pro:generateContent", lp)
            #expect(s2 == 400)
            #expect(e2["error"]?["message"] == "Logprobs is not enabled for models/gemini-2.5-pro")
            let (s3, _) = try await post(base, "/v1beta/models/gemini-2.0-flash:generateContent", lp)
            #expect(s3 == 200)
        }
    }

    /// Ollama cuts a prompt longer than `num_ctx` (default 2048) and answers anyway; `prompt_eval_count` shows it.
    @Test func ollamaTruncationShowsInPromptEvalCount() async throws {
        let long = String(repeating: "word ", count: 4000)  // 20 000 chars ≈ 5 000 tokens
        try await withFakeServer { _ in
            .text("[[A]]")
        } body: { _, base in
            let body = #"{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"\#(long)"}]}"#
            let (_, cut) = try await post(base, "/api/chat", body)
            #expect(cut["prompt_eval_count"] == 2048)
            #expect(cut["message"]?["content"] == "[[A]]")
            let sized =
                #"{"model":"llama3.2","stream":false,"options":{"num_ctx":8192},"messages":[{"role":"user","content":"\#(long)"}]}"#
            let (_, whole) = try await post(base, "/api/chat", sized)
            #expect((whole["prompt_eval_count"]?.intValue ?? 0) > 4000)
        }
    }

    @Test func stoppedRepliesPerProvider() async throws {
        try await withFakeServer { _ in
            .stopped("No.", .refusal)
        } body: { _, base in
            let (_, openai) = try await post(
                base, "/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(openai["choices"]?[0]?["message"]?["refusal"] == "No.")
            #expect(openai["choices"]?[0]?["message"]?["content"] == .null)
            let (_, anthropic) = try await post(
                base, "/v1/messages", #"{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#,
                headers: anthropicVersion)
            #expect(anthropic["stop_reason"] == "refusal")
            let (_, gemini) = try await post(
                base, "/v1beta/models/gemini-2.5-flash:generateContent", #"{"contents":[{"parts":[{"text":"hi"}]}]}"#)
            #expect(gemini["candidates"]?[0]?["finishReason"] == "SAFETY")
            #expect(gemini["candidates"]?[0]?["content"] == nil)
        }
        try await withFakeServer { _ in
            .stopped("", .promptBlocked)
        } body: { _, base in
            let (_, gemini) = try await post(
                base, "/v1beta/models/gemini-2.5-flash:generateContent", #"{"contents":[{"parts":[{"text":"hi"}]}]}"#)
            #expect(gemini["promptFeedback"]?["blockReason"] == "SAFETY")
            #expect(gemini["candidates"] == nil)
        }
    }

    @Test func rulesCanBeTurnedOff() async throws {
        let server = FakeProviderServer(rules: .none) { _ in .text("[[A]]") }
        try await server.start()
        let base = await server.baseURL
        let (status, _) = try await post(
            base, "/v1/chat/completions",
            #"{"model":"o4-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#)
        await server.stop()
        #expect(status == 200)
    }
}

@Suite("Probabilities: llama.cpp greedy reading and degenerate share")
struct DegenerateProbabilityTests {
    /// llama.cpp reports P = 1.0 for the greedy token at temperature 0; judgepanel asks with a negative
    /// temperature (greedy, with softmax probabilities) when a llamacpp judge wants logprobs.
    @Test func llamaCppAsksForRealProbabilities() {
        var llama = JudgeConfig(name: "l", provider: .llamacpp, model: "smollm2", topLogprobs: 5)
        llama.temperature = 0
        let r = RequestBuilder.request(config: llama, messages: [.user("x")], jsonSchema: nil, sample: 0)
        #expect(r.temperature == -1)
        #expect(r.topLogprobs == 20)
        llama.topLogprobs = nil
        #expect(
            RequestBuilder.request(config: llama, messages: [.user("x")], jsonSchema: nil, sample: 0).temperature == 0)
        let openai = JudgeConfig(name: "o", provider: .openai, model: "gpt-4o-mini", topLogprobs: 5)
        #expect(
            RequestBuilder.request(config: openai, messages: [.user("x")], jsonSchema: nil, sample: 0).temperature == 0)
    }

    /// A top-k list holding one verdict label renormalises to 1.0: degenerate. Two labels: a real reading.
    @Test func degenerateReadingsAreCountedPerJudge() {
        let one = [
            TokenLogprob(
                token: "A", logprob: log(0.55),
                top: [
                    .init(token: "A", logprob: log(0.55)), .init(token: "The", logprob: log(0.2)),
                ])
        ]
        let two = [
            TokenLogprob(
                token: "A", logprob: log(0.6),
                top: [
                    .init(token: "A", logprob: log(0.6)), .init(token: "B", logprob: log(0.3)),
                ])
        ]
        let p1 = Probabilities.pairwise(one, allowTie: true)!
        let p2 = Probabilities.pairwise(two, allowTie: true)!
        #expect(Probabilities.isDegenerate(p1.reduce(into: [:]) { $0[$1.key.rawValue] = $1.value }))
        #expect(!Probabilities.isDegenerate(p2.reduce(into: [:]) { $0[$1.key.rawValue] = $1.value }))

        var votes: [Vote] = []
        for (i, probs) in [["A": 1.0], ["A": 0.7, "B": 0.3], ["B": 0.9995, "A": 0.0005], ["A": 0.5, "B": 0.5]]
            .enumerated()
        {
            var v = Vote(item: "i\(i)", judge: "j", protocol: .pairwise, order: .ab, verdict: .a)
            v.probs = probs
            v.logprobs = "ok"
            votes.append(v)
        }
        let items = (0..<4).map {
            Item(id: "i\($0)", prompt: "p", responseA: "a", responseB: "b", label: .pairwise(.a))
        }
        let report = MetaAnalysis().report(items: items, votes: votes)
        #expect(report.judges.first?.degenerateProbsRate?.value == 0.5)
        let notes = ScoreJob.logprobNotes(votes, judges: ["j"])
        #expect(notes == ["judge 'j': probabilities degenerate (one label ≥ 0.999) on 2 of 4 votes"])
    }
}
