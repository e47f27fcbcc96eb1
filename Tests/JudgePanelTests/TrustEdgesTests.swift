import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The edges issue 25 found: `--out` overwriting what is not ours, secrets reaching the cache and logs, a killed
/// Anthropic batch run stranded, numbers that were silently wrong, policies dropped on resume, exit codes.
@Suite("Nothing overwritten, nothing leaked, nothing silently wrong", .serialized)
struct TrustEdgesTests {
    // MARK: - helpers

    /// A three-judge oracle panel on a fake server, its items and panel files in `dir`.
    struct Setup {
        let server: FakeProviderServer
        let items: String
        let panel: String
    }

    static func setup(_ dir: URL, items n: Int = 8, panelExtra: String = "", judgeExtra: String = "") async throws
        -> Setup
    {
        let (items, quality) = syntheticPairwise(n)
        let itemsPath = try writePairwiseItems(items, dir)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let server = try await startPanelFake(["o1": oracle, "o2": oracle, "first": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let yaml =
            "version: 1\njudges:\n"
            + ["o1", "o2", "first"].map {
                "  - {name: \($0), provider: openai, base_url: \"\(base)\", model: \($0)\(judgeExtra)}\n"
            }.joined()
            + "aggregate: majority\nswap: true\nflip: tie\n" + panelExtra
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try yaml.write(toFile: panelPath, atomically: true, encoding: .utf8)
        return Setup(server: server, items: itemsPath, panel: panelPath)
    }

    static func score(_ s: Setup, out: String, _ extra: [String] = []) async throws -> (
        code: Int32, out: String, err: String
    ) {
        try await runJudgepanel(
            [
                "score", s.items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", s.panel, "--out", out,
                "--no-cache",
            ] + extra,
            env: ["OPENAI_API_KEY": "x"])
    }

    /// Every file under `dir` with its bytes.
    static func snapshot(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for case let rel as String in FileManager.default.enumerator(atPath: dir)?.allObjects ?? [] {
            if let d = FileManager.default.contents(atPath: dir + "/" + rel) { out[rel] = d }
        }
        return out
    }

    // MARK: - 1. --out

    @Test(
        "--out: new, empty or the same kind; a project folder, a merged run or an import is refused (exit 2), untouched"
    )
    func outRefusesWhatIsNotOurs() async throws {
        let dir = try tempDir("trust-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir)
        defer { Task { await s.server.stop() } }

        // A project folder: notes and a votes.jsonl that is not a run's.
        let project = dir.appendingPathComponent("project").path
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try "my notes\n".write(toFile: project + "/notes.txt", atomically: true, encoding: .utf8)
        try "{\"mine\":1}\n".write(toFile: project + "/votes.jsonl", atomically: true, encoding: .utf8)
        let before = Self.snapshot(project)
        let r1 = try await Self.score(s, out: project)
        #expect(r1.code == 2, "\(r1.err)")
        #expect(r1.err.contains("notes.txt") && r1.err.contains("not a judgepanel directory"), "\(r1.err)")
        #expect(Self.snapshot(project) == before, "nothing touched, not even a lock")

        // Shards and their merge.
        let s0 = dir.appendingPathComponent("s0").path
        let s1 = dir.appendingPathComponent("s1").path
        for (i, o) in [s0, s1].enumerated() {
            let r = try await Self.score(s, out: o, ["--shard", "\(i)/2"])
            #expect(r.code == 0, "\(r.err)")
        }
        let merged = dir.appendingPathComponent("merged").path
        let m1 = try await runJudgepanel(["merge", s0, s1, "--out", merged])
        #expect(m1.code == 0, "\(m1.err)")
        let m2 = try await runJudgepanel(["merge", s1, s0, "--out", merged])
        #expect(m2.code == 0, "the same merge again is the same run: \(m2.err)")
        let mp = try await runJudgepanel(["merge", s0, s1, "--out", project])
        #expect(mp.code == 2 && mp.err.contains("notes.txt"), "\(mp.err)")
        #expect(Self.snapshot(project) == before)

        // score onto the merged run (with --resume, the way a user would "finish" it): refused, untouched.
        let mergedBefore = Self.snapshot(merged)
        let r2 = try await Self.score(s, out: merged, ["--resume"])
        #expect(r2.code == 2 && r2.err.contains("merged run"), "\(r2.err)")
        #expect(Self.snapshot(merged) == mergedBefore)

        // An import: proven by its manifest; score and merge refuse it, a re-import of the same format is allowed.
        let imported = dir.appendingPathComponent("imported").path
        let importArgs = [
            "import", "mtbench-human", "fixtures/mtbench/gpt-4_pair.jsonl", "fixtures/mtbench/human_judgments.json",
            "--out", imported,
        ]
        let i1 = try await runJudgepanel(importArgs)
        #expect(i1.code == 0, "\(i1.err)")
        #expect(FileManager.default.fileExists(atPath: imported + "/import.json"))
        let importBefore = Self.snapshot(imported)
        let r3 = try await Self.score(s, out: imported)
        #expect(r3.code == 2 && r3.err.contains("import"), "\(r3.err)")
        let m3 = try await runJudgepanel(["merge", s0, s1, "--out", imported])
        #expect(m3.code == 2, "\(m3.err)")
        #expect(Self.snapshot(imported) == importBefore, "the import's votes are untouched")
        let i2 = try await runJudgepanel(importArgs)
        #expect(i2.code == 0, "\(i2.err)")
        // An import into a score run: refused.
        let i3 = try await runJudgepanel(Array(importArgs.dropLast()) + [s0])
        #expect(i3.code == 2, "\(i3.err)")
    }

    @Test("merge refuses a shard whose votes.jsonl lost lines (count and SHA-256 it recorded), exit 2, nothing written")
    func mergeChecksShardDigest() async throws {
        let dir = try tempDir("trust-digest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir, items: 12)
        defer { Task { await s.server.stop() } }
        let s0 = dir.appendingPathComponent("s0").path
        let s1 = dir.appendingPathComponent("s1").path
        for (i, o) in [s0, s1].enumerated() {
            let r = try await Self.score(s, out: o, ["--shard", "\(i)/2"])
            #expect(r.code == 0, "\(r.err)")
        }
        let config = try JSONValue.parse(String(contentsOfFile: s1 + "/config.json", encoding: .utf8))
        #expect(config["shard"]?["votes_sha256"]?.stringValue?.count == 64)
        // Drop the last 3 lines of shard 1's votes.
        let lines = try String(contentsOfFile: s1 + "/votes.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.dropLast(3).joined(separator: "\n") + "\n").write(
            toFile: s1 + "/votes.jsonl", atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("merged").path
        let m = try await runJudgepanel(["merge", s0, s1, "--out", out])
        #expect(m.code == 2, "\(m.err)")
        #expect(m.err.contains("votes.jsonl") && m.err.contains("cut short"), "\(m.err)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written")
        // report DIR on that shard: its votes are not the ones it recorded.
        let rep = try await runJudgepanel(["report", s1])
        #expect(rep.code == 2 && rep.err.contains("records"), "\(rep.err)")
    }

    // MARK: - 2. secrets

    @Test("no 8-character piece of a key, a header value or a URL credential in any file (cache included) or log line")
    func noPieceOfASecretAnywhere() async throws {
        let dir = try tempDir("trust-secrets")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = "kq7-Zt9wLmP4xVb2NcR8sDf6GhJ3"  // no known key shape: only the per-secret rule can catch it
        let header = "hdr-Yq2Wm8Kp5Tz3Lx9Vb"
        let password = "pw-Rj4Ne7Qs1Ua6Ic"
        let middle = String(Array(key)[9..<19])  // a 10-character middle piece
        let (items, quality) = syntheticPairwise(4)
        let itemsPath = try writePairwiseItems(items, dir)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let flaky = Flaky()
        let server = try await startPanelFake([
            // A gateway that echoes what it was given into the reply (and the model repeats a piece of its context).
            "echo": { request in
                let inner = await oracle(request)
                guard case .text(let text, _, _, _) = inner else { return inner }
                return .text(text + "\n(debug: key=\(key) auth \(password) trace \(header) mid \(middle))")
            },
            // A first answer that fails retryably, quoting the key (a debug log line says the retry with the error).
            "flaky": { request in
                if await flaky.first() {
                    return .status(503, body: "{\"error\":{\"message\":\"upstream refused \(key) \(middle)\"}}")
                }
                return await oracle(request)
            },
        ])
        defer { Task { await server.stop() } }
        let url = await server.baseURL
        let base = "http://judge:\(password)@127.0.0.1:\(url.port ?? 0)/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: echo, provider: openai, base_url: "\(base)", model: echo, api_key_env: MY_GATEWAY_CRED, headers: {X-Trace: "\(header)"}}
          - {name: flaky, provider: openai, base_url: "\(url.absoluteString)/v1", model: flaky, api_key_env: MY_GATEWAY_CRED}
        aggregate: majority
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let cache = dir.appendingPathComponent("cache").path
        let r = try await runJudgepanel(
            [
                "--log-level", "debug", "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                panelPath, "--out", out,
                "--cache-dir", cache,
            ],
            env: ["MY_GATEWAY_CRED": key])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("retrying"), "the debug log ran: \(r.err)")
        let cacheFiles = Self.snapshot(cache)
        #expect(!cacheFiles.isEmpty, "the replies were cached")
        var texts = ["stdout": r.out, "stderr": r.err]
        for (rel, data) in Self.snapshot(out).merging(
            cacheFiles.mapKeys { "cache/" + $0 }, uniquingKeysWith: { a, _ in a })
        {
            texts[rel] = String(decoding: data, as: UTF8.self)
        }
        for secret in [key, header, password] {
            let chars = Array(secret)
            for start in 0...(chars.count - 8) {
                let piece = String(chars[start..<(start + 8)])
                for (name, text) in texts { #expect(!text.contains(piece), "\(name) holds '\(piece)' of a secret") }
            }
        }
        let config = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        #expect(config.contains("[redacted]@127.0.0.1"), "the URL's credentials are replaced, the URL kept")
        // The votes still parsed: the echo judge's verdicts were read around the scrubbed text.
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        let echoOK = votes.filter { $0.judge == "echo" }.allSatisfy { $0.isOK }
        #expect(echoOK)
    }

    @Test("SecretScrubber: any 8-byte piece of a secret goes, the text around it stays; URL credentials are replaced")
    func scrubberPieces() {
        let secret = "ABCDEFGHIJKLMNOPQRSTUVWX"
        let s = SecretScrubber(secrets: [secret])
        #expect(s.scrubKeys("x GHIJKLMNOP y") == "x [redacted] y")
        #expect(s.scrubKeys("x GHIJKLM y") == "x GHIJKLM y", "7 characters are not a piece")
        #expect(s.scrubKeys("é\(secret)é") == "é[redacted]é")
        let redacted = SecretScrubber.redactURL("https://u:p4ssw0rd@host.example/v1?key=AIzaSECRET&x=1")
        #expect(redacted.contains("[redacted]@host.example") && !redacted.contains("p4ssw0rd"), "\(redacted)")
        #expect(!SecretScrubber.redactURL("https://host.example/v1?key=AIzaSECRETSECRET").contains("SECRETSECRET"))
        #expect(SecretScrubber.redactURL("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1")
    }

    // MARK: - 3. exit codes

    @Test("exit 3: an --out that cannot be created; a batch the provider no longer knows (404)")
    func ioAndEnvironmentExitThree() async throws {
        let dir = try tempDir("trust-io")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir)
        defer { Task { await s.server.stop() } }
        // Under a regular file: no directory can be made there (root included).
        let r = try await Self.score(s, out: s.items + "/run")
        #expect(r.code == 3, "\(r.code): \(r.err)")
        #expect(r.err.contains("cannot create"), "\(r.err)")
    }

    @Test("CLI: a batch the provider no longer knows exits 3, naming it")
    func forgottenBatchExitsThree() async throws {
        let (items, quality) = syntheticPairwise(20)
        let dir = try tempDir("trust-404")
        defer { try? FileManager.default.removeItem(at: dir) }
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        defer { Task { await server.stop() } }
        let root = await server.baseURL.absoluteString
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: an, provider: anthropic, base_url: "\(root)", model: an}
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
            "--batch", "--batch-poll", "0.02",
        ]
        let p = try launchJudgepanel(args)
        let deadline = ContinuousClock.now + .seconds(120)
        while p.isRunning, ContinuousClock.now < deadline, await api.counts().polls < 2 {
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        for id in await api.batchIDs() { await api.forget(id) }
        let r = try await runJudgepanel(args + ["--resume"])
        #expect(r.code == 3, "\(r.code): \(r.err)")
        #expect(r.err.contains("no longer knows"), "\(r.err)")
        #expect(await api.counts().batchesCreated == 1, "nothing submitted again")
    }

    // MARK: - 4. numbers

    @Test("a pointwise label outside the rubric's scale is refused at load, naming file and line")
    func labelOutsideScale() async throws {
        let dir = try tempDir("trust-scale")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("items.jsonl").path
        try """
        {"id": "a", "prompt": "p", "response": "r", "label": 7}
        {"id": "b", "prompt": "p", "response": "r", "label": 420}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let server = try await startPanelFake(["j": { _ in .text("[[5]]") }])
        defer { Task { await server.stop() } }
        let panel = await fakePanel(server, judges: ["j"])
        do {
            _ = try ScoreJob(
                itemsPath: path, items: try ItemLoader().load(path: path), rubric: try loadRubric("pointwise-1to10"),
                panel: panel, options: panelTestOptions)
            Issue.record("a label of 420 on a 1–10 rubric was accepted")
        } catch let e as JudgePanelError {
            #expect(e.isInputError && e.line == 2 && e.file == path, "\(e)")
            #expect(e.message.contains("420") && e.message.contains("1–10"), "\(e)")
        }
    }

    @Test("usage negative, missing, a string or 1e30: that call's cost is unknown (counted), never negative, never $0")
    func implausibleUsageIsUnknownCost() async throws {
        @Sendable func body(_ usage: String) -> FakeReply {
            .status(
                200,
                body:
                    #"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"[[A]]"},"finish_reason":"stop"}]"#
                    + usage + "}",
                headers: ["Content-Type": "application/json"])
        }
        let server = try await startPanelFake([
            "good": { _ in .text("[[A]]", promptTokens: 100, completionTokens: 10) },
            "negative": { _ in .text("[[A]]", promptTokens: -1_000_000, completionTokens: 10) },
            "missing": { _ in body("") },
            "string": { _ in body(#","usage":{"prompt_tokens":"lots","completion_tokens":5}"#) },
            "huge": { _ in body(#","usage":{"prompt_tokens":1e30,"completion_tokens":5}"#) },
        ])
        defer { Task { await server.stop() } }
        let base = await server.baseURL.absoluteString + "/v1"
        let names = ["good", "negative", "missing", "string", "huge"]
        let panel = Panel(
            judges: names.map {
                JudgeConfig(
                    name: $0, provider: .openai, model: $0, baseURLs: [base],
                    price: Price(inputPerMTok: 20, outputPerMTok: 40), timeoutSeconds: 10, retries: 0)
            }, aggregate: .majority, swap: false, flip: .tie)
        let items = (0..<3).map { Item(id: "i\($0)", prompt: "q\($0)", responseA: "a", responseB: "b") }
        let dir = try tempDir("trust-usage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try await ScoreJob(
            itemsPath: "synthetic", items: items, rubric: try loadRubric("pairwise-mtbench"), panel: panel,
            options: panelTestOptions
        )
        .run(outDir: dir.appendingPathComponent("run").path)
        for v in outcome.result.votes {
            if v.judge == "good" {
                #expect((v.costUSD ?? 0) > 0 && v.usage?.promptTokens == 100)
            } else {
                #expect(v.isOK, "\(v.judge): the verdict still counts")
                #expect(v.costUSD == nil && v.usage == nil, "\(v.judge): cost \(String(describing: v.costUSD))")
            }
        }
        let facts = try #require(outcome.reportJSON["run"])
        #expect(facts["cost_unknown_calls"]?.intValue == 12)
        #expect((facts["cost_usd"]?.doubleValue ?? -1) > 0)
        #expect(facts["prompt_tokens"]?.intValue == 300)
        let md = try String(contentsOfFile: dir.appendingPathComponent("run/report.md").path, encoding: .utf8)
        #expect(md.contains("cost unknown: 12 calls"))
    }

    @Test("effective number of judges lies in [1, n], also when error correlations are negative")
    func effectiveJudgesBounded() {
        let negative: [[Double]] = (0..<4).map { i in (0..<4).map { j in i == j ? 1 : -0.3 } }
        #expect((EffectiveJudges.kish(negative).value ?? 0) > 4, "Kish's form alone exceeds n here")
        #expect(EffectiveJudges.bounded(negative.map { $0.map { Optional($0) } }).value == 4)
        let mixed: [[Double?]] = [[1, 0.5, -0.4], [0.5, 1, -0.2], [-0.4, -0.2, 1]]
        // n² / (n + Σ_{i≠j} max(ρ, 0)) = 9 / (3 + 1)
        #expect(abs((EffectiveJudges.bounded(mixed).value ?? 0) - 9.0 / 4.0) < 1e-12)
        let same: [[Double?]] = [[1, 1], [1, 1]]
        #expect(EffectiveJudges.bounded(same).value == 1)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let n = Int.random(in: 2...6, using: &rng)
            var m = [[Double?]](repeating: [Double?](repeating: 1, count: n), count: n)
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let r = Double.random(in: -1...1, using: &rng)
                    m[i][j] = r
                    m[j][i] = r
                }
            }
            let v = EffectiveJudges.bounded(m).value ?? -1
            #expect(v >= 1 && v <= Double(n))
        }
    }

    // MARK: - 5. resume under the recorded policy

    @Test("--resume of an --adaptive run continues adaptive (no extra call), refuses --cascade (exit 2)")
    func resumeKeepsPolicy() async throws {
        let dir = try tempDir("trust-policy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir, items: 12, panelExtra: "tiers: [[o1], [o2, first]]\n")
        defer { Task { await s.server.stop() } }
        let out = dir.appendingPathComponent("run").path
        let r1 = try await Self.score(s, out: out, ["--adaptive"])
        #expect(r1.code == 0, "\(r1.err)")
        let made = await s.server.requestCount()
        #expect(made < 12 * 3 * 2, "adaptive asked fewer than the full panel")
        let r2 = try await Self.score(s, out: out, ["--resume", "--cascade"])
        #expect(r2.code == 2 && r2.err.contains("--adaptive"), "\(r2.err)")
        let r3 = try await Self.score(s, out: out, ["--resume"])
        #expect(r3.code == 0, "\(r3.err)")
        #expect(r3.err.contains("under the policy it recorded: --adaptive"), "\(r3.err)")
        #expect(await s.server.requestCount() == made, "no call beyond the adaptive run's")
        let report = try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8))
        #expect(report["adaptive"] != nil, "the report keeps its adaptive section")
        // A full run resumed with --adaptive: refused.
        let full = dir.appendingPathComponent("full").path
        #expect(try await Self.score(s, out: full).code == 0)
        let r4 = try await Self.score(s, out: full, ["--resume", "--adaptive"])
        #expect(r4.code == 2, "\(r4.err)")
    }

    // MARK: - 6. batches a crash cannot strand

    @Test(
        "Anthropic: a create sent but never journaled, among other clients' batches of the same size: found by its results, never resubmitted, nothing cancelled"
    )
    func strandedBatchIsProven() async throws {
        let (items, quality) = syntheticPairwise(40)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        defer { Task { await server.stop() } }
        let price = Price(inputPerMTok: 1, outputPerMTok: 2)
        let root = await server.baseURL.absoluteString
        let panel = Panel(
            judges: [
                JudgeConfig(
                    name: "an", provider: .anthropic, model: "an", baseURLs: [root], concurrency: 8, price: price,
                    timeoutSeconds: 10, retries: 2)
            ],
            aggregate: .majority, swap: true, flip: .tie)
        let dir = try tempDir("trust-strand")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = LinesSink()
        var job = try ScoreJob(
            itemsPath: "synthetic", items: items, rubric: try loadRubric("pairwise-mtbench"), panel: panel,
            options: panelTestOptions)
        job.batch = BatchOptions(
            pollInterval: 0.01, maxPollInterval: 0.02, maxRequestsPerBatch: 40, progress: lines.sink)
        // One batch of another client, of the same size, created before ours.
        await api.addForeignAnthropicBatch(requests: 40)
        let frozen = job
        let task = Task { try await frozen.run(outDir: dir.path) }
        let deadline = ContinuousClock.now + .seconds(120)
        while await api.counts().batchesCreated < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        _ = await task.result
        #expect(await api.counts().batchesCreated == 2)
        // Killed between each create request and its journal line: the ledger has the intent, not the id.
        let ledger = dir.path + "/batches.jsonl"
        let kept = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").filter {
            !$0.contains("\"event\":\"created\"")
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: ledger, atomically: true, encoding: .utf8)
        // Other clients' batches of the same size created since, while ours run.
        for _ in 0..<3 { await api.addForeignAnthropicBatch(requests: 40) }
        await api.hold(false)
        let outcome = try await job.run(outDir: dir.path, resume: true)
        let counts = await api.counts()
        #expect(counts.batchesCreated == 2, "no batch created twice")
        #expect(counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(counts.cancels == 0, "no one's batch cancelled")
        #expect(outcome.result.votes.count == 80 && outcome.result.votes.allSatisfy { $0.isOK })
        #expect(!lines.all.contains { $0.contains("cancel the") || $0.contains("could be it") }, "\(lines.all)")
        let adopted = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").filter {
            $0.contains("\"adopted\":true")
        }
        #expect(adopted.count == 2)
    }

    // MARK: - 7. bounds and report

    @Test("samples: 1000000000 is refused at load (exit 2, file:line), not an allocation failure later")
    func samplesBounded() async throws {
        let dir = try tempDir("trust-samples")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir, judgeExtra: ", samples: 1000000000")
        defer { Task { await s.server.stop() } }
        let r = try await Self.score(s, out: dir.appendingPathComponent("run").path)
        #expect(r.code == 2, "\(r.err)")
        #expect(r.err.contains("panel.yaml:") && r.err.contains("samples must be"), "\(r.err)")
        #expect(await s.server.requestCount() == 0)
    }

    @Test("report DIR refuses a run that did not finish (config.json without facts: a killed --resume-changed)")
    func reportRefusesUnfinished() async throws {
        let dir = try tempDir("trust-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try await Self.setup(dir)
        defer { Task { await s.server.stop() } }
        let out = dir.appendingPathComponent("run").path
        #expect(try await Self.score(s, out: out).code == 0)
        #expect(try await runJudgepanel(["report", out]).code == 0)
        // What a --resume-changed killed after its first write leaves: config.json naming the new inputs, no facts.
        var config =
            try JSONValue.parse(String(contentsOfFile: out + "/config.json", encoding: .utf8)).objectValue ?? [:]
        config["run"] = nil
        try String(decoding: try JSONValue.object(config).compactData(), as: UTF8.self).write(
            toFile: out + "/config.json", atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))
        let r = try await runJudgepanel(["report", out])
        #expect(r.code == 2 && r.err.contains("did not finish"), "\(r.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/report.json")) == before)
    }
}

/// The first call says true, later ones false.
private actor Flaky {
    private var seen = false
    func first() -> Bool {
        defer { seen = true }
        return !seen
    }
}

private final class LinesSink: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
    var sink: @Sendable (String) -> Void {
        { line in
            self.lock.lock()
            self.lines.append(line)
            self.lock.unlock()
        }
    }
}

extension Dictionary {
    fileprivate func mapKeys(_ f: (Key) -> Key) -> [Key: Value] {
        Dictionary(uniqueKeysWithValues: map { (f($0.key), $0.value) })
    }
}
