import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Synchronization
import Testing

/// The model version each provider reports, read from its documented response field.
@Suite("Model version the provider reported")
struct ModelVersionTests {
    @Test("OpenAI: `model` and `system_fingerprint` of the chat completion object")
    func openAI() throws {
        // https://platform.openai.com/docs/api-reference/chat/object
        let body = #"""
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_6b68a8204b",
             "choices":[{"index":0,"message":{"role":"assistant","content":"[[A]]","refusal":null},"finish_reason":"stop","logprobs":null}],
             "usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}
            """#
        let r = try OpenAIProvider.parse(Data(body.utf8))
        #expect(r.modelVersion == "gpt-4o-2024-08-06")
        #expect(r.systemFingerprint == "fp_6b68a8204b")
    }

    @Test("Anthropic: `model` of the Messages API reply")
    func anthropic() throws {
        // https://docs.anthropic.com/en/api/messages
        let body = #"""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"[[B]]"}],
             "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}
            """#
        let r = try AnthropicProvider.parse(Data(body.utf8))
        #expect(r.modelVersion == "claude-sonnet-4-5-20250929")
        #expect(r.systemFingerprint == nil)
    }

    @Test("Gemini: `modelVersion` of GenerateContentResponse, also on a blocked prompt")
    func gemini() throws {
        // https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
        let body = #"""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"[[A]]"}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":3,"totalTokenCount":13},"modelVersion":"gemini-2.5-flash-preview-05-20","responseId":"r1"}
            """#
        #expect(try GeminiProvider.parse(Data(body.utf8)).modelVersion == "gemini-2.5-flash-preview-05-20")
        let blocked = #"{"promptFeedback":{"blockReason":"SAFETY"},"modelVersion":"gemini-2.0-flash-001"}"#
        #expect(try GeminiProvider.parse(Data(blocked.utf8)).modelVersion == "gemini-2.0-flash-001")
    }

    @Test("Ollama: `model` of the /api/chat reply")
    func ollama() throws {
        // https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
        let body = #"""
            {"model":"llama3.2:3b","created_at":"2026-12-07T00:00:00Z","message":{"role":"assistant","content":"[[A]]"},
             "done":true,"done_reason":"stop","prompt_eval_count":10,"eval_count":3}
            """#
        #expect(try OllamaProvider.parse(Data(body.utf8)).modelVersion == "llama3.2:3b")
    }

    @Test("absent or empty fields record nothing")
    func absent() throws {
        let body =
            #"{"choices":[{"message":{"role":"assistant","content":"[[A]]"},"finish_reason":"stop"}],"model":""}"#
        let r = try OpenAIProvider.parse(Data(body.utf8))
        #expect(r.modelVersion == nil && r.systemFingerprint == nil)
    }

    @Test("a vote keeps model_version and system_fingerprint through votes.jsonl")
    func voteRoundTrip() throws {
        let line =
            #"{"item":"1","judge":"j","verdict":"A","model_version":"gpt-4o-2024-11-20","system_fingerprint":"fp_x"}"#
        let v = try JSONDecoder().decode(Vote.self, from: Data(line.utf8))
        #expect(v.modelVersion == "gpt-4o-2024-11-20" && v.systemFingerprint == "fp_x")
        let written = try VotesFile.line(v)
        #expect(
            written.contains(#""model_version":"gpt-4o-2024-11-20""#)
                && written.contains(#""system_fingerprint":"fp_x""#))
    }
}

/// The drift sentinel end to end: three `score` runs of the built CLI against one in-process fake server, whose
/// `judge` model is an alias the server resolves to a snapshot (OpenAI `model` in the reply).
@Suite("Drift sentinel (drift, score --baseline)")
struct DriftSentinelTests {
    /// 0: as recorded; 1: the same verdicts, later (timing only); 2: the judge prefers the other answer and the
    /// alias resolves to a new snapshot.
    final class Phase: Sendable {
        let value = Atomic<Int>(0)
    }

    static func openAIBody(text: String, model: String, index: Int) -> String {
        // https://platform.openai.com/docs/api-reference/chat/object
        let content = String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
        return
            #"{"id":"chatcmpl-\#(index)","object":"chat.completion","created":1,"model":"\#(model)","system_fingerprint":"fp_drift","#
            + #""choices":[{"index":0,"message":{"role":"assistant","content":\#(content),"refusal":null},"finish_reason":"stop","logprobs":null}],"#
            + #""usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}"#
    }

    static func setUp() async throws -> (
        server: FakeProviderServer, phase: Phase, dir: URL, panel: String, items: String
    ) {
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        var quality: [String: Double] = [:]
        for item in try ItemLoader().load(path: items) {
            let l = item.label?.preference
            quality[item.responseA!] = l == .a ? 2 : (l == .b ? 0 : 1)
            quality[item.responseB!] = l == .b ? 2 : (l == .a ? 0 : 1)
        }
        let lookup = qualityOracle(quality)
        let oracle = SimulatedJudge.oracle(quality: lookup)
        let contrarian = SimulatedJudge.oracle(quality: { text in lookup(text).map { -$0 } })
        let phase = Phase()
        let server = FakeProviderServer { request in
            let p = phase.value.load(ordering: .relaxed)
            if request.model == "steady" { return oracle.reply(to: request) }
            let reply = (p == 2 ? contrarian : oracle).reply(to: request)
            guard case .text(let text, _, _, _) = reply else { return reply }
            let body = Self.openAIBody(
                text: text, model: p == 2 ? "gpt-4o-2024-11-20" : "gpt-4o-2024-08-06", index: request.index)
            let answer = FakeReply.status(200, body: body, headers: ["content-type": "application/json"])
            return p == 1 ? .delayed(.milliseconds(15), answer) : answer
        }
        try await server.start()
        let base = await server.baseURL.absoluteString + "/v1"
        let dir = try tempDir("drift")
        let panel = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: judge, provider: openai, base_url: "\(base)", model: gpt-4o, concurrency: 4}
          - {name: steady, provider: openai, base_url: "\(base)", model: steady, concurrency: 4}
        aggregate: majority
        swap: true
        flip: tie
        """.write(toFile: panel, atomically: true, encoding: .utf8)
        return (server, phase, dir, panel, items)
    }

    static func score(
        _ s: (server: FakeProviderServer, phase: Phase, dir: URL, panel: String, items: String), out: String,
        extra: [String] = []
    )
        async throws -> (code: Int32, out: String, err: String)
    {
        try await runJudgepanel(
            [
                "score", s.items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", s.panel, "--out",
                s.dir.appendingPathComponent(out).path,
                "--no-cache",
            ] + extra)
    }

    static func json(_ path: URL) throws -> JSONValue { try JSONValue(jsonData: Data(contentsOf: path)) }

    @Test("a judge that changed behaviour (and snapshot) is detected with exit 4; timing alone is not")
    func detects() async throws {
        let s = try await Self.setUp()
        defer { Task { await s.server.stop() } }
        let base = try await Self.score(s, out: "base")
        #expect(base.code == 0, "\(base.err)")
        // The provider's reported model is in every vote and in the run facts.
        let votes = try VotesFile.load(path: s.dir.appendingPathComponent("base/votes.jsonl").path)
        #expect(
            votes.filter { $0.judge == "judge" }.allSatisfy {
                $0.modelVersion == "gpt-4o-2024-08-06" && $0.systemFingerprint == "fp_drift"
            })
        #expect(votes.filter { $0.judge == "steady" }.allSatisfy { $0.modelVersion == "steady" })
        let facts = try Self.json(s.dir.appendingPathComponent("base/config.json"))["run"]
        #expect(
            facts?["model_versions"]?["judge"]?["gpt-4o-2024-08-06"]?.intValue
                == votes.filter { $0.judge == "judge" }.count)

        // Timing only: same verdicts, slower replies.
        s.phase.value.store(1, ordering: .relaxed)
        let slow = try await Self.score(
            s, out: "slow", extra: ["--baseline", s.dir.appendingPathComponent("base").path])
        #expect(slow.code == 0, "\(slow.out)\n\(slow.err)")
        let calm = try Self.json(s.dir.appendingPathComponent("slow/drift.json"))
        #expect(calm["significant"] == .bool(false))
        #expect(calm["changes"]?.arrayValue?.isEmpty == true, "\(calm["changes"]?.compactString ?? "")")
        #expect(calm["model_versions"]?.arrayValue?.isEmpty == true)
        #expect(calm["units"]?.arrayValue?.allSatisfy { $0["changed"]?.intValue == 0 } == true)

        // The judge now prefers the other answer, and the alias resolves to a new snapshot.
        s.phase.value.store(2, ordering: .relaxed)
        let changed = try await Self.score(
            s, out: "changed", extra: ["--baseline", s.dir.appendingPathComponent("base").path])
        #expect(changed.code == 4, "\(changed.out)\n\(changed.err)")
        for file in ["report.json", "verdicts.jsonl", "drift.json", "drift.md", "drift.html"] {
            #expect(
                FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("changed/\(file)").path), "\(file)")
        }
        let drift = try Self.json(s.dir.appendingPathComponent("changed/drift.json"))
        #expect(drift["significant"] == .bool(true))
        let units = drift["units"]?.arrayValue ?? []
        let judge = try #require(units.first { $0["judge"]?.stringValue == "judge" })
        let steady = try #require(units.first { $0["judge"]?.stringValue == "steady" })
        #expect(judge["significant"] == .bool(true))
        // Answers flipped both ways (labels A and B alike): McNemar on A→B vs B→A sees no one-sided shift, the
        // agreement with humans does (correct → wrong).
        #expect((judge["changed"]?.intValue ?? 0) > 30)
        #expect((judge["accuracy_mcnemar"]?["b"]?.intValue ?? 0) > 10)
        #expect((judge["accuracy_mcnemar"]?["p_holm"]?.doubleValue ?? 1) < 0.05)
        #expect(steady["significant"] == .bool(false) && steady["changed"]?.intValue == 0)
        let versions = drift["model_versions"]?.arrayValue ?? []
        #expect(versions.count == 1)
        let summary = versions.first?["summary"]?.stringValue ?? ""
        #expect(
            summary.contains("gpt-4o-2024-08-06") && summary.contains("gpt-4o-2024-11-20")
                && summary.contains("alias 'gpt-4o'"))
        let html = try String(contentsOf: s.dir.appendingPathComponent("changed/drift.html"), encoding: .utf8)
        #expect(html.contains("Significant change") && html.contains("gpt-4o-2024-11-20"))

        // The standalone command agrees, with the documented exit codes and --alpha.
        let cli = try await runJudgepanel([
            "drift", s.dir.appendingPathComponent("base").path, s.dir.appendingPathComponent("changed").path, "--json",
        ])
        #expect(cli.code == 4)
        #expect(try JSONValue(jsonData: Data(cli.out.utf8))["significant"] == .bool(true))
        let same = try await runJudgepanel([
            "drift", s.dir.appendingPathComponent("base").path, s.dir.appendingPathComponent("slow").path,
        ])
        #expect(same.code == 0, "\(same.out)\n\(same.err)")
        let strict = try await runJudgepanel(
            [
                "drift", s.dir.appendingPathComponent("base").path, s.dir.appendingPathComponent("changed").path,
                "--alpha", "1e-300",
            ])
        #expect(strict.code == 0, "\(strict.out)")
        let bad = try await runJudgepanel(["drift", s.dir.appendingPathComponent("base").path, s.dir.path])
        #expect(bad.code == 2)
    }

    @Test(
        "gates on a score run: a failed gate writes every file and exits 4; a missing path exits 2; bad syntax sends nothing"
    )
    func gates() async throws {
        let s = try await Self.setUp()
        defer { Task { await s.server.stop() } }
        let junit = s.dir.appendingPathComponent("gates.xml").path
        let r = try await Self.score(
            s, out: "gated",
            extra: [
                "--fail-under", "panel.accuracy.ci_lo>=0.5", "--fail-under", "judges.judge.cohen_kappa>1",
                "--fail-under", "verdicts.share.A>=0",
                "--junit", junit, "--junit-items",
            ])
        #expect(r.code == 4, "\(r.out)\n\(r.err)")
        #expect(r.err.contains("1 of 3 quality gates failed") && r.err.contains("judges.judge.cohen_kappa>1"))
        for file in ["report.json", "report.md", "report.html", "verdicts.jsonl", "votes.jsonl"] {
            #expect(
                FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("gated/\(file)").path), "\(file)")
        }
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(XMLDocumentCheck(xml).testcases == 3 + 50)
        if JUnitValidator.available || JUnitValidator.required {
            let v = try JUnitValidator.validate(junit)
            #expect(v.code == 0, "\(v.output)")
        }

        let missing = try await Self.score(s, out: "gated2", extra: ["--fail-under", "panel.acuracy>=0.5"])
        #expect(missing.code == 2)
        #expect(missing.err.contains("no key 'acuracy'"))

        let before = await s.server.requestCount()
        let malformed = try await Self.score(s, out: "gated3", extra: ["--fail-under", "panel.accuracy=>0.5"])
        #expect(malformed.code == 2)
        #expect(await s.server.requestCount() == before)
        #expect(!FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("gated3/votes.jsonl").path))
    }

    @Test("meta --fail-under on recorded votes: pass exits 0, fail exits 4, a missing judge exits 2")
    func metaGates() async throws {
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let votes = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.votes.jsonl").path
        let ok = try await runJudgepanel(["meta", items, "--votes", votes, "--json", "--fail-under", "n_items>=50"])
        #expect(ok.code == 0, "\(ok.err)")
        #expect((try? JSONValue(jsonData: Data(ok.out.utf8))) != nil, "stdout stays the report JSON")
        let fail = try await runJudgepanel(["meta", items, "--votes", votes, "--fail-under", "panel.accuracy>=1.01"])
        #expect(fail.code == 4)
        let missing = try await runJudgepanel([
            "meta", items, "--votes", votes, "--fail-under", "judges.nobody.accuracy>=0",
        ])
        #expect(missing.code == 2)
        #expect(missing.err.contains("no entry named 'nobody'"))
    }
}

