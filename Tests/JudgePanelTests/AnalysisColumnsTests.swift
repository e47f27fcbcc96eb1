import Foundation
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging

/// The analysis on compact per-item columns (issue 19, issue 13 "flat memory"): item columns read straight from the
/// items file, verdict columns, the Aggregator's column entry, and reports from columns equal to the in-memory ones.
@Suite struct AnalysisColumnsTests {
    /// Pairwise items with everything the analysis reads: own labels, annotator labels (some items only those),
    /// a cluster key (absent on some items), compared models (some items the same model twice, some none).
    static func richItems(_ n: Int) -> [Item] {
        let (base, _) = syntheticPairwise(n, seed: 3)
        let prefs: [Preference] = [.a, .b, .tie]
        let models = ["m1", "m2", "m3", "m4"]
        return base.enumerated().map { i, item in
            var x = item
            if i % 5 == 0 { x.label = nil }
            if i % 3 != 1 {
                x.labels = (0..<(i % 4 + 1)).map { k in
                    AnnotatorLabel(annotator: "h\(k)", label: .pairwise(prefs[(i + k * (i % 3)) % 3]))
                }
            }
            if i % 7 != 0 { x.meta["topic"] = .string("t\(i % 6)") }
            if i % 4 != 3 {
                x.modelA = models[i % 4]
                x.modelB = i % 9 == 0 ? models[i % 4] : models[(i + 1 + i / 4) % 4]
            }
            return x
        }
    }

