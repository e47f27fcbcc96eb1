import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

/// A panel file of an OpenAI judge (`oa`) and an Anthropic judge (`an`) on a fake batch server.
private func writeBatchPanel(_ path: String, root: String) throws {
    try """
    version: 1
    judges:
      - {name: oa, provider: openai, base_url: "\(root)/v1", model: oa, price: {input_per_mtok: 1, output_per_mtok: 2}}
      - {name: an, provider: anthropic, base_url: "\(root)", model: an, price: {input_per_mtok: 1, output_per_mtok: 2}}
    aggregate: majority
    swap: true
    """.write(toFile: path, atomically: true, encoding: .utf8)
}

private var rubricPath: String { panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path }

/// A run directory's output files, with the start and wall times and each call's latency replaced (they cannot
/// be equal between two runs); everything else must match byte for byte.
private func runFiles(_ dir: String) throws -> [String: String] {
    let config = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")))
    let started = try #require(config["run"]?["started"]?.stringValue)
    var out: [String: String] = [:]
    for f in ["votes.jsonl", "verdicts.jsonl", "report.json", "report.md", "config.json"] {
        out[f] = try withoutRunTimes(dir + "/" + f, started: started).replacingOccurrences(
            of: #""latency_ms":[0-9.eE+-]+"#, with: "\"latency_ms\":0", options: .regularExpression)
    }
    return out
}

/// A test's directory, its items file of `n` synthetic pairwise items, a fake batch server answering them and a panel
/// file of its two judges.
private struct StreamFixture {
    var items: [Item]
    var dir: URL
    var itemsPath: String
    var api: FakeBatchAPI
    var server: FakeProviderServer
    var panelPath: String

    init(_ n: Int, name: String, fate: (@Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate)? = nil) async throws
    {
        let (items, quality) = syntheticPairwise(n)
        self.items = items
        dir = try tempDir(name)
        itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        api = fate.map { FakeBatchAPI(pollsPerState: 1, fate: $0) } ?? FakeBatchAPI(pollsPerState: 1)
        server = try await startBatchFake(api, quality: quality)
        panelPath = dir.appendingPathComponent("panel.yaml").path
        try writeBatchPanel(panelPath, root: await server.baseURL.absoluteString)
    }

    /// A job over the items: streamed from the file, or holding them.
    func job(streamed: Bool = true) throws -> ScoreJob {
        streamed
            ? try ScoreJob(
                streamingItemsPath: itemsPath, rubricPath: rubricPath, panelPath: panelPath, options: panelTestOptions)
            : try ScoreJob(
                itemsPath: itemsPath, rubricPath: rubricPath, panelPath: panelPath, options: panelTestOptions)
    }
}

@Suite("score --batch and --shard stream their items", .serialized)
struct BatchStreamTests {
    @Test(
        "a streamed score --batch (items read from the file in passes) writes the same files as one holding the items; each request once"
    )
    func streamedBatchEqualsHeld() async throws {
        // Requests of questions 0–4 fail: error votes under --batch-fallback none, live calls under live.
        let fate: @Sendable (String, FakeRequest?) -> FakeBatchAPI.LineFate = { _, request in
            guard let text = request?.promptText,
                let r = text.range(of: #"Question [0-9]+\?"#, options: .regularExpression),
                let n = Int(text[r].dropFirst(9).dropLast())
            else { return .answer }
            return n < 5 ? .fail(status: 400, message: "too long") : .answer
        }
        for fallback in BatchOptions.Fallback.allCases {
            var outputs: [[String: String]] = []
            // One server for both runs: config.json records its address.
            let f = try await StreamFixture(150, name: "batchstream", fate: fate)
            let (api, server) = (f.api, f.server)
            var liveBefore = 0
            for streamed in [false, true] {
                var job = try f.job(streamed: streamed)
                #expect(job.items.isEmpty == streamed)
                job.batch = BatchOptions(
                    fallback: fallback, pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 70)
                let out = f.dir.appendingPathComponent("\(fallback)-\(streamed)").path
                let outcome = try await job.run(outDir: out, retainResults: !streamed)
                let counts = await api.counts()
                let live = await server.requestCount() - liveBefore
                liveBefore += live
                let runs = streamed ? 2 : 1
                // A custom id ends with its run's id (`_{run}`): per call, each run submitted it once.
                let perCall = submissionsPerCall(counts.submissionsPerCustomID)
                #expect(counts.requestsSubmitted == 600 * runs && perCall.count == 600)
                #expect(perCall.values.allSatisfy { $0 == runs }, "each request once per run")
                #expect(counts.submissionsPerCustomID.values.allSatisfy { $0 == 1 }, "a run's custom ids are its own")
                #expect(live == (fallback == .live ? 20 : 0), "exactly the failed requests are sent live")
                #expect(outcome.errors == (fallback == .live ? 0 : 20))
                let votes = try VotesFile.load(path: out + "/votes.jsonl")
                #expect(votes.count == 600 && Set(votes.map(\.key)).count == 600)
                outputs.append(try runFiles(out))
            }
            await server.stop()
            for f in outputs[0].keys.sorted() {
                #expect(
                    outputs[0][f] == outputs[1][f], "\(fallback): \(f) of the streamed run differs from the held run's")
            }
        }
    }

    @Test(
        "a streamed --shard keeps only its items' positions: shard runs (with --batch) equal the held ones and merge into one run"
    )
    func streamedShardsEqualHeld() async throws {
        let f = try await StreamFixture(90, name: "shardstream")
        let (items, dir, api, server) = (f.items, f.dir, f.api, f.server)
        var total = 0
        for i in 0..<3 {
            let shard = try Shard.parse("\(i)/3")
            var files: [[String: String]] = []
            for streamed in [false, true] {
                var job = try f.job(streamed: streamed)
                try job.restrict(to: shard)
                #expect(job.items.isEmpty == streamed)
                #expect(job.itemCount == items.filter { shard.contains($0.id) }.count)
                job.batch = BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 50)
                let out = dir.appendingPathComponent("s\(i)-\(streamed)").path
                _ = try await job.run(outDir: out, retainResults: !streamed)
                files.append(try runFiles(out))
            }
            for f in files[0].keys.sorted() { #expect(files[0][f] == files[1][f], "shard \(shard): \(f) differs") }
            total += try VotesFile.load(path: dir.appendingPathComponent("s\(i)-true/votes.jsonl").path).count
        }
        let counts = await api.counts()
        await server.stop()
        #expect(total == 360)
        #expect(
            counts.requestsSubmitted == 720
                && submissionsPerCall(counts.submissionsPerCustomID).values.allSatisfy { $0 == 2 })
        let merged = dir.appendingPathComponent("merged").path
        _ = try MergeJob(shardDirs: (0..<3).map { dir.appendingPathComponent("s\($0)-true").path }).run(outDir: merged)
        let votes = try VotesFile.load(path: merged + "/votes.jsonl")
        #expect(votes.count == 360 && Set(votes.map(\.key)).count == 360)
    }

    @Test("a batch collected without its votes file (an older judgepanel) is rebuilt from the journal on --resume")
    func votesFileRebuiltFromJournal() async throws {
        let f = try await StreamFixture(40, name: "batchrebuild")
        let (api, server) = (f.api, f.server)
        var job = try f.job()
        job.batch = BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05, maxRequestsPerBatch: 30)
        let out = f.dir.appendingPathComponent("run").path
        _ = try await job.run(outDir: out, retainResults: false)
        let first = try runFiles(out)
        let batches = out + "/batches"
        let votesFiles = try FileManager.default.contentsOfDirectory(atPath: batches).filter {
            $0.hasSuffix(".votes.jsonl")
        }
        #expect(votesFiles.count == 6)
        for f in votesFiles { try FileManager.default.removeItem(atPath: batches + "/" + f) }
        _ = try await job.run(outDir: out, resume: true, retainResults: false)
        let counts = await api.counts()
        await server.stop()
        #expect(counts.requestsSubmitted == 160 && counts.batchesCreated == 6, "nothing submitted again")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: batches).filter { $0.hasSuffix(".votes.jsonl") }.count
                == 6)
        let second = try runFiles(out)
        #expect(first["votes.jsonl"] == second["votes.jsonl"] && first["verdicts.jsonl"] == second["verdicts.jsonl"])
    }

    @Test(
        "--resume-changed after a batch run: the changed judge's calls are asked again live, the other judge's batch votes reused"
    )
    func resumeChangedReasksStaleBatchVotes() async throws {
        let f = try await StreamFixture(30, name: "batchchanged")
        let (api, server, panelPath) = (f.api, f.server, f.panelPath)
        let out = f.dir.appendingPathComponent("run").path
        var job = try f.job()
        job.batch = BatchOptions(pollInterval: 0.01, maxPollInterval: 0.05)
        _ = try await job.run(outDir: out, retainResults: false)
        let before = try VotesFile.load(path: out + "/votes.jsonl")
        // The Anthropic judge's temperature changes: its calls' fingerprints change.
        let changed = try String(contentsOfFile: panelPath, encoding: .utf8).replacingOccurrences(
            of: "model: an,", with: "model: an, temperature: 0.5,")
        try changed.write(toFile: panelPath, atomically: true, encoding: .utf8)
        var again = try f.job()
        again.batch = job.batch
        let outcome = try await again.run(outDir: out, resume: true, resumeChanged: true, retainResults: false)
        let live = await server.recordedRequests()
        let counts = await api.counts()
        await server.stop()
        #expect(outcome.resume.reused == 60 && outcome.resume.reasked == 60)
        #expect(counts.requestsSubmitted == 120, "no batch request submitted again")
        #expect(
            live.count == 60 && live.allSatisfy { $0.model == "an" },
            "the stale Anthropic votes are asked again (live: their calls are in a batch already)")
        let after = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(after.count == 120)
        let old = Dictionary(uniqueKeysWithValues: before.map { ($0.key, $0) })
        for v in after {
            let o = try #require(old[v.key])
            if v.judge == "oa" {
                #expect(v.fingerprint == o.fingerprint && v.raw == o.raw)
            } else {
                #expect(v.fingerprint != o.fingerprint)
            }
        }
    }

    @Test(
        "ItemPositions reads any item back by its position (blank lines, CRLF, a shard's filter) as the loader parses it"
    )
    func itemPositions() throws {
        let dir = try tempDir("itempos")
        let path = dir.appendingPathComponent("items.jsonl").path
        var text = ""
        for i in 0..<200 {
            text += #"{"id":"q\#(i)","prompt":"P \#(i) \#(String(repeating: "x", count: i * 37))","response":"R\#(i)"}"#
            text += i % 3 == 0 ? "\r\n" : "\n"
            if i % 7 == 0 { text += "  \n" }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let all = try ItemLoader().load(path: path)
        var seen: [String] = []
        let positions = try ItemPositions(path: path, loader: ItemLoader(), keep: nil) { i, item in
            #expect(i == seen.count)
            seen.append(item.id)
        }
        #expect(positions.count == 200 && seen == all.map(\.id))
        for p in [199, 0, 57, 57, 3, 120, 1] {
            let item = try positions.item(at: p)
            #expect(item == all[p], "position \(p)")
            #expect(item.line == all[p].line)
        }
        #expect(throws: JudgePanelError.self) { try positions.item(at: 200) }
        let shard = try Shard.parse("1/4")
        let mine = all.filter { shard.contains($0.id) }
        let filtered = try ItemPositions(path: path, loader: ItemLoader(), keep: { shard.contains($0.id) })
        #expect(filtered.count == mine.count)
        for p in stride(from: mine.count - 1, through: 0, by: -1) { #expect(try filtered.item(at: p) == mine[p]) }
    }

    @Test(
        "BatchVoteReader hands out the batches' votes in call order, an item at a time; fallback drops error votes; damage is named"
    )
    func voteReader() throws {
        let dir = try tempDir("votereader")
        func vote(_ i: Int, error: Bool = false) -> Vote {
            var v = Vote(
                item: "i\(i / 4)", judge: i % 2 == 0 ? "a" : "b", protocol: .pairwise, order: i % 4 < 2 ? .ab : .ba,
                sample: 0)
            v.status = error ? .error : .ok
            v.verdict = error ? nil : .a
            return v
        }
        // Three batches of interleaved calls (as a resumed run's chunks may be).
        let parts = [[0, 3, 4, 9, 17], [1, 2, 8, 12, 13], [5, 6, 7, 10, 11, 14, 15, 16]]
        var files: [String] = []
        for (n, part) in parts.enumerated() {
            let path = dir.appendingPathComponent("b\(n).votes.jsonl").path
            try BatchCollected.write(
                part.reversed().map { ($0, try VotesFile.line(vote($0, error: $0 == 6))) }, to: path)
            files.append(path)
        }
        for dropErrors in [false, true] {
            let reader = try BatchVoteReader(BatchCollected(files: files, dropErrors: dropErrors))
            var got: [[String]] = []
            for end in stride(from: 4, through: 20, by: 4) {
                got.append(try reader.votes(before: end).keys.sorted())
            }
            let expected = stride(from: 0, to: 20, by: 4).map { start in
                (start..<min(start + 4, 18)).filter { !(dropErrors && $0 == 6) }.map { vote($0).key }.sorted()
            }
            #expect(got == expected)
            #expect(reader.isExhausted && reader.droppedErrors == (dropErrors ? 1 : 0))
        }
        let bad = dir.appendingPathComponent("bad.votes.jsonl").path
        try ("5\t" + VotesFile.line(vote(5)) + "\n3\t" + VotesFile.line(vote(3)) + "\n").write(
            toFile: bad, atomically: true, encoding: .utf8)
        #expect {
            let reader = try BatchVoteReader(BatchCollected(files: [bad]))
            _ = try reader.votes(before: 100)
        } throws: {
            ($0 as? JudgePanelError)?.message.contains("out of call order") == true
                && "\($0)".contains("bad.votes.jsonl")
        }
    }
}

/// Submissions per call: custom ids `c{index}_{fingerprint}_{run}` counted without their run's id.
func submissionsPerCall(_ perCustomID: [String: Int]) -> [String: Int] {
    var out: [String: Int] = [:]
    for (id, n) in perCustomID { out[id.split(separator: "_").prefix(2).joined(separator: "_"), default: 0] += n }
    return out
}
