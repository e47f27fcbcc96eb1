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

private let realRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private func real(_ path: String) -> String {
    realRoot.appendingPathComponent("fixtures").appendingPathComponent(path).path
}

/// `win_rate` of the row named `name` in a leaderboard CSV excerpt (no quoted commas in these rows).
private func leaderboardWinRate(_ file: String, _ name: String) throws -> Double {
    let lines = try String(contentsOfFile: real(file), encoding: .utf8).split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let col = try #require(header.firstIndex(of: "win_rate"))
    let row = try #require(lines.first { $0.hasPrefix(name + ",") })
    return try #require(Double(row.split(separator: ",", omittingEmptySubsequences: false)[col]))
}

/// alpaca_eval's win rate of `model` from imported votes: mean P(model's side) over its answered votes, × 100.
private func winRate(_ r: ImportResult, model: String) -> Double {
    let sides = Dictionary(
        uniqueKeysWithValues: r.items.compactMap { item -> (String, String)? in
            if item.modelB == model { return (item.id, "B") }
            if item.modelA == model { return (item.id, "A") }
            return nil
        })
    let ps = r.votes.compactMap { v -> Double? in
        guard v.isOK, let side = sides[v.item] else { return nil }
        return v.probs?[side]
    }
    return ps.reduce(0, +) / Double(ps.count) * 100
}

@Suite("Importers on real files")
struct RealFormatImportTests {
    // MARK: alpaca_eval (points 1–3)

