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

private let importRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private func fixture(_ path: String) -> String {
    importRepoRoot.appendingPathComponent("fixtures").appendingPathComponent(path).path
}

private func importError(_ body: () throws -> Void) -> JudgePanelError? {
    do {
        try body()
        return nil
    } catch let e as JudgePanelError {
        return e
    } catch {
        return nil
    }
}

private func vote(_ votes: [Vote], _ item: String, _ judge: String, _ order: Order? = .ab, sample: Int = 0) -> Vote? {
    votes.first { $0.item == item && $0.judge == judge && $0.order == order && $0.sample == sample }
}

@Suite("Importers")
struct ImportTests {
    // MARK: PandaLM

    @Test func pandalmFieldAndLabelMapping() throws {
        let r = try Importer.run(
            format: .pandalm,
            sources: [fixture("import/pandalm/gpt-3.5-turbo-testset.json"), fixture("import/pandalm/testset.json")],
            options: ImportOptions())
        #expect(r.items.map(\.id) == ["0", "1", "2"])
        let a = r.items[0]
        #expect(a.prompt == "Shorten the sentence.\n\nIt is what it is, basically.")
        #expect(a.responseA == "It is." && a.responseB == "It is what it is.")
        #expect(a.modelA == "bloom-7b" && a.modelB == "llama-7b")
        #expect(a.meta["cmp_key"] == "bloom-7b_llama-7b" && a.meta["motivation_app"] == "Grammarly")
        #expect(a.labels.map(\.annotator) == ["annotator1", "annotator2", "annotator3"])
        #expect(a.labels.map(\.label) == [.pairwise(.b), .pairwise(.b), .pairwise(.a)])
        #expect(a.label == .pairwise(.b))
        #expect(r.items[1].prompt == "Name a spreadsheet function.")
        #expect(r.items[1].label == .pairwise(.tie))  // 0 / 1 / 2: a tie of counts
        #expect(r.items[2].label == .pairwise(.tie))  // 1 / 0 / 0 with integer values
        #expect(r.items[2].modelA == nil)

        #expect(r.votes.count == 3)
        #expect(Set(r.votes.map(\.judge)) == ["gpt-3.5-turbo"])
        #expect(r.votes.allSatisfy { $0.order == .ab && $0.protocol == .pairwise })
        #expect(vote(r.votes, "0", "gpt-3.5-turbo")?.verdict == .b)
        #expect(vote(r.votes, "1", "gpt-3.5-turbo")?.verdict == .tie)
        let abstained = try #require(vote(r.votes, "2", "gpt-3.5-turbo"))
        #expect(abstained.status == .abstain && abstained.verdict == nil)
        #expect(abstained.raw == "Response 1 is better")
    }

    @Test func pandalmJudgeNameFallsBackToKeyPrefix() throws {
        let r = try Importer.run(
            format: .pandalm,
            sources: [fixture("import/pandalm/testset.json"), fixture("import/pandalm/results.json")],
            options: ImportOptions())
        #expect(r.votes.map(\.judge) == ["pandalm", "pandalm", "pandalm"])
        #expect(r.votes.map(\.verdict) == [.a, .tie, .b])
        #expect(PandaLMImporter.judgeName(path: "x/pandalm-7b-testset-v1.json", key: "pandalm_result") == "pandalm-7b")
        #expect(PandaLMImporter.judgeName(path: "gpt-3.5-turbo-testset-v1.json", key: "gpt_result") == "gpt-3.5-turbo")
        #expect(PandaLMImporter.judgeName(path: "mine.json", key: "gpt_result") == "gpt")
    }

