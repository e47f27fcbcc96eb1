import Foundation
import JudgePanel
import JudgeStats
import Testing

@Suite("Meta-analysis: slices, clusters, score labels, degenerate input")
struct MetaAnalysisTests {
    func pairwiseItems(_ n: Int) -> [Item] {
        (0..<n).map { i in
            Item(
                id: "i\(i)", prompt: "q", responseA: "a", responseB: "b", label: .pairwise(i % 3 == 0 ? .b : .a),
                meta: ["topic": .string(i < n / 2 ? "math" : "code"), "source": .string("s\(i / 10)")])
        }
    }

    func vote(_ item: String, _ judge: String, _ p: Preference?, order: Order = .ab) -> Vote {
        var v = Vote(item: item, judge: judge, protocol: .pairwise, order: order, verdict: p)
        if p == nil { v.status = .abstain }
        return v
    }

    @Test("--by slices give one report per value; judges fail where they fail")
    func slices() {
        let items = pairwiseItems(40)
        // The judge is always right on math, always wrong on code.
        let votes = items.map { item in
            let truth = item.label!.preference!
            return vote(item.id, "j", item.meta["topic"] == "math" ? truth : truth.swapped)
        }
        let report = MetaAnalysis().report(items: items, votes: votes, sliceKey: "topic")
        #expect(report.judges[0].accuracy?.value == 0.5)
        let slices = report.slices?["topic"]
        #expect(slices?["math"]?.judges[0].accuracy?.value == 1)
        #expect(slices?["code"]?.judges[0].accuracy?.value == 0)
        #expect(slices?["math"]?.nItems == 20)
    }

    @Test("--cluster resamples whole clusters: wider CI on clustered errors, and the report names the unit")
    func clusters() {
        let items = pairwiseItems(200)
        // Errors come in whole clusters of 10 (a source prompt fails together).
        let votes = items.enumerated().map { i, item in
            let truth = item.label!.preference!
            return vote(item.id, "j", (i / 10) % 3 == 0 ? truth.swapped : truth)
        }
        let plain = MetaAnalysis().report(items: items, votes: votes)
        let clustered = MetaAnalysis(options: .init(clusterKey: "source")).report(items: items, votes: votes)
        #expect(plain.resampling == "item")
        #expect(clustered.resampling == "cluster:source")
        let w1 = plain.judges[0].accuracyCI.map { $0.hi - $0.lo } ?? 0
        let w2 = clustered.judges[0].accuracyCI.map { $0.hi - $0.lo } ?? 0
        #expect(w2 > w1 * 1.5)
        #expect(plain.judges[0].accuracy == clustered.judges[0].accuracy)
    }

    @Test("score labels: correlations equal JudgeStats on the same pairs; human block at the interval level")
    func scores() throws {
        var items: [Item] = []
        for i in 0..<30 {
            let first = Label.score(Double(i % 5 + 1))
            let second = Label.score(Double((i + i % 2) % 5 + 1))
            let labels = [
                AnnotatorLabel(annotator: "h1", label: first), AnnotatorLabel(annotator: "h2", label: second),
            ]
            items.append(Item(id: "p\(i)", prompt: "q", response: "r", labels: labels))
        }
        let judgeScores = (0..<30).map { Double(($0 * 7) % 5 + 1) }
        let votes: [Vote] = zip(items, judgeScores).map { item, s in
            Vote(item: item.id, judge: "j", protocol: JudgingProtocol.pointwise, score: s)
        }
        let report = MetaAnalysis().report(items: items, votes: votes)
        #expect(report.labelKind == .score)
        let truth: [Double] = items.map { item -> Double in
            let a: Double = item.labels[0].label.score ?? 0
            let b: Double = item.labels[1].label.score ?? 0
            return (a + b) / 2
        }
        let m = report.judges[0]
        #expect(m.pearson == pearson(judgeScores, truth))
        #expect(m.spearman == spearman(judgeScores, truth))
        #expect(m.kendallTauB == kendallTauB(judgeScores, truth))
        #expect(m.positionConsistency == nil)
        #expect(report.human?.alphaLevel == "interval")
        let row1: [Double?] = items.map { $0.labels[0].label.score }
        let row2: [Double?] = items.map { $0.labels[1].label.score }
        let matrix: [[Double?]] = [row1, row2]
        #expect(report.human?.krippendorffAlpha == krippendorffAlpha(matrix, level: .interval))
    }

    @Test("degenerate input: one class, no answers — null with a reason, never NaN in JSON")
    func degenerate() throws {
        let items = pairwiseItems(5).map {
            var i = $0
            i.label = .pairwise(.a)
            return i
        }
        let votes = items.map { vote($0.id, "abstainer", nil) } + items.map { vote($0.id, "constant", .a) }
        let report = MetaAnalysis().report(items: items, votes: votes)
        let abstainer = try #require(report.judges.first { $0.judge == "abstainer" })
        #expect(abstainer.accuracy?.value == 0)
        #expect(abstainer.accuracyAnswered?.value == nil)
        #expect(abstainer.notes?["accuracy_answered"] != nil)
        let constant = try #require(report.judges.first { $0.judge == "constant" })
        #expect(constant.cohenKappa?.value == nil)
        #expect(constant.notes?["cohen_kappa"] != nil)
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains("NaN") && !json.contains("nan") && !json.contains("inf"))
    }
}
