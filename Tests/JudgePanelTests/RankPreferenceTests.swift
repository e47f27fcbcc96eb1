import Foundation
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

/// `rank --preference probability` and `rank --baseline MODEL` on real AlpacaEval 2 annotations (issue 14), against
/// alpaca_eval's own win-rate code and choix (scripts/reference/make_alpacaeval_rank_fixture.py); and `aggregate` /
/// `rank` reading the votes file as a stream (issue 19) with the in-memory results.
@Suite("rank: probability preferences, win rate against a baseline, streamed votes")
struct RankPreferenceTests {
    static let excerpt = panelTestRoot.appendingPathComponent("fixtures/alpacaeval/ae2-rank-excerpt.json").path
    static let baseline = "gpt4_1106_preview"

    static func expected() throws -> JSONValue {
        try JSONValue.parse(
            String(
                contentsOfFile: panelTestRoot.appendingPathComponent("fixtures/reference/alpacaeval-rank-expected.json")
                    .path, encoding: .utf8))
    }

    /// The excerpt imported with `judgepanel import alpacaeval`: (items, votes) paths.
    static func imported() async throws -> (items: String, votes: String) {
        let dir = try tempDir("ae-rank")
        let r = try await runJudgepanel(["import", "alpacaeval", excerpt, "--out", dir.path])
        #expect(r.code == 0, "\(r.err)")
        return (dir.appendingPathComponent("items.jsonl").path, dir.appendingPathComponent("votes.jsonl").path)
    }