    /// AlpacaEval 1: 20 of text_davinci_001's 805 GPT-4 annotations are draws stored as 0; read as draws, the win rate
    /// is the leaderboard's 15.174 (read as abstentions it would be 112 / 784 = 14.29).
    @Test func alpacaEval1WinRateMatchesLeaderboard() throws {
        let r = try Importer.run(format: .alpacaeval, sources: [real("alpacaeval/ae1-text_davinci_001.json")])
        #expect(r.items.count == 805 && r.votes.count == 805)
        #expect(r.votes.filter { $0.verdict == .tie }.count == 20)
        #expect(r.votes.filter { $0.status == .abstain }.count == 1)
        let published = try leaderboardWinRate("alpacaeval/ae1-leaderboard-excerpt.csv", "Davinci001")
        #expect(abs(winRate(r, model: "text_davinci_001") - published) < 1e-9)
        // meta over the same votes: the judge's W/T/L of answer A (the reference) gives the same win rate.
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: r.items, votes: r.votes)
        let j = try #require(report.judges.first)
        let (w, t, l) = (Double(j.wins ?? 0), Double(j.ties ?? 0), Double(j.losses ?? 0))
        #expect(j.judge == "alpaca_eval_gpt4" && w == 672 && t == 20 && l == 112)
        #expect(abs((l + t / 2) / (w + t + l) * 100 - published) < 1e-9)
    }

    /// `--as-labels`: a 0 is a tie label, not a skipped record.
    @Test func alpacaEvalZeroIsATieLabel() throws {
        let r = try Importer.run(
            format: .alpacaeval, sources: [real("alpacaeval/ae1-text_davinci_001.json")],
            options: ImportOptions(asLabels: true))
        #expect(r.votes.isEmpty)
        #expect(r.items.filter { $0.label == .pairwise(.tie) }.count == 20)
        #expect(r.labelledItemCount == 804)
        // The one null preference is the only skipped record, and it is warned about.
        #expect(r.warnings.count == 1 && r.warnings[0].kind == .skipped)
        #expect(r.warnings[0].file.hasSuffix("ae1-text_davinci_001.json") && r.warnings[0].place.hasPrefix("element "))
    }

    /// Identical outputs from different generators stay separate items: phi-2 produced the same output as
    /// text_davinci_001 on 22 instructions (one of them judged the other way), and neither model's comparisons merge.
    @Test func alpacaEvalGeneratorsNeverMerge() throws {
        let td = try Importer.run(format: .alpacaeval, sources: [real("alpacaeval/ae1-text_davinci_001.json")])
        let both = try Importer.run(
            format: .alpacaeval,
            sources: [real("alpacaeval/ae1-text_davinci_001.json"), real("alpacaeval/ae1-phi-2-excerpt.json")])
        #expect(both.items.count == 805 + 26)
        #expect(both.votes.count == 805 + 26)
        #expect(
            Set(both.votes.map { "\($0.item)|\($0.judge)|\($0.order?.rawValue ?? "")|\($0.sample)" }).count
                == both.votes.count)
        #expect(both.votes.allSatisfy { $0.sample == 0 })
        #expect(both.warnings.isEmpty)
        #expect(both.items.filter { $0.modelB == "phi-2" }.count == 26)
        #expect(winRate(both, model: "text_davinci_001") == winRate(td, model: "text_davinci_001"))
        // The identical outputs really are there: same instruction and both outputs, different generator_2.
        let tdKeys = Set(td.items.map { "\($0.prompt ?? "")\u{0}\($0.responseA ?? "")\u{0}\($0.responseB ?? "")" })
        let shared = both.items.filter {
            $0.modelB == "phi-2"
                && tdKeys.contains("\($0.prompt ?? "")\u{0}\($0.responseA ?? "")\u{0}\($0.responseB ?? "")")
        }
        #expect(shared.count == 22)
    }

    /// AlpacaEval 2 (weighted annotator): the win rate is the mean preference, exact 1 / 1.5 carry P = 1 / ½, and the
    /// probability-based accuracy counts them (against labels from the same records it is exactly 1).
    @Test func alpacaEval2WinRateAndProbabilities() throws {
        let path = real("alpacaeval/ae2-gpt4_gamed.json")
        let r = try Importer.run(format: .alpacaeval, sources: [path])
        #expect(r.votes.count == 805 && r.votes.allSatisfy { $0.probs != nil })
        let exact = r.votes.filter { $0.raw == "1.0" || $0.raw == "1.5" || $0.raw == "1" }
        #expect(exact.count == 6)
        #expect(exact.allSatisfy { $0.probs == ($0.raw == "1.5" ? ["A": 0.5, "B": 0.5] : ["A": 1, "B": 0]) })
        let published = try leaderboardWinRate("alpacaeval/ae2-leaderboard-excerpt.csv", "GPT-4 (Adversarial)")
        #expect(abs(winRate(r, model: "gpt4_gamed") - published) < 1e-9)
        let labels = try Importer.run(format: .alpacaeval, sources: [path], options: ImportOptions(asLabels: true))
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: labels.items, votes: r.votes)
        let j = try #require(report.judges.first)
        #expect(j.probAccuracy?.value == 1)
        #expect(j.accuracy?.value == 1)
    }

    // MARK: LLMBar (point 4)

    /// The numerator of a `"k / n = x%"` statistic.
    static func count(_ stats: [String: JSONValue], _ key: String) throws -> Int {
        let text = try #require(stats[key]?.stringValue)
        return try #require(Int(text.split(separator: "/")[0].trimmingCharacters(in: .whitespaces)))
    }

    /// LLMBar's published "equal" over all 46 items: position_consistency counts a one-sided abstention as
    /// inconsistent, and LLMBar's figure is (consistent + both abstained) / asked.
    @Test(arguments: ["ChatGPT/CoT", "PaLM2/CoT", "PaLM2/Metrics_Reference", "GPT-4/Vanilla_1shot"])
    func llmbarEqualMatchesPublished(run: String) throws {
        let dir = real("llmbar/Manual")
        let r = try Importer.run(format: .llmbar, sources: [dir])
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: r.items, votes: r.votes)
        let j = try #require(report.judges.first { $0.judge == run })
        let statsPath = "\(dir)/evaluators/\(run)/statistics.json"
        let stats = try #require(JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: statsPath))).objectValue)
        let equal = try Self.count(stats, "equal")
        let n = 46
        #expect(j.positionAsked == n)
        let both = try #require(j.positionBothAbstained)
        let pc = try #require(j.positionConsistency?.value)
        #expect(abs(pc * Double(n) + Double(both) - Double(equal)) < 1e-9)
        // LLMBar's "equal" = position_consistency + position_both_abstained / position_asked.
        #expect(abs(pc + Double(both) / Double(n) - Double(equal) / Double(n)) < 1e-12)
        // Over items answered in both orders the share is higher whenever an order abstained.
        let answered = try #require(j.positionConsistencyAnswered?.value)
        let oneSided = r.votes.filter { $0.judge == run && $0.status == .abstain }.count - 2 * both
        #expect(oneSided > 0 || both > 0)
        #expect(abs(answered - pc * Double(n) / Double(n - both - oneSided)) < 1e-12)
        // correct_average is the vote accuracy over both orders.
        let average = try #require(stats["correct_average"]?.stringValue.flatMap { Double($0.dropLast()) })
        #expect(abs((try #require(j.voteAccuracy?.value)) * 100 - average) < 1e-9)
        // correct_both is accuracy with a flip counted as an abstention, where no item has a one-sided abstention.
        if oneSided == 0 {
            let correctBoth = try Self.count(stats, "correct_both")
            #expect(abs(try #require(j.accuracyFlipAbstain?.value) * Double(n) - Double(correctBoth)) < 1e-9)
        }
    }
}

