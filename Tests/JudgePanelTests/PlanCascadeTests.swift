import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

@Suite("Offline plan and cascades: replayed votes predict live runs")
struct PlanCascadeTests {
    /// A full run and live runs of other policies against one fake server of five simulated judges.
    func liveRuns(
        items: [Item], quality: [String: Double], tiers: [[String]]? = nil, prices: Bool = false
    ) async throws -> (
        panel: Panel, full: ScoreJob.Outcome, live: [CallPolicy: (outcome: ScoreJob.Outcome, requests: Int)]
    ) {
        let server = try await startPanelFake(fiveSimulatedJudges(qualityOracle(quality)))
        var panel = await fakePanel(server, judges: fiveJudgeNames)
        panel.tiers = tiers
        if prices {
            for j in panel.judges.indices {
                panel.judges[j].price = Price(inputPerMTok: Double(j + 1) * 0.5, outputPerMTok: Double(j + 1) * 2)
            }
        }
        let rubric = try loadRubric("pairwise-mtbench")
        let dir = try tempDir("plan")
        func job(_ policy: CallPolicy) throws -> ScoreJob {
            var options = panelTestOptions
            options.policy = policy
            return try ScoreJob(itemsPath: "items.jsonl", items: items, rubric: rubric, panel: panel, options: options)
        }
        let full = try await job(.full).run(outDir: dir.appendingPathComponent("full").path)
        var live: [CallPolicy: (ScoreJob.Outcome, Int)] = [:]
        for policy in tiers == nil ? [CallPolicy.adaptive] : [.adaptive, .cascade] {
            let before = await server.requestCount()
            let o = try await job(policy).run(outDir: dir.appendingPathComponent(policy.rawValue).path)
            live[policy] = (o, await server.requestCount() - before)
        }
        await server.stop()
        return (panel, full, live)
    }

    @Test("replaying a full run's votes predicts the live adaptive and cascade runs' calls and verdicts exactly")
    func replayPredictsLive() async throws {
        let (items, quality) = syntheticPairwise(40, seed: 4)
        let (panel, full, live) = try await liveRuns(
            items: items, quality: quality, tiers: [["j2", "j3"], ["j1", "j4", "j5"]])
        let planner = PanelPlan(options: .init(panel: panel))
        for policy in [CallPolicy.adaptive, .cascade] {
            let (outcome, requests) = try #require(live[policy])
            let replay = try planner.replay(items: items, votes: full.result.votes, policy: policy)
            #expect(replay.callsPerItem == outcome.result.results.map(\.votes.count), "\(policy)")
            // Every request the server saw is an attempt of one of the live run's votes (timeouts under load retry).
            #expect(attempts(outcome.result.votes) == requests, "\(policy)")
            #expect(replay.verdicts.map(\.verdict) == outcome.result.verdicts.map(\.verdict), "\(policy)")
            #expect(replay.votes.flatMap { $0 }.map(\.key) == outcome.result.votes.map(\.key), "\(policy)")
            #expect(requests < full.result.votes.count, "\(policy)")
        }
        // The full policy replays the full run itself.
        let same = try planner.replay(items: items, votes: full.result.votes, policy: .full)
        #expect(same.verdicts.map(\.verdict) == full.result.verdicts.map(\.verdict))
        #expect(same.callsPerItem.reduce(0, +) == full.result.votes.count)
    }

