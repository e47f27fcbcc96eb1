import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A fake server speaking Gemini Batch Mode (and live `generateContent`) for the simulated judge `gm`.
private func startGeminiFake(_ api: FakeBatchAPI, quality: [String: Double]) async throws -> FakeProviderServer {
    let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
    let server = FakeProviderServer(batchAPI: api) { request in
        guard request.model == "gm" else { return .status(404, body: "{\"error\":{\"message\":\"no model\"}}") }
        return await oracle(request)
    }
    try await server.start()
    return server
}

private func geminiPanel(_ server: FakeProviderServer) async -> Panel {
    let root = await server.baseURL.absoluteString
    return Panel(
        judges: [
            JudgeConfig(
                name: "gm", provider: .gemini, model: "gm", baseURLs: [root], concurrency: 8,
                price: Price(inputPerMTok: 1, outputPerMTok: 2),
                timeoutSeconds: 10, retries: 2)
        ], aggregate: .majority, swap: true, flip: .tie)
}

private func geminiJob(_ items: [Item], panel: Panel, batch: BatchOptions?) throws -> ScoreJob {
    var job = try ScoreJob(
        itemsPath: "synthetic", items: items, rubric: try loadRubric("pairwise-mtbench"), panel: panel,
        options: panelTestOptions)
    job.batch = batch
    return job
}

private func events(_ dir: String, _ event: String) -> [JSONValue] {
    guard let data = FileManager.default.contents(atPath: dir + "/batches.jsonl") else { return [] }
    return data.split(separator: 10).compactMap { try? JSONValue.parse(Data($0)) }.filter {
        $0["event"]?.stringValue == event
    }
}

private final class GeminiProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    var sink: @Sendable (String) -> Void { { line in self.lock.withLock { self.lines.append(line) } } }
}