@Suite("JudgeBench importer on recorded outputs")
struct JudgeBenchImportTests {
    static let dir = realRoot.appendingPathComponent("fixtures/judgebench")

    static func outputs() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("judge_name=") }.sorted()
    }

    /// `accuracy_net` reproduces what JudgeBench's `compute_final_metrics` computes on each recorded-output excerpt,
    /// overall and per category (expected values: scripts/reference/judgebench_metrics.py, run on JudgeBench's code).
    @Test func scoresMatchJudgeBenchMetricCode() throws {
        let expected = try #require(
            JSONValue.parse(Data(contentsOf: Self.dir.appendingPathComponent("expected.json"))).objectValue)
        let files = try Self.outputs()
        #expect(files.count == 3 && Set(expected.keys) == Set(files))
        for file in files {
            let r = try Importer.run(format: .judgebench, sources: [Self.dir.appendingPathComponent(file).path])
            let report = MetaAnalysis(options: .init(resamples: 10)).report(
                items: r.items, votes: r.votes, sliceKey: "category")
            let judge = try #require(report.judges.first)
            #expect(report.judges.count == 1)
            let scores = try #require(expected[file]?["scores"]?.objectValue)
            for (category, entry) in scores {
                let want = try #require(entry["score"]?.doubleValue)
                let n = try #require(entry["n_pairs"]?.intValue)
                let m =
                    category == "overall" ? judge : try #require(report.slices?["category"]?[category]?.judges.first)
                #expect(m.n == n, "\(file) \(category)")
                let got = try #require(m.accuracyNet?.value) * 100
                #expect(abs(got - want) < 1e-9, "\(file) \(category): \(got) vs \(want)")
                // The headline accuracy too, under both flip policies (A=B in one order is no decision there).
                let acc = try #require(m.accuracy?.value) * 100
                #expect(abs(acc - want) < 1e-9, "\(file) \(category) accuracy: \(acc) vs \(want)")
                let other = try #require(m.accuracyFlipAbstain?.value ?? m.accuracyFlipTie?.value) * 100
                #expect(abs(other - want) < 1e-9, "\(file) \(category) other flip policy: \(other) vs \(want)")
            }
        }
    }

    /// The format: both orders, the second mapped back from the swapped positions; ties, unparsed decisions, labels.
    @Test func ordersDecisionsAndLabels() throws {
        let haiku = try #require(try Self.outputs().first { $0.contains("claude-3-haiku") })
        let r = try Importer.run(format: .judgebench, sources: [Self.dir.appendingPathComponent(haiku).path])
        #expect(r.items.count == 34 && r.votes.count == 68 && r.warnings.isEmpty)
        let judge = "arena_hard/claude-3-haiku-20240307"
        #expect(Set(r.votes.map(\.judge)) == [judge])
        // pair b5ce1305…: label A>B; the recorded decisions are A>B (as stored) and B>A (swapped) = A, A.
        let first = try #require(r.items.first)
        #expect(first.id == "b5ce1305-50fe-5a5e-b785-325ab15c6d2b" && first.label == .pairwise(.a))
        #expect(first.meta["category"] == .string("mmlu-pro") && first.meta["source"] == .string("mmlu-pro-health"))
        let lines = try String(contentsOfFile: Self.dir.appendingPathComponent(haiku).path, encoding: .utf8)
            .split(separator: "\n").map { try JSONValue.parse(String($0)) }
        for (line, item) in zip(lines, r.items) {
            let decisions = line["judgments"]!.arrayValue!.map { $0["decision"]?.stringValue }
            for (k, order) in [Order.ab, .ba].enumerated() {
                let v = try #require(r.votes.first { $0.item == item.id && $0.order == order })
                let flip: [String: Preference] = k == 0 ? ["A>B": .a, "B>A": .b] : ["A>B": .b, "B>A": .a]
                if let d = decisions[k], d != "A=B" {
                    #expect(v.verdict == flip[d] && v.isOK)
                } else if decisions[k] == "A=B" {
                    // JudgeBench scores A=B as no decision: an abstention, its answer kept.
                    #expect(v.status == .abstain && v.reason == JudgeBenchImporter.noPreference && v.verdict == nil)
                } else {
                    #expect(v.status == .abstain && v.reason == .unparsed)
                }
            }
        }
        // 5 null decisions and 26 A=B decisions.
        #expect(r.votes.filter { $0.status == .abstain }.count == 5 + 26)
    }

    /// A pair file and an output file with the same pairs give one item per pair.
    @Test func pairFilesMergeByPairID() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path)
        let data = try #require(files.first { $0.hasSuffix(".jsonl") && !$0.contains("judge_name=") })
        let o1 = try #require(files.first { $0.contains("o1-mini") })
        let r = try Importer.run(
            format: .judgebench, sources: [data, o1].map { Self.dir.appendingPathComponent($0).path })
        #expect(r.items.count == 24 + 2)
        #expect(r.votes.count == 48)
    }
}