    @Test("plan: every subset, the frontier, recommendations for a budget and a target, consistent with meta")
    func planCandidates() async throws {
        let (items, quality) = syntheticPairwise(60, seed: 5)
        let (panel, full, live) = try await liveRuns(items: items, quality: quality, prices: true)
        let plan = try PanelPlan(options: .init(resamples: 200, panel: panel)).plan(
            items: items, votes: full.result.votes)
        #expect(plan.search == "exhaustive")
        #expect(plan.candidates.count == 31 * 2)
        #expect(plan.costBasis == "usd")
        // Every candidate has its bootstrap CIs (few candidates) and sits inside them.
        for c in plan.candidates {
            let acc = try #require(c.accuracy?.value)
            let ci = try #require(c.accuracyCI)
            #expect(ci.lo <= acc + 1e-12 && acc <= ci.hi + 1e-12)
        }
        // The whole panel: its full-policy accuracy is the full run's panel accuracy; adaptive keeps every verdict.
        let whole = plan.candidates.filter { $0.judges == fiveJudgeNames }
        let wholeFull = try #require(whole.first { $0.policy == .full })
        let wholeAdaptive = try #require(whole.first { $0.policy == .adaptive })
        #expect(wholeFull.accuracy?.value == full.report.panel?.accuracy?.value)
        #expect(wholeFull.cohenKappa?.value == full.report.panel?.cohenKappa?.value)
        #expect(wholeAdaptive.sameAsFull == 1)
        #expect(wholeFull.callsPerItem == 10)
        let adaptiveCalls = try #require(live[.adaptive]).outcome.result.votes.count
        #expect(abs(wholeAdaptive.callsPerItem - Double(adaptiveCalls) / 60) < 1e-12)
        #expect((wholeAdaptive.usdPer1000 ?? 0) < (wholeFull.usdPer1000 ?? 0))
        let recordedUSD = full.result.votes.compactMap(\.costUSD).reduce(0, +)
        #expect(abs((wholeFull.usdPer1000 ?? 0) - recordedUSD / 60 * 1000) < 1e-9)
        // A single judge's numbers are meta's numbers for that judge.
        for (j, name) in fiveJudgeNames.enumerated() {
            let single = try #require(plan.candidates.first { $0.judges == [name] && $0.policy == .full })
            #expect(single.accuracy?.value == full.report.judges[j].accuracy?.value, "\(name)")
        }
        // The frontier: cost rises and accuracy strictly rises along it, and nothing off it beats it.
        #expect(!plan.frontier.isEmpty)
        for (a, b) in zip(plan.frontier, plan.frontier.dropFirst()) {
            #expect(a.usdPer1000! <= b.usdPer1000!)
            #expect(a.accuracy!.value! < b.accuracy!.value!)
        }
        for c in plan.candidates {
            let dominated = plan.frontier.contains { f in
                f.usdPer1000! <= c.usdPer1000! && f.accuracy!.value! >= c.accuracy!.value!
            }
            #expect(dominated, "\(c.judges) \(c.policy)")
        }
        // Recommendations, against a brute-force reading of the candidates.
        let target = 0.8
        let byTarget = try PanelPlan(options: .init(resamples: 0, targetAccuracy: target, panel: panel))
            .plan(items: items, votes: full.result.votes)
        let meeting = plan.candidates.filter { $0.accuracy!.value! >= target }
        if let cheapest = meeting.map({ $0.usdPer1000! }).min() {
            #expect(byTarget.recommended?.usdPer1000 == cheapest)
        } else {
            #expect(byTarget.recommended == nil)
        }
        let budget = (plan.candidates.map { $0.usdPer1000! }.max()! + plan.candidates.map { $0.usdPer1000! }.min()!) / 2
        let byBudget = try PanelPlan(options: .init(resamples: 0, budget: budget, panel: panel)).plan(
            items: items, votes: full.result.votes)
        let affordable = plan.candidates.filter { $0.usdPer1000! <= budget }
        let rec = try #require(byBudget.recommended)
        #expect(rec.usdPer1000! <= budget)
        #expect(rec.accuracy?.value == affordable.map { $0.accuracy!.value! }.max())
    }

