import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

/// `score`'s domain rules, reached without a subprocess: which scheduled policy a rubric and panel allow, and a
/// batch run's discounted estimate.
@Suite("score rules: policy checks and the batch discount")
struct ScoreRulesTests {
    static func panel(tiers: [[String]]? = nil, aggregate: AggregationMethod = .majority) -> Panel {
        var p = Panel(
            judges: [
                JudgeConfig(
                    name: "a", provider: .openai, model: "m1", baseURLs: ["http://127.0.0.1:9/v1"],
                    price: Price(inputPerMTok: 1, outputPerMTok: 2)),
                JudgeConfig(
                    name: "b", provider: .ollama, model: "m2", baseURLs: ["http://127.0.0.1:9/v1"],
                    price: Price(inputPerMTok: 1, outputPerMTok: 2)),
            ], aggregate: aggregate, swap: true, flip: .tie)
        p.tiers = tiers
        return p
    }

    static func rubric(_ name: String) throws -> Rubric {
        try Rubric.load(path: panelTestRoot.appendingPathComponent("rubrics/\(name).yaml").path)
    }

    @Test("--cascade needs a pairwise rubric, tiers, and an aggregation that is not joint")
    func cascade() throws {
        let pairwise = try Self.rubric("pairwise-mtbench")
        #expect(throws: JudgePanelError.self) {
            try ScoreJob.checkPolicy(
                .cascade, rubric: pairwise, panel: Self.panel(), aggregate: nil, panelFile: "p.yaml")
        }
        let tiered = Self.panel(tiers: [["a"], ["b"]])
        try ScoreJob.checkPolicy(.cascade, rubric: pairwise, panel: tiered, aggregate: nil, panelFile: "p.yaml")
        #expect {
            try ScoreJob.checkPolicy(
                .cascade, rubric: pairwise, panel: tiered, aggregate: .dawidSkene, panelFile: "p.yaml")
        } throws: { error in
            (error as? JudgePanelError)?.message.contains("dawid-skene") ?? false
        }
        // The full panel and pairwise adaptive need nothing more.
        try ScoreJob.checkPolicy(.full, rubric: pairwise, panel: Self.panel(), aggregate: nil, panelFile: "p.yaml")
        try ScoreJob.checkPolicy(.adaptive, rubric: pairwise, panel: Self.panel(), aggregate: nil, panelFile: "p.yaml")
    }

    @Test("--adaptive on a scored rubric needs the panel's stopping rule, named in the error with the panel file")
    func adaptiveScored() throws {
        let scored = try Self.rubric("pointwise-1to10")
        #expect {
            try ScoreJob.checkPolicy(
                .adaptive, rubric: scored, panel: Self.panel(), aggregate: nil, panelFile: "p.yaml")
        } throws: { error in
            guard let e = error as? JudgePanelError else { return false }
            return e.file == "p.yaml" && e.message.contains("--adaptive needs a pairwise rubric")
        }
    }

    @Test("the batch discount applies to judges a batch API serves, and the total follows")
    func batchDiscount() throws {
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let rubric = try Self.rubric("pairwise-mtbench")
        let panel = Self.panel()
        let job = try ScoreJob(
            itemsPath: items, items: try ItemLoader().load(path: items), rubric: rubric, panel: panel,
            options: RunOptions(cache: nil, environment: [:]))
        let full = job.estimate()
        var discounted = full
        discounted.applyBatchDiscount(panel)
        let a = try #require(full.perJudge.first { $0.judge == "a" }?.usd)
        let b = try #require(full.perJudge.first { $0.judge == "b" }?.usd)
        #expect(discounted.perJudge.first { $0.judge == "a" }?.usd == a * 0.5)
        #expect(discounted.perJudge.first { $0.judge == "b" }?.usd == b)
        #expect(discounted.usd == a * 0.5 + b)
    }

    @Test("a run given a held lock uses it; a lock of another directory is refused before any call")
    func heldLock() async throws {
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let job = try ScoreJob(
            itemsPath: items, items: try ItemLoader().load(path: items), rubric: try Self.rubric("pairwise-mtbench"),
            panel: Self.panel(), options: RunOptions(cache: nil, environment: [:]))
        let dir = try tempDir("rules-lock")
        let other = try RunLock.acquire(dir: dir.appendingPathComponent("other").path, command: "test")
        defer { other.release() }
        await #expect {
            _ = try await job.run(outDir: dir.appendingPathComponent("run").path, lock: other)
        } throws: { error in
            (error as? JudgePanelError)?.message.contains("not the lock of") ?? false
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/journal.jsonl").path))
    }
}
