import Foundation
import JudgePanelTesting
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

/// A made-up key in OpenAI's project-key shape (never a real one).
let fakeKey = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123MxYA"

/// Every fragment of `fakeKey` that must never be written or printed.
let fakeKeyFragments = [fakeKey, String(fakeKey.prefix(8)), "AbCdEfGh", "MxYA", "0123MxYA"]

@Suite("Secret scrubbing")
struct SecretScrubberTests {
    let scrubber = SecretScrubber(secrets: [fakeKey])

    @Test("the key, its masked forms, bearer and header echoes, and key= in URLs are removed")
    func scrubsEveryForm() {
        let texts = [
            "Incorrect API key provided: sk-proj-****MxYA. You can find your API key at …",
            "Incorrect API key provided: sk-…MxYA.",
            "key ending ********MxYA is invalid",
            "invalid token: Bearer \(fakeKey)",
            "Authorization: Bearer \(fakeKey)",
            #"{"x-api-key": "\#(fakeKey)"}"#,
            "x-goog-api-key: AIzaSyA1234567890abcdefGHIJ",
            "GET https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIzaSyA1234567890abcdefGHIJ&alt=json",
            "the key \(fakeKey) was revoked",
            "prefix \(fakeKey.prefix(12))… only",
        ]
        for text in texts {
            let out = scrubber.scrub(text)
            for fragment in fakeKeyFragments + ["AIzaSyA1234567890", "abcdefGHIJ"] {
                #expect(!out.contains(fragment), "\(text) → \(out)")
            }
            #expect(out.contains(SecretScrubber.mark), "\(text) → \(out)")
        }
        // The generic rules alone (no known key) catch the masked and bearer forms.
        #expect(!SecretScrubber.generic.scrub("provided: sk-proj-****MxYA.").contains("MxYA"))
        #expect(!SecretScrubber.generic.scrub("Bearer abc.def-ghi").contains("abc.def"))
        #expect(!SecretScrubber.generic.scrub("?key=secretvalue123").contains("secretvalue123"))
        #expect(!SecretScrubber.generic.scrub("AUTHORIZATION: BEARER xyz123secret").contains("xyz123secret"))
        #expect(!SecretScrubber.generic.scrub("GET /x?API_KEY=xyz123secret").contains("xyz123secret"))
        #expect(SecretScrubber.generic.scrubKeys("A plain verdict: [[B]].") == "A plain verdict: [[B]].")
    }

    @Test("a model's own text keeps its markdown; only key shapes go")
    func modelTextKeepsMarkdown() {
        let reply = "****Verdict**** is [[A]] because **bold** matters; key \(fakeKey)"
        let out = scrubber.scrubKeys(reply)
        #expect(out.hasPrefix("****Verdict**** is [[A]] because **bold** matters; key "))
        #expect(!out.contains(fakeKey))
    }

    @Test("HTTP error bodies are scrubbed where the error is made")
    func errorsFromResponsesAreScrubbed() {
        let body = #"{"error":{"message":"Incorrect API key provided: sk-proj-****MxYA.","code":"invalid_api_key"}}"#
        let e = ProviderError.http(HTTPResponse(status: 401, body: Data(body.utf8)))
        #expect(e.message.contains("Incorrect API key provided"))
        #expect(!e.message.contains("MxYA"))
    }

    @Test("a 401 echoing the key: nothing of it in the run directory, stdout or stderr; a quota stop is in the summary")
    func cliWritesNoKey() async throws {
        let dir = try tempDir("secrets")
        let (items, quality) = syntheticPairwise(4)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let server = try await startPanelFake([
            "ok": oracle,
            "masked": { _ in .invalidKey(echo: "sk-proj-****MxYA") },
            // A proxy that quotes the whole header it got.
            "echo": { request in
                .status(
                    401,
                    body:
                        #"{"error":{"message":"Invalid Authorization header: \#(request.headers["authorization"] ?? "")"}}"#
                )
            },
            "broke": { _ in .quotaExhausted },
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelYAML = """
            version: 1
            judges:
              - {name: ok, provider: openai, base_url: "\(base)", model: ok}
              - {name: masked, provider: openai, base_url: "\(base)", model: masked}
              - {name: echo, provider: openai, base_url: "\(base)", model: echo}
              - {name: broke, provider: openai, base_url: "\(base)", model: broke, concurrency: 1}
            aggregate: majority
            swap: true
            """
        try panelYAML.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                dir.appendingPathComponent("panel.yaml").path,
                "--out", out, "--no-cache",
            ],
            env: ["OPENAI_API_KEY": fakeKey])
        let recorded = await server.recordedRequests()
        await server.stop()
        #expect(r.code == 1, "\(r.err)")
        // The key was sent (so there was something to leak) …
        #expect(recorded.contains { $0.headers["authorization"] == "Bearer \(fakeKey)" })
        // … and the errors are there, scrubbed.
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(
            votes.filter { $0.judge == "masked" }.allSatisfy {
                ($0.error ?? "").contains("Incorrect API key provided")
                    && ($0.error ?? "").contains(SecretScrubber.mark)
            })
        #expect(
            votes.filter { $0.judge == "echo" }.allSatisfy { ($0.error ?? "").contains("Invalid Authorization header") }
        )
        // Nothing of the key anywhere the run wrote or printed.
        var texts = ["stdout": r.out, "stderr": r.err]
        let files = FileManager.default.enumerator(atPath: out)?.compactMap { $0 as? String } ?? []
        #expect(files.contains("votes.jsonl") && files.contains("journal.jsonl") && files.contains("report.json"))
        for file in files {
            let path = out + "/" + file
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            texts[file] = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        }
        for (name, text) in texts {
            for fragment in fakeKeyFragments {
                #expect(!text.contains(fragment), "\(name) holds '\(fragment)'")
            }
        }
        // The quota stop: that judge's other calls unsent, and the summary says why.
        #expect(recorded.filter { $0.model == "broke" }.count == 1)
        #expect(r.err.contains("judge 'broke' stopped, its quota is exhausted (7 calls not sent"), "\(r.err)")
        let report = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        #expect(report["run"]?["stopped_judges"]?["broke"]?.stringValue?.contains("insufficient_quota") == true)
        #expect(texts["report.md"]?.contains("stopped (quota): broke") == true)
    }
}