    @Test("greedy search beyond max-exhaustive; slices and clustered bootstrap")
    func greedySlicesClusters() async throws {
        let (base, quality) = syntheticPairwise(60, seed: 6)
        let items = base.enumerated().map { k, item in
            var i = item
            i.meta = ["topic": .string(k % 2 == 0 ? "even" : "odd"), "conv": .string("c\(k / 3)")]
            return i
        }
        let (panel, full, _) = try await liveRuns(items: items, quality: quality)
        let greedy = try PanelPlan(options: .init(resamples: 0, maxExhaustive: 3, panel: panel)).plan(
            items: items, votes: full.result.votes)
        #expect(greedy.search == "greedy")
        // Five singletons and the forward path of sizes 2...5, each under two policies.
        #expect(greedy.candidates.count == (5 + 4) * 2)
        #expect(greedy.costBasis == "calls")
        let sliced = try PanelPlan(options: .init(resamples: 100, clusterKey: "conv", sliceKey: "topic", panel: panel))
            .plan(items: items, votes: full.result.votes)
        #expect(sliced.resampling == "cluster:conv")
        let slices = try #require(sliced.slices?["topic"])
        #expect(Set(slices.keys) == ["even", "odd"])
        #expect(slices.values.map(\.nItems).reduce(0, +) == 60)
        // The clustered CI differs from the item CI (same seed), the point estimate does not.
        let itemCI = try PanelPlan(options: .init(resamples: 100, panel: panel)).plan(
            items: items, votes: full.result.votes)
        let a = try #require(itemCI.candidates.first { $0.judges == ["j4"] && $0.policy == .full })
        let b = try #require(sliced.candidates.first { $0.judges == ["j4"] && $0.policy == .full })
        #expect(a.accuracy == b.accuracy)
        #expect(a.accuracyCI != b.accuracyCI)
    }

    @Test("cascade run: a tier decides unless split or flipped; per-tier report; verdict of the deciding tier")
    func cascadeRun() async throws {
        let (items, quality) = syntheticPairwise(30, seed: 7)
        let (_, full, live) = try await liveRuns(
            items: items, quality: quality, tiers: [["j2", "j3"], ["j1", "j4", "j5"]])
        let (outcome, requests) = try #require(live[.cascade])
        #expect(requests == attempts(outcome.result.votes))
        let summary = try #require(outcome.report.adaptive)
        #expect(summary.policy == .cascade)
        let tiers = try #require(summary.tiers)
        #expect(tiers.map(\.judges) == [["j2", "j3"], ["j1", "j4", "j5"]])
        #expect(tiers.map(\.itemsDecided).reduce(0, +) == items.count)
        #expect(tiers[0].calls == items.count * 4)
        #expect(tiers[1].calls == tiers[1].itemsDecided * 6)
        #expect(summary.calls == outcome.result.votes.count)
        let fullByJudge = Dictionary(grouping: full.result.results, by: \.item.id)
        for r in outcome.result.results {
            let heard = Set(r.votes.map(\.judge))
            let fr = try #require(fullByJudge[r.item.id]?.first)
            let tier1 = ["j2", "j3"].map { fr.judgeVerdicts[$0]?.verdict }
            let flipped = ["j2", "j3"].contains { name in
                let vs = fr.votes.filter { $0.judge == name }
                let ab = vs.first { $0.order == .ab }?.verdict
                let ba = vs.first { $0.order == .ba }?.verdict
                return ab != nil && ba != nil && ab != ba
            }
            let sure = !flipped && tier1[0] != nil && tier1[0] == tier1[1]
            if sure {
                #expect(heard == ["j2", "j3"], "\(r.item.id)")
                #expect(r.verdict.verdict == tier1[0], "\(r.item.id)")
            } else {
                #expect(heard == Set(fiveJudgeNames), "\(r.item.id)")
                let top = ["j1", "j4", "j5"].compactMap { fr.judgeVerdicts[$0]?.verdict }
                let counts = Dictionary(grouping: top, by: { $0 }).mapValues(\.count)
                if let (v, n) = counts.max(by: { $0.value < $1.value }), n >= 2 {
                    #expect(r.verdict.verdict == v, "\(r.item.id)")
                }
            }
        }
        // The report's panel accuracy is that of the run's (deciding-tier) verdicts.
        let labels = items.map { $0.label?.preference }
        let hits = zip(outcome.result.verdicts, labels).filter { $0.0.verdict != nil && $0.0.verdict == $0.1 }.count
        #expect(outcome.report.panel?.accuracy?.value == Double(hits) / Double(items.count))
    }