    @Test func pandalmMalformed() throws {
        let path = fixture("import/pandalm/bad-annotator.json")
        let e = try #require(
            importError { _ = try Importer.run(format: .pandalm, sources: [path], options: ImportOptions()) })
        #expect(e.isInputError && e.file == path)
        #expect(e.message.contains("element 1") && e.message.contains("annotator2"))
        // A result file without a test set.
        let e2 = try #require(
            importError {
                _ = try Importer.run(
                    format: .pandalm, sources: [fixture("import/pandalm/results.json")], options: ImportOptions())
            })
        #expect(e2.isInputError)
        // A missing file names itself.
        let e3 = try #require(
            importError {
                _ = try Importer.run(format: .pandalm, sources: ["/nonexistent.json"], options: ImportOptions())
            })
        #expect(e3.file == "/nonexistent.json")
    }

    /// The committed PandaLM test set: 999 items, three labels each, published majority-label counts.
    @Test func pandalmRealData() throws {
        let r = try Importer.run(
            format: .pandalm,
            sources: [
                fixture("pandalm/testset-v1.json"), fixture("pandalm/gpt-3.5-turbo-testset-v1.json"),
                fixture("pandalm/pandalm-7b-testset-v1.json"),
            ],
            options: ImportOptions())
        #expect(r.items.count == 999)
        #expect(r.items.allSatisfy { $0.labels.count == 3 && $0.modelA != nil && $0.isPairwise })
        var counts: [Preference: Int] = [:]
        for item in r.items { counts[item.label!.preference!, default: 0] += 1 }
        #expect(counts == [.tie: 105, .a: 422, .b: 472])
        let perJudge = Dictionary(uniqueKeysWithValues: r.votesPerJudge.map { ($0.judge, ($0.ok, $0.abstained)) })
        #expect(perJudge.count == 2)
        #expect(perJudge["gpt-3.5-turbo"]! == (974, 25))
        #expect(perJudge["pandalm-7b"]! == (999, 0))
        #expect(r.votes.filter { $0.judge == "gpt-3.5-turbo" && $0.verdict == .tie }.count == 38)
        #expect(r.votes.filter { $0.judge == "pandalm-7b" && $0.verdict == .tie }.count == 107)
        // Six responses are JSON booleans in the source (idx 157-159, 161, 162, 164): kept as text, noted.
        #expect(r.items.first { $0.id == "157" }?.responseA == "true")
        #expect(r.notes.contains { $0.contains("6 items have a non-string response") })
        // ...and each one is a warning naming its file and element.
        #expect(
            r.warnings.count == 6
                && r.warnings.allSatisfy { $0.kind == .reinterpreted && $0.file.hasSuffix("testset-v1.json") })
        #expect(r.warnings.first?.message.hasPrefix("idx 157:") == true)
    }

    // MARK: LLMBar

    @Test func llmbarDatasetAndSwapOrders() throws {
        // The folder and the dataset.json path import the same.
        let byFolder = try Importer.run(
            format: .llmbar, sources: [fixture("import/llmbar/Natural")], options: ImportOptions())
        let byFile = try Importer.run(
            format: .llmbar, sources: [fixture("import/llmbar/Natural/dataset.json")], options: ImportOptions())
        #expect(byFolder.items == byFile.items && byFolder.votes == byFile.votes)
        let r = byFolder
        #expect(r.items.map(\.id) == ["Natural/0", "Natural/1", "Natural/2"])
        #expect(r.items[1].prompt == "Say hi in French.")
        #expect(r.items[1].responseA == "Hola" && r.items[1].responseB == "Bonjour")
        #expect(r.items.map(\.label) == [.pairwise(.a), .pairwise(.b), .pairwise(.a)])
        #expect(r.items[0].meta["subset"] == "Natural")
        #expect(Set(r.votes.map(\.judge)) == ["GPT-4/Vanilla", "LLaMA2/Swap"])
        #expect(r.votes.count == 12)
        let g = "GPT-4/Vanilla"
        #expect(vote(r.votes, "Natural/0", g, .ab)?.verdict == .a)
        #expect(vote(r.votes, "Natural/0", g, .ba)?.verdict == .a)
        #expect(vote(r.votes, "Natural/1", g, .ab)?.verdict == .a)
        #expect(vote(r.votes, "Natural/1", g, .ba)?.verdict == .b)  // winner is already in dataset orientation
        #expect(vote(r.votes, "Natural/1", g, .ba)?.raw == "Output (a)")
        let abst = try #require(vote(r.votes, "Natural/2", g, .ab))
        #expect(abst.status == .abstain && abst.verdict == nil && abst.raw == "I cannot decide")
        #expect(vote(r.votes, "Natural/2", g, .ba)?.verdict == .a)  // integer winner
        #expect(vote(r.votes, "Natural/2", "LLaMA2/Swap", .ba)?.verdict == .b)
    }

    @Test func llmbarMalformed() throws {
        let path = fixture("import/llmbar/Bad/dataset.json")
        let e = try #require(
            importError { _ = try Importer.run(format: .llmbar, sources: [path], options: ImportOptions()) })
        #expect(e.isInputError && e.file == path && e.message.contains("element 1") && e.message.contains("label"))
        let e2 = try #require(
            importError {
                _ = try Importer.run(format: .llmbar, sources: [fixture("import/autoj")], options: ImportOptions())
            })
        #expect(e2.isInputError && e2.message.contains("dataset.json"))
    }

    // MARK: Auto-J

    @Test func autojOriginalAndExchangedPredictions() throws {
        let r = try Importer.run(
            format: .autoj, sources: [fixture("import/autoj/test.jsonl")],
            options: ImportOptions(
                predictions: fixture("import/autoj/pred.jsonl"), exchanged: fixture("import/autoj/exchanged.jsonl"),
                judge: "autoj-13b"))
        #expect(r.items.map(\.id) == ["0", "1", "2"])
        #expect(r.items[0].prompt == "Write hello world in C.")
        #expect(r.items[0].responseA == "printf(\"hello world\");" && r.items[0].responseB == "print('hi')")
        #expect(r.items[0].meta["scenario"] == "code_generation")
        #expect(r.items[0].line == 1)
        #expect(r.items.map(\.label) == [.pairwise(.a), .pairwise(.b), .pairwise(.tie)])
        #expect(r.votes.count == 6 && r.votes.allSatisfy { $0.judge == "autoj-13b" })
        #expect(vote(r.votes, "0", "autoj-13b", .ab)?.verdict == .a)
        #expect(vote(r.votes, "1", "autoj-13b", .ab)?.verdict == .b)
        #expect(vote(r.votes, "2", "autoj-13b", .ab)?.verdict == .tie)
        // Exchanged: 1 = the second shown = the original first response.
        #expect(vote(r.votes, "0", "autoj-13b", .ba)?.verdict == .a)
        #expect(vote(r.votes, "1", "autoj-13b", .ba)?.verdict == .a)
        #expect(vote(r.votes, "2", "autoj-13b", .ba)?.status == .abstain)
        // Default judge name.
        let d = try Importer.run(
            format: .autoj, sources: [fixture("import/autoj/test.jsonl")],
            options: ImportOptions(predictions: fixture("import/autoj/pred.jsonl")))
        #expect(d.votes.map(\.judge) == ["autoj", "autoj", "autoj"])
    }

    @Test func autojMalformed() throws {
        let broken = fixture("import/autoj/broken.jsonl")
        let e = try #require(
            importError { _ = try Importer.run(format: .autoj, sources: [broken], options: ImportOptions()) })
        #expect(e.isInputError && e.file == broken && e.line == 2)
        let short = fixture("import/autoj/pred-short.jsonl")
        let e2 = try #require(
            importError {
                _ = try Importer.run(
                    format: .autoj, sources: [fixture("import/autoj/test.jsonl")],
                    options: ImportOptions(predictions: short))
            })
        #expect(e2.isInputError && e2.file == short && e2.message.contains("aligned"))
    }

    // MARK: MT-Bench human

    @Test func mtbenchHumanLabelsAndModelVotes() throws {
        let r = try Importer.run(
            format: .mtbenchHuman, sources: [fixture("import/mtbench/human.jsonl")], options: ImportOptions())
        #expect(r.items.map(\.id) == ["81/gpt-4/claude-v1/t1", "81/gpt-4/claude-v1/t2"])
        let t1 = r.items[0]
        #expect(t1.prompt == "Write a haiku.")
        #expect(t1.responseA == "GPT haiku" && t1.responseB == "Claude haiku")
        #expect(t1.modelA == "gpt-4" && t1.modelB == "claude-v1")
        #expect(t1.meta["question_id"] == 81 && t1.meta["turn"] == 1)
        // expert_3 saw claude-v1 as model_a and preferred model_b (gpt-4): flipped into A.
        #expect(
            t1.labels == [
                AnnotatorLabel(annotator: "author_0", label: .pairwise(.a)),
                AnnotatorLabel(annotator: "expert_3", label: .pairwise(.a)),
                AnnotatorLabel(annotator: "author_2", label: .pairwise(.tie)),
            ])
        #expect(t1.label == .pairwise(.a))
        let t2 = r.items[1]
        #expect(t2.prompt == "[Turn 1]\nWrite a haiku.\n\n[Turn 2]\nNow in French.")
        #expect(t2.responseA == "GPT haiku FR" && t2.responseB == "Claude haiku FR")
        #expect(t2.label == .pairwise(.tie))  // one B, one tie
        // gpt4_pair is a model: votes without an order (a one-winner record already combines both orders), the
        // flipped record mirrored into the item's orientation as a second sample.
        #expect(r.votes.count == 2)
        #expect(vote(r.votes, t1.id, "gpt4_pair", nil, sample: 0)?.verdict == .b)
        #expect(vote(r.votes, t1.id, "gpt4_pair", nil, sample: 1)?.verdict == .b)
        #expect(MTBenchHumanImporter.isHuman("expert_12") && !MTBenchHumanImporter.isHuman("gpt4_pair"))
    }

    @Test func mtbenchMalformed() throws {
        let path = fixture("import/mtbench/bad-winner.jsonl")
        let e = try #require(
            importError { _ = try Importer.run(format: .mtbenchHuman, sources: [path], options: ImportOptions()) })
        #expect(e.isInputError && e.file == path && e.line == 2 && e.message.contains("winner"))
    }

    // MARK: alpaca_eval

    @Test func alpacaevalVotesAndLabels() throws {
        let path = fixture("import/alpacaeval/annotations.json")
        let r = try Importer.run(format: .alpacaeval, sources: [path], options: ImportOptions())
        #expect(r.items.count == 2)
        let color = r.items[0]
        #expect(color.id.hasPrefix("ae-") && color.id.count == 15)
        #expect(color.prompt == "Name a color.")
        #expect(color.responseA == "Blue" && color.responseB == "The sky")
        #expect(color.modelA == "gpt4" && color.modelB == "alpaca-7b")
        // Human records: annotator 7 (flipped pair, preference 2 -> 1 -> A) and annotator 2 (1.8 -> B).
        #expect(
            color.labels == [
                AnnotatorLabel(annotator: "annotator7", label: .pairwise(.a)),
                AnnotatorLabel(annotator: "annotator2", label: .pairwise(.b)),
            ])
        #expect(color.label == .pairwise(.tie))
        let hard = try #require(vote(r.votes, color.id, "alpaca_eval_gpt4_fn"))
        // An exact 1 carries P(A) = 1, so probability-based accuracy counts it.
        #expect(hard.verdict == .a && hard.probs == ["A": 1, "B": 0])
        let soft = try #require(vote(r.votes, color.id, "weighted_alpaca_eval_gpt4_turbo"))
        #expect(soft.verdict == .a && soft.probs == ["A": 0.75, "B": 0.25] && soft.raw == "1.25")
        let hi = r.items[1]
        #expect(vote(r.votes, hi.id, "alpaca_eval_gpt4_fn", sample: 0)?.verdict == .tie)
        #expect(vote(r.votes, hi.id, "alpaca_eval_gpt4_fn", sample: 1)?.status == .abstain)
        // Stable ids.
        let again = try Importer.run(format: .alpacaeval, sources: [path], options: ImportOptions())
        #expect(again.items.map(\.id) == r.items.map(\.id))

        let asLabels = try Importer.run(format: .alpacaeval, sources: [path], options: ImportOptions(asLabels: true))
        #expect(asLabels.votes.isEmpty)
        #expect(
            asLabels.items[0].labels.map(\.annotator) == [
                "alpaca_eval_gpt4_fn", "weighted_alpaca_eval_gpt4_turbo", "annotator7", "annotator2",
            ])
        #expect(asLabels.items[0].label == .pairwise(.a))
        #expect(asLabels.items[1].labels.count == 1 && asLabels.items[1].label == .pairwise(.tie))
    }

    @Test func alpacaevalMalformed() throws {
        let path = fixture("import/alpacaeval/bad.json")
        let e = try #require(
            importError { _ = try Importer.run(format: .alpacaeval, sources: [path], options: ImportOptions()) })
        #expect(e.isInputError && e.file == path && e.message.contains("output_2") && e.message.contains("element 0"))
    }

    // MARK: HANNA

    @Test func hannaSmall() throws {
        let r = try Importer.run(format: .hanna, sources: [fixture("import/hanna/small.csv")], options: ImportOptions())
        #expect(r.items.map(\.id) == ["hanna-1", "hanna-2", "hanna-3", "hanna-4"])
        let s1 = r.items[0]
        #expect(s1.model == "Human" && r.items[2].model == "GPT-2")
        #expect(s1.response == "(HANNA story 1, text not included)")
        #expect(
            s1.prompt == "(HANNA prompt 1, text not included)"
                && r.items[3].prompt == "(HANNA prompt 2, text not included)")
        #expect(s1.labels.map(\.annotator) == ["Human 1", "Human 2", "Human 3"])
        #expect(s1.labels.map(\.label) == [.score(5), .score(4), .score(3)])
        #expect(s1.label == .score(4))
        #expect(s1.meta["system"] == "Human" && s1.meta["prompt_index"] == 1 && s1.meta["criterion"] == "Coherence")
        #expect(Set(r.votes.map(\.judge)) == ["Beluga-13B/p1", "ChatGPT/p2"])
        #expect(r.votes.count == 8 && r.votes.allSatisfy { $0.protocol == .pointwise && $0.order == nil })
        #expect(vote(r.votes, "hanna-1", "Beluga-13B/p1", nil)?.score == 4.333333333333333)
        #expect(vote(r.votes, "hanna-1", "ChatGPT/p2", nil)?.score == 5)
        let failed = try #require(vote(r.votes, "hanna-2", "ChatGPT/p2", nil))
        #expect(failed.status == .abstain && failed.score == nil && failed.raw == "-1.0")
        #expect(vote(r.votes, "hanna-3", "Beluga-13B/p1", nil)?.status == .abstain)
        // Each out-of-scale rating read as an abstention is warned about, with its line.
        #expect(r.warnings.count == r.votes.filter { $0.status == .abstain }.count)
        #expect(r.warnings.allSatisfy { $0.kind == .reinterpreted && $0.place.hasPrefix("line ") })
        #expect(r.notes.contains { $0.contains("outside 1-5") })

        let rel = try Importer.run(
            format: .hanna, sources: [fixture("import/hanna/small.csv")], options: ImportOptions(criterion: "re"))
        #expect(rel.items[0].label == .score(4) && rel.items[0].meta["criterion"] == "Relevance")
        #expect(vote(rel.votes, "hanna-1", "ChatGPT/p2", nil)?.score == 1)
    }

    @Test func hannaMalformed() throws {
        let path = fixture("import/hanna/ragged.csv")
        let e = try #require(
            importError { _ = try Importer.run(format: .hanna, sources: [path], options: ImportOptions()) })
        #expect(e.isInputError && e.file == path && e.line == 3)
        let e2 = try #require(
            importError {
                _ = try Importer.run(
                    format: .hanna, sources: [fixture("import/hanna/small.csv")],
                    options: ImportOptions(criterion: "Wit"))
            })
        #expect(e2.isInputError)
    }

    @Test func hannaRealData() throws {
        let r = try Importer.run(
            format: .hanna, sources: [fixture("hanna/hanna_metric_scores_llm.csv")], options: ImportOptions())
        #expect(r.items.count == 1056)
        #expect(r.items.allSatisfy { $0.labels.count == 3 && $0.label?.score != nil })
        #expect(Set(r.items.compactMap(\.model)).count == 11)
        #expect(r.votesPerJudge.count == 20)  // 5 LLMs x 4 prompt variants
        #expect(r.votes.count == 1056 * 20)
        // The consensus label is the mean of the three raters.
        for item in r.items.prefix(50) {
            let mean = item.labels.compactMap(\.label.score).reduce(0, +) / 3
            #expect(abs(mean - item.label!.score!) < 1e-9)
        }
    }

    // MARK: Writing

    @Test func writeItemsAndVotes() throws {
        let r = try Importer.run(
            format: .pandalm,
            sources: [fixture("import/pandalm/testset.json"), fixture("import/pandalm/gpt-3.5-turbo-testset.json")],
            options: ImportOptions())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-import-\(UUID().uuidString)/out")
            .path
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let written = try r.write(to: dir)
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["items.jsonl", "votes.jsonl"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["items.jsonl", "votes.jsonl"])
        let items = try ItemLoader().load(path: (dir as NSString).appendingPathComponent("items.jsonl"))
        #expect(items.map(\.id) == ["0", "1", "2"])
        #expect(items[0].labels.count == 3 && items[0].label == .pairwise(.b) && items[0].modelA == "bloom-7b")
        let firstLine = try String(
            contentsOfFile: (dir as NSString).appendingPathComponent("items.jsonl"), encoding: .utf8
        )
        .split(separator: "\n")[0]
        #expect(firstLine.hasPrefix("{\"id\":\"0\",\"label\":\"B\",\"labels\":"))
        let votes = try VotesFile.load(path: (dir as NSString).appendingPathComponent("votes.jsonl"))
        #expect(votes == r.votes)

        // No votes: no votes.jsonl.
        let only = try Importer.run(
            format: .pandalm, sources: [fixture("import/pandalm/testset.json")], options: ImportOptions())
        let dir2 = dir + "2"
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(try only.write(to: dir2).count == 1)
        #expect(!FileManager.default.fileExists(atPath: (dir2 as NSString).appendingPathComponent("votes.jsonl")))
    }

    /// Every format's output reads back through ItemLoader and VotesFile unchanged.
    @Test func everyFormatRoundTrips() throws {
        let cases: [(ImportFormat, [String], ImportOptions)] = [
            (.pandalm, ["import/pandalm/testset.json", "import/pandalm/results.json"], ImportOptions()),
            (.llmbar, ["import/llmbar/Natural"], ImportOptions()),
            (
                .autoj, ["import/autoj/test.jsonl"],
                ImportOptions(
                    predictions: fixture("import/autoj/pred.jsonl"), exchanged: fixture("import/autoj/exchanged.jsonl"))
            ),
            (.mtbenchHuman, ["import/mtbench/human.jsonl"], ImportOptions()),
            (.alpacaeval, ["import/alpacaeval/annotations.json"], ImportOptions()),
            (.hanna, ["import/hanna/small.csv"], ImportOptions()),
        ]
        for (format, sources, options) in cases {
            let r = try Importer.run(format: format, sources: sources.map(fixture), options: options)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-rt-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try r.write(to: dir)
            let items = try ItemLoader().load(path: (dir as NSString).appendingPathComponent("items.jsonl"))
            #expect(items.map(\.json) == r.items.map(\.json), "\(format)")
            let votes = try VotesFile.load(path: (dir as NSString).appendingPathComponent("votes.jsonl"))
            #expect(votes == r.votes, "\(format)")
        }
    }
}
