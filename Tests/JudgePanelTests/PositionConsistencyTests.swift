import Foundation
import JudgePanel
import JudgeStats
import Testing

@Suite("Position consistency: one definition in meta and the position probe")
struct PositionConsistencyTests {
    /// Four items asked in both orders: agree, disagree, one order abstained, both abstained.
    static let orders: [(Preference?, Preference?)] = [(.a, .a), (.a, .b), (.b, nil), (nil, nil)]

    @Test func statsFunction() {
        let pc = positionConsistencyOverAsked(ab: Self.orders.map(\.0), ba: Self.orders.map(\.1))
        #expect(pc.asked == 4 && pc.consistent == 1 && pc.answeredBoth == 2 && pc.bothAbstained == 1)
        #expect(pc.consistency.value == 0.25 && pc.answered.value == 0.5)
        // The answered-only share is the older function.
        #expect(positionConsistency(ab: Self.orders.map(\.0), ba: Self.orders.map(\.1)).value == 0.5)
        #expect(positionConsistencyOverAsked(ab: [], ba: []).consistency.value == nil)
    }

    static func votes() -> [Vote] {
        var out: [Vote] = []
        for (i, (ab, ba)) in Self.orders.enumerated() {
            for (order, p) in [(Order.ab, ab), (.ba, ba)] {
                var v = Vote(item: "i\(i)", judge: "j", protocol: .pairwise, order: order, verdict: p)
                if p == nil {
                    v.status = .abstain
                    v.reason = .unparsed
                }
                out.append(v)
            }
        }
        // A failed call is not an order asked: item i4 has only its AB answer counted.
        out.append(Vote(item: "i4", judge: "j", protocol: .pairwise, order: .ab, verdict: .a))
        var failed = Vote(item: "i4", judge: "j", protocol: .pairwise, order: .ba, status: .error)
        failed.reason = .timeout
        out.append(failed)
        return out
    }

    @Test func metaReportsBothShares() throws {
        let items = (0..<5).map { i -> Item in
            var item = Item(id: "i\(i)")
            item.label = .pairwise(.a)
            return item
        }
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: items, votes: Self.votes())
        let j = try #require(report.judges.first)
        #expect(j.positionAsked == 4 && j.positionBothAbstained == 1)
        #expect(j.positionConsistency?.value == 0.25 && j.positionConsistencyAnswered?.value == 0.5)
        // Recorded votes without provider calls and without refusal/length reasons: the rates do not apply.
        #expect(j.refusalRate == nil && j.lengthRate == nil)
        // flip tie: i0 A ✓, i1 tie ✗, i2 B ✗, i3 – ✗, i4 A ✓ → 2/5; flip abstain the same here (no tie label);
        // JudgeBench's net score: i0 +2, i1 0, i2 −1, i3 0, i4 +1 → 2/5.
        #expect(j.accuracyFlipTie?.value == 0.4 && j.accuracyFlipAbstain?.value == 0.4 && j.accuracyNet?.value == 0.4)
    }

    @Test func probeFlipRateIsOneMinusConsistency() throws {
        let votes = Self.votes()
        let items = (0..<5).map { Item(id: "i\($0)") }
        let baseline = items.map { item -> ItemOutcome in
            let mine = votes.filter { $0.item == item.id }
            var byOrder: [Order: [String: Preference]] = [:]
            for v in mine where v.isOK { byOrder[v.order!, default: [:]]["j"] = v.verdict }
            let jv = Reconcile.judge(mine, kind: .pairwise, flip: .tie)
            return ItemOutcome(
                judges: ["j": jv], panel: Verdict(item: item.id, verdict: jv.verdict), judgesByOrder: byOrder,
                panelByOrder: byOrder.mapValues { $0["j"]! },
                askedOrders: ["j": Set(mine.filter { $0.status != .error }.compactMap(\.order))])
        }
        let data = ProbeData(
            kind: .pairwise, items: items, judges: ["j"], baseline: baseline, perturbed: items.map { _ in nil },
            targets: items.map { _ in nil }, resamples: 50)
        let results = ProbeMetrics.position(data, probe: "position")
        let judge = try #require(results.first { $0.judge == "j" })
        #expect(judge.n == 4 && judge.flipRate == 0.75)
        let panel = try #require(results.first { $0.judge == ProbeData.panelName })
        #expect(panel.n == 4 && panel.flipRate == 0.75)
    }
}

