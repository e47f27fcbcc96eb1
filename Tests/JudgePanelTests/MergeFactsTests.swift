import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

@Suite("merge: run facts as one run writes them")
struct MergeFactsTests {
    @Test(
        "notes: the runner's adjustments once, logprob notes recomputed over all votes (not one shard's); counts summed in order"
    )
    func notesAndCounts() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-mergefacts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ids = (0..<8).map { "m\($0)" }
        let owner = ids.map { Shard.index(of: $0, count: 2) }
        try #require(owner.contains(0) && owner.contains(1))
        let items = dir.appendingPathComponent("items.jsonl").path
        try ids.map { #"{"id":"\#($0)","prompt":"q","response_a":"a","response_b":"b","label":"A"}"# }.joined(
            separator: "\n"
        )
        .write(toFile: items, atomically: true, encoding: .utf8)
        // One degenerate reading in the whole run, on the first item.
        func vote(_ id: String) -> String {
            let probs = id == "m0" ? #"{"A":0.9995,"B":0.0004,"tie":0.0001}"# : #"{"A":0.5,"B":0.3,"tie":0.2}"#
            return #"{"cost_usd":0.001,"item":"\#(id)","judge":"alpha","logprobs":"ok","order":"AB","probs":\#(probs),"#
                + #""protocol":"pairwise","sample":0,"status":"ok","usage":{"completion_tokens":2,"prompt_tokens":10},"verdict":"A"}"#
        }
        let adjustment = "judge 'alpha': the server asked for fewer requests (concurrency 8 → 4)"
        var shards: [String] = []
        for s in 0..<2 {
            let mine = ids.indices.filter { owner[$0] == s }
            let shardDir = dir.appendingPathComponent("shard\(s)")
            try FileManager.default.createDirectory(at: shardDir, withIntermediateDirectories: true)
            try (mine.map { vote(ids[$0]) }.joined(separator: "\n") + "\n")
                .write(to: shardDir.appendingPathComponent("votes.jsonl"), atomically: true, encoding: .utf8)
            let degenerate = mine.contains(0) ? 1 : 0
            let ownNote =
                "judge 'alpha': probabilities degenerate (one label ≥ 0.999) on \(degenerate) of \(mine.count) votes"
            let config: JSONValue = [
                "analysis": [
                    "aggregate": "majority", "alpha_level": .null, "cluster_key": .null, "flip": "tie",
                    "judge_order": ["alpha"],
                    "protocol": "pairwise", "resamples": 50, "seed": 0, "tie_margin": 0.05, "weights": ["alpha": 1],
                ],
                "fingerprint": ["version": 1], "item_mapping": ["label_map": [:], "map": [:]], "items": .string(items),
                "panel": [
                    "aggregate": "majority", "flip": "tie", "judges": [["name": "alpha"]], "source": "p.yaml",
                    "swap": false,
                ],
                "rubric": ["id": "r", "protocol": "pairwise", "source": "", "template_sha256": ""],
                "shard": [
                    "index": .number(Double(s)), "count": 2, "scheme": .string(Shard.scheme),
                    "items": .number(Double(mine.count)),
                    "items_total": 8,
                ],
                "run": [
                    "judges": ["alpha"], "started": .string("2026-11-29T20:0\(s):00Z"), "wall_s": 10,
                    "votes": .number(Double(mine.count)),
                    "reused_from_journal": 0, "reasked": 0, "dropped_from_journal": 0,
                    "http_calls": .number(Double(mine.count)), "cached": 0,
                    "notes": s == 0
                        ? [.string(adjustment), .string(ownNote)] : [.string(ownNote), .string(adjustment)],
                ],
            ]
            try RunDirectory(path: shardDir.path).writeJSON("config.json", config)
            shards.append(shardDir.path)
        }
        let out = dir.appendingPathComponent("merged").path
        let outcome = try MergeJob(shardDirs: shards.reversed()).run(outDir: out)
        #expect(outcome.votes == 8 && outcome.errors == 0 && outcome.shards == 2)
        let run = try #require(try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/config.json")))["run"])
        #expect(
            run["notes"]?.arrayValue?.compactMap(\.stringValue)
                == [adjustment, "judge 'alpha': probabilities degenerate (one label ≥ 0.999) on 1 of 8 votes"])
        #expect(run["votes"]?.intValue == 8 && run["http_calls"]?.intValue == 8)
        #expect(run["prompt_tokens"]?.intValue == 80 && run["completion_tokens"]?.intValue == 16)
        #expect(run["cost_usd"]?.doubleValue == (0..<8).reduce(0.0) { acc, _ in acc + 0.001 })
        #expect(run["started"]?.stringValue == "2026-11-29T20:00:00Z" && run["wall_s"]?.doubleValue == 70)
        #expect(run["stopped_judges"] == nil)
        // votes.jsonl: the items file's order.
        let merged = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(merged.map(\.item) == ids)
    }
}