/// ``DriftAnalysis`` on hand-made columns: which change each test sees.
@Suite("Drift statistics")
struct DriftAnalysisTests {
    static func column(_ name: String, _ verdicts: [Preference?]) -> DriftAnalysis.Column {
        .init(name: name, verdicts: verdicts, scores: verdicts.map { _ in nil })
    }

    @Test("a one-sided shift (A→B) is significant without labels; identical columns are not")
    func oneSided() {
        let base: [Preference?] = Array(repeating: .a, count: 30) + Array(repeating: .b, count: 30)
        var new = base
        for i in 0..<14 { new[i] = .b }
        let labels = [Label?](repeating: nil, count: 60)
        let units = DriftAnalysis().compare(
            base: [Self.column("j", base)], new: [Self.column("j", new)], labels: labels, pairwise: true)
        #expect(units[0].mcnemar?.b == 14 && units[0].mcnemar?.c == 0)
        #expect(units[0].significant)
        let same = DriftAnalysis().compare(
            base: [Self.column("j", base)], new: [Self.column("j", base)], labels: labels, pairwise: true)
        #expect(!same[0].significant && same[0].changed == 0 && same[0].scoreDiffCI == [0, 0])
    }

    @Test("answers swapped both ways: McNemar sees nothing, --max-change-rate does")
    func bothWays() {
        let base: [Preference?] = Array(repeating: .a, count: 30) + Array(repeating: .b, count: 30)
        var new = base
        for i in 0..<10 { new[i] = .b }
        for i in 30..<40 { new[i] = .a }
        let labels = [Label?](repeating: nil, count: 60)
        let plain = DriftAnalysis().compare(
            base: [Self.column("j", base)], new: [Self.column("j", new)], labels: labels, pairwise: true)
        #expect(!plain[0].significant && plain[0].changed == 20)
        let bounded = DriftAnalysis(maxChangeRate: 0.1).compare(
            base: [Self.column("j", base)], new: [Self.column("j", new)], labels: labels, pairwise: true)
        #expect(bounded[0].significant)
    }

    @Test("Holm's adjustment matches its definition")
    func holm() {
        let adjusted = DriftAnalysis.holm([0.01, 0.04, 0.03, 0.2])
        // Sorted 0.01, 0.03, 0.04, 0.2 → 4·0.01, max(0.04, 3·0.03), max(0.09, 2·0.04), max(0.09, 0.2).
        #expect(zip(adjusted, [0.04, 0.09, 0.09, 0.2]).allSatisfy { abs($0 - $1) < 1e-12 })
    }
}
