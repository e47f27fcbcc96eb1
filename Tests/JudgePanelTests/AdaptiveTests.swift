import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

@Suite("Adaptive panels: fewer calls, the same strict-majority verdicts")
struct AdaptiveTests {
    @Test("stopping rule: decided only when no remaining answer can overturn the leader")
    func stoppingRule() {
        let all: Set<String> = ["A", "B", "tie", "-"]
        #expect(AdaptiveRunner.decided([["A"], ["A"], all], weights: [1, 1, 1]) == "A")
        #expect(AdaptiveRunner.decided([["A"], all, all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveRunner.decided([["A", "tie"], ["A"], all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveRunner.decided([["A"], ["A"], ["B"]], weights: [1, 1, 1]) == "A")
        #expect(AdaptiveRunner.decided([["A"], ["B"], all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveRunner.decided([["A"], ["B"], all], weights: [3, 1, 1]) == "A")
    }

    @Test("three judges (two consistent, one position-biased): verdicts equal the full panel's with fewer calls")
    func savesCallsSameVerdicts() async throws {
        let (items, quality) = syntheticPairwise(30)
        let server = try await startPanelFake([
            "o1": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "o2": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "first": SimulatedJudge.alwaysFirst.handler,
        ])
        let panel = await fakePanel(server, judges: ["o1", "o2", "first"])
        let rubric = try loadRubric("pairwise-mtbench")
        let full = try await PanelRunner(panel: panel, rubric: rubric, options: panelTestOptions).run(items: items)
        let before = await server.requestCount()
        let adaptive = try await AdaptiveRunner(panel: panel, rubric: rubric, options: panelTestOptions).run(items: items)
        let made = await server.requestCount() - before
        await server.stop()
        #expect(adaptive.fullCalls == 30 * 3 * 2)
        #expect(adaptive.calls == made)
        #expect(adaptive.calls == adaptive.result.votes.count)
        // Two agreeing consistent judges decide an item in 4 calls (AB, AB, BA, BA) instead of 6.
        #expect(adaptive.calls < adaptive.fullCalls)
        for (a, f) in zip(adaptive.result.verdicts, full.verdicts) { #expect(a.verdict == f.verdict, "\(a.item)") }
        let summary = AdaptiveSummary(adaptive: adaptive, full: full.verdicts, items: items)
        #expect(summary.agreementWithFull?.value == 1)
        #expect(summary.accuracy?.value == summary.fullAccuracy?.value)
        #expect(summary.nLabelled == 30)
        #expect((summary.savedShare ?? 0) > 0.2)
        // Panel order matters: the biased judge first still reaches the same verdicts.
        let server2 = try await startPanelFake([
            "o1": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "o2": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "first": SimulatedJudge.alwaysFirst.handler,
        ])
        let panel2 = await fakePanel(server2, judges: ["first", "o1", "o2"])
        let adaptive2 = try await AdaptiveRunner(panel: panel2, rubric: rubric, options: panelTestOptions).run(items: items)
        await server2.stop()
        for (a, f) in zip(adaptive2.result.verdicts, full.verdicts) { #expect(a.verdict == f.verdict, "\(a.item)") }
        #expect(adaptive2.calls <= adaptive2.fullCalls)
    }

    @Test("score --adaptive writes the comparison under `adaptive` in report.json and prints it")
    func scoreAdaptiveCLI() async throws {
        let (items, quality) = syntheticPairwise(12)
        let dir = try tempDir("adaptive")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try items.map { i in
            "{\"id\":\"\(i.id)\",\"prompt\":\"\(i.prompt ?? "")\",\"response_a\":\"\(i.responseA!)\",\"response_b\":\"\(i.responseB!)\",\"label\":\"\(i.label!.preference!.rawValue)\"}"
        }.joined(separator: "\n").write(toFile: itemsPath, atomically: true, encoding: .utf8)
        let server = try await startPanelFake([
            "o1": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "o2": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "first": SimulatedJudge.alwaysFirst.handler,
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let yaml = """
            version: 1
            judges:
              - {name: o1, provider: openai, base_url: "\(base)", model: o1}
              - {name: o2, provider: openai, base_url: "\(base)", model: o2}
              - {name: first, provider: openai, base_url: "\(base)", model: first}
            aggregate: majority
            swap: true
            flip: tie
            """
        try yaml.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel([
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", dir.appendingPathComponent("panel.yaml").path,
            "--out", out, "--cache-dir", dir.appendingPathComponent("cache").path, "--adaptive",
        ], env: ["OPENAI_API_KEY": "x"])
        let requests = await server.requestCount()
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("adaptive panel:"))
        let report = try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let a = try #require(report["adaptive"])
        #expect(a["full_calls"]?.intValue == 12 * 6)
        #expect((a["calls"]?.intValue ?? 99) < 12 * 6)
        #expect(a["agreement_with_full"]?.doubleValue == 1)
        #expect(a["accuracy"]?.doubleValue == a["full_accuracy"]?.doubleValue)
        // The full run reused the adaptive run's calls from the cache.
        #expect(requests == 12 * 6)
        #expect(FileManager.default.fileExists(atPath: out + "/adaptive-verdicts.jsonl"))
        #expect(try String(contentsOfFile: out + "/report.md", encoding: .utf8).contains("Adaptive panel"))
    }
}