@Suite("MT-Bench human judgments, published schema")
struct MTBenchSchemaTests {
    static func path(_ name: String) -> String { real("mtbench/\(name)") }

    /// human_judgments.json (the `human` split): expert_* / author_* labels, both orientations, tie (bothbad).
    @Test func humanJudgments() throws {
        let r = try Importer.run(format: .mtbenchHuman, sources: [Self.path("human_judgments.json")])
        #expect(
            r.items.map(\.id) == [
                "81/gpt-4/vicuna-13b-v1.2/t1", "81/gpt-4/vicuna-13b-v1.2/t2", "82/alpaca-13b/gpt-4/t1",
            ])
        #expect(r.votes.isEmpty)
        let t1 = r.items[0]
        #expect(t1.prompt?.hasPrefix("Compose an engaging travel blog post") == true)
        #expect(t1.responseA?.contains("gpt-4 answer") == true && t1.responseB?.contains("vicuna answer") == true)
        // expert_12 saw vicuna as model_a and preferred model_b (gpt-4): A.
        #expect(t1.labels.map(\.label) == [.pairwise(.a), .pairwise(.a), .pairwise(.tie)])
        #expect(t1.label == .pairwise(.a))
        let t2 = r.items[1]
        #expect(t2.prompt?.hasPrefix("[Turn 1]\nCompose") == true && t2.prompt?.contains("[Turn 2]\nRewrite") == true)
        #expect(t2.responseA?.contains("turn 2") == false && t2.responseB == "Amazing Hawaii (vicuna answer, turn 2).")
        #expect(t2.label == .pairwise(.tie))  // expert_0 B, author_3 tie (bothbad)
        #expect(r.items[2].label == .pairwise(.b))
        #expect(r.warnings.count == 1 && r.warnings[0].kind == .reinterpreted && r.warnings[0].place == "element 4")
    }

    /// gpt4_pair_judgments.json (the `gpt4_pair` split): judge `["gpt-4", "pair-v2"]`, one combined winner per record.
    @Test func gpt4PairSplit() throws {
        let r = try Importer.run(
            format: .mtbenchHuman, sources: [Self.path("human_judgments.json"), Self.path("gpt4_pair_judgments.json")])
        #expect(r.items.count == 3 && r.votes.count == 3)
        #expect(Set(r.votes.map(\.judge)) == ["gpt-4/pair-v2", "gpt-4/pair-v2-multi-turn"])
        #expect(r.votes.allSatisfy { $0.order == nil })
        #expect(r.votes.map(\.verdict) == [.a, .tie, .b])
        // pair-v2 judged the two turn-1 items, both as the human consensus; turn 2 is the multi-turn judge's.
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: r.items, votes: r.votes)
        let pair = try #require(report.judges.first { $0.judge == "gpt-4/pair-v2" })
        #expect(pair.accuracyAnswered?.value == 1 && pair.coverage?.value == 2.0 / 3.0)
        // The importer writes the majority as `label`, so that is what the judges are compared with.
        #expect(report.conventions?.humanLabel.hasPrefix("the item's label field (3 items)") == true)
        var unlabelled = r.items
        for i in unlabelled.indices { unlabelled[i].label = nil }
        let fromLabels = MetaAnalysis(options: .init(resamples: 10)).report(items: unlabelled, votes: r.votes)
        #expect(fromLabels.conventions?.humanLabel.hasPrefix("the majority of the annotators' labels") == true)
        #expect(fromLabels.judges.first { $0.judge == "gpt-4/pair-v2" }?.accuracyAnswered?.value == 1)
    }

    /// FastChat's gen_judgment output (model_judgment/gpt-4_pair.jsonl): g1 = model_1 shown first, g2 swapped.
    @Test func fastChatPairJudgments() throws {
        let r = try Importer.run(
            format: .mtbenchHuman, sources: [Self.path("gpt-4_pair.jsonl"), Self.path("human_judgments.json")])
        #expect(r.items.count == 3 && r.votes.count == 6)
        func v(_ item: String, _ judge: String, _ order: Order) -> Vote? {
            r.votes.first { $0.item == item && $0.judge == judge && $0.order == order }
        }
        let t1 = "81/gpt-4/vicuna-13b-v1.2/t1"
        let t2 = "81/gpt-4/vicuna-13b-v1.2/t2"
        let q82 = "82/alpaca-13b/gpt-4/t1"
        #expect(v(t1, "gpt-4/pair-v2", .ab)?.verdict == .a && v(t1, "gpt-4/pair-v2", .ba)?.verdict == .a)
        #expect(
            v(t2, "gpt-4/pair-v2-multi-turn", .ab)?.verdict == .b
                && v(t2, "gpt-4/pair-v2-multi-turn", .ba)?.verdict == .a)
        // Question 82's item holds alpaca-13b as A: g1 showed gpt-4 (B) first, so g1 is the BA order.
        #expect(v(q82, "gpt-4/pair-v2", .ba)?.verdict == .b)
        #expect(v(q82, "gpt-4/pair-v2", .ab)?.status == .abstain && v(q82, "gpt-4/pair-v2", .ab)?.reason == .unparsed)
        // Question 83 has no conversation anywhere: skipped, with a warning naming the file and line.
        let skipped = r.warnings.filter { $0.kind == .skipped }
        #expect(skipped.count == 1 && skipped[0].place == "line 4" && skipped[0].file.hasSuffix("gpt-4_pair.jsonl"))
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: r.items, votes: r.votes)
        let pair = try #require(report.judges.first { $0.judge == "gpt-4/pair-v2" })
        #expect(pair.positionAsked == 2 && pair.positionConsistency?.value == 0.5)
        #expect(pair.positionConsistencyAnswered?.value == 1)
    }
}