    static func writeItems(_ items: [Item], _ path: String) throws {
        let lines = try items.map { item -> String in
            String(decoding: try item.json.compactData(), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("item columns read from the file equal the columns of the loaded items and what the analysis reads of them")
    func itemColumnsFromFile() throws {
        let items = Self.richItems(80)
        let path = try tempDir("columns-items").appendingPathComponent("items.jsonl").path
        try Self.writeItems(items, path)
        let loaded = try ItemLoader().load(path: path)
        let read = try ItemColumns.read(path: path, loader: ItemLoader(), clusterKey: "topic")
        let built = ItemColumns(loaded, clusterKey: "topic")
        for c in [read, built] {
            #expect(c.ids == loaded.map(\.id))
            #expect(Array(c.consensus) == loaded.map(\.consensus))
            #expect(c.labelKind == MetaAnalysis.labelKind(loaded))
            #expect(c.clusters == MetaAnalysis.clusters(loaded, key: "topic"))
            #expect(c.annotated.map(\.index) == loaded.indices.filter { !loaded[$0].labels.isEmpty })
            #expect(c.annotated.map(\.labels) == loaded.filter { !$0.labels.isEmpty }.map(\.labels))
            #expect(c.ownLabels == loaded.filter { $0.label != nil }.count)
            #expect(c.derivedLabels == loaded.filter { $0.label == nil && !$0.labels.isEmpty }.count)
            for (i, item) in loaded.enumerated() {
                let want = item.modelA.flatMap { a in item.modelB.flatMap { b in a != b ? (a, b) : nil } }
                #expect(c.models(i)?.a == want?.0 && c.models(i)?.b == want?.1)
            }
            #expect(c.pairs.count == Set(c.pairs.map { "\($0.a)|\($0.b)" }).count)
            #expect(c.anyHumanPreference)
        }
        #expect(read.modelPairs == built.modelPairs)
        // Without a cluster key there are no clusters.
        #expect(try ItemColumns.read(path: path, loader: ItemLoader(), clusterKey: nil).clusters == nil)
    }

    @Test("score and category labels: the label column reads back each label")
    func labelColumn() {
        let labels: [Label?] = [
            .score(3.5), nil, .category("x"), .pairwise(.tie), .category("y"), .category("x"), .score(-1),
            .pairwise(.a),
        ]
        let column = LabelColumn(labels)
        #expect(Array(column) == labels)
        #expect(column.categories == ["x", "y"])
        #expect(column.indices.map(column.preference) == labels.map { $0?.preference })
        // Preferences only: no value column.
        #expect(LabelColumn([.pairwise(.a), nil, .pairwise(.b)]).values.isEmpty)
    }

    @Test("an items file with a bad line fails as the loader fails, naming file and line")
    func itemColumnsBadLine() throws {
        let path = try tempDir("columns-bad").appendingPathComponent("items.jsonl").path
        try #"""
        {"id":"a","prompt":"p","response_a":"x","response_b":"y","label":"A"}
        {"id":"b","prompt":"p","response_a":"x","response_b":"y","label":"B"}
        {"id":"c","prompt":"p","response_a":"x",
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        var expected = ""
        do { _ = try ItemLoader().load(path: path) } catch { expected = "\(error)" }
        #expect(expected.contains("items.jsonl") && expected.contains("3"))
        #expect(throws: JudgePanelError.self) {
            try ItemColumns.read(path: path, loader: ItemLoader(), clusterKey: nil)
        }
        do {
            _ = try ItemColumns.read(path: path, loader: ItemLoader(), clusterKey: nil)
        } catch {
            #expect("\(error)" == expected)
        }
        // A duplicate id is refused as the loader refuses it.
        try #"""
        {"id":"a","prompt":"p","response_a":"x","response_b":"y","label":"A"}
        {"id":"a","prompt":"p","response_a":"x","response_b":"y","label":"B"}
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: JudgePanelError.self) {
            try ItemColumns.read(path: path, loader: ItemLoader(), clusterKey: nil)
        }
    }

    /// Verdicts with every optional part, in varied combinations.
    static func verdicts(_ n: Int) -> [JudgeVerdict] {
        let prefs: [Preference?] = [.a, .b, .tie, nil]
        return (0..<n).map { i in
            var v = JudgeVerdict(verdict: prefs[i % 4], score: i % 3 == 0 ? Double(i) / 4 : nil, flipped: i % 5 == 0)
            if i % 6 == 1 { v.probVerdict = prefs[(i / 6) % 3] }
            if i % 7 == 2 { v.expectedScore = Double(i) * 0.1 }
            return v
        }
    }

    @Test("a verdict column reads back every verdict, and holds score columns only when some verdict has a score")
    func verdictColumn() {
        let vs = Self.verdicts(50)
        var column = VerdictColumn(vs)
        #expect(Array(column) == vs)
        #expect(column.indices.map(column.verdict) == vs.map(\.verdict))
        #expect(column.indices.map(column.score) == vs.map(\.score))
        // Overwriting in place, scores included.
        var want = vs
        for i in stride(from: 0, to: 50, by: 3) {
            let v = vs[49 - i]
            column[i] = v
            want[i] = v
        }
        #expect(Array(column) == want)
        let repeated = VerdictColumn(repeating: JudgeVerdict(score: 2), count: 4)
        #expect(Array(repeated) == [JudgeVerdict](repeating: JudgeVerdict(score: 2), count: 4))
        let pairwise = VerdictColumn([
            JudgeVerdict(verdict: .a), JudgeVerdict(), JudgeVerdict(verdict: .tie, flipped: true),
        ])
        #expect(pairwise.scores.isEmpty && pairwise.expected.isEmpty && pairwise.codes.count == 3)
    }

    @Test("the Aggregator's column entry gives the table entry's verdicts for every method, pairwise and pointwise")
    func aggregatorColumnsEqualTable() throws {
        let judges = ["j1", "j2", "j3", "j4"]
        let prefs: [Preference?] = [.a, .b, .tie, nil, .a, .b]
        for kind in [JudgingProtocol.pairwise, .pointwise] {
            let table: [[JudgeVerdict]] = (0..<60).map { i in
                judges.indices.map { j in
                    let k = (i * 5 + j * 3 + i / 7) % 6
                    return kind == .pairwise
                        ? JudgeVerdict(verdict: prefs[k], flipped: k == 2 && j == 1)
                        : JudgeVerdict(score: k == 3 ? nil : Double((i + j * 2) % 5) + (j == 2 ? 0.5 : 0))
                }
            }
            let ids = (0..<60).map { "i\($0)" }
            let columns = judges.indices.map { j in VerdictColumn(table.map { $0[j] }) }
            for method in AggregationMethod.allCases {
                let aggregator = Aggregator(method: method, weights: ["j1": 2, "j3": 0.5])
                let want = aggregator.aggregate(items: ids, judges: judges, verdicts: table, kind: kind)
                var streamed: [Verdict] = []
                let got = aggregator.aggregate(
                    itemCount: ids.count, id: { ids[$0] }, judges: judges, columns: columns, kind: kind,
                    sink: { streamed.append($0) })
                #expect(streamed == want.verdicts, "\(kind) \(method)")
                #expect(
                    Array(got.panel) == want.verdicts.map { JudgeVerdict(verdict: $0.verdict, score: $0.score) },
                    "\(kind) \(method)")
                #expect(got.judgeAccuracy.mapValues { $0 ?? -1 } == want.judgeAccuracy.mapValues { $0 ?? -1 })
                #expect(method != .dawidSkene || !got.judgeAccuracy.isEmpty)
            }
        }
    }

    @Test("analyse over item columns read from the file equals the in-memory report (clusters, annotators, ranking)")
    func analyseFromColumnsEqualsInMemory() throws {
        let items = Self.richItems(60)
        let dir = try tempDir("columns-analyse")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        let votesPath = dir.appendingPathComponent("votes.jsonl").path
        try Self.writeItems(items, itemsPath)
        let loaded = try ItemLoader().load(path: itemsPath)
        let votes = MetaScaleTests.pairwiseVotes(loaded)
        try MetaScaleTests.write(votes, votesPath)
        for (flip, method) in [
            (FlipPolicy.tie, AggregationMethod.majority), (.abstain, .dawidSkene), (.tie, .weighted),
        ] {
            let options = MetaAnalysis.Options(
                flip: flip, aggregate: method, resamples: 60, seed: 9, clusterKey: "topic", weights: ["j2": 3])
            let analysis = MetaAnalysis(options: options)
            let expected = analysis.report(items: loaded, votes: votes)
            #expect(expected.ranking != nil && expected.human != nil && expected.judges.first?.accuracyCI != nil)
            let columns = try ItemColumns.read(path: itemsPath, loader: ItemLoader(), clusterKey: "topic")
            let got = try analysis.analyse(items: columns, votesPath: votesPath)
            #expect(try MetaScaleTests.encoded(got.report) == MetaScaleTests.encoded(expected), "\(flip) \(method)")
            #expect(
                got.reconciled.panel
                    == analysis.reconcile(items: loaded, votes: votes.filter { $0.variant == nil }).panel)
        }
    }