@Suite("Refusal and length rates")
struct RefusalLengthRateTests {
    @Test func liveVotesCountReasons() throws {
        let items = (0..<4).map { i -> Item in
            var item = Item(id: "i\(i)")
            item.label = .pairwise(.a)
            return item
        }
        func live(_ item: String, _ judge: String, _ reason: VoteReason?) -> Vote {
            var v = Vote(item: item, judge: judge, protocol: .pairwise, order: .ab, verdict: reason == nil ? .a : nil)
            v.attempts = 1
            if let reason {
                v.status = .abstain
                v.reason = reason
            }
            return v
        }
        let votes = [
            live("i0", "x", .refusal), live("i1", "x", .length), live("i2", "x", .length), live("i3", "x", nil),
            live("i0", "y", nil), live("i1", "y", nil), live("i2", "y", .unparsed), live("i3", "y", nil),
        ]
        let report = MetaAnalysis(options: .init(resamples: 10)).report(items: items, votes: votes)
        let x = try #require(report.judges.first { $0.judge == "x" })
        let y = try #require(report.judges.first { $0.judge == "y" })
        #expect(x.refusalRate?.value == 0.25 && x.lengthRate?.value == 0.5)
        // Live calls with no refusal: the rate applies and is 0, not absent.
        #expect(y.refusalRate?.value == 0 && y.lengthRate?.value == 0)
        // Recorded votes that note a refusal reason also get the rates.
        var recorded = Vote(item: "i0", judge: "z", protocol: .pairwise, status: .abstain)
        recorded.reason = .refusal
        let z = try #require(
            MetaAnalysis(options: .init(resamples: 10)).report(
                items: items, votes: [recorded, Vote(item: "i1", judge: "z", protocol: .pairwise, verdict: .a)]
            ).judges.first)
        #expect(z.refusalRate?.value == 0.5 && z.lengthRate?.value == 0)
    }
}

@Suite("Flip conventions in the report")
struct FlipConventionReportTests {
    /// A flip on a tie-labelled item is correct under `flip: tie` and a miss under `flip: abstain` (Auto-J's table is
    /// the abstain convention): both accuracies are in the JSON, the other one printed where they differ, and the
    /// conventions section names the policy behind `accuracy`.
    @Test(arguments: [FlipPolicy.tie, .abstain])
    func bothConventionsReported(flip: FlipPolicy) throws {
        let labels: [Preference] = [.tie, .a, .a, .b]
        let items = labels.enumerated().map { i, l -> Item in
            var item = Item(id: "i\(i)")
            item.label = .pairwise(l)
            return item
        }
        // i0: flip on a tie label; i1: both A; i2: flip; i3: both B.
        let orders: [(Preference, Preference)] = [(.a, .b), (.a, .a), (.b, .a), (.b, .b)]
        let votes = orders.enumerated().flatMap { i, o in
            [
                Vote(item: "i\(i)", judge: "j", protocol: .pairwise, order: .ab, verdict: o.0),
                Vote(item: "i\(i)", judge: "j", protocol: .pairwise, order: .ba, verdict: o.1),
            ]
        }
        let report = MetaAnalysis(options: .init(flip: flip, resamples: 10)).report(items: items, votes: votes)
        let j = try #require(report.judges.first)
        #expect(j.accuracyFlipTie?.value == 0.75 && j.accuracyFlipAbstain?.value == 0.5)
        #expect(j.accuracy?.value == (flip == .tie ? 0.75 : 0.5))
        // JudgeBench's net score: i0 (label tie) 0, i1 +2, i2 0, i3 +2.
        #expect(j.accuracyNet?.value == 0.5)
        #expect(report.panel?.accuracyFlipTie?.value == 0.75 && report.panel?.accuracyFlipAbstain?.value == 0.5)
        let conventions = try #require(report.conventions)
        #expect(conventions.flip.hasPrefix(flip.rawValue + ":"))
        #expect(conventions.bootstrapUnit.hasPrefix("item"))
        let text = ReportText.terminal(report)
        #expect(text.contains(flip == .tie ? "acc flip=abstain" : "acc flip=tie"))
        #expect(text.contains("flip convention (accuracy): \(flip.rawValue):"))
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        for key in [
            "\"conventions\"", "\"human_label\"", "\"bootstrap_unit\"", "\"accuracy_flip_tie\"",
            "\"accuracy_flip_abstain\"",
        ] {
            #expect(json.contains(key))
        }
    }
}