@Suite("Response cache key")
struct CacheKeyTests {
    let request = CompletionRequest(
        model: "m", messages: [.system("s"), .user("u")], temperature: 0, maxTokens: 64, seed: 1, jsonSchema: nil,
        topLogprobs: nil)

    func key(_ judge: JudgeConfig, _ request: CompletionRequest? = nil, sample: Int = 0) -> String {
        ResponseCache.key(judge: judge, request: request ?? self.request, sample: sample)
    }

    @Test("provider kind, endpoint, every request field and the sample change the key; names and limits do not")
    func keyCoversWhatChangesTheAnswer() {
        let judge = JudgeConfig(name: "j", provider: .openai, model: "m", baseURLs: ["http://a:1/v1"])
        let base = key(judge)
        var llama = judge
        llama.provider = .llamacpp
        var other = judge
        other.baseURLs = ["http://b:1/v1"]
        #expect(key(llama) != base)
        #expect(key(other) != base)
        var changed: [CompletionRequest] = []
        for edit in [
            { (r: inout CompletionRequest) in r.temperature = 0.7 }, { $0.maxTokens = 65 }, { $0.seed = 2 },
            { $0.jsonSchema = ["type": "object"] }, { $0.topLogprobs = 5 }, { $0.messages[1] = .user("v") },
            { $0.messages[0] = .user("s") }, { $0.model = "m2" },
        ] as [(inout CompletionRequest) -> Void] {
            var r = request
            edit(&r)
            changed.append(r)
        }
        let keys = Set(changed.map { key(judge, $0) } + [base, key(judge, sample: 1)])
        #expect(keys.count == changed.count + 2)
        var renamed = judge
        renamed.name = "other-name"
        renamed.concurrency = 64
        renamed.retries = 1
        renamed.weight = 3
        renamed.samples = 5
        renamed.batchDiscount = 0.3
        renamed.explicitFields = ["temperature"]
        #expect(key(renamed) == base)
        var structured = judge
        structured.structuredOutput = true
        #expect(key(structured) != base)
        // A replica group is one scope, whatever the order; a trailing slash is the same endpoint.
        var group = judge
        group.baseURLs = ["http://a:1/v1", "http://c:1/v1"]
        var reordered = judge
        reordered.baseURLs = ["http://c:1/v1/", "http://a:1/v1"]
        #expect(key(group) == key(reordered))
        #expect(key(group) != base)
    }

    @Test("two servers serving the same model name never share a cached answer")
    func twoServersDoNotShare() async throws {
        let cacheDir = try tempDir("cache-key")
        let items = syntheticPairwise(2).items
        var options = panelTestOptions
        options.cache = ResponseCache(directory: cacheDir)
        let first = FakeProviderServer(reply: .text("[[A]]"))
        let second = FakeProviderServer(reply: .text("[[B]]"))
        try await first.start()
        try await second.start()
        var verdicts: [[Preference?]] = []
        for server in [first, second, first] {
            let judge = await judgeConfig("same-model", kind: .openai, server: server)
            let panel = Panel(judges: [judge], aggregate: .majority, swap: false, flip: .tie)
            let result = try await PanelRunner(
                panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: options
            )
            .run(items: items)
            verdicts.append(result.votes.map(\.verdict))
        }
        let firstCount = await first.requestCount()
        let secondCount = await second.requestCount()
        await first.stop()
        await second.stop()
        #expect(verdicts[0] == [.a, .a])
        #expect(verdicts[1] == [.b, .b])
        #expect(verdicts[2] == [.a, .a])
        #expect(secondCount == 2, "the second server was asked, not answered from the first one's cache")
        #expect(firstCount == 2, "the third run was answered from the first server's cache")
    }
}

@Suite("Provider registry")
struct ProviderRegistryTests {
    /// A provider that answers every call itself, counting them.
    struct Canned: JudgeProvider {
        let calls: CallCount
        func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
            calls.add()
            return CompletionResponse(text: "[[B]]")
        }
    }

    @Test("a library user's factory replaces a kind without editing a switch; an unregistered kind is an error")
    func customFactory() async throws {
        let calls = CallCount()
        var providers = ProviderRegistry.standard
        providers.register(.ollama) { _ in Canned(calls: calls) }
        var options = panelTestOptions
        options.providers = providers
        let judge = JudgeConfig(name: "mine", provider: .ollama, model: "x", baseURLs: ["http://127.0.0.1:9"])
        let panel = Panel(judges: [judge], aggregate: .majority, swap: true, flip: .tie)
        let result = try await PanelRunner(panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: options)
            .run(items: syntheticPairwise(2).items)
        #expect(calls.value == 4)
        #expect(result.votes.allSatisfy { $0.status == .ok })
        #expect(ProviderRegistry.standard.kinds == ProviderKind.allCases.map(\.rawValue).sorted())

        var empty = options
        empty.providers = ProviderRegistry()
        await #expect(throws: JudgePanelError.self) {
            _ = try await PanelRunner(panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: empty)
                .run(items: syntheticPairwise(1).items)
        }
    }
}