    /// `rank --json --resamples 0` with `flags`: model → strength, and the models best first.
    static func rank(_ files: (items: String, votes: String), _ flags: [String]) async throws
        -> (strength: [String: Double], order: [String])
    {
        let r = try await runJudgepanel(
            ["rank", files.items, "--votes", files.votes, "--json", "--resamples", "0"] + flags)
        #expect(r.code == 0, "\(r.err)")
        let rows = try #require(try JSONValue.parse(r.out).arrayValue)
        var strength: [String: Double] = [:]
        for row in rows {
            strength[try #require(row["model"]?.stringValue)] = try #require(row["strength"]?.doubleValue)
        }
        return (strength, rows.compactMap { $0["model"]?.stringValue })
    }

    @Test("--preference probability --baseline: strengths are alpaca_eval's win_rate (its get_winrate), in its order")
    func probabilityBaselineEqualsAlpacaEval() async throws {
        let files = try await Self.imported()
        let want = try #require(try Self.expected()["win_rate"]?.objectValue)
        let got = try await Self.rank(files, ["--preference", "probability", "--baseline", Self.baseline])
        #expect(got.strength.count == want.count + 1)
        #expect(got.strength[Self.baseline] == 0.5)
        for (m, w) in want {
            let mine = try #require(got.strength[m], "\(m)")
            #expect(abs(mine - w.doubleValue!) < 1e-12, "\(m): \(mine) vs \(w)")
        }
        let order = want.keys.sorted { want[$0]!.doubleValue! > want[$1]!.doubleValue! }
        #expect(got.order.filter { $0 != Self.baseline } == order)
        // The verdicts tie claude-2 and claude-2.1 in these records; their probabilities do not.
        #expect(got.strength["claude-2.1"]! > got.strength["claude-2"]!)
    }

    @Test("--baseline on verdicts: strengths are alpaca_eval's discrete_win_rate (draws as half)")
    func verdictBaselineEqualsDiscreteWinRate() async throws {
        let files = try await Self.imported()
        let want = try #require(try Self.expected()["discrete_win_rate"]?.objectValue)
        let got = try await Self.rank(files, ["--baseline", Self.baseline])
        for (m, w) in want {
            let mine = try #require(got.strength[m], "\(m)")
            #expect(abs(mine - w.doubleValue!) < 1e-12, "\(m): \(mine) vs \(w)")
        }
        #expect(got.strength["claude-2"] == got.strength["claude-2.1"])
    }

    @Test(
        "Bradley–Terry on probabilities equals choix ilsr_pairwise_dense on fractional wins; on verdicts, on half wins")
    func bradleyTerryEqualsChoix() async throws {
        let files = try await Self.imported()
        let expected = try Self.expected()
        for (flags, key) in [(["--preference", "probability"], "bt_probability"), ([], "bt_verdict")] {
            let want = try #require(expected[key]?.objectValue)
            let got = try await Self.rank(files, flags)
            #expect(got.strength.count == want.count)
            for (m, w) in want {
                let mine = try #require(got.strength[m], "\(key) \(m)")
                #expect(abs(mine - w.doubleValue!) < 1e-6, "\(key) \(m): \(mine) vs \(w)")
            }
        }
    }

    @Test("--detail JSON and text name the method, the baseline and the preference")
    func reportNamesMethod() async throws {
        let files = try await Self.imported()
        let j = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--json", "--detail", "--resamples", "20",
            "--preference", "probability", "--baseline", Self.baseline,
        ])
        #expect(j.code == 0, "\(j.err)")
        let report = try JSONValue.parse(j.out)
        #expect(report["method"]?.stringValue == "win-rate-vs-baseline")
        #expect(report["baseline"]?.stringValue == Self.baseline)
        #expect(report["preference"]?.stringValue == "probability")
        #expect(report["n_items"]?.intValue == 120)
        let t = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--resamples", "0", "--baseline", Self.baseline,
        ])
        #expect(t.out.hasPrefix("Win rate against \(Self.baseline) of panel (majority)"), "\(t.out)")
        let plain = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--json", "--detail", "--resamples", "0",
        ])
        let p = try JSONValue.parse(plain.out)
        #expect(p["method"]?.stringValue == "bradley-terry" && p["preference"]?.stringValue == "verdict")
    }

    @Test("usage and input errors: exit 2, naming the file")
    func errors() async throws {
        let files = try await Self.imported()
        let noVotes = try await runJudgepanel(["rank", files.items, "--preference", "probability"])
        #expect(noVotes.code == 2)
        let human = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--human", "--preference", "probability",
        ])
        #expect(human.code == 2)
        let unknown = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--baseline", "no-such-model",
        ])
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("no-such-model") && unknown.err.contains(files.items), "\(unknown.err)")
        #expect(unknown.out.isEmpty)
        let judge = try await runJudgepanel([
            "rank", files.items, "--votes", files.votes, "--preference", "probability", "--judge", "nobody",
        ])
        #expect(judge.code == 2 && judge.err.contains("weighted_alpaca_eval_gpt4_turbo"), "\(judge.err)")
    }

    @Test("a vote's P(B): probs (tie as half, renormalised), else its verdict; the panel is the mean of its judges")
    func probabilityOfB() throws {
        var v = Vote(item: "i", judge: "j", protocol: .pairwise, order: .ab, verdict: .a)
        #expect(PreferenceProbabilities.probabilityB(v) == 0)
        v.probs = ["A": 0.2, "B": 0.5, "tie": 0.3]
        #expect(abs(PreferenceProbabilities.probabilityB(v)! - 0.65) < 1e-15)
        v.probs = ["A": 0.1, "B": 0.3]
        #expect(abs(PreferenceProbabilities.probabilityB(v)! - 0.75) < 1e-15)
        v.status = .abstain
        #expect(PreferenceProbabilities.probabilityB(v) == nil)
        // Two judges on two items: j1 answers item x twice (0.2, 0.6 → 0.4), j2 once (1.0); item y only j2 (tie).
        let items = [Item(id: "x", prompt: ""), Item(id: "y", prompt: "")]
        var votes = [
            Vote(item: "x", judge: "j1", protocol: .pairwise, order: .ab, verdict: .a),
            Vote(item: "x", judge: "j1", protocol: .pairwise, order: .ba, verdict: .b),
            Vote(item: "x", judge: "j2", protocol: .pairwise, order: .ab, verdict: .b),
            Vote(item: "y", judge: "j2", protocol: .pairwise, order: .ab, verdict: .tie),
            Vote(item: "elsewhere", judge: "j3", protocol: .pairwise, order: .ab, verdict: .b),
        ]
        votes[0].probs = ["A": 0.8, "B": 0.2]
        votes[1].probs = ["A": 0.4, "B": 0.6]
        var probe = Vote(item: "y", judge: "j1", protocol: .pairwise, order: .ab, verdict: .a)
        probe.variant = "verbosity"
        votes.append(probe)
        let dir = try tempDir("pb")
        let path = dir.appendingPathComponent("votes.jsonl").path
        try MetaScaleTests.write(votes, path)
        let p = try PreferenceProbabilities.read(path: path, items: items)
        #expect(p.judges == ["j1", "j2", "j3"])
        #expect(abs(p.judge(0)[0]! - 0.4) < 1e-15 && p.judge(0)[1] == nil)
        #expect(p.judge(1) == [1, 0.5])
        let panel = p.panel
        #expect(abs(panel[0]! - 0.7) < 1e-15 && panel[1] == 0.5)
    }

    @Test("fractional outcomes 1, 0, ½ give the hard figures exactly; win rate against a baseline by hand")
    func fractionalEqualsHard() {
        var rng = SeededGenerator(seed: 5)
        var clusters: [[PairwiseComparison]] = []
        for _ in 0..<40 {
            clusters.append(
                (0..<(1 + rng.nextIndex(below: 3))).map { _ in
                    let a = rng.nextIndex(below: 4)
                    let b = (a + 1 + rng.nextIndex(below: 3)) % 4
                    let u = rng.nextIndex(below: 5)
                    return PairwiseComparison(a, b, u == 0 ? .tie : (u < 3 ? .aWins : .bWins))
                })
        }
        let hard = ClusteredRankBootstrap.run(nModels: 4, clusters: clusters, resamples: 60, seed: 2)
        let soft = ClusteredRankBootstrap.run(
            nModels: 4, fractional: clusters.map { $0.map(FractionalComparison.init) },
            score: .bradleyTerry(alpha: 0.01),
            resamples: 60, seed: 2)
        #expect(hard.strengths == soft.strengths && hard.ranks == soft.ranks && hard.pBest == soft.pBest)
        #expect(hard.strengthCI.map { [$0.0, $0.1] } == soft.strengthCI.map { [$0.0, $0.1] })
        #expect(hard.winRate == soft.winRate)
        // Model 1 against baseline 0: 0.75 (as b), 0.25 (as a) → 0.5; model 2: 1 → 1; model 3 never met it: NaN.
        let s = RankScore.winRateAgainst(baseline: 0).strengths(
            nModels: 4,
            [
                FractionalComparison(0, 1, scoreA: 0.25), FractionalComparison(1, 0, scoreA: 0.25),
                FractionalComparison(2, 0, scoreA: 1), FractionalComparison(2, 3, scoreA: 0),
            ])
        #expect(s[0] == 0.5 && s[1] == 0.5 && s[2] == 1 && s[3].isNaN)
    }

    // MARK: - Streamed votes (issue 19)

    /// Items with model_a/model_b for MetaScaleTests' votes (3 judges, both orders, errors, abstentions, probs, a probe
    /// variant, a vote on an unknown item).
    static func rankedItems(_ n: Int) -> [Item] {
        let (items, _) = syntheticPairwise(n)
        let models = ["m1", "m2", "m3", "m4"]
        return items.enumerated().map { i, item in
            var it = item
            it.modelA = models[i % 4]
            it.modelB = models[(i % 4 + 1 + (i / 4) % 3) % 4]
            return it
        }
    }

    @Test("aggregate and rank read grouped and shuffled votes files as a stream: the in-memory results, unchanged")
    func streamedEqualsInMemory() async throws {
        let items = Self.rankedItems(48)
        let votes = MetaScaleTests.pairwiseVotes(items)
        var rng = SeededGenerator(seed: 3)
        var shuffled = votes
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let dir = try tempDir("stream")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try
            (items.map { item in
                let o: JSONValue = [
                    "id": .string(item.id), "prompt": .string(item.prompt ?? ""),
                    "response_a": .string(item.responseA ?? ""),
                    "response_b": .string(item.responseB ?? ""), "model_a": .string(item.modelA!),
                    "model_b": .string(item.modelB!), "label": .string(item.label!.text),
                ]
                return String(decoding: try JSONEncoder.sortedForTests.encode(o), as: UTF8.self)
            }.joined(separator: "\n") + "\n").write(toFile: itemsPath, atomically: true, encoding: .utf8)
        let loaded = try ItemLoader().load(path: itemsPath)
        for (name, list) in [("grouped", votes), ("shuffled", shuffled)] {
            let path = dir.appendingPathComponent("\(name).jsonl").path
            try MetaScaleTests.write(list, path)
            for method in [AggregationMethod.majority, .dawidSkene] {
                let analysis = MetaAnalysis(options: .init(aggregate: method))
                // In memory, as aggregate did before: items from the votes in order of first appearance.
                var seen = Set<String>()
                let fromVotes = list.compactMap { seen.insert($0.item).inserted ? Item(id: $0.item, prompt: "") : nil }
                let want = analysis.reconcile(items: fromVotes, votes: list.filter { $0.variant == nil }).panel
                #expect(try analysis.reconcile(items: fromVotes, votesPath: path).panel == want, "\(name) \(method)")
                let r = try await runJudgepanel(["aggregate", path, "--method", method.rawValue])
                #expect(r.code == 0, "\(r.err)")
                let lines = try want.map {
                    String(decoding: try JSONEncoder.compactSortedForTests.encode($0), as: UTF8.self)
                }
                #expect(r.out.split(separator: "\n").map(String.init) == lines, "\(name) \(method)")
                let withItems = analysis.reconcile(items: loaded, votes: list.filter { $0.variant == nil })
                #expect(try analysis.reconcile(items: loaded, votesPath: path).panel == withItems.panel)
                #expect(try analysis.reconcile(items: loaded, votesPath: path).verdicts == withItems.verdicts)
            }
            // rank: the same ranking as from the in-memory verdicts.
            let rec = MetaAnalysis().reconcile(items: loaded, votes: list.filter { $0.variant == nil })
            let want = try #require(
                SliceRanking.rank(items: loaded, verdicts: rec.panel.map(\.verdict), options: .init(resamples: 30)))
            let r = try await runJudgepanel(["rank", itemsPath, "--votes", path, "--json", "--resamples", "30"])
            #expect(r.code == 0, "\(r.err)")
            let rows = try #require(try JSONValue.parse(r.out).arrayValue)
            #expect(rows.compactMap { $0["model"]?.stringValue } == want.models)
            for (row, w) in zip(rows, want.rows) {
                #expect(row["strength"]?.doubleValue == w.strength)
                #expect(row["strength_ci"]?[0]?.doubleValue == w.strengthCI.lo)
            }
        }
    }
}

extension JSONEncoder {
    /// The encoder `aggregate` prints verdict lines with.
    fileprivate static var compactSortedForTests: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    fileprivate static var sortedForTests: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
