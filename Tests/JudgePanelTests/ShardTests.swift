import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

/// Runs several built `judgepanel` processes at once and waits for all of them.
func runJudgepanelConcurrently(_ argsList: [[String]]) async throws -> [(code: Int32, err: String)] {
    var procs: [(Process, URL)] = []
    for args in argsList {
        let p = try judgepanelProcess(args)
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("jp-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: errFile)
        try launch(p)
        procs.append((p, errFile))
    }
    var results: [(Int32, String)] = []
    for (p, errFile) in procs {
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        results.append((p.terminationStatus, (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""))
    }
    return results
}

/// A file's text with the facts that cannot be equal between two runs replaced by placeholders: the run's start
/// time (wherever it appears) and its wall time (report.json / config.json `wall_s`, report.md `wall time:`).
func withoutRunTimes(_ path: String, started: String) throws -> String {
    var text = try String(contentsOfFile: path, encoding: .utf8)
    text = text.replacingOccurrences(of: started, with: "<STARTED>")
    text = text.replacingOccurrences(
        of: #""wall_s" : [0-9.eE+-]+"#, with: "\"wall_s\" : <WALL>", options: .regularExpression)
    text = text.replacingOccurrences(
        of: #"wall time: [0-9.]+ s"#, with: "wall time: <WALL> s", options: .regularExpression)
    return text
}

@Suite("Sharded runs and merge")
struct ShardTests {
    @Test("the partition is SHA-256 of the id's UTF-8, first 8 bytes big-endian, mod N (values from Python hashlib)")
    func partitionMatchesReference() throws {
        let data = try Data(contentsOf: panelTestRoot.appendingPathComponent("fixtures/reference/shard_partition.json"))
        let rows = try #require(try JSONValue.parse(data).arrayValue)
        #expect(rows.count == 10)
        for row in rows {
            let id = try #require(row["id"]?.stringValue)
            for (n, expected) in try #require(row["shard"]?.objectValue) {
                let count = try #require(Int(n))
                #expect(Shard.index(of: id, count: count) == expected.intValue, "id '\(id)' N=\(count)")
                let shard = try Shard(index: try #require(expected.intValue), count: count)
                #expect(shard.contains(id))
            }
        }
    }

    @Test("appending items (or reordering the file) keeps every old item in its shard")
    func partitionIsStable() throws {
        let old = (0..<500).map { "item-\($0)" }
        let grown = (old + (500..<800).map { "item-\($0)" }).reversed()
        for n in [2, 4, 7] {
            let before = Dictionary(uniqueKeysWithValues: old.map { ($0, Shard.index(of: $0, count: n)) })
            for id in grown where before[id] != nil { #expect(Shard.index(of: id, count: n) == before[id]) }
            // Every shard gets a fair share (500 ids, expected 500/n each; a hash would have to be badly broken to miss).
            let sizes = Dictionary(grouping: old, by: { Shard.index(of: $0, count: n) }).mapValues(\.count)
            #expect(sizes.count == n)
            for (_, size) in sizes { #expect(abs(Double(size) - 500 / Double(n)) < 500 / Double(n) * 0.35) }
        }
    }

    @Test("--shard parses 0-based I/N and refuses the rest")
    func parse() throws {
        #expect(try Shard.parse("0/4") == Shard(index: 0, count: 4))
        #expect(try Shard.parse("3/4").index == 3)
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] {
            #expect(throws: JudgePanelError.self) { try Shard.parse(bad) }
        }
    }

    @Test(
        "four shard processes run concurrently and merge into files byte-identical to one run; bad merges are refused")
    func fourShardsEqualOneRun() async throws {
        let dir = try tempDir("shard")
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let (server, base) = try await startPandaLMFake()
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, price: {input_per_mtok: 1, output_per_mtok: 2}}
          - {name: first, provider: openai, base_url: "\(base)", model: first, concurrency: 4, samples: 2, temperature: 0.7}
        aggregate: majority
        swap: true
        flip: tie
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let common = ["--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--no-cache", "--seed", "7"]
        let single = dir.appendingPathComponent("single").path
        let shards = (0..<4).map { dir.appendingPathComponent("shards/\($0)").path }
        var runs = [["score", items] + common + ["--out", single]]
        for i in 0..<4 {
            runs.append(["score", items] + common + ["--shard", "\(i)/4", "--out", shards[i], "--resume"])
        }
        let results = try await runJudgepanelConcurrently(runs)
        let requests = await server.requestCount()
        await server.stop()
        for r in results { #expect(r.code == 0, "\(r.err)") }
        // Each call is made once by the single run and once by exactly one shard.
        #expect(requests == 2 * 50 * (2 + 2 * 2))

        // Every shard holds its identity and only its items, and the shards' votes add up to the single run's.
        var shardVotes = 0
        for i in 0..<4 {
            let config = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: shards[i] + "/config.json")))
            #expect(config["shard"]?["index"]?.intValue == i)
            #expect(config["shard"]?["count"]?.intValue == 4)
            #expect(config["shard"]?["scheme"]?.stringValue == Shard.scheme)
            #expect(config["items_sha256"]?.stringValue != nil && config["fingerprint"] != nil)
            let votes = try VotesFile.load(path: shards[i] + "/votes.jsonl")
            #expect(votes.allSatisfy { Shard.index(of: $0.item, count: 4) == i })
            shardVotes += votes.count
        }
        #expect(shardVotes == 50 * 6)

        // `report DIR` of a shard analyses that shard's items only, as its run did: the files come back byte for byte.
        let shardFiles = ["verdicts.jsonl", "report.json", "report.md"]
        let shardBefore = try shardFiles.map { try Data(contentsOf: URL(fileURLWithPath: shards[1] + "/" + $0)) }
        let again = try await runJudgepanel(["report", shards[1]])
        #expect(again.code == 0, "\(again.err)")
        for (name, data) in zip(shardFiles, shardBefore) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: shards[1] + "/" + name)) == data, "\(name) changed")
        }

        // Shards given in any order.
        let merged = dir.appendingPathComponent("merged").path
        let m = try await runJudgepanel(["merge", shards[2], shards[0], shards[3], shards[1], "--out", merged])
        #expect(m.code == 0, "\(m.err)")
        #expect(m.out.contains("merged 4 shards: 50 items, 300 votes"))

        // verdicts.jsonl: byte-identical.
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: merged + "/verdicts.jsonl"))
                == Data(contentsOf: URL(fileURLWithPath: single + "/verdicts.jsonl")))
        // report.json, report.md, report.html, config.json: byte-identical but for the run's start and wall time.
        let singleStarted = try #require(
            try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: single + "/report.json")))["run"]?["started"]?
                .stringValue)
        let mergedStarted = try #require(
            try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: merged + "/report.json")))["run"]?["started"]?
                .stringValue)
        for f in ["report.json", "report.md", "report.html", "config.json"] {
            let a = try withoutRunTimes(single + "/" + f, started: singleStarted)
            let b = try withoutRunTimes(merged + "/" + f, started: mergedStarted)
            #expect(a == b, "\(f) differs from the single run's")
            #expect(a.contains("<STARTED>"), "\(f): the normalisation must only touch the run times")
        }
        // votes.jsonl: the same lines in the same (canonical) order, but for each call's measured latency.
        func votesWithoutLatency(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                $0.replacingOccurrences(
                    of: #""latency_ms":[0-9.eE+-]+"#, with: "\"latency_ms\":0", options: .regularExpression)
            }
        }
        let singleVotes = try votesWithoutLatency(single + "/votes.jsonl")
        #expect(singleVotes.count == 300)
        #expect(try votesWithoutLatency(merged + "/votes.jsonl") == singleVotes)
        // `report DIR` on the merged run rebuilds the same bytes (it is an ordinary run directory).
        let before = try Data(contentsOf: URL(fileURLWithPath: merged + "/report.json"))
        let rebuilt = try await runJudgepanel(["report", merged])
        #expect(rebuilt.code == 0, "\(rebuilt.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: merged + "/report.json")) == before)

        // A shard directory resumes only as the same shard.
        let wrong = try await runJudgepanel(
            ["score", items] + common + ["--shard", "1/4", "--out", shards[0], "--resume"])
        #expect(wrong.code == 2)
        #expect(wrong.err.contains("holds shard 0/4, not shard 1/4"), "\(wrong.err)")

        // A missing shard is named; nothing is written.
        let missing = try await runJudgepanel([
            "merge", shards[0], shards[1], shards[3], "--out", dir.appendingPathComponent("m2").path,
        ])
        #expect(missing.code == 2)
        #expect(missing.err.contains("missing shard 2/4"), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m2/votes.jsonl").path))
        // A duplicated shard is named with both directories.
        let copy = dir.appendingPathComponent("copy1").path
        try FileManager.default.copyItem(atPath: shards[1], toPath: copy)
        try? FileManager.default.removeItem(atPath: copy + "/.lock")
        let dup = try await runJudgepanel([
            "merge", shards[0], shards[1], copy, shards[2], shards[3], "--out", dir.appendingPathComponent("m3").path,
        ])
        #expect(dup.code == 2)
        #expect(dup.err.contains("shard 1/4 given twice") && dup.err.contains(copy), "\(dup.err)")

        // A shard of other inputs is refused, saying what differs.
        func tampered(_ tag: String, _ edit: (inout [String: JSONValue]) -> Void) throws -> String {
            let path = dir.appendingPathComponent(tag).path
            try FileManager.default.copyItem(atPath: shards[3], toPath: path)
            var config = try #require(
                try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: path + "/config.json"))).objectValue)
            edit(&config)
            try RunDirectory(path: path).writeJSON("config.json", JSONValue.object(config))
            return path
        }
        let otherSeed = try tampered("seed") { c in
            var a = c["analysis"]?.objectValue ?? [:]
            a["seed"] = .number(8)
            c["analysis"] = .object(a)
        }
        let r1 = try await runJudgepanel([
            "merge", shards[0], shards[1], shards[2], otherSeed, "--out", dir.appendingPathComponent("m4").path,
        ])
        #expect(r1.code == 2)
        #expect(
            r1.err.contains("shard 3/4") && r1.err.contains("other inputs") && r1.err.contains("analysis"), "\(r1.err)")
        let otherItems = try tampered("items") { c in c["items_sha256"] = .string(String(repeating: "0", count: 64)) }
        let r2 = try await runJudgepanel([
            "merge", shards[0], shards[1], shards[2], otherItems, "--out", dir.appendingPathComponent("m5").path,
        ])
        #expect(r2.code == 2)
        #expect(r2.err.contains("items file's content"), "\(r2.err)")
        let otherSplit = try tampered("split") { c in
            c["shard"] = ["index": 3, "count": 5, "scheme": .string(Shard.scheme), "items": 10, "items_total": 50]
        }
        let r3 = try await runJudgepanel([
            "merge", shards[0], shards[1], shards[2], otherSplit, "--out", dir.appendingPathComponent("m6").path,
        ])
        #expect(r3.code == 2)
        #expect(r3.err.contains("different splits"), "\(r3.err)")
        // A plain (unsharded) run is not a shard.
        let r4 = try await runJudgepanel(["merge", single, "--out", dir.appendingPathComponent("m7").path])
        #expect(r4.code == 2)
        #expect(r4.err.contains("not a shard run"), "\(r4.err)")
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("more shards than items: empty shards are ordinary (empty) runs and the merge still equals one run")
    func emptyShards() async throws {
        let dir = try tempDir("shard-empty")
        let items = (0..<3).map {
            Item(
                id: "q\($0)", prompt: "Question \($0)?", responseA: "Answer alpha \($0)", responseB: "Answer beta \($0)"
            )
        }
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let n = 8
        #expect(Set(items.map { Shard.index(of: $0.id, count: n) }).count < n, "the test needs empty shards")
        let server = try await startPanelFake(["m": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: m, provider: openai, base_url: "\(base)", model: m}
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let common = ["--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--no-cache"]
        let single = dir.appendingPathComponent("single").path
        let shards = (0..<n).map { dir.appendingPathComponent("s\($0)").path }
        let results = try await runJudgepanelConcurrently(
            [["score", itemsPath] + common + ["--out", single]]
                + (0..<n).map { ["score", itemsPath] + common + ["--shard", "\($0)/\(n)", "--out", shards[$0]] })
        await server.stop()
        for r in results { #expect(r.code == 0, "\(r.err)") }
        let m = try await runJudgepanel(["merge"] + shards + ["--out", dir.appendingPathComponent("merged").path])
        #expect(m.code == 0, "\(m.err)")
        #expect(
            try Data(contentsOf: dir.appendingPathComponent("merged/verdicts.jsonl"))
                == Data(contentsOf: URL(fileURLWithPath: single + "/verdicts.jsonl")))
        let mergedVotes = try VotesFile.load(path: dir.appendingPathComponent("merged/votes.jsonl").path)
        #expect(mergedVotes.map(\.item) == ["q0", "q0", "q1", "q1", "q2", "q2"])
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("a torn or corrupt response-cache entry is a miss (counted, named), never an answer; the call is made again")
    func tornCacheEntry() async throws {
        let dir = try tempDir("torn")
        let cacheDir = dir.appendingPathComponent("cache")
        // The earlier layout (one JSON file per response): a torn file there is a miss.
        let key = String(repeating: "ab", count: 32)
        let response = CompletionResponse(text: "[[A]]", usage: TokenUsage(promptTokens: 3, completionTokens: 1))
        let legacy = cacheDir.appendingPathComponent("ab/\(key).json")
        try FileManager.default.createDirectory(
            at: legacy.deletingLastPathComponent(), withIntermediateDirectories: true)
        let whole = try JSONEncoder().encode(response)
        try whole.prefix(whole.count / 2).write(to: legacy)
        let cache = ResponseCache(directory: cacheDir)
        let before = ResponseCache.corruptEntriesIgnored
        #expect(cache.get(key) == nil)
        #expect(ResponseCache.corruptEntriesIgnored >= before + 1)
        // A later put replaces it whole.
        cache.put(key, response)
        #expect(cache.get(key)?.text == "[[A]]")
        cache.flush()
        #expect(try cache.committedKeys() == [key])

        // End to end: a run whose cache holds a corrupt row asks the server for that call and reads no torn answer.
        let server = try await startPanelFake(["m": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let panel = Panel(
            judges: [JudgeConfig(name: "m", provider: .openai, model: "m", baseURLs: [base])], swap: false)
        let rubric = try loadRubric("pairwise-mtbench")
        let items = (0..<3).map {
            Item(
                id: "t\($0)", prompt: "Question \($0)?", responseA: "Answer alpha \($0)", responseB: "Answer beta \($0)"
            )
        }
        let runCache = ResponseCache(directory: dir.appendingPathComponent("run-cache"))
        let options = RunOptions(cache: runCache, environment: [:])
        _ = try await PanelRunner(panel: panel, rubric: rubric, options: options).run(items: items)
        #expect(await server.requestCount() == 3)
        runCache.flush()
        let keys = try runCache.committedKeys()
        #expect(keys.count == 3)
        // No file per entry: the database and its companions only.
        let files = try FileManager.default.contentsOfDirectory(atPath: runCache.directory.path)
        #expect(files.allSatisfy { $0.hasPrefix(ResponseCache.databaseFileName) }, "\(files)")
        let stored = try #require(runCache.get(keys[0]))
        let data = try JSONEncoder().encode(stored)
        try runCache.overwriteRawEntry(keys[0], bytes: data.prefix(data.count - 3))
        let again = try await PanelRunner(panel: panel, rubric: rubric, options: options).run(items: items)
        #expect(await server.requestCount() == 4)
        #expect(again.votes.filter { $0.cached == true }.count == 2)
        #expect(again.votes.allSatisfy { $0.status == .ok })
        await server.stop()
        try? FileManager.default.removeItem(at: dir)
    }
}