    @Test("pointwise votes with score labels: the report from columns equals the in-memory report")
    func pointwiseFromColumns() throws {
        let items = try ItemLoader().load(
            path: panelTestRoot.appendingPathComponent("fixtures/pointwise-20.jsonl").path)
        var votes: [Vote] = []
        for (i, item) in items.enumerated() {
            for judge in ["p1", "p2", "p3"] {
                for sample in 0..<2 {
                    var v = Vote(
                        item: item.id, judge: judge, protocol: .pointwise, sample: sample,
                        score: Double((i * 3 + judge.count + sample) % 10))
                    if (i + sample) % 6 == 0 && judge == "p2" {
                        v.score = nil
                        v.status = .abstain
                    }
                    if i % 4 == 1 { v.expectedScore = Double(i % 7) + 0.25 }
                    votes.append(v)
                }
            }
        }
        let path = try tempDir("columns-pointwise").appendingPathComponent("v.jsonl").path
        try MetaScaleTests.write(votes, path)
        for method in AggregationMethod.allCases {
            var options = MetaAnalysis.Options(aggregate: method, resamples: 40)
            options.protocolKind = .pointwise
            let analysis = MetaAnalysis(options: options)
            let got = try analysis.analyse(items: items, votesPath: path)
            #expect(
                try MetaScaleTests.encoded(got.report)
                    == MetaScaleTests.encoded(analysis.report(items: items, votes: votes)), "\(method)")
            #expect(got.report.judges.first?.expectedScorePearson != nil)
        }
    }
}
