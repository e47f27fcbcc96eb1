import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

/// The CLI reference fixtures (scripts/reference/make_cli_aggregation_fixture.py: crowd-kit, choix).
private enum CLIRef {
    static let items = panelTestRoot.appendingPathComponent("fixtures/reference/cli-items.jsonl").path
    static let votes = panelTestRoot.appendingPathComponent("fixtures/reference/cli-votes.jsonl").path
    static func expected() throws -> JSONValue {
        try JSONValue.parse(
            String(
                contentsOfFile: panelTestRoot.appendingPathComponent("fixtures/reference/cli-expected.json").path,
                encoding: .utf8))
    }
}

@Suite("aggregate and rank: CLI contracts and reference equality (crowd-kit, choix)")
struct AggregateRankTests {
    @Test("aggregate --method dawid-skene equals crowd-kit DawidSkene within 1e-6; prints each judge's accuracy")
    func dawidSkeneMatchesCrowdKit() async throws {
        let expected = try CLIRef.expected()
        let ds = try #require(expected["dawid_skene"]?["items"]?.objectValue)
        let r = try await runJudgepanel(["aggregate", CLIRef.votes, "--method", "dawid-skene", "--items", CLIRef.items])
        #expect(r.code == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 240)
        var maxDiff = 0.0
        for line in lines {
            let v = try JSONValue.parse(String(line))
            let id = try #require(v["item"]?.stringValue)
            let ref = try #require(ds[id])
            #expect(v["verdict"]?.stringValue == ref["verdict"]?.stringValue, "\(id)")
            let c = try #require(v["confidence"]?.doubleValue)
            maxDiff = max(maxDiff, abs(c - (ref["confidence"]?.doubleValue ?? .nan)))
        }
        #expect(maxDiff < 1e-6, "max |posterior − crowd-kit| = \(maxDiff)")
        // Accuracy: printed to stderr (4 decimals) and, exactly, from the library.
        let acc = try #require(expected["dawid_skene"]?["judge_accuracy"]?.objectValue)
        for (judge, a) in acc {
            #expect(
                r.err.contains("dawid-skene estimated accuracy \(judge): \(String(format: "%.4f", a.doubleValue!))"),
                "\(r.err)")
        }
        let rec = MetaAnalysis(options: .init(aggregate: .dawidSkene)).reconcile(
            items: try ItemLoader().load(path: CLIRef.items), votes: try VotesFile.load(path: CLIRef.votes))
        for (judge, a) in acc {
            let mine = try #require(rec.estimatedAccuracy[judge] ?? nil)
            #expect(abs(mine - a.doubleValue!) < 1e-6, "\(judge): \(mine) vs \(a)")
        }
    }

    @Test("aggregate --method majority: one verdict line per item, confidence = share of votes")
    func majorityConfidence() async throws {
        let r = try await runJudgepanel(["aggregate", CLIRef.votes, "--method", "majority"])
        #expect(r.code == 0, "\(r.err)")
        let votes = try VotesFile.load(path: CLIRef.votes)
        let byItem = Dictionary(grouping: votes, by: \.item)
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == byItem.count)
        for line in lines {
            let v = try JSONValue.parse(String(line))
            let id = try #require(v["item"]?.stringValue)
            let vs = byItem[id]!.compactMap(\.verdict)
            let verdict = try #require(v["verdict"]?.stringValue)
            let share = Double(vs.filter { $0.rawValue == verdict }.count) / Double(vs.count)
            let c = try #require(v["confidence"]?.doubleValue)
            for key in ["item", "verdict", "judges", "agreement", "flips", "abstained", "confidence"] {
                #expect(v[key] != nil, "\(key)")
            }
            if verdict != "tie" { #expect(abs(c - share) < 1e-12, "\(id)") }
        }
    }

    @Test("rank --json: [{model, strength, strength_ci, rank, rank_ci}], strengths equal choix (half wins) within 1e-6")
    func rankMatchesChoix() async throws {
        let expected = try CLIRef.expected()
        let ref = try #require(expected["rank"]?["panel_strength"]?.objectValue)
        let r = try await runJudgepanel(["rank", CLIRef.items, "--votes", CLIRef.votes, "--json", "--resamples", "200"])
        #expect(r.code == 0, "\(r.err)")
        let rows = try #require(try JSONValue.parse(r.out).arrayValue)
        #expect(rows.count == 5)
        var maxDiff = 0.0
        for (i, row) in rows.enumerated() {
            for key in ["model", "strength", "strength_ci", "rank", "rank_ci"] { #expect(row[key] != nil, "\(key)") }
            let m = try #require(row["model"]?.stringValue)
            maxDiff = max(maxDiff, abs(row["strength"]!.doubleValue! - ref[m]!.doubleValue!))
            #expect(row["rank"]?.intValue == i + 1)
            let ci = try #require(row["strength_ci"]?.arrayValue)
            #expect(ci.count == 2 && ci[0].doubleValue! <= ci[1].doubleValue!)
        }
        #expect(maxDiff < 1e-6, "max |strength − choix| = \(maxDiff)")
        #expect(r.err.contains("Kendall τ"))
        // The table form prints the Kendall τ against the human-label ranking.
        let t = try await runJudgepanel(["rank", CLIRef.items, "--votes", CLIRef.votes, "--resamples", "50"])
        #expect(t.code == 0)
        #expect(t.out.contains("Kendall τ between the judges' ranking and the human-label ranking"))
        // The human ranking itself equals choix too.
        let human = try #require(expected["rank"]?["human_strength"]?.objectValue)
        let items = try ItemLoader().load(path: CLIRef.items)
        let h = SystemRanking.rank(items: items, verdicts: items.map { $0.label?.preference }, resamples: 0)
        for e in h { #expect(abs(e.strength - human[e.model]!.doubleValue!) < 1e-6) }
    }

    @Test("meta report.json carries the ranking (choix) and the Kendall τ against the human ranking")
    func metaReportRanking() throws {
        let expected = try CLIRef.expected()
        let ref = try #require(expected["rank"]?["panel_strength"]?.objectValue)
        let report = MetaAnalysis(options: .init(resamples: 50)).report(
            items: try ItemLoader().load(path: CLIRef.items), votes: try VotesFile.load(path: CLIRef.votes))
        let ranking = try #require(report.ranking)
        #expect(ranking.count == 5)
        for e in ranking { #expect(abs(e.strength - ref[e.model]!.doubleValue!) < 1e-6) }
        #expect(report.rankingKendallTauHuman?.value != nil)
        let json = try JSONValue.parse(String(decoding: JSONEncoder().encode(report), as: UTF8.self))
        #expect(json["ranking"]?[0]?["strength_ci"] != nil)
        #expect(json["aggregate"]?.stringValue == "majority")
    }

    @Test("weighted: log-odds weights learned from a labelled calibration set")
    func learnedWeights() async throws {
        #expect(abs(LearnedWeights.weight(accuracy: 0.8) - log(4)) < 1e-12)
        #expect(LearnedWeights.weight(accuracy: 0.3) == 0)
        #expect(abs(LearnedWeights.weight(accuracy: 1) - log(99)) < 1e-12)
        let items = try ItemLoader().load(path: CLIRef.items)
        let votes = try VotesFile.load(path: CLIRef.votes)
        let learned = LearnedWeights.learn(items: items, votes: votes)
        let labels = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.label!.preference!) })
        for e in learned.entries {
            let mine = votes.filter { $0.judge == e.judge }
            let correct = mine.filter { $0.verdict == labels[$0.item] }.count
            #expect(abs(e.accuracy! - Double(correct) / Double(items.count)) < 1e-12)
            #expect(abs(e.weight - LearnedWeights.weight(accuracy: e.accuracy!)) < 1e-12)
        }
        let w = learned.weights
        #expect(w["j-strong"]! > w["j-mid"]! && w["j-mid"]! > w["j-weak"]!)
        #expect(w["j-noisy"] == 0)
        // CLI: aggregate and meta.
        let r = try await runJudgepanel([
            "aggregate", CLIRef.votes, "--method", "weighted", "--calibrate-on", CLIRef.items, "--calibrate-votes",
            CLIRef.votes,
        ])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("learned weight j-strong"))
        #expect(r.out.split(separator: "\n").count == 240)
        let m = try await runJudgepanel([
            "meta", CLIRef.items, "--votes", CLIRef.votes, "--aggregate", "weighted", "--calibrate-on", CLIRef.items,
            "--calibrate-votes", CLIRef.votes, "--json", "--resamples", "20",
        ])
        #expect(m.code == 0, "\(m.err)")
        let report = try JSONValue.parse(m.out)
        #expect(report["aggregate"]?.stringValue == "weighted")
        #expect(abs((report["weights"]?["j-strong"]?.doubleValue ?? 0) - w["j-strong"]!) < 1e-12)
        #expect(report["weights_source"]?.stringValue?.hasPrefix("learned:") == true)
        // Learned weights do at least as well as plain majority here (the noisy judge is silenced).
        let maj = MetaAnalysis(options: .init(resamples: 0)).report(items: items, votes: votes)
        let wtd = MetaAnalysis(options: .init(aggregate: .weighted, resamples: 0, weights: w)).report(
            items: items, votes: votes)
        #expect((wtd.panel?.accuracy?.value ?? 0) >= (maj.panel?.accuracy?.value ?? 1))
        let bad = try await runJudgepanel([
            "aggregate", CLIRef.votes, "--method", "weighted", "--calibrate-on", CLIRef.items,
        ])
        #expect(bad.code == 2)
    }
}