    @Test("cascade escalation by probability margin where judges return log-probabilities")
    func cascadeMargin() async throws {
        let (items, quality) = syntheticPairwise(30, seed: 8)
        let oracle = qualityOracle(quality)
        // Two agreeing, consistent judges in tier 1: only the margin can escalate them.
        let server = try await startPanelFake([
            "c1": SimulatedJudge(quality: oracle, seed: 1).handler,
            "c2": SimulatedJudge(quality: oracle, seed: 2).handler,
            "big": SimulatedJudge(quality: oracle, seed: 3).handler,
        ])
        var panel = await fakePanel(server, judges: ["c1", "c2", "big"])
        for j in panel.judges.indices { panel.judges[j].topLogprobs = 5 }
        panel.tiers = [["c1", "c2"], ["big"]]
        let rubric = try loadRubric("pairwise-mtbench")
        func tier2Items(_ margin: Double?) async throws -> Int {
            panel.escalate = EscalationRule(minMargin: margin)
            var options = panelTestOptions
            options.policy = .cascade
            let r = try await PanelRunner(panel: panel, rubric: rubric, options: options).run(items: items)
            #expect(r.votes.filter { $0.judge == "c1" }.allSatisfy { $0.probs != nil })
            return r.results.filter { $0.votes.contains { $0.judge == "big" } }.count
        }
        // The simulated judge puts 0.9 on its label: margins are 0.9 − (share of 0.1) for A/B and 0 for ties.
        let ties = items.filter { $0.label?.preference == .tie }.count
        #expect(ties > 0)
        #expect(try await tier2Items(nil) == 0)  // agreeing, consistent judges: sure without a margin rule
        #expect(try await tier2Items(0.5) == ties)  // ties have no margin: escalated; A/B kept
        #expect(try await tier2Items(0.99) == items.count)
        await server.stop()
    }

