import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A fake server speaking the batch APIs, one simulated judge per model name, and a panel of an OpenAI judge
/// (`oa`) and an Anthropic judge (`an`) pointing at it.
func startBatchFake(_ api: FakeBatchAPI, quality: [String: Double]) async throws -> FakeProviderServer {
    let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
    let server = FakeProviderServer(batchAPI: api) { request in
        guard request.model == "oa" || request.model == "an" else {
            return .status(404, body: "{\"error\":{\"message\":\"no model\"}}")
        }
        return await oracle(request)
    }
    try await server.start()
    return server
}

private func batchPanel(_ server: FakeProviderServer, judges: [ProviderKind] = [.openai, .anthropic]) async -> Panel {
    let root = await server.baseURL.absoluteString
    let price = Price(inputPerMTok: 1, outputPerMTok: 2)
    return Panel(
        judges: judges.map { kind in
            kind == .openai
                ? JudgeConfig(
                    name: "oa", provider: .openai, model: "oa", baseURLs: [root + "/v1"], concurrency: 8, price: price,
                    timeoutSeconds: 10, retries: 2)
                : JudgeConfig(
                    name: "an", provider: .anthropic, model: "an", baseURLs: [root], concurrency: 8, price: price,
                    timeoutSeconds: 10, retries: 2)
        }, aggregate: .majority, swap: true, flip: .tie)
}

private func batchJob(_ items: [Item], panel: Panel, batch: BatchOptions?) throws -> ScoreJob {
    var job = try ScoreJob(
        itemsPath: "synthetic", items: items, rubric: try loadRubric("pairwise-mtbench"), panel: panel,
        options: panelTestOptions)
    job.batch = batch
    return job
}

private final class Lines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
}

private func ledgerEvents(_ dir: String, _ event: String) -> [JSONValue] {
    guard let data = FileManager.default.contents(atPath: dir + "/batches.jsonl") else { return [] }
    return data.split(separator: 10).compactMap { try? JSONValue.parse(Data($0)) }.filter {
        $0["event"]?.stringValue == event
    }
}

@Suite("Provider batch APIs (score --batch)", .serialized)
struct BatchTests {
    @Test(
        "2 000 calls through OpenAI and Anthropic batches: every vote once, same verdicts as live, each request submitted once, half price"
    )
    func twoThousandCalls() async throws {
        let (items, quality) = syntheticPairwise(500)
        let api = FakeBatchAPI(pollsPerState: 1)
        let server = try await startBatchFake(api, quality: quality)
        let panel = await batchPanel(server)
        let dir = try tempDir("batch2k")
        let progress = Lines()
        let job = try batchJob(
            items, panel: panel,
            batch: BatchOptions(
                pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 300, progress: progress.sink))
        let out = dir.appendingPathComponent("batch").path
        let outcome = try await job.run(outDir: out)
        let counts = await api.counts()
        #expect(await server.requestCount() == 0, "no live call")
        #expect(outcome.result.votes.count == 2000)
        #expect(Set(outcome.result.votes.map(\.key)).count == 2000)
        let notOK = outcome.result.votes.filter { !$0.isOK }
        #expect(
            notOK.isEmpty,
            "\(notOK.prefix(3).map { "\($0.key): \($0.status) \($0.reason.map { "\($0)" } ?? "-") \($0.error ?? "")" })"
        )
        #expect(counts.requestsSubmitted == 2000)
        #expect(
            counts.submissionsPerCustomID.count == 2000 && counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        // 1 000 calls per judge in batches of at most 300: 4 each.
        #expect(counts.batchesCreated == 8)
        #expect(counts.filesUploaded == 4)  // OpenAI only; Anthropic takes the requests inline
        #expect(ledgerEvents(out, "created").count == 8 && ledgerEvents(out, "collected").count == 8)
        #expect(progress.all.contains { $0.contains("in_progress") })
        let custom = Set(counts.submissionsPerCustomID.keys)
        #expect(custom.allSatisfy { $0.range(of: "^[a-zA-Z0-9_-]{1,64}$", options: .regularExpression) != nil })

