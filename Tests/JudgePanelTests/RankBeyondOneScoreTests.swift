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

/// scripts/reference/make_social_choice_fixture.py: items with meta.capability, one recorded judge, and the
/// expected slice rankings (choix) and social-choice results (pref_voting) on them.
private enum SliceRef {
    static let items = panelTestRoot.appendingPathComponent("fixtures/reference/rank-slices-items.jsonl").path
    static let votes = panelTestRoot.appendingPathComponent("fixtures/reference/rank-slices-votes.jsonl").path
    static func expected() throws -> JSONValue {
        try JSONValue.parse(
            String(
                contentsOfFile: panelTestRoot.appendingPathComponent("fixtures/reference/rank-slices-expected.json")
                    .path, encoding: .utf8))
    }
    static let cliItems = panelTestRoot.appendingPathComponent("fixtures/reference/cli-items.jsonl").path
    static let cliVotes = panelTestRoot.appendingPathComponent("fixtures/reference/cli-votes.jsonl").path
}

private func tempDir() throws -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("jp-rank-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}

@Suite("rank beyond one score: slices, social choice, clustered bootstrap, human vs judge")
struct RankBeyondOneScoreTests {
    @Test(
        "rank --by capability --rule M --json: slice strengths equal choix; order and scores equal pref_voting, weight 1 and slice sizes",
        arguments: SocialChoiceRule.allCases)
    func socialChoiceMatchesPrefVoting(rule: SocialChoiceRule) async throws {
        let expected = try SliceRef.expected()
        for weighted in [false, true] {
            var args = [
                "rank", SliceRef.items, "--votes", SliceRef.votes, "--by", "capability", "--rule", rule.rawValue,
                "--json", "--resamples", "20",
            ]
            if weighted { args.append("--weight-slices") }
            let r = try await runJudgepanel(args)
            #expect(r.code == 0, "\(r.err)")
            let j = try JSONValue.parse(r.out)
            #expect(j["by"]?.stringValue == "capability")
            // Slices: every ranking entry, strengths equal to choix fitted on the slice alone.
            let slices = try #require(j["slices"]?.objectValue)
            let refSlices = try #require(expected["slices"]?.objectValue)
            #expect(Set(slices.keys) == Set(refSlices.keys))
            for (name, rows) in slices {
                let ref = try #require(refSlices[name]?["strength"]?.objectValue)
                let entries = try #require(rows.arrayValue)
                #expect(entries.count == ref.count, "\(name)")
                for e in entries {
                    for key in ["model", "strength", "strength_ci", "rank", "rank_ci"] {
                        #expect(e[key] != nil, "\(key)")
                    }
                    let m = try #require(e["model"]?.stringValue)
                    #expect(abs(e["strength"]!.doubleValue! - ref[m]!.doubleValue!) < 1e-6, "\(name) \(m)")
                }
                #expect(j["slice_counts"]?[name]?["n_items"]?.doubleValue == refSlices[name]?["n_items"]?.doubleValue)
            }
            // The aggregate: exactly {rule, order, scores}, equal to pref_voting.
            let sc = try #require(j["social_choice"]?.objectValue)
            #expect(Set(sc.keys) == ["rule", "order", "scores"])
            #expect(sc["rule"]?.stringValue == rule.rawValue)
            let ref = try #require(expected["rules"]?[weighted ? "weighted" : "unweighted"]?[rule.rawValue])
            #expect(
                sc["order"]?.arrayValue?.compactMap(\.stringValue)
                    == ref["order"]?.arrayValue?.compactMap(\.stringValue), "\(rule) weighted \(weighted)")
            let scores = try #require(sc["scores"]?.objectValue)
            let refScores = try #require(ref["scores"]?.objectValue)
            #expect(scores.count == refScores.count)
            for (m, v) in refScores {
                #expect(
                    abs((scores[m]?.doubleValue ?? .nan) - v.doubleValue!) < 1e-9, "\(rule) weighted \(weighted) \(m)")
            }
            #expect(j["social_choice_voters"]?["n"]?.intValue == refSlices.count)
        }
    }

    @Test("--by: best-in counts, tied slice ranks by name, Kendall τ between slices, items and clusters per slice")
    func slicesSummary() async throws {
        let r = try await runJudgepanel([
            "rank", SliceRef.items, "--votes", SliceRef.votes, "--by", "capability", "--cluster", "prompt_group",
            "--json", "--resamples", "50",
        ])
        #expect(r.code == 0, "\(r.err)")
        let j = try JSONValue.parse(r.out)
        let expected = try SliceRef.expected()
        // best_in: the models in the first tier of each slice's ballot (ties count for each).
        var best: [String: Int] = [:]
        for (_, s) in try #require(expected["slices"]?.objectValue) {
            for m in s["tiers"]![0]!.arrayValue! { best[m.stringValue!, default: 0] += 1 }
        }
        for (m, n) in try #require(j["best_in"]?.objectValue) { #expect(n.intValue == best[m] ?? 0, "\(m)") }
        // The tied slice: m-alpha and m-beta share rank 1, listed by name; m-gamma is 3rd.
        let tied = try #require(j["slices"]?["tied"]?.arrayValue)
        #expect(tied.map { $0["model"]!.stringValue! } == ["m-alpha", "m-beta", "m-gamma"])
        #expect(tied.map { $0["rank"]!.intValue! } == [1, 1, 3])
        #expect(tied[1]["rank_ci"]?.arrayValue?.map { $0.intValue! } == [1, 1])
        // One cluster in "tied" (prompt_group tied-g0); groups of 4 items elsewhere.
        #expect(j["slice_counts"]?["tied"]?["n_clusters"]?.intValue == 1)
        #expect(j["slice_counts"]?["coding"]?["n_clusters"]?.intValue == 14)
        #expect(j["cluster"]?.stringValue == "prompt_group")
        #expect(j["n_clusters"]?.intValue == 66)
        #expect(j["n_items"]?.intValue == 253)
        // Kendall τ between slices: every pair, equal to τ-b on the slices' ranks over common models.
        let pairs = try #require(j["kendall_tau_slices"]?["pairs"]?.arrayValue)
        #expect(pairs.count == 15)
        let slices = try #require(j["slices"]?.objectValue)
        for p in pairs {
            let a = slices[p["a"]!.stringValue!]!.arrayValue!
            let b = slices[p["b"]!.stringValue!]!.arrayValue!
            let rb = Dictionary(uniqueKeysWithValues: b.map { ($0["model"]!.stringValue!, $0["rank"]!.doubleValue!) })
            let common = a.filter { rb[$0["model"]!.stringValue!] != nil }
            let t = kendallTauB(
                common.map { -$0["rank"]!.doubleValue! }, common.map { -rb[$0["model"]!.stringValue!]! })
            #expect(p["n_models"]?.intValue == common.count)
            if let v = t.value { #expect(abs(p["tau"]!.doubleValue! - v) < 1e-12) } else { #expect(p["tau"] == .null) }
        }
        // Text: the table has a column per model and the summary line.
        let t = try await runJudgepanel([
            "rank", SliceRef.items, "--votes", SliceRef.votes, "--by", "capability", "--resamples", "20",
        ])
        #expect(t.code == 0)
        #expect(t.out.contains("Per-capability Bradley–Terry rankings"))
        #expect(t.out.contains("Best in (slices where the model ranks 1st"))
        #expect(t.out.contains("Kendall τ between slice rankings: mean"))
    }

    @Test("rank --json without new flags keeps the contract: an array of {model, strength, strength_ci, rank, rank_ci}")
    func plainContract() async throws {
        let r = try await runJudgepanel([
            "rank", SliceRef.cliItems, "--votes", SliceRef.cliVotes, "--json", "--resamples", "30",
        ])
        #expect(r.code == 0, "\(r.err)")
        let rows = try #require(try JSONValue.parse(r.out).arrayValue)
        #expect(rows.count == 5)
        for row in rows {
            #expect(Set(row.objectValue!.keys) == ["model", "strength", "strength_ci", "rank", "rank_ci"])
        }
        // The same figures as the library's SystemRanking (same bootstrap draws).
        let items = try ItemLoader().load(path: SliceRef.cliItems)
        let rec = MetaAnalysis().reconcile(items: items, votes: try VotesFile.load(path: SliceRef.cliVotes))
        let lib = SystemRanking.rank(items: items, verdicts: rec.panel.map(\.verdict), resamples: 30)
        for (row, e) in zip(rows, lib) {
            #expect(row["model"]?.stringValue == e.model)
            #expect(row["strength_ci"]?[0]?.doubleValue == e.strengthCI?.lo)
            #expect(row["rank_ci"]?[1]?.intValue == e.rankCI?.hi)
        }
        // --resamples 0: null intervals, as before.
        let z = try await runJudgepanel([
            "rank", SliceRef.cliItems, "--votes", SliceRef.cliVotes, "--json", "--resamples", "0",
        ])
        #expect(try JSONValue.parse(z.out)[0]?["strength_ci"] == .null)
    }

    @Test(
        "--cluster: a key unique per item gives the item bootstrap; a coarse key widens the rank CIs; P(best) sums to 1"
    )
    func clusterKey() async throws {
        let base = try JSONValue.parse(
            try await runJudgepanel([
                "rank", SliceRef.items, "--votes", SliceRef.votes, "--detail", "--json", "--resamples", "200",
            ]).out)
        #expect(base["n_clusters"]?.intValue == 253 && base["cluster"] == .null)
        // meta.capability as clusters: only 6 clusters behind every figure.
        let coarse = try JSONValue.parse(
            try await runJudgepanel([
                "rank", SliceRef.items, "--votes", SliceRef.votes, "--cluster", "capability", "--json", "--resamples",
                "200",
            ]).out)
        #expect(coarse["n_clusters"]?.intValue == 6)
        func width(_ j: JSONValue) -> Double {
            j["ranking"]!.arrayValue!.reduce(0.0) {
                $0 + $1["strength_ci"]![1]!.doubleValue! - $1["strength_ci"]![0]!.doubleValue!
            }
        }
        #expect(width(coarse) > width(base))
        for j in [base, coarse] {
            let p = j["ranking"]!.arrayValue!.map { $0["p_best"]!.doubleValue! }
            #expect(abs(p.reduce(0, +) - 1) < 1e-9)
        }
        // Win rates: every pair with its count and CI; a ↔ b complementary.
        let w = try #require(base["win_rates"]?.objectValue)
        for (a, row) in w {
            for (b, cell) in row.objectValue! {
                let back = try #require(w[b]?[a])
                #expect(abs(cell["rate"]!.doubleValue! + back["rate"]!.doubleValue! - 1) < 1e-12)
                #expect(cell["n"] == back["n"])
            }
        }
        // Library: a cluster key unique per item = no cluster key (same draws, same figures).
        let items = try ItemLoader().load(path: SliceRef.items).map { item -> Item in
            var i = item
            i.meta["uid"] = .string(item.id)
            return i
        }
        let verdicts: [Preference?] = items.indices.map { $0 % 3 == 0 ? .b : ($0 % 7 == 0 ? .tie : .a) }
        let a = try #require(
            SliceRanking.rank(items: items, verdicts: verdicts, options: .init(resamples: 100, clusterKey: "uid")))
        let b = try #require(SliceRanking.rank(items: items, verdicts: verdicts, options: .init(resamples: 100)))
        #expect(a.rows.map(\.strengthCI) == b.rows.map(\.strengthCI))
        #expect(a.rows.map(\.pBest) == b.rows.map(\.pBest))
    }

    @Test("human labels: rank uses meta's consensus (label, else the annotators' majority) and says so")
    func humanConsensus() async throws {
        // Items with per-annotator labels only: rank used to see no label at all.
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let items = try ItemLoader().load(path: SliceRef.cliItems)
        var lines: [String] = []
        for (k, item) in items.enumerated() {
            var o = item.json.objectValue!
            let l = o.removeValue(forKey: "label")!
            let other: JSONValue = l.stringValue == "A" ? "B" : "A"
            // Two of three annotators give the label (the third disagrees on every fifth item).
            o["labels"] = [
                ["annotator": "h1", "label": l], ["annotator": "h2", "label": l],
                ["annotator": "h3", "label": k % 5 == 0 ? other : l],
            ]
            lines.append(String(decoding: try JSONEncoder().encode(JSONValue.object(o)), as: UTF8.self))
        }
        let path = dir.appendingPathComponent("items.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await runJudgepanel(["rank", path, "--resamples", "0"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("human labels"))
        #expect(r.out.contains("majority of the annotators' `labels` (\(items.count) items)"))
        // The same ranking as on the original `label`s (the majority equals it), and as meta's consensus.
        let loaded = try ItemLoader().load(path: path)
        let ours = try #require(
            SliceRanking.rank(
                items: loaded, verdicts: SliceRanking.humanPreferences(loaded).labels, options: .init(resamples: 0)))
        let original = SystemRanking.rank(items: items, verdicts: items.map { $0.label?.preference }, resamples: 0)
        for e in original { #expect(abs(ours.row(e.model)!.strength - e.strength) < 1e-12) }
        #expect(SliceRanking.humanPreferences(loaded).labels == loaded.map { $0.consensus?.preference })
        // With votes, the human-ranking τ is computed against the same consensus (stderr in --json mode).
        let v = try await runJudgepanel(["rank", path, "--votes", SliceRef.cliVotes, "--json", "--resamples", "50"])
        #expect(v.code == 0, "\(v.err)")
        #expect(v.err.contains("Kendall τ between the judges' ranking and the human-label ranking"))
        #expect(v.err.contains("majority of the annotators' `labels`"))
    }

    @Test("--judge J: that judge's ranking, Kendall τ against the human ranking with a bootstrap CI and its counts")
    func judgeVersusHuman() async throws {
        let r = try await runJudgepanel([
            "rank", SliceRef.cliItems, "--votes", SliceRef.cliVotes, "--judge", "j-strong", "--detail", "--json",
            "--resamples", "200",
        ])
        #expect(r.code == 0, "\(r.err)")
        let j = try JSONValue.parse(r.out)
        #expect(j["source"]?.stringValue == "judge j-strong")
        let t = try #require(j["kendall_tau_human"])
        let items = try ItemLoader().load(path: SliceRef.cliItems)
        let rec = MetaAnalysis().reconcile(items: items, votes: try VotesFile.load(path: SliceRef.cliVotes))
        let mine = rec.verdicts[rec.judges.firstIndex(of: "j-strong")!].map(\.verdict)
        let human = items.map { $0.label?.preference }
        // Point τ: τ-b between the two Bradley–Terry fits on the items both have.
        let both = items.indices.filter { mine[$0] != nil && human[$0] != nil }
        let a = SystemRanking.rank(items: both.map { items[$0] }, verdicts: both.map { mine[$0] }, resamples: 0)
        let h = SystemRanking.rank(items: both.map { items[$0] }, verdicts: both.map { human[$0] }, resamples: 0)
        #expect(abs(t["tau"]!.doubleValue! - SystemRanking.kendall(a, h).value!) < 1e-12)
        #expect(
            t["n_items"]?.intValue == both.count && t["n_clusters"]?.intValue == both.count
                && t["n_models"]?.intValue == 5)
        let ci = try #require(t["ci"]?.arrayValue?.map { $0.doubleValue! })
        #expect(ci[0] <= t["tau"]!.doubleValue! + 1e-12 && ci[1] >= ci[0] && ci[1] <= 1)
        // Unknown judge: exit 2 naming the file.
        let bad = try await runJudgepanel([
            "rank", SliceRef.cliItems, "--votes", SliceRef.cliVotes, "--judge", "nobody",
        ])
        #expect(bad.code == 2 && bad.err.contains("cli-votes.jsonl") && bad.err.contains("nobody"))
    }

    @Test("--html FILE: a models × slices rank heatmap with a cell per model and slice")
    func htmlHeatmap() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("rank.html").path
        let r = try await runJudgepanel([
            "rank", SliceRef.items, "--votes", SliceRef.votes, "--by", "capability", "--rule", "schulze", "--html", out,
            "--resamples", "20",
        ])
        #expect(r.code == 0, "\(r.err)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))
        #expect(html.contains("<table class=\"heat\">"))
        let body = html.components(separatedBy: "<table class=\"heat\">")[1].components(separatedBy: "</table>")[0]
        // 5 model rows × 6 slices: 30 cells with a rank or a dash.
        #expect(body.components(separatedBy: "<tr><td>").count - 1 == 5)
        #expect(
            body.components(separatedBy: "title=\"m-").count - 1
                + body.components(separatedBy: "not compared in this slice").count - 1 == 30)
        #expect(html.contains("Social choice: schulze"))
        #expect(!html.contains("<script"))
    }

    @Test("usage and input errors exit 2 and write nothing")
    func errors() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("x.html").path
        let noBy = try await runJudgepanel([
            "rank", SliceRef.items, "--votes", SliceRef.votes, "--rule", "borda", "--html", out,
        ])
        #expect(noBy.code == 2 && noBy.err.contains("--rule needs --by"))
        let missing = try await runJudgepanel([
            "rank", SliceRef.items, "--votes", SliceRef.votes, "--by", "nope", "--html", out,
        ])
        #expect(
            missing.code == 2 && missing.err.contains("meta.nope") && missing.err.contains("rank-slices-items.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: out))
        // Kemeny beyond its exact limit is refused, not approximated.
        var lines: [String] = []
        let n = SocialChoice.kemenyLimit + 1
        for i in 0..<n {
            let item: JSONValue = [
                "id": .string("k\(i)"), "prompt": "q", "response_a": "x", "response_b": "y",
                "model_a": .string("m\(i)"),
                "model_b": .string("m\((i + 1) % n)"), "label": "A",
                "meta": ["capability": .string(i % 2 == 0 ? "x" : "y")],
            ]
            lines.append(String(decoding: try JSONEncoder().encode(item), as: UTF8.self))
        }
        let path = dir.appendingPathComponent("many.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let k = try await runJudgepanel(["rank", path, "--by", "capability", "--rule", "kemeny", "--resamples", "0"])
        #expect(k.code == 2 && k.err.contains("at most \(SocialChoice.kemenyLimit) models"), "\(k.err)")
        let ok = try await runJudgepanel(["rank", path, "--by", "capability", "--rule", "schulze", "--resamples", "0"])
        #expect(ok.code == 0, "\(ok.err)")
    }
}
