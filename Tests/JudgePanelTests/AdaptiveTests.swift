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
        #expect(AdaptiveStopping.decided([["A"], ["A"], all], weights: [1, 1, 1]) == "A")
        #expect(AdaptiveStopping.decided([["A"], all, all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveStopping.decided([["A", "tie"], ["A"], all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveStopping.decided([["A"], ["A"], ["B"]], weights: [1, 1, 1]) == "A")
        #expect(AdaptiveStopping.decided([["A"], ["B"], all], weights: [1, 1, 1]) == nil)
        #expect(AdaptiveStopping.decided([["A"], ["B"], all], weights: [3, 1, 1]) == "A")
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
        let adaptive = try await AdaptiveRunner(panel: panel, rubric: rubric, options: panelTestOptions).run(
            items: items)
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
        let adaptive2 = try await AdaptiveRunner(panel: panel2, rubric: rubric, options: panelTestOptions).run(
            items: items)
        await server2.stop()
        for (a, f) in zip(adaptive2.result.verdicts, full.verdicts) { #expect(a.verdict == f.verdict, "\(a.item)") }
        #expect(adaptive2.calls <= adaptive2.fullCalls)
    }

    @Test(
        "score --adaptive makes only the adaptive calls: journaled, written as the run's votes, summary in report.json")
    func scoreAdaptiveCLI() async throws {
        let (items, quality) = syntheticPairwise(12)
        let dir = try tempDir("adaptive")
        let itemsPath = try writePairwiseItems(items, dir)
        let server = try await startPanelFake([
            "o1": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "o2": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "first": SimulatedJudge.alwaysFirst.handler,
        ])
        let panelPath = try await writeFakePanelFile(server, judges: ["o1", "o2", "first"], dir)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath,
                "--out", out, "--cache-dir", dir.appendingPathComponent("cache").path, "--adaptive",
            ], env: ["OPENAI_API_KEY": "x"])
        let requests = await server.requestCount()
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("adaptive panel:"))
        let report = try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let a = try #require(report["adaptive"])
        #expect(a["policy"]?.stringValue == "adaptive")
        #expect(a["full_calls"]?.intValue == 12 * 6)
        let calls = try #require(a["calls"]?.intValue)
        #expect(calls < 12 * 6)
        // No full-panel pass: the server saw exactly the adaptive calls (each vote's attempts), and they are the
        // run's votes and journal.
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == calls)
        #expect(requests == attempts(votes))
        #expect(a["http_calls"]?.intValue == requests)
        #expect(try VotesFile.load(path: out + "/journal.jsonl").count == calls)
        #expect(report["run"]?["votes"]?.intValue == calls)
        #expect(!FileManager.default.fileExists(atPath: out + "/adaptive-verdicts.jsonl"))
        #expect(try String(contentsOfFile: out + "/report.md", encoding: .utf8).contains("Adaptive panel"))
    }

    @Test(
        "five simulated judges, 300 items, no cache: --adaptive sends >= 30% fewer requests (at the server), same verdicts"
    )
    func serverCountedSaving() async throws {
        let (items, quality) = syntheticPairwise(300, seed: 3)
        let dir = try tempDir("adaptive-saving")
        let itemsPath = try writePairwiseItems(items, dir)
        let oracle = qualityOracle(quality)
        let server = try await startPanelFake(fiveSimulatedJudges(oracle))
        let panelPath = try await writeFakePanelFile(server, judges: fiveJudgeNames, dir)
        func score(_ tag: String, _ extra: [String]) async throws -> (
            requests: Int, report: JSONValue, verdicts: String
        ) {
            let before = await server.requestCount()
            let out = dir.appendingPathComponent(tag).path
            let r = try await runJudgepanel(
                [
                    "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
                    "--no-cache",
                ]
                    + extra, env: ["OPENAI_API_KEY": "x"])
            #expect(r.code == 0, "\(r.err)")
            let requests = await server.requestCount() - before
            return (
                requests, try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8)),
                try String(contentsOfFile: out + "/verdicts.jsonl", encoding: .utf8)
            )
        }
        let full = try await score("full", [])
        let adaptive = try await score("adaptive", ["--adaptive"])
        await server.stop()
        #expect(full.requests >= 300 * 5 * 2)
        #expect(Double(adaptive.requests) <= 0.7 * Double(full.requests), "\(adaptive.requests) vs \(full.requests)")
        let fullAccuracy = try #require(full.report["panel"]?["accuracy"]?.doubleValue)
        let adaptiveAccuracy = try #require(adaptive.report["panel"]?["accuracy"]?.doubleValue)
        #expect(abs(fullAccuracy - adaptiveAccuracy) <= 0.01)
        // Deterministic judges and `majority`: the verdicts are the full panel's, item for item.
        #expect(try verdictPairs(adaptive.verdicts) == verdictPairs(full.verdicts))
        #expect(adaptive.report["adaptive"]?["http_calls"]?.intValue == adaptive.requests)
        #expect(adaptive.report["adaptive"]?["full_calls"]?.intValue == 300 * 5 * 2)
    }

    @Test("a killed adaptive run resumes from its journal without repeating a call")
    func adaptiveResume() async throws {
        let (items, quality) = syntheticPairwise(40, seed: 2)
        let oracle = qualityOracle(quality)
        let server = try await startPanelFake(fiveSimulatedJudges(oracle))
        let panel = await fakePanel(server, judges: fiveJudgeNames)
        let rubric = try loadRubric("pairwise-mtbench")
        var options = panelTestOptions
        options.policy = .adaptive
        let job = try ScoreJob(itemsPath: "items.jsonl", items: items, rubric: rubric, panel: panel, options: options)
        let dir = try tempDir("adaptive-resume")
        let (whole, summary) = try await job.runAdaptive(outDir: dir.appendingPathComponent("whole").path)
        #expect(summary == whole.report.adaptive)
        #expect(summary.policy == .adaptive && summary.fullCalls == 40 * 10)
        #expect(whole.report.notes?.contains { $0.contains("count unasked items as abstentions") } == true)
        let requests = await server.requestCount()
        let calls = whole.result.votes.count
        #expect(attempts(whole.result.votes) == requests)
        // A run killed after half its calls: the journal's first lines, the last one cut mid-write.
        let journal = try String(
            contentsOfFile: dir.appendingPathComponent("whole/journal.jsonl").path, encoding: .utf8)
        let lines = journal.split(separator: "\n").map(String.init)
        let kept = lines.count / 2
        let killed = dir.appendingPathComponent("killed")
        try FileManager.default.createDirectory(at: killed, withIntermediateDirectories: true)
        try (lines.prefix(kept).joined(separator: "\n") + "\n" + lines[kept].prefix(20))
            .write(to: killed.appendingPathComponent("journal.jsonl"), atomically: true, encoding: .utf8)
        // A run writes config.json (with the run's fingerprint) before its first call.
        try FileManager.default.copyItem(
            at: dir.appendingPathComponent("whole/config.json"), to: killed.appendingPathComponent("config.json"))
        await #expect(throws: JudgePanelError.self) { try await job.run(outDir: killed.path) }
        let resumed = try await job.run(outDir: killed.path, resume: true)
        let resent = await server.requestCount() - requests
        await server.stop()
        // Only the calls missing from the journal were sent again (a truncated last line is not a finished call).
        let keptKeys = try Set(lines.prefix(kept).map { try JSONDecoder().decode(Vote.self, from: Data($0.utf8)).key })
        #expect(keptKeys.count == kept)
        #expect(resent == attempts(resumed.result.votes.filter { !keptKeys.contains($0.key) }))
        #expect(resumed.result.votes.filter { keptKeys.contains($0.key) }.count == kept)
        #expect(resumed.result.votes.map(\.key) == whole.result.votes.map(\.key))
        #expect(resumed.result.verdicts.map(\.verdict) == whole.result.verdicts.map(\.verdict))
        #expect(resumed.report.adaptive?.calls == calls)
        #expect(resumed.report.adaptive?.httpCalls == resent)
    }
}

