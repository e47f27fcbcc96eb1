import Foundation
import JudgePanel
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelReports
import JudgeStats
import Testing

/// A run whose recorded judge is biased: it prefers slot A when unsure and always sides with m1 when m1 is compared
/// (self-preference). Every item has a human label (the truth, from hidden qualities); a uniform subset of them is
/// the labels file.
struct BiasedRun {
    let dir: URL
    var items: URL { dir.appendingPathComponent("items.jsonl") }
    var votes: URL { dir.appendingPathComponent("votes.jsonl") }
    var labels: URL { dir.appendingPathComponent("labels.jsonl") }
    var labelsWeighted: URL { dir.appendingPathComponent("labels-weighted.jsonl") }
    /// The items with their own `label` on the labelled subset (no labels file).
    var itemsPartial: URL { dir.appendingPathComponent("items-partial.jsonl") }
    /// The human win rate of each model over all its items (the truth the estimates target).
    var truth: [String: Double] = [:]
    var nLabels = 0

    init(n: Int = 1200, labelled: Int = 240, seed: UInt64 = 11) throws {
        dir = try tempDir("ppi")
        var rng = SeededGenerator(seed: seed)
        let models = ["m1", "m2", "m3"]
        let quality = ["m1": 0.0, "m2": 0.4, "m3": -0.2]
        var partialLines: [String] = []
        var itemLines: [String] = []
        var voteLines: [String] = []
        var labelLines: [String] = []
        var weightedLines: [String] = []
        var sum: [String: Double] = [:]
        var count: [String: Double] = [:]
        let chosen = Set((0..<n).shuffled(using: &rng).prefix(labelled))
        for i in 0..<n {
            let a = models[Int.random(in: 0..<3, using: &rng)]
            var b = models[Int.random(in: 0..<3, using: &rng)]
            while b == a { b = models[Int.random(in: 0..<3, using: &rng)] }
            let pA = 1 / (1 + exp(-(quality[a]! - quality[b]!)))
            let u = Double.random(in: 0..<1, using: &rng)
            let human = u < 0.1 ? "tie" : (Double.random(in: 0..<1, using: &rng) < pA ? "A" : "B")
            var judge = human
            let r = Double.random(in: 0..<1, using: &rng)
            if a == "m1", r < 0.6 {
                judge = "A"
            } else if b == "m1", r < 0.6 {
                judge = "B"
            } else if r < 0.3 {
                judge = "A"
            }
            let y = human == "tie" ? 0.5 : (human == "A" ? 1.0 : 0.0)
            sum[a, default: 0] += y
            count[a, default: 0] += 1
            sum[b, default: 0] += 1 - y
            count[b, default: 0] += 1
            let id = "q\(i)"
            itemLines.append(
                #"{"id":"\#(id)","prompt":"p\#(i)","response_a":"x","response_b":"y","model_a":"\#(a)","model_b":"\#(b)"}"#
            )
            voteLines.append(
                #"{"item":"\#(id)","judge":"j1","protocol":"pairwise","order":"AB","verdict":"\#(judge)","status":"ok"}"#
            )
            partialLines.append(
                #"{"id":"\#(id)","prompt":"p\#(i)","response_a":"x","response_b":"y","model_a":"\#(a)","model_b":"\#(b)""#
                    + (chosen.contains(i) ? #","label":"\#(human)"}"# : "}"))
            if chosen.contains(i) {
                labelLines.append(
                    #"{"item":"\#(id)","annotator":"h1","label":"\#(human)","selected_by":"random","p_select":\#(Double(labelled) / Double(n))}"#
                )
            }
            // An unequal draw: items where the judge sides with m1 are drawn more often (Poisson sampling).
            let p = (a == "m1" || b == "m1") ? 0.35 : 0.1
            if Double.random(in: 0..<1, using: &rng) < p {
                weightedLines.append(
                    #"{"item":"\#(id)","annotator":"h1","label":"\#(human)","selected_by":"disagreement","p_select":\#(p)}"#
                )
            }
        }
        for m in models { truth[m] = sum[m]! / count[m]! }
        nLabels = labelled
        try (itemLines.joined(separator: "\n") + "\n").write(to: items, atomically: true, encoding: .utf8)
        try (partialLines.joined(separator: "\n") + "\n").write(to: itemsPartial, atomically: true, encoding: .utf8)
        try (voteLines.joined(separator: "\n") + "\n").write(to: votes, atomically: true, encoding: .utf8)
        try (labelLines.joined(separator: "\n") + "\n").write(to: labels, atomically: true, encoding: .utf8)
        try (weightedLines.joined(separator: "\n") + "\n").write(to: labelsWeighted, atomically: true, encoding: .utf8)
    }
}

@Suite("Prediction-powered estimates (ppi) end to end")
struct PPICLITests {
    func json(_ s: String) throws -> JSONValue { try JSONValue(jsonData: Data(s.utf8)) }
    func ci(_ v: JSONValue?) throws -> (Double, Double) {
        let a = try #require(v?.arrayValue)
        return (try #require(a[0].doubleValue), try #require(a[1].doubleValue))
    }

    @Test("meta --labels: the biased judge's win rate misses the truth beyond its CI; the PPI CI covers it")
    func metaCorrectsABiasedJudge() async throws {
        let run = try BiasedRun()
        let r = try await runJudgepanel([
            "meta", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--json", "--resamples",
            "50",
        ])
        #expect(r.code == 0, "\(r.err)")
        let ppi = try #require(try json(r.out)["ppi"])
        #expect(ppi["estimand"]?.stringValue == "win_rate")
        #expect(ppi["alpha"]?.doubleValue == 0.05)
        #expect(ppi["weighting"]?.stringValue == "uniform")
        let m1 = try #require(ppi["by_model"]?["m1"])
        for key in [
            "estimate", "ci", "classical_ci", "judge_only_ci", "lambda", "n_labeled", "n_unlabeled", "effective_labels",
        ] {
            #expect(m1[key] != nil, "missing \(key)")
        }
        let truth = run.truth["m1"]!
        let (jlo, jhi) = try ci(m1["judge_only_ci"])
        #expect(truth < jlo || truth > jhi, "judge-only CI [\(jlo), \(jhi)] should miss the truth \(truth)")
        let (lo, hi) = try ci(m1["ci"])
        #expect(lo <= truth && truth <= hi, "PPI CI [\(lo), \(hi)] should cover the truth \(truth)")
        for m in ["m2", "m3"] {
            let (l, h) = try ci(ppi["by_model"]?[m]?["ci"])
            #expect(l <= run.truth[m]! && run.truth[m]! <= h, "\(m): [\(l), \(h)] vs \(run.truth[m]!)")
        }
        // The labels are counted per model (an item counts for both its models) and none is lost.
        let nl = try #require(ppi["overall"]?["n_labeled"]?.doubleValue)
        let nu = try #require(ppi["overall"]?["n_unlabeled"]?.doubleValue)
        #expect(Int(nl) == run.nLabels && Int(nl + nu) == 1200)
        // The judge is informative on m2 vs m3: PPI narrower than labels alone there.
        let m2 = try #require(ppi["by_model"]?["m2"])
        let (cl, ch) = try ci(m2["classical_ci"])
        let (pl, ph) = try ci(m2["ci"])
        #expect(ph - pl < ch - cl)

        let md = try await runJudgepanel([
            "meta", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--markdown", "--resamples",
            "1",
        ])
        #expect(md.out.contains("## Human-corrected estimates (prediction-powered)"))
        // 240 labels, but each model's estimate rests on its own ~160: no warning.
        #expect(!md.out.contains("fewer than 100 human labels"), "\(md.out)")
    }

    @Test("meta without --labels on items labelled on a subset (the streamed analysis a score run's report uses)")
    func metaOwnLabels() async throws {
        let run = try BiasedRun()
        let withFile = try await runJudgepanel([
            "meta", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--json", "--resamples",
            "1",
        ])
        let own = try await runJudgepanel([
            "meta", run.itemsPartial.path, "--votes", run.votes.path, "--json", "--resamples", "1",
        ])
        #expect(own.code == 0, "\(own.err)")
        let a = try #require(try json(withFile.out)["ppi"])
        let b = try #require(try json(own.out)["ppi"])
        // The same labels by either route: the same estimates.
        #expect(a == b)
        #expect(b["overall"]?["n_labeled"]?.doubleValue == 240)
    }

    @Test("meta --labels with unequal p_select: inverse-probability weighted, still covers")
    func metaWeighted() async throws {
        let run = try BiasedRun()
        let r = try await runJudgepanel([
            "meta", run.items.path, "--votes", run.votes.path, "--labels", run.labelsWeighted.path, "--json",
            "--resamples", "1",
        ])
        #expect(r.code == 0, "\(r.err)")
        let ppi = try #require(try json(r.out)["ppi"])
        #expect(ppi["weighting"]?.stringValue == "inverse_probability")
        let (lo, hi) = try ci(ppi["by_model"]?["m1"]?["ci"])
        #expect(lo <= run.truth["m1"]! && run.truth["m1"]! <= hi)
    }

    @Test("few labels: the report warns that the CI is a normal approximation")
    func smallSampleWarning() async throws {
        let run = try BiasedRun(n: 400, labelled: 40)
        let md = try await runJudgepanel([
            "meta", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--markdown", "--resamples",
            "1",
        ])
        #expect(md.code == 0, "\(md.err)")
        #expect(md.out.contains("fewer than 100 human labels"))
    }

    @Test("rank --labels --ppi: PPI Bradley–Terry strengths beside the judge-only ones")
    func rankPPI() async throws {
        let run = try BiasedRun()
        let r = try await runJudgepanel([
            "rank", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--ppi", "--json",
            "--resamples", "1",
        ])
        #expect(r.code == 0, "\(r.err)")
        let o = try json(r.out)
        let bt = try #require(o["ppi_bradley_terry"])
        #expect(bt["reference"]?.stringValue == "m1")
        let rows = try #require(bt["rows"]?.arrayValue)
        #expect(rows.count == 3)
        // Humans rank m2 first (quality 0.4 vs m1 0); the self-preferring judge puts m1 first.
        #expect(rows.first?["model"]?.stringValue == "m2")
        let m2 = try #require(rows.first { $0["model"]?.stringValue == "m2" })
        #expect(try #require(m2["judge_only_strength"]?.doubleValue) < 0)
        #expect(try #require(m2["strength"]?.doubleValue) > 0)
        #expect(o["ppi"]?["by_model"]?["m1"] != nil)
        let text = try await runJudgepanel([
            "rank", run.items.path, "--votes", run.votes.path, "--labels", run.labels.path, "--ppi", "--resamples", "1",
        ])
        #expect(text.out.contains("prediction-powered logistic regression"))
    }

    @Test("plan --half-width: labels with PPI fewer than with labels alone")
    func planHalfWidth() async throws {
        let run = try BiasedRun()
        let r = try await runJudgepanel([
            "plan", run.votes.path, "--items", run.items.path, "--labels", run.labels.path, "--half-width", "0.05",
            "--json",
        ])
        #expect(r.code == 0, "\(r.err)")
        let o = try json(r.out)
        let ppi = try #require(o["labels_ppi"]?.doubleValue)
        let classical = try #require(o["labels_classical"]?.doubleValue)
        #expect(ppi < classical)
        #expect(o["by_model"]?["m2"]?["ppi_correlation"] != nil)
        let bad = try await runJudgepanel(["plan", run.votes.path, "--items", run.items.path, "--half-width", "0"])
        #expect(bad.code == 2)
    }

    @Test("a labels file naming items of another run is refused with exit 2")
    func unknownItems() async throws {
        let run = try BiasedRun(n: 100, labelled: 10)
        let other = run.dir.appendingPathComponent("other.jsonl")
        try #"{"item":"nope","annotator":"h","label":"A"}"#.write(to: other, atomically: true, encoding: .utf8)
        let r = try await runJudgepanel(["meta", run.items.path, "--votes", run.votes.path, "--labels", other.path])
        #expect(r.code == 2)
        #expect(r.err.contains("other.jsonl"))
    }
}

@Suite("Labels file (labels.jsonl)")
struct LabelsFileTests {
    func write(_ s: String) throws -> String {
        let url = try tempDir("labels").appendingPathComponent("labels.jsonl")
        try s.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func badLinesNameFileAndLine() throws {
        let cases = [
            (#"{"item":"a","label":"A"}"# + "\n" + "not json", 2),
            ("\n" + #"{"label":"A"}"#, 2),
            (#"{"item":"a","label":"A","p_select":0}"#, 1),
            (#"{"item":"a","label":"A","p_select":1.5}"#, 1),
            (#"{"item":"a","label":"A","p_select":-0.1}"#, 1),
            (#"{"item":"a","label":"A","shown_order":"CD"}"#, 1),
            (#"{"item":"a"}"#, 1),
            (#"{"item":"a","label":"A","seconds":-1}"#, 1),
        ]
        for (text, line) in cases {
            let path = try write(text)
            let e = try #require(throws: JudgePanelError.self) { try LabelsFile.read(path: path, pairwise: true) }
            #expect(e.file == path)
            #expect(e.line == line, "\(text)")
            #expect(e.code == .badInput)
        }
    }

    @Test func pSelectBounds() throws {
        let path = try write(
            #"{"item":"a","label":"A","p_select":1}"# + "\n" + #"{"item":"b","label":"B","p_select":0.001}"#)
        let set = try LabelsFile.read(paths: [path], pairwise: true)
        #expect(set.pSelect(for: "a") == 1)
        #expect(set.pSelect(for: "b") == 0.001)
        #expect(set.pSelect(for: "unlabelled") == 1)
    }

    @Test func severalAnnotatorsBecomeTheirMajority() throws {
        let path = try write(
            [
                #"{"item":"a","annotator":"x","label":"A"}"#, #"{"item":"a","annotator":"y","label":"B"}"#,
                #"{"item":"a","annotator":"z","label":"A"}"#, #"{"item":"b","annotator":"x","label":"tie"}"#,
                #"{"item":"c","annotator":"x","label":"A"}"#, #"{"item":"c","annotator":"y","label":"B"}"#,
            ].joined(separator: "\n"))
        let set = try LabelsFile.read(paths: [path], pairwise: true)
        let items = ["a", "b", "c", "d"].map {
            Item(id: $0, prompt: "p", responseA: "1", responseB: "2", label: .pairwise(.b))
        }
        let applied = set.applied(to: items)
        #expect(applied[0].labels.count == 3)
        #expect(applied[0].consensus?.preference == .a)
        #expect(applied[1].consensus?.preference == .tie)
        #expect(applied[2].consensus?.preference == .tie)  // 1–1: a tie at the top
        #expect(applied[3].consensus == nil)  // the items file's own label is replaced
        #expect(set.unknownItems(among: Array(items.prefix(2))) == ["c"])
    }

    @Test func anAnnotatorsLaterLabelReplacesTheirEarlierOne() throws {
        let path = try write(
            [
                #"{"item":"a","annotator":"x","label":"A"}"#, #"{"item":"a","annotator":"y","label":"B"}"#,
                #"{"item":"a","annotator":"x","label":"B"}"#,
            ]
            .joined(separator: "\n"))
        let set = try LabelsFile.read(paths: [path], pairwise: true)
        let applied = set.applied(to: [Item(id: "a", prompt: "p", responseA: "1", responseB: "2")])
        #expect(applied[0].labels.count == 2)
        #expect(applied[0].consensus?.preference == .b)
    }

    @Test func appendThenReadRoundTrips() throws {
        let dir = try tempDir("labels-append")
        let path = dir.appendingPathComponent("l.jsonl").path
        let r = LabelRecord(
            item: "q1", annotator: "ana", label: .pairwise(.a), shownOrder: .ba, selectedBy: "bpde", pSelect: 0.25,
            seconds: 3.5)
        try LabelsFile.append(r, to: path)
        try LabelsFile.append(LabelRecord(item: "q2", annotator: "ana", label: .pairwise(.tie)), to: path)
        let back = try LabelsFile.read(path: path, pairwise: true)
        #expect(back == [r, LabelRecord(item: "q2", annotator: "ana", label: .pairwise(.tie))])
    }

    @Test func scoreLabelsAverage() throws {
        let path = try write(
            #"{"item":"a","annotator":"x","label":4}"# + "\n" + #"{"item":"a","annotator":"y","label":2}"#)
        let set = try LabelsFile.read(paths: [path], pairwise: false)
        let applied = set.applied(to: [Item(id: "a", prompt: "p", response: "r")])
        #expect(applied[0].consensus?.score == 3)
    }
}

@Suite("ppi report keys")
struct PPIReportTests {
    @Test func keysAreDesignsAndMeanScoreWorks() throws {
        var items: [Item] = []
        var scores: [Double?] = []
        for i in 0..<50 {
            var it = Item(id: "i\(i)", prompt: "p", response: "r")
            it.model = i % 2 == 0 ? "x" : "y"
            if i < 20 { it.label = .score(Double(i % 5 + 1)) }
            items.append(it)
            scores.append(Double(i % 5 + 1) + 0.5)
        }
        let r = try #require(PPIAnalysis.report(items: items, outcomes: nil, scores: scores, pSelect: [:]))
        #expect(r.estimand == "mean_score")
        // The judge scores half a point high; every label pins the bias: the PPI estimate is the label mean.
        let o = try #require(r.overall)
        #expect(abs(o.judgeOnlyEstimate - o.estimate - 0.5) < 0.2)
        let v = try RecordEncoding.value(r, record: "ppi")
        #expect(Set(v.objectValue!.keys).isSuperset(of: ["estimand", "alpha", "overall", "by_model"]))
        let e = try #require(v["by_model"]?["x"]?.objectValue)
        #expect(
            Set(e.keys).isSuperset(of: [
                "estimate", "ci", "classical_ci", "judge_only_ci", "lambda", "n_labeled", "n_unlabeled",
                "effective_labels",
            ]))
        #expect(r.notes?.contains { $0.contains("fewer than 100 human labels") } == true)
    }
}

@Suite("ppi in the run reports")
struct PPIRunReportTests {
    @Test(
        "a report on items with a labelled subset: report.json's ppi, report.md's and report.html's human-corrected section"
    )
    func reportsCarryTheSection() throws {
        let run = try BiasedRun(n: 600, labelled: 60)
        let set = try LabelsFile.read(paths: [run.labels.path], pairwise: true)
        let items = set.applied(to: try ItemLoader().load(path: run.items.path))
        let votes = try VotesFile.load(path: run.votes.path)
        let report = MetaAnalysis(options: .init(resamples: 0)).report(items: items, votes: votes)
        let ppi = try #require(report.ppi)
        #expect(ppi.byModel.count == 3)
        #expect(ppi.overall?.nLabeled == 60)
        let md = ReportText.markdown(report, title: "t")
        #expect(md.contains("## Human-corrected estimates (prediction-powered)"))
        #expect(md.contains("fewer than 100 human labels"))
        let html = HTMLReport.render(
            report: report, context: HTMLReport.Context(title: "t", items: items, votes: votes))
        #expect(html.contains("<section id=\"human-corrected\">"))
        #expect(html.contains("normal (CLT) approximation"))
        // All items labelled: no ppi key (the labels alone are the answer), so existing reports do not change.
        let all = try ItemLoader().load(path: run.items.path).map { item -> Item in
            var it = item
            it.label = .pairwise(.a)
            return it
        }
        #expect(MetaAnalysis(options: .init(resamples: 0)).report(items: all, votes: votes).ppi == nil)
    }
}