    @Test("score --cascade / --adaptive refuse a panel or rubric they cannot schedule: exit 2, nothing written")
    func policyUsageErrors() async throws {
        let dir = try tempDir("policy-usage")
        let (items, _) = syntheticPairwise(3)
        let itemsPath = try writePairwiseItems(items, dir)
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try "version: 1\njudges:\n  - {name: a, provider: openai, base_url: \"http://127.0.0.1:9/v1\", model: a}\n"
            .write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        for (rubric, flag, words) in [
            ("pairwise-mtbench", "--cascade", "needs a pairwise rubric and 'tiers:'"),
            ("pointwise-1to10", "--adaptive", "'adaptive: {thresholds"),
        ] {
            let r = try await runJudgepanel(
                ["score", itemsPath, "--rubric", "rubrics/\(rubric).yaml", "--panel", panelPath, "--out", out, flag],
                env: ["OPENAI_API_KEY": "x"])
            #expect(r.code == 2, "\(flag)")
            #expect(r.err.contains(panelPath) && r.err.contains(words), "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test("tiers: and escalate: in the panel file; bad tiers name file and line")
    func parseTiers() throws {
        let head = """
            version: 1
            judges:
              - {name: a, provider: openai, base_url: "http://127.0.0.1:1/v1", model: a}
              - {name: b, provider: openai, base_url: "http://127.0.0.1:1/v1", model: b}
              - {name: c, provider: openai, base_url: "http://127.0.0.1:1/v1", model: c}

            """
        let p = try Panel.parse(
            yaml: head + "tiers: [[a, b], [c]]\nescalate: {min_share: 0.9, on_flip: false}\n", file: "p.yaml")
        #expect(p.tiers == [["a", "b"], ["c"]])
        #expect(p.escalate == EscalationRule(minShare: 0.9, onFlip: false))
        #expect(try Panel.parse(yaml: head, file: "p.yaml").tiers == nil)
        let q = try Panel.parse(yaml: head + "adaptive: {thresholds: [5.5, 8], tolerance: 1}\n", file: "p.yaml")
        #expect(q.scoreStopping == ScoreStopping(thresholds: [5.5, 8], tolerance: 1))
        for (bad, words, line) in [
            ("tiers: [[a, b], [x]]\n", "unknown judge 'x'", 6), ("tiers: [[a, b], [b, c]]\n", "more than one tier", 6),
            ("tiers: [[a, b]]\n", "'c' is in no tier", 6), ("tiers: [a, b, c]\n", "non-empty list", 6),
            ("tiers: [[a], [b, c]]\nescalate: {min_share: 1.5}\n", "min_share", 7),
            ("tiers: [[a], [b, c]]\nescalate: {share: 0.5}\n", "unknown key 'share'", 7),
            ("adaptive: {}\n", "thresholds", 6), ("adaptive: {thresholds: [x]}\n", "must be numbers", 6),
        ] {
            do {
                _ = try Panel.parse(yaml: head + bad, file: "p.yaml")
                Issue.record("accepted \(bad)")
            } catch let e as JudgePanelError {
                #expect(e.description.contains(words), "\(e.description)")
                #expect(e.file == "p.yaml" && e.line == line, "\(e.description)")
            }
        }
    }

    @Test("judgepanel plan on the recorded PandaLM fixture: text, JSON, HTML plot; bad input exits 2")
    func planCLI() async throws {
        let dir = try tempDir("plan-cli")
        let html = dir.appendingPathComponent("plan.html").path
        let r = try await runJudgepanel([
            "plan", "fixtures/pandalm-50.votes.jsonl", "--items", "fixtures/pandalm-50.jsonl", "--target-accuracy",
            "0.6",
            "--html", html, "--by", "motivation_app",
        ])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("Pareto frontier"))
        #expect(r.out.contains("slice motivation_app="))
        #expect(r.out.contains("recommended: pandalm-7b (full)"))
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("<polyline") && page.contains("recommended"))
        let j = try await runJudgepanel([
            "plan", "fixtures/pandalm-50.votes.jsonl", "--items", "fixtures/pandalm-50.jsonl", "--json", "--cluster",
            "cmp_key",
        ])
        #expect(j.code == 0, "\(j.err)")
        let report = try JSONValue.parse(j.out)
        #expect(report["candidates"]?.arrayValue?.count == 3 * 2)
        #expect(report["resampling"]?.stringValue == "cluster:cmp_key")
        #expect(report["frontier"]?.arrayValue?.isEmpty == false)
        // No costs recorded: a budget cannot be met honestly.
        let b = try await runJudgepanel([
            "plan", "fixtures/pandalm-50.votes.jsonl", "--items", "fixtures/pandalm-50.jsonl", "--budget", "1",
        ])
        #expect(b.code == 2)
        #expect(b.err.contains("--budget needs costs"))
        let unlabeled = dir.appendingPathComponent("items.jsonl").path
        try "{\"id\":\"0\",\"prompt\":\"p\",\"response_a\":\"a\",\"response_b\":\"b\"}\n".write(
            toFile: unlabeled, atomically: true, encoding: .utf8)
        let u = try await runJudgepanel(["plan", "fixtures/pandalm-50.votes.jsonl", "--items", unlabeled])
        #expect(u.code == 2)
        #expect(u.err.contains(unlabeled) && u.err.contains("no pairwise human label"))
    }
}

/// Requests the votes' calls sent (first tries, retries and repair re-asks).
func attempts(_ votes: [Vote]) -> Int {
    votes.map { $0.attempts ?? 0 }.reduce(0, +)
}