extension AdaptiveTests {
    @Test(
        "pointwise: stop when the remaining judges cannot cross a threshold or leave a tolerance (counted at the server)"
    )
    func pointwiseStopping() async throws {
        var items: [Item] = []
        var quality: [String: Double] = [:]
        for i in 0..<60 {
            let answer = "Answer \(i):" + String(repeating: " detail", count: i % 7)
            quality[answer] = Double(1 + (i * 7) % 10)
            items.append(Item(id: "p\(i)", prompt: "Question \(i)?", response: answer, label: .score(quality[answer]!)))
        }
        let oracle = qualityOracle(quality)
        let judges: [String: FakeHandler] = Dictionary(
            uniqueKeysWithValues: fiveJudgeNames.enumerated().map { k, name in
                (
                    name,
                    SimulatedJudge(quality: oracle, longer: 0.2 * Double(k), lengthThreshold: 20, seed: UInt64(k))
                        .handler
                )
            })
        let server = try await startPanelFake(judges)
        var panel = await fakePanel(server, judges: fiveJudgeNames, swap: false, aggregate: .mean)
        let rubric = try loadRubric("pointwise-1to10")
        func run(_ policy: CallPolicy, _ rule: ScoreStopping?) async throws -> (RunResult, Int) {
            panel.scoreStopping = rule
            var options = panelTestOptions
            options.policy = policy
            let before = await server.requestCount()
            let r = try await PanelRunner(panel: panel, rubric: rubric, options: options).run(items: items)
            return (r, await server.requestCount() - before)
        }
        let (full, fullRequests) = try await run(.full, nil)
        #expect(fullRequests == attempts(full.votes))
        for rule in [
            ScoreStopping(thresholds: [5.5]), ScoreStopping(tolerance: 2),
            ScoreStopping(thresholds: [3.5, 7.5], tolerance: 3),
        ] {
            let (adaptive, requests) = try await run(.adaptive, rule)
            #expect(requests == attempts(adaptive.votes))
            #expect(adaptive.votes.count < full.votes.count, "\(rule)")
            for (a, f) in zip(adaptive.verdicts, full.verdicts) {
                let (x, y) = (try #require(a.score), try #require(f.score))
                for t in rule.thresholds { #expect((x >= t) == (y >= t), "\(a.item) \(t)") }
                if let tol = rule.tolerance { #expect(abs(x - y) <= tol + 1e-9, "\(a.item)") }
            }
        }
        // Without `adaptive:` in the panel a pointwise run makes every call.
        let (same, _) = try await run(.adaptive, nil)
        #expect(same.votes.count == full.votes.count)
        await server.stop()
    }
}

extension AdaptiveTests {
    @Test("checklist: the pooled YES share stops like a pointwise score; pairwise checklist items ask everyone")
    func checklistStopping() async throws {
        // Every judge answers every question YES for a GOOD response; for a BAD one, only the first question (the
        // last judge: the first four).
        func judge(_ k: Int) -> FakeHandler {
            { r in
                let good = r.lastUserText.contains("GOOD")
                return .text(
                    (1...5).map { "\($0). \(good || $0 <= (k == 4 ? 4 : 1) ? "YES" : "NO")" }.joined(separator: "\n"))
            }
        }
        let server = try await startPanelFake(
            Dictionary(uniqueKeysWithValues: fiveJudgeNames.enumerated().map { ($1, judge($0)) }))
        var panel = await fakePanel(server, judges: fiveJudgeNames, aggregate: .mean)
        let rubric = try loadRubric("checklist-instruction-following")
        let single = (0..<20).map {
            Item(id: "c\($0)", prompt: "Question \($0)?", response: $0 % 2 == 0 ? "GOOD \($0)" : "BAD \($0)")
        }
        let pairs = (0..<4).map {
            Item(id: "pc\($0)", prompt: "Question \($0)?", responseA: "GOOD \($0)", responseB: "BAD \($0)")
        }
        func run(_ policy: CallPolicy, _ items: [Item]) async throws -> (RunResult, Int) {
            var options = panelTestOptions
            options.policy = policy
            let before = await server.requestCount()
            let r = try await PanelRunner(panel: panel, rubric: rubric, options: options).run(items: items)
            return (r, await server.requestCount() - before)
        }
        panel.scoreStopping = ScoreStopping(thresholds: [0.5])
        let (full, _) = try await run(.full, single)
        let (adaptive, requests) = try await run(.adaptive, single)
        #expect(requests == attempts(adaptive.votes))
        // GOOD: three judges at 1.0 fix the mean above 0.5 (at least 3/5); BAD: four at 0.2 fix it below (at most 1.8/5).
        #expect(adaptive.votes.count == 70)
        for (a, f) in zip(adaptive.verdicts, full.verdicts) {
            let x: Double = try #require(a.score)
            let y: Double = try #require(f.score)
            let sameSide = (x >= 0.5) == (y >= 0.5)
            #expect(sameSide, "\(a.item)")
        }
        let (pairFull, _) = try await run(.full, pairs)
        let (pairAdaptive, _) = try await run(.adaptive, pairs)
        #expect(pairAdaptive.votes.count == pairFull.votes.count)
        #expect(pairAdaptive.verdicts.map(\.verdict) == pairFull.verdicts.map(\.verdict))
        await server.stop()
    }
}

/// Five simulated judges of planted, different accuracy: an oracle, two position-biased, two length-biased.
let fiveJudgeNames = ["j1", "j2", "j3", "j4", "j5"]

func fiveSimulatedJudges(_ oracle: @escaping @Sendable (String) -> Double?) -> [String: FakeHandler] {
    [
        "j1": SimulatedJudge(quality: oracle, seed: 1).handler,
        "j2": SimulatedJudge(quality: oracle, firstSlot: 0.15, seed: 2).handler,
        "j3": SimulatedJudge(quality: oracle, longer: 0.2, seed: 3).handler,
        "j4": SimulatedJudge(quality: oracle, firstSlot: 0.25, seed: 4).handler,
        "j5": SimulatedJudge(quality: oracle, firstSlot: 0.1, longer: 0.3, seed: 5).handler,
    ]
}

/// Writes pairwise items (with their labels) as JSONL; returns the path.
func writePairwiseItems(_ items: [Item], _ dir: URL) throws -> String {
    let path = dir.appendingPathComponent("items.jsonl").path
    try items.map { i in
        "{\"id\":\"\(i.id)\",\"prompt\":\"\(i.prompt ?? "")\",\"response_a\":\"\(i.responseA!)\",\"response_b\":\"\(i.responseB!)\",\"label\":\"\(i.label!.preference!.rawValue)\"}"
    }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Writes a majority panel file of OpenAI-compatible judges on the fake server; returns the path.
func writeFakePanelFile(_ server: FakeProviderServer, judges: [String], _ dir: URL, extra: String = "") async throws
    -> String
{
    let base = await server.baseURL.absoluteString + "/v1"
    let yaml =
        "version: 1\njudges:\n"
        + judges.map { "  - {name: \($0), provider: openai, base_url: \"\(base)\", model: \($0)}\n" }.joined()
        + "aggregate: majority\nswap: true\nflip: tie\n" + extra
    let path = dir.appendingPathComponent("panel.yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// (item, verdict) of each line of a verdicts.jsonl.
func verdictPairs(_ text: String) throws -> [String] {
    try text.split(separator: "\n").map { line in
        let v = try JSONValue.parse(String(line))
        return "\(v["item"]?.stringValue ?? "?")=\(v["verdict"]?.stringValue ?? "null")"
    }
}
