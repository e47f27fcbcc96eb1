import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

@Suite("streamed dry run")
struct StreamingEstimateTests {
    func panel() -> Panel {
        Panel(
            judges: [
                JudgeConfig(
                    name: "a", provider: .openai, model: "m1", baseURLs: ["http://127.0.0.1:9/v1"],
                    price: Price(inputPerMTok: 1, outputPerMTok: 2), samples: 2),
                JudgeConfig(
                    name: "b", provider: .anthropic, model: "m2", baseURLs: ["http://127.0.0.1:9/v1"], maxTokens: 100),
            ], aggregate: .majority, swap: true, flip: .tie)
    }

    @Test("streaming the items file gives the in-memory estimate, for the whole file and for each shard")
    func sameAsInMemory() throws {
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let rubric = try Rubric.load(path: panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path)
        let options = RunOptions(cache: nil, environment: [:])
        let loaded = try ItemLoader().load(path: items)
        let job = try ScoreJob(itemsPath: items, items: loaded, rubric: rubric, panel: panel(), options: options)
        let whole = try ScoreJob.streamEstimate(itemsPath: items, rubric: rubric, panel: panel(), options: options)
        let expected = job.estimate()
        #expect(whole.items == 50 && whole.itemsTotal == 50)
        #expect(whole.estimate.calls == expected.calls && expected.calls == 50 * (2 * 2 + 2))
        #expect(whole.estimate.promptTokens == expected.promptTokens && expected.promptTokens > 0)
        #expect(whole.estimate.maxCompletionTokens == expected.maxCompletionTokens)
        #expect(whole.estimate.usd == expected.usd && expected.usd != nil)
        #expect(whole.estimate.perJudge.map(\.judge) == ["a", "b"])
        #expect(whole.estimate.perJudge.map(\.calls) == expected.perJudge.map(\.calls))
        var calls = 0
        for i in 0..<3 {
            let shard = try Shard.parse("\(i)/3")
            var part = job
            try part.restrict(to: shard)
            let streamed = try ScoreJob.streamEstimate(
                itemsPath: items, rubric: rubric, panel: panel(), options: options, shard: shard)
            #expect(streamed.items == part.items.count && streamed.itemsTotal == 50)
            #expect(streamed.estimate.calls == part.estimate().calls)
            #expect(streamed.estimate.promptTokens == part.estimate().promptTokens)
            calls += streamed.estimate.calls
        }
        #expect(calls == expected.calls)
    }

    @Test("a bad item fails the streamed estimate naming file and line, as loading does; an empty file has no items")
    func badInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-stream-est-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rubric = try Rubric.load(path: panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path)
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try """
        {"id": "1", "prompt": "p", "response_a": "x", "response_b": "y"}
        {"id": "2", "prompt": "p", "response": "only one"}
        """.write(toFile: bad, atomically: true, encoding: .utf8)
        do {
            _ = try ScoreJob.streamEstimate(itemsPath: bad, rubric: rubric, panel: panel())
            Issue.record("a pointwise item passed a pairwise rubric")
        } catch let e as JudgePanelError {
            #expect(e.description.contains("bad.jsonl") && e.description.contains("2"), "\(e)")
        }
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: JudgePanelError.self) {
            try ScoreJob.streamEstimate(itemsPath: empty, rubric: rubric, panel: panel())
        }
    }
}
