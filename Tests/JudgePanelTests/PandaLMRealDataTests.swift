import Foundation
import JudgePanel
import JudgeStats
import Testing

@Suite("Real data: PandaLM reproduces its published human agreement")
struct PandaLMRealDataTests {
    @Test("import + meta: annotator-pair κ 0.852 / 0.879 / 0.862, majority counts 105 / 422 / 472, judges with CIs")
    func pandalm() throws {
        let dir = panelTestRoot.appendingPathComponent("fixtures/pandalm").path
        let result = try Importer.run(
            format: .pandalm,
            sources: ["testset-v1.json", "gpt-3.5-turbo-testset-v1.json", "pandalm-7b-testset-v1.json"].map {
                "\(dir)/\($0)"
            })
        let counts = Dictionary(grouping: result.items.compactMap { $0.label?.preference }, by: { $0 }).mapValues(
            \.count)
        #expect(counts == [.tie: 105, .a: 422, .b: 472])
        let report = MetaAnalysis().report(items: result.items, votes: result.votes)
        let human = try #require(report.human)
        #expect(human.nAnnotators == 3)
        let k12 = try #require(human.pairwiseCohenKappa["annotator1|annotator2"]?.value)
        let k13 = try #require(human.pairwiseCohenKappa["annotator1|annotator3"]?.value)
        let k23 = try #require(human.pairwiseCohenKappa["annotator2|annotator3"]?.value)
        #expect(abs(k12 - 0.852) < 0.0005)
        #expect(abs(k13 - 0.879) < 0.0005)
        #expect(abs(k23 - 0.862) < 0.0005)
        for name in ["gpt-3.5-turbo", "pandalm-7b"] {
            let m = try #require(report.judges.first { $0.judge == name })
            let acc = try #require(m.accuracy?.value)
            let ci = try #require(m.accuracyCI)
            #expect(ci.lo < acc && acc < ci.hi)
            #expect(ci.hi - ci.lo < 0.08)
            #expect(m.n == 999)
        }
        // gpt-3.5-turbo's 25 unreadable results are abstentions: counted as misses in accuracy, not in accuracy_answered.
        let gpt = try #require(report.judges.first { $0.judge == "gpt-3.5-turbo" })
        #expect(abs((gpt.coverage?.value ?? 0) - 974.0 / 999.0) < 1e-12)
        #expect((gpt.accuracyAnswered?.value ?? 0) > (gpt.accuracy?.value ?? 1))
    }
}