@Suite("judgepanel import warnings (CLI)")
struct ImportWarningCLITests {
    /// Every skipped, merged or reinterpreted record is a `warning:` line on stderr naming file and place, and the
    /// summary counts them by kind.
    @Test func warningsOnStderrAndCounted() async throws {
        let dir = try tempDir("import-warn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await runJudgepanel([
            "import", "mtbench-human", "fixtures/mtbench/gpt-4_pair.jsonl", "fixtures/mtbench/human_judgments.json",
            "--out", dir.path,
        ])
        #expect(r.code == 0, "\(r.err)")
        let warnings = r.err.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == 2)
        #expect(
            warnings.contains {
                $0.contains("fixtures/mtbench/gpt-4_pair.jsonl:line 4: skipped: no conversation for question 83")
            })
        #expect(
            warnings.contains {
                $0.contains("human_judgments.json:element 4: reinterpreted: winner \"tie (bothbad)\" read as tie")
            })
        #expect(r.out.contains("warnings: 2 (1 skipped, 0 merged, 1 reinterpreted)"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("votes.jsonl").path))
    }
}

extension ImportWarningCLITests {
    /// LLMBar: a result without one of its two orders is warned about (no vote is invented for it).
    @Test func llmbarMissingOrderIsWarned() throws {
        let dir = try tempDir("llmbar-warn").appendingPathComponent("Tiny")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let run = dir.appendingPathComponent("evaluators/E/S")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try #"[{"input": "q", "output_1": "a", "output_2": "b", "label": 1}]"#.write(
            to: dir.appendingPathComponent("dataset.json"), atomically: true, encoding: .utf8)
        try #"[{"input": "q", "results": [{"swap = False": {"completion": "Output (a)", "winner": "1"}}]}]"#.write(
            to: run.appendingPathComponent("result.json"), atomically: true, encoding: .utf8)
        let r = try Importer.run(format: .llmbar, sources: [dir.path])
        #expect(r.votes.count == 1 && r.votes[0].order == .ab)
        #expect(r.warnings.count == 1 && r.warnings[0].kind == .skipped && r.warnings[0].place == "element 0")
        #expect(r.warnings[0].message.contains("swap = True"))
    }
}