@Suite("Gemini Batch Mode (score --batch)", .serialized)
struct GeminiBatchTests {
    @Test(
        "Gemini batches: every vote once, each request submitted once, the same votes and verdicts as live at half price"
    )
    func geminiBatchRun() async throws {
        let (items, quality) = syntheticPairwise(150)  // 300 calls
        let api = FakeBatchAPI(pollsPerState: 1)
        let server = try await startGeminiFake(api, quality: quality)
        let panel = await geminiPanel(server)
        let dir = try tempDir("geminibatch")
        let progress = GeminiProgress()
        let out = dir.appendingPathComponent("batch").path
        let job = try geminiJob(
            items, panel: panel,
            batch: BatchOptions(
                pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 100, progress: progress.sink))
        let outcome = try await job.run(outDir: out)
        let counts = await api.counts()
        let ids = await api.batchIDs()
        #expect(await server.requestCount() == 0, "no live call")
        #expect(outcome.result.votes.count == 300 && Set(outcome.result.votes.map(\.key)).count == 300)
        #expect(outcome.result.votes.allSatisfy { $0.isOK })
        #expect(counts.batchesCreated == 3 && counts.filesUploaded == 0 && counts.requestsSubmitted == 300)
        #expect(
            counts.submissionsPerCustomID.count == 300 && counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(ids.allSatisfy { $0.hasPrefix("batches/") })
        #expect(events(out, "created").compactMap { $0["batch_id"]?.stringValue }.sorted() == ids.sorted())
        #expect(events(out, "collected").allSatisfy { $0["state"]?.stringValue == "BATCH_STATE_SUCCEEDED" })
        #expect(progress.all.contains { $0.contains("BATCH_STATE_RUNNING") })
        // Each batch request is the body the live provider sends: the fake decoded every one as generateContent.
        #expect(await api.submittedRequests().count == 300)

        let live = try await geminiJob(items, panel: panel, batch: nil).run(
            outDir: dir.appendingPathComponent("live").path)
        #expect(await server.requestCount() == 300)
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
        "an expired Gemini batch and failed requests become error votes naming the reason; --batch-fallback live resends exactly those"
    )
    func geminiExpiredAndFailed() async throws {
        let (items, quality) = syntheticPairwise(30)  // 60 calls, batches of 10 = 5 items each
        // Items 0–4 (the first batch) expire, 10–14 (the third) fail with a per-request error.
        let fate: @Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate = { _, request in
            guard let text = request?.promptText,
                let r = text.range(of: #"Question [0-9]+\?"#, options: .regularExpression),
                let n = Int(text[r].dropFirst(9).dropLast())
            else { return .answer }
            if n < 5 { return .expire }
            if n >= 10 && n < 15 { return .fail(status: 400, message: "prompt too long for AIzaSECRETSECRET123") }
            return .answer
        }
        for fallback in BatchOptions.Fallback.allCases {
            let api = FakeBatchAPI(pollsPerState: 1, fate: fate)
            let server = try await startGeminiFake(api, quality: quality)
            let panel = await geminiPanel(server)
            let dir = try tempDir("geminibatchfail")
            let job = try geminiJob(
                items, panel: panel,
                batch: BatchOptions(
                    fallback: fallback, pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 10))
            let outcome = try await job.run(outDir: dir.path)
            let live = await server.recordedRequests()
            let counts = await api.counts()
            await server.stop()
            #expect(counts.batchesCreated == 6 && counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
            let votes = outcome.result.votes
            #expect(votes.count == 60 && Set(votes.map(\.key)).count == 60)
            let batchErrors = try VotesFile.load(path: dir.path + "/journal.jsonl").filter { $0.status == .error }
            let expired = batchErrors.filter { $0.reason == .expired }
            let failed = batchErrors.filter { $0.reason == .batchFailed }
            #expect(batchErrors.count == 20 && expired.count == 10 && failed.count == 10)
            #expect(expired.allSatisfy { $0.error?.contains("BATCH_STATE_EXPIRED") == true })
            #expect(
                failed.allSatisfy {
                    $0.error?.contains("INVALID_ARGUMENT") == true && $0.error?.contains("prompt too long") == true
                })
            #expect(
                !batchErrors.contains { $0.error?.contains("SECRETSECRET") == true },
                "the provider's message is scrubbed")
            #expect(
                events(dir.path, "collected").filter { $0["state"]?.stringValue == "BATCH_STATE_EXPIRED" }.count == 1)
            switch fallback {
            case .none:
                #expect(live.isEmpty)
                #expect(votes.filter { $0.status == .error }.count == 20 && votes.filter(\.isOK).count == 40)
            case .live:
                #expect(
                    Set(live.compactMap(syntheticCallKey)) == Set(batchErrors.map(syntheticCallKey)) && live.count == 20
                )
                #expect(live.allSatisfy { $0.wire == .gemini })
                #expect(votes.allSatisfy { $0.isOK })
            }
        }
    }

    @Test(
        "Gemini results delivered as a responsesFile (downloaded through the Files API) give the same votes, failures included"
    )
    func geminiResponsesFile() async throws {
        let (items, quality) = syntheticPairwise(20)  // 40 calls
        let fate: @Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate = { _, request in
            request?.promptText.contains("Question 3?") == true
                ? .fail(status: 500, message: "internal error") : .answer
        }
        let api = FakeBatchAPI(pollsPerState: 1, fate: fate)
        await api.geminiResponsesFile(true)
        let server = try await startGeminiFake(api, quality: quality)
        let panel = await geminiPanel(server)
        let dir = try tempDir("geminifile")
        let outcome = try await geminiJob(
            items, panel: panel, batch: BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05)
        ).run(outDir: dir.path)
        await server.stop()
        let votes = outcome.result.votes
        #expect(votes.count == 40 && Set(votes.map(\.key)).count == 40)
        #expect(votes.filter(\.isOK).count == 38)
        let failed = votes.filter { $0.status == .error }
        #expect(
            failed.count == 2
                && failed.allSatisfy {
                    $0.reason == .batchFailed && $0.item == "s3"
                        && $0.error?.contains("INTERNAL: internal error") == true
                })
    }

    @Test(
        "a Gemini batch above the inline limit is uploaded as a JSONL file (resumable Files API upload), created from it, read from its responsesFile"
    )
    func geminiFileInput() async throws {
        let (items, quality) = syntheticPairwise(60)  // 120 calls
        let fate: @Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate = { _, request in
            request?.promptText.contains("Question 7?") == true ? .fail(status: 400, message: "bad request") : .answer
        }
        let api = FakeBatchAPI(pollsPerState: 1, fate: fate)
        let server = try await startGeminiFake(api, quality: quality)
        let panel = await geminiPanel(server)
        let dir = try tempDir("geminiupload")
        // Batches of 40 requests; an inline limit of 20 kB sends every one of them (each well above it) as a file.
        var options = BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 40)
        options.geminiInlineBytes = 20_000
        let outcome = try await geminiJob(items, panel: panel, batch: options).run(outDir: dir.path)
        let counts = await api.counts()
        let ids = await api.batchIDs()
        #expect(await server.requestCount() == 0, "no live call")
        await server.stop()
        #expect(counts.batchesCreated == 3 && counts.geminiFileBatches == 3 && counts.filesUploaded == 3)
        #expect(counts.requestsSubmitted == 120 && counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        // The uploaded file's id is journaled before the batch is created from it.
        let uploaded = events(dir.path, "uploaded").compactMap { $0["file_id"]?.stringValue }
        #expect(uploaded.count == 3 && uploaded.allSatisfy { $0.hasPrefix("files/") })
        #expect(events(dir.path, "created").compactMap { $0["batch_id"]?.stringValue }.sorted() == ids.sorted())
        let votes = outcome.result.votes
        #expect(votes.count == 120 && Set(votes.map(\.key)).count == 120)
        let failed = votes.filter { $0.status == .error }
        #expect(
            failed.count == 2
                && failed.allSatisfy {
                    $0.reason == .batchFailed && $0.item == "s7" && $0.error?.contains("bad request") == true
                })
        #expect(votes.filter(\.isOK).count == 118)

        // Under the inline limit nothing is uploaded: the same run sends inline requests.
        let api2 = FakeBatchAPI(pollsPerState: 1)
        let server2 = try await startGeminiFake(api2, quality: quality)
        let inline = try await geminiJob(
            items, panel: await geminiPanel(server2),
            batch: BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 40)
        )
        .run(outDir: try tempDir("geminiinline").path)
        let counts2 = await api2.counts()
        await server2.stop()
        #expect(counts2.batchesCreated == 3 && counts2.geminiFileBatches == 0 && counts2.filesUploaded == 0)
        #expect(inline.result.votes.count == 120 && inline.result.votes.allSatisfy(\.isOK))
    }

    @Test("a Gemini batch created but not journaled is found again by its display_name on resume, not created twice")
    func geminiCreatedButNotJournaled() async throws {
        let (items, quality) = syntheticPairwise(40)  // 80 calls, batches of 20
        let api = FakeBatchAPI(pollsPerState: 1)
        await api.hold(true)
        let server = try await startGeminiFake(api, quality: quality)
        let panel = await geminiPanel(server)
        let dir = try tempDir("geminiadopt")
        let job = try geminiJob(
            items, panel: panel, batch: BatchOptions(pollInterval: 0.01, maxPollInterval: 0.02, maxRequestsPerBatch: 20)
        )
        let task = Task { try await job.run(outDir: dir.path) }
        let deadline = ContinuousClock.now + .seconds(120)
        while events(dir.path, "created").count < 4, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        _ = await task.result
        #expect(await api.counts().batchesCreated == 4)
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
        #expect(
            counts.submissionsPerCustomID.count == 80 && counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(events(dir.path, "created").filter { $0["adopted"]?.boolValue == true }.count == 4)
        #expect(outcome.result.votes.count == 80 && outcome.result.votes.allSatisfy { $0.isOK })
    }

    @Test(
        "CLI: kill -9 while Gemini batches run, --resume polls the same batches and submits no request twice; batches DIR cancel"
    )
    func geminiKillAndResume() async throws {
        let (items, quality) = syntheticPairwise(100)  // 200 calls, batches of 40
        let dir = try tempDir("geminikill")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let api = FakeBatchAPI(pollsPerState: 2)
        await api.hold(true)
        let server = try await startGeminiFake(api, quality: quality)
        let root = await server.baseURL.absoluteString
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: gm, provider: gemini, base_url: "\(root)", model: gm, api_key_env: JP_TEST_KEY, price: {input_per_mtok: 1, output_per_mtok: 2}}
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let secret = "AIza-PLANTED-\(UUID().uuidString)"
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
            "--batch", "--batch-poll", "0.02", "--batch-size", "40",
        ]
        let p = try launchJudgepanel(args, env: ["JP_TEST_KEY": secret])
        let deadline = ContinuousClock.now + .seconds(300)
        while p.isRunning, ContinuousClock.now < deadline {
            if events(out, "created").count >= 5, await api.counts().polls >= 10 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(p.isRunning, "the run ended before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = await api.counts()
        #expect(before.batchesCreated == 5 && before.requestsSubmitted == 200)

        let status = try await runJudgepanel(["batches", out, "status"], env: ["JP_TEST_KEY": secret])
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.components(separatedBy: "BATCH_STATE_RUNNING").count - 1 == 5, "\(status.out)")

        await api.hold(false)
        let r = try await runJudgepanel(args + ["--resume"], env: ["JP_TEST_KEY": secret])
        let after = await api.counts()
        let live = await server.requestCount()
        #expect(r.code == 0, "\(r.err)")
        #expect(after.batchesCreated == 5 && after.requestsSubmitted == 200, "nothing submitted twice")
        #expect(after.submissionsPerCustomID.count == 200 && after.submissionsPerCustomID.values.allSatisfy { $0 == 1 })
        #expect(live == 0)
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(
            votes.count == 200 && Set(votes.map(\.key)).count == 200
                && votes.allSatisfy { $0.isOK && ($0.costUSD ?? 0) > 0 })
        for text in [r.out, r.err, status.out, status.err] { #expect(!text.contains(secret)) }
        #expect(filesContaining(secret, under: [out]).isEmpty)

        // `batches DIR cancel` on a held Gemini batch: BATCH_STATE_CANCELLED, and its calls become canceled votes.
        let out2 = dir.appendingPathComponent("run2").path
        await api.hold(true)
        let args2 = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out2,
            "--no-cache",
            "--batch", "--batch-poll", "0.02",
        ]
        let p2 = try launchJudgepanel(args2, env: ["JP_TEST_KEY": secret])
        let deadline2 = ContinuousClock.now + .seconds(120)
        while events(out2, "created").count < 1, p2.isRunning, ContinuousClock.now < deadline2 {
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(p2.processIdentifier, SIGKILL)
        p2.waitUntilExit()
        let c = try await runJudgepanel(["batches", out2, "cancel"], env: ["JP_TEST_KEY": secret])
        #expect(c.code == 0 && c.out.contains("BATCH_STATE_CANCELLED"), "\(c.out) \(c.err)")
        let r2 = try await runJudgepanel(args2 + ["--resume"], env: ["JP_TEST_KEY": secret])
        await server.stop()
        #expect(r2.code == 1, "error votes make exit 1: \(r2.err)")
        let votes2 = try VotesFile.load(path: out2 + "/votes.jsonl")
        #expect(votes2.count == 200 && votes2.allSatisfy { $0.status == .error && $0.reason == .canceled })
        #expect(await api.counts().batchesCreated == 6)
    }
}
