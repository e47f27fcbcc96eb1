import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

@Suite("Swap mapping and panel runs against the fake server")
struct SwapAndRunnerTests {
    @Test("a judge that always answers the first slot: consistency 0, first-slot rate 1")
    func alwaysFirst() async throws {
        let (items, _) = syntheticPairwise(40)
        let server = try await startPanelFake(["first": SimulatedJudge.alwaysFirst.handler])
        let panel = await fakePanel(server, judges: ["first"])
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: items)
        await server.stop()
        #expect(result.votes.count == 80)
        #expect(result.votes.allSatisfy { $0.isOK })
        // Shown-first is A in AB and B in BA: mapped back, the two orders always disagree.
        #expect(result.votes.filter { $0.order == .ab }.allSatisfy { $0.verdict == .a })
        #expect(result.votes.filter { $0.order == .ba }.allSatisfy { $0.verdict == .b })
        let report = MetaAnalysis().report(items: items, votes: result.votes)
        let m = try #require(report.judges.first)
        #expect(m.positionConsistency?.value == 0)
        #expect(m.firstSlotRate?.value == 1)
        // flip: tie turns every flipped pair into a tie.
        #expect(result.verdicts.allSatisfy { $0.verdict == .tie && $0.flips == ["first"] })
    }

    @Test("a judge that always picks the truly better answer: consistency 1, accuracy 1")
    func oracle() async throws {
        let (items, quality) = syntheticPairwise(40)
        let server = try await startPanelFake(["oracle": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler]
        )
        let panel = await fakePanel(server, judges: ["oracle"])
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: items)
        await server.stop()
        let m = try #require(MetaAnalysis().report(items: items, votes: result.votes).judges.first)
        #expect(m.positionConsistency?.value == 1)
        #expect(m.accuracy?.value == 1)
        #expect(m.voteAccuracy?.value == 1)
        #expect(m.cohenKappa?.value == 1)
        let ci = try #require(m.accuracyCI)
        #expect(ci.lo == 1 && ci.hi == 1)
    }

    @Test("flip: abstain makes a flipped judge abstain; the panel majority ignores it")
    func flipAbstain() async throws {
        let (items, quality) = syntheticPairwise(20)
        let server = try await startPanelFake([
            "first": SimulatedJudge.alwaysFirst.handler,
            "oracle": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
        ])
        let panel = await fakePanel(server, judges: ["first", "oracle"], flip: .abstain)
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: items)
        await server.stop()
        for (item, verdict) in zip(items, result.verdicts) {
            #expect(verdict.abstained == ["first"])
            #expect(verdict.verdict == item.label?.preference)
            #expect(verdict.judges["first"] == .null)
        }
    }

    @Test("an unparseable answer gets one repair re-ask, then becomes an abstention with its raw text")
    func repairThenAbstain() async throws {
        let item = Item(id: "x", prompt: "Q?", responseA: "a", responseB: "b", label: .pairwise(.a))
        let server = try await startPanelFake(["mumbler": { _ in .text("I cannot decide, both are fine.") }])
        let panel = await fakePanel(server, judges: ["mumbler"], swap: false)
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: [item])
        let calls = await server.requestCount()
        await server.stop()
        #expect(calls == 2)
        let vote = try #require(result.votes.first)
        #expect(vote.status == .abstain)
        #expect(vote.verdict == nil)
        #expect(vote.raw?.contains("I cannot decide") == true)
        #expect(result.verdicts[0].verdict == nil)
        #expect(result.verdicts[0].abstained == ["mumbler"])
    }

    @Test("a repaired answer counts, marked repaired")
    func repairSucceeds() async throws {
        let item = Item(id: "x", prompt: "Q?", responseA: "a", responseB: "b")
        let server = try await startPanelFake([
            "late": FakeProviderServer.sequence([.text("hmm")], then: .text("[[B]]"))
        ])
        let panel = await fakePanel(server, judges: ["late"], swap: false)
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: [item])
        await server.stop()
        #expect(result.votes[0].verdict == .b)
        #expect(result.votes[0].repaired == true)
    }

    @Test("pointwise scores are read from [[n]] and pooled by mean and median")
    func pointwise() async throws {
        let items = (0..<6).map {
            Item(id: "p\($0)", prompt: "Q\($0)", response: "answer \($0)", label: .score(Double($0 + 2)))
        }
        let server = try await startPanelFake([
            "low": { _ in .text("Rating: [[3]]") }, "mid": { _ in .text("Rating: [[5]]") },
            "high": { _ in .text("Rating: [[10]]") },
        ])
        for (method, expected) in [(AggregationMethod.mean, 6.0), (.median, 5.0)] {
            let panel = await fakePanel(server, judges: ["low", "mid", "high"], aggregate: method)
            let result = try await PanelRunner(
                panel: panel, rubric: try loadRubric("pointwise-1to10"), options: panelTestOptions
            )
            .run(items: items)
            #expect(result.verdicts.allSatisfy { $0.score == expected })
            #expect(result.votes.allSatisfy { $0.order == nil && $0.protocol == .pointwise })
        }
        await server.stop()
    }

    @Test("a client error becomes an error vote with its reason; the run continues")
    func errorVote() async throws {
        let (items, quality) = syntheticPairwise(5)
        let server = try await startPanelFake([
            "broken": { _ in .status(400, body: "{\"error\":{\"message\":\"bad request\"}}") },
            "oracle": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
        ])
        let panel = await fakePanel(server, judges: ["broken", "oracle"])
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions
        )
        .run(items: items)
        await server.stop()
        let broken = result.votes.filter { $0.judge == "broken" }
        #expect(broken.count == 10)
        #expect(broken.allSatisfy { $0.status == .error && ($0.error ?? "").contains("400") })
        #expect(result.verdicts.map(\.verdict) == items.map { $0.label?.preference })
    }
}