        // The same items live: the same votes (verdicts, raw replies, fingerprints) at twice the cost.
        let live = try await batchJob(items, panel: panel, batch: nil).run(
            outDir: dir.appendingPathComponent("live").path)
        await server.stop()
        let byKey = Dictionary(uniqueKeysWithValues: live.result.votes.map { ($0.key, $0) })
        for v in outcome.result.votes {
            let l = try #require(byKey[v.key])
            #expect(v.verdict == l.verdict && v.raw == l.raw && v.fingerprint == l.fingerprint && v.usage == l.usage)
            #expect(abs((v.costUSD ?? -1) * 2 - (l.costUSD ?? 0)) < 1e-12)
        }
        let a = try String(contentsOfFile: out + "/verdicts.jsonl", encoding: .utf8)
        let b = try String(contentsOfFile: dir.appendingPathComponent("live/verdicts.jsonl").path, encoding: .utf8)
        #expect(a == b)
    }

    @Test(
        "expired and failed requests become error votes naming the reason; --batch-fallback live sends exactly those live"
    )
    func expiredAndFailed() async throws {
        let (items, quality) = syntheticPairwise(30)
        // Requests of items 0–4 expire, 5–9 fail; by the prompt's "Question N?".
        let fate: @Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate = { _, request in
            guard let text = request?.promptText,
                let r = text.range(of: #"Question [0-9]+\?"#, options: .regularExpression),
                let n = Int(text[r].dropFirst(9).dropLast())
            else { return .answer }
            if n < 5 { return .expire }
            if n < 10 { return .fail(status: 400, message: "prompt too long for sk-ant-SECRETSECRET123") }
            return .answer
        }
        for fallback in BatchOptions.Fallback.allCases {
            let api = FakeBatchAPI(pollsPerState: 1, fate: fate)
            let server = try await startBatchFake(api, quality: quality)
            let panel = await batchPanel(server)
            let dir = try tempDir("batchfail")
            let job = try batchJob(
                items, panel: panel, batch: BatchOptions(fallback: fallback, pollInterval: 0.01, maxPollInterval: 0.05))
            let outcome = try await job.run(outDir: dir.path)
            let live = await server.recordedRequests()
            await server.stop()
            let votes = outcome.result.votes
            #expect(votes.count == 120 && Set(votes.map(\.key)).count == 120)
            let journal = try VotesFile.load(path: dir.path + "/journal.jsonl")
            let batchErrors = journal.filter { $0.status == .error }
            #expect(batchErrors.count == 40)
            #expect(batchErrors.filter { $0.reason == .expired }.count == 20)
            #expect(batchErrors.filter { $0.reason == .batchFailed }.count == 20)
            #expect(batchErrors.filter { $0.reason == .expired }.allSatisfy { $0.error?.hasPrefix("expired") == true })
            #expect(
                batchErrors.filter { $0.reason == .batchFailed }.allSatisfy {
                    $0.error?.contains("prompt too long") == true
                })
            #expect(
                !batchErrors.contains { $0.error?.contains("SECRETSECRET") == true },
                "the provider's message is scrubbed")
            switch fallback {
            case .none:
                #expect(live.isEmpty)
                #expect(votes.filter { $0.status == .error }.count == 40)
                #expect(votes.filter(\.isOK).count == 80)
            case .live:
                let sentLive = Set(live.compactMap(syntheticCallKey))
                let failed = Set(batchErrors.map(syntheticCallKey))
                #expect(live.count == 40 && sentLive == failed, "exactly the failed requests are sent live")
                #expect(votes.allSatisfy { $0.isOK })
            }
        }
    }

    @Test("a result line whose custom_id maps to no call is reported, never dropped silently")
    func strayResultLine() async throws {
        let (items, quality) = syntheticPairwise(10)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.addStrayResultLine(true)
        let server = try await startBatchFake(api, quality: quality)
        let panel = await batchPanel(server)
        let dir = try tempDir("batchstray")
        let progress = Lines()
        let outcome = try await batchJob(
            items, panel: panel, batch: BatchOptions(pollInterval: 0.01, progress: progress.sink)
        ).run(outDir: dir.path)
        await server.stop()
        #expect(outcome.result.votes.count == 40 && outcome.result.votes.allSatisfy { $0.isOK })
        let unmapped = ledgerEvents(dir.path, "unmapped")
        #expect(unmapped.count == 2)  // one per batch (one OpenAI, one Anthropic)
        #expect(unmapped.allSatisfy { $0["custom_id"]?.stringValue == "c99999999_0000000000000000" })
        #expect(
            progress.all.filter { $0.contains("c99999999_0000000000000000") && $0.contains("maps to no call") }.count
                == 2)
    }

    @Test(
        "an OpenAI batch that fails validation gives every one of its calls a batch_failed vote with the provider's reason"
    )
    func failedBatch() async throws {
        let (items, quality) = syntheticPairwise(10)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.failValidation("line 1: model 'oa' does not support batch")
        let server = try await startBatchFake(api, quality: quality)
        let panel = await batchPanel(server, judges: [.openai])
        let dir = try tempDir("batchfailed")
        let outcome = try await batchJob(items, panel: panel, batch: BatchOptions(pollInterval: 0.01)).run(
            outDir: dir.path)
        let live = await server.requestCount()
        await server.stop()
        #expect(live == 0)
        #expect(outcome.result.votes.count == 20)
        #expect(outcome.result.votes.allSatisfy { $0.status == .error && $0.reason == .batchFailed })
        #expect(outcome.result.votes.allSatisfy { $0.error?.contains("does not support batch") == true })
        #expect(ledgerEvents(dir.path, "collected").first?["state"]?.stringValue == "failed")
    }

    @Test("judges of other providers in the same panel run live beside the batch judges")
    func mixedPanel() async throws {
        let (items, quality) = syntheticPairwise(15)
        let api = FakeBatchAPI(pollsPerState: 1)
        let server = try await startBatchFake(api, quality: quality)
        let root = await server.baseURL.absoluteString
        var panel = await batchPanel(server, judges: [.openai])
        panel.judges.append(
            JudgeConfig(name: "local", provider: .ollama, model: "an", baseURLs: [root], timeoutSeconds: 10, retries: 2)
        )
        let dir = try tempDir("batchmixed")
        let outcome = try await batchJob(items, panel: panel, batch: BatchOptions(pollInterval: 0.01)).run(
            outDir: dir.path)
        let live = await server.recordedRequests()
        let counts = await api.counts()
        await server.stop()
        #expect(outcome.result.votes.count == 60 && outcome.result.votes.allSatisfy { $0.isOK })
        #expect(counts.requestsSubmitted == 30 && counts.batchesCreated == 1)
        #expect(live.count == 30 && live.allSatisfy { $0.wire == .ollama })
    }

    @Test(
        "a batch created but not journaled (killed between create and journal write) is found on resume, not created again"
    )
    func createdButNotJournaled() async throws {
        let (items, quality) = syntheticPairwise(40)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        let panel = await batchPanel(server)
        let dir = try tempDir("batchadopt")
        let job = try batchJob(
            items, panel: panel, batch: BatchOptions(pollInterval: 0.01, maxPollInterval: 0.02, maxRequestsPerBatch: 40)
        )
        let task = Task { try await job.run(outDir: dir.path) }
        let deadline = ContinuousClock.now + .seconds(120)
        while ledgerEvents(dir.path, "created").count < 4, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        _ = await task.result
        #expect(await api.counts().batchesCreated == 4)
        // Remove the "created" lines, as if the process died after each create request and before the write.
        let ledger = dir.path + "/batches.jsonl"
        let kept = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").filter {
            !$0.contains("\"event\":\"created\"")
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: ledger, atomically: true, encoding: .utf8)
        await api.hold(false)
        let outcome = try await job.run(outDir: dir.path, resume: true)
        let counts = await api.counts()
        await server.stop()
        #expect(counts.batchesCreated == 4, "no batch created twice")
        #expect(counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(ledgerEvents(dir.path, "created").filter { $0["adopted"]?.boolValue == true }.count == 4)
        #expect(outcome.result.votes.count == 160 && outcome.result.votes.allSatisfy { $0.isOK })
    }

    @Test("CLI: kill -9 while batches are in progress, --resume polls the same batches and submits no request twice")
    func killAndResume() async throws {
        let (items, quality) = syntheticPairwise(250)  // 1 000 calls: 500 per judge
        let dir = try tempDir("batchkill")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let api = FakeBatchAPI(pollsPerState: 2)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        let root = await server.baseURL.absoluteString
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oa, provider: openai, base_url: "\(root)/v1", model: oa, api_key_env: JP_TEST_KEY, price: {input_per_mtok: 1, output_per_mtok: 2}}
          - {name: an, provider: anthropic, base_url: "\(root)", model: an, api_key_env: JP_TEST_KEY, batch_discount: 0.5}
        aggregate: majority
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let secret = "sk-test-PLANTED-\(UUID().uuidString)"
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
            "--batch", "--batch-poll", "0.02", "--batch-size", "120",
        ]
        let p = try launchJudgepanel(args, env: ["JP_TEST_KEY": secret])
        // 500 per judge in batches of 120: 5 each. Kill once all exist and are being polled.
        let deadline = ContinuousClock.now + .seconds(300)
        while p.isRunning, ContinuousClock.now < deadline {
            let polls = await api.counts().polls
            if ledgerEvents(out, "created").count >= 10 && polls >= 20 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(p.isRunning, "the run ended before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        let before = await api.counts()
        #expect(before.batchesCreated == 10 && before.requestsSubmitted == 1000)

        // `batches DIR status` shows them in progress.
        let status = try await runJudgepanel(["batches", out, "status"], env: ["JP_TEST_KEY": secret])
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.components(separatedBy: "in_progress").count - 1 == 10, "\(status.out)")

        await api.hold(false)
        let r = try await runJudgepanel(args + ["--resume"], env: ["JP_TEST_KEY": secret])
        let after = await api.counts()
        let live = await server.requestCount()
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(
            after.batchesCreated == 10 && after.requestsSubmitted == 1000 && after.filesUploaded == 5,
            "nothing submitted twice")
        #expect(after.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(live == 0)
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 1000 && Set(votes.map(\.key)).count == 1000 && votes.allSatisfy { $0.isOK })
        #expect(votes.filter { $0.judge == "oa" }.allSatisfy { ($0.costUSD ?? 0) > 0 })
        for text in [r.out, r.err, status.out, status.err] { #expect(!text.contains(secret)) }
        #expect(filesContaining(secret, under: [out]).isEmpty)
    }

    @Test(
        "CLI: kill -9 in the middle of submitting (between upload, create and journal writes), --resume submits no request twice"
    )
    func killWhileSubmitting() async throws {
        let (items, quality) = syntheticPairwise(100)  // 400 calls: 200 per judge, batches of 40
        let dir = try tempDir("batchkillsubmit")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        let root = await server.baseURL.absoluteString
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oa, provider: openai, base_url: "\(root)/v1", model: oa}
          - {name: an, provider: anthropic, base_url: "\(root)", model: an}
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
            "--batch", "--batch-poll", "0.02", "--batch-size", "40",
        ]
        let p = try launchJudgepanel(args)
        let deadline = ContinuousClock.now + .seconds(120)
        while ledgerEvents(out, "creating").count < 3, p.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = await api.counts()
        #expect(before.batchesCreated < 10, "killed before every batch existed")
        await api.hold(false)
        let r = try await runJudgepanel(args + ["--resume"])
        let after = await api.counts()
        let live = await server.requestCount()
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(
            after.batchesCreated == 10 && after.requestsSubmitted == 400,
            "\(after.batchesCreated) batches, \(after.requestsSubmitted) requests")
        #expect(after.submissionsPerCustomID.count == 400 && after.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(live == 0)
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 400 && Set(votes.map(\.key)).count == 400 && votes.allSatisfy { $0.isOK })
    }

    @Test("CLI: batches DIR cancel cancels the running batches; the resumed run records their requests as canceled")
    func cancelCommand() async throws {
        let (items, quality) = syntheticPairwise(20)
        let dir = try tempDir("batchcancel")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startBatchFake(api, quality: quality)
        let root = await server.baseURL.absoluteString
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oa, provider: openai, base_url: "\(root)/v1", model: oa}
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
        while ledgerEvents(out, "created").count < 2, p.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let c = try await runJudgepanel(["batches", out, "cancel"])
        #expect(c.code == 0, "\(c.err)")
        #expect(c.out.contains("cancelling") && c.out.contains("canceling"), "\(c.out)")
        #expect(await api.counts().cancels == 2)
        let r = try await runJudgepanel(args + ["--resume"])
        #expect(r.code == 1, "error votes make exit 1: \(r.err)")
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 80 && votes.allSatisfy { $0.status == .error && $0.reason == .canceled })
        #expect(await api.counts().batchesCreated == 2)
        let s = try await runJudgepanel(["batches", out])
        await server.stop()
        #expect(s.code == 0 && s.out.contains("cancelled") && s.out.contains("ended"), "\(s.out) \(s.err)")
    }
}
