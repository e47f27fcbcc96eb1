import Foundation
import JudgePanelTesting
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

@Suite("report DIR rebuilds scheduled runs (adaptive, cascade) from config.json and votes.jsonl", .serialized)
struct PolicyRebuildTests {
    /// Runs `score` with `flag` against five simulated judges, removes the files `report DIR` writes, rebuilds them
    /// and compares each with the file the original run wrote (not one regeneration with another).
    func rebuildMatchesOriginal(_ flag: String, tiers: String = "", aggregate: String = "majority") async throws
        -> JSONValue
    {
        let (items, quality) = syntheticPairwise(30, seed: 11)
        let dir = try tempDir("policy-rebuild")
        let itemsPath = try writePairwiseItems(items, dir)
        let server = try await startPanelFake(fiveSimulatedJudges(qualityOracle(quality)))
        var panelPath = try await writeFakePanelFile(server, judges: fiveJudgeNames, dir, extra: tiers)
        if aggregate != "majority" {
            let text = try String(contentsOfFile: panelPath, encoding: .utf8).replacingOccurrences(
                of: "aggregate: majority", with: "aggregate: \(aggregate)")
            panelPath = dir.appendingPathComponent("panel-\(aggregate).yaml").path
            try text.write(toFile: panelPath, atomically: true, encoding: .utf8)
        }
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
                "--no-cache",
                flag, "--seed", "3",
            ], env: ["OPENAI_API_KEY": "x"])
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        let files = ["verdicts.jsonl", "report.json", "report.md", "report.html"]
        var originals: [String: Data] = [:]
        for f in files { originals[f] = try Data(contentsOf: URL(fileURLWithPath: out + "/" + f)) }
        let report = try JSONValue.parse(originals["report.json"]!)
        for f in files { try FileManager.default.removeItem(atPath: out + "/" + f) }
        let rebuilt = try await runJudgepanel(["report", out])
        #expect(rebuilt.code == 0, "\(rebuilt.err)")
        for f in files {
            let again = try Data(contentsOf: URL(fileURLWithPath: out + "/" + f))
            #expect(again == originals[f], "\(flag): \(f) differs from the original run's")
        }
        return report
    }

    @Test("--adaptive: verdicts.jsonl, report.json/md/html rebuilt byte for byte, with the adaptive summary")
    func adaptive() async throws {
        let report = try await rebuildMatchesOriginal("--adaptive")
        let a = try #require(report["adaptive"])
        #expect(a["policy"]?.stringValue == "adaptive")
        #expect((a["calls"]?.intValue ?? 0) < (a["full_calls"]?.intValue ?? 0))
    }

    @Test("--cascade: the deciding tiers' verdicts, per-tier summary and panel row rebuilt byte for byte")
    func cascade() async throws {
        let report = try await rebuildMatchesOriginal("--cascade", tiers: "tiers: [[j2, j3], [j1, j4, j5]]\n")
        let a = try #require(report["adaptive"])
        #expect(a["policy"]?.stringValue == "cascade")
        let tiers = try #require(a["tiers"]?.arrayValue)
        #expect(tiers.count == 2)
        // Both tiers decided some items, so the rebuild had to tell them apart from the votes.
        #expect(tiers.allSatisfy { ($0["items_decided"]?.intValue ?? 0) > 0 }, "\(tiers)")
    }

    @Test("--cascade with weighted aggregation: rebuilt byte for byte")
    func cascadeWeighted() async throws {
        _ = try await rebuildMatchesOriginal(
            "--cascade", tiers: "tiers: [[j2, j3], [j1, j4, j5]]\n", aggregate: "weighted")
    }
}

@Suite("score with streamed items: the same files as with the items held")
struct StreamedItemsTests {
    @Test(
        "a streamed job (items read in passes) writes the verdicts and report of a job holding its items; fresh and resumed"
    )
    func streamedEqualsHeld() async throws {
        let (items, quality) = syntheticPairwise(40, seed: 5)
        let dir = try tempDir("streamed")
        let itemsPath = try writePairwiseItems(items, dir)
        let server = try await startPanelFake(fiveSimulatedJudges(qualityOracle(quality)))
        let panelPath = try await writeFakePanelFile(server, judges: ["j1", "j2", "j3"], dir)
        let options = RunOptions(cache: nil, environment: ["OPENAI_API_KEY": "x"])
        let rubric = panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path
        let held = try ScoreJob(itemsPath: itemsPath, rubricPath: rubric, panelPath: panelPath, options: options)
        let streamed = try ScoreJob(
            streamingItemsPath: itemsPath, rubricPath: rubric, panelPath: panelPath, options: options)
        #expect(streamed.items.isEmpty && streamed.itemCount == 40 && streamed.plannedCalls == held.plannedCalls)
        let a = dir.appendingPathComponent("held").path
        let b = dir.appendingPathComponent("streamed").path
        _ = try await held.run(outDir: a, retainResults: false)
        let outcome = try await streamed.run(outDir: b, retainResults: false)
        #expect(outcome.result.items.isEmpty && outcome.result.results.isEmpty)
        func withoutRunFacts(_ path: String) throws -> JSONValue {
            guard case .object(var o) = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path))) else {
                return .null
            }
            o["run"] = nil
            return .object(o)
        }
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: a + "/verdicts.jsonl"))
                == Data(contentsOf: URL(fileURLWithPath: b + "/verdicts.jsonl")))
        #expect(try withoutRunFacts(a + "/report.json") == withoutRunFacts(b + "/report.json"))
        #expect(try VotesFile.load(path: b + "/votes.jsonl").count == 40 * 3 * 2)
        // Resumed (every call journaled): the streamed resume check reads the items again and reuses every vote.
        let before = await server.requestCount()
        let resumed = try await streamed.run(outDir: b, resume: true, retainResults: false)
        #expect(await server.requestCount() == before)
        #expect(resumed.resume.reused == 40 * 3 * 2 && resumed.resume.reasked == 0)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: a + "/verdicts.jsonl"))
                == Data(contentsOf: URL(fileURLWithPath: b + "/verdicts.jsonl")))
        await server.stop()
    }
}
