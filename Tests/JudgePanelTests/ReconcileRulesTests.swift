import Foundation
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore

/// The one home of the reconciliation rules (issue 24): the counts-based rules agree with the rule written over
/// `Vote` lists, the compact vote's packed fields read back as written, and the typed states map the providers' words.
@Suite struct ReconcileRulesTests {
    /// The pairwise rule as written before the rules had one home: filters over `Vote` values.
    static func reference(_ votes: [Vote], flip: FlipPolicy) -> JudgeVerdict {
        let ok = votes.filter(\.isOK)
        let ab = Preference.majority(ok.filter { $0.order != .ba }.compactMap(\.verdict))
        let ba = Preference.majority(ok.filter { $0.order == .ba }.compactMap(\.verdict))
        switch (ab, ba) {
        case (let x?, let y?):
            return x == y ? JudgeVerdict(verdict: x) : JudgeVerdict(verdict: flip == .tie ? .tie : nil, flipped: true)
        case (let x?, nil): return JudgeVerdict(verdict: x)
        case (nil, let y?): return JudgeVerdict(verdict: y)
        default: return JudgeVerdict()
        }
    }

    @Test func majorityOverCountsIsTheMajorityOverPreferences() {
        for a in 0...4 {
            for b in 0...4 {
                for t in 0...4 {
                    let prefs =
                        [Preference](repeating: .a, count: a) + [Preference](repeating: .b, count: b)
                        + [Preference](repeating: .tie, count: t)
                    let counts = PreferenceCounts(a: Int32(a), b: Int32(b), tie: Int32(t))
                    #expect(counts.majority == Preference.majority(prefs), "\(a) A, \(b) B, \(t) tie")
                }
            }
        }
    }

    @Test func pairwiseSamplesReconcileAsTheVoteRule() {
        // Every vote shape a judge can give one item: order none/AB/BA, status ok/abstain/error, verdict A/B/tie.
        var shapes: [Vote] = []
        for order in [nil, Order.ab, .ba] {
            for p in Preference.allCases {
                shapes.append(Vote(item: "i", judge: "j", protocol: .pairwise, order: order, verdict: p))
            }
            shapes.append(Vote(item: "i", judge: "j", protocol: .pairwise, order: order, status: .abstain))
            shapes.append(Vote(item: "i", judge: "j", protocol: .pairwise, order: order, verdict: .a, status: .error))
        }
        // Every list of up to three of them (order matters to neither rule; repeats are samples).
        var lists: [[Vote]] = [[]]
        var longest: [[Vote]] = [[]]
        for _ in 0..<3 {
            longest = longest.flatMap { l in shapes.map { l + [$0] } }
            lists += longest
        }
        for votes in lists {
            var samples = PairwiseSamples()
            for v in votes { samples.add(v) }
            for flip in FlipPolicy.allCases {
                #expect(samples.verdict(flip: flip) == Self.reference(votes, flip: flip))
                #expect(Reconcile.judge(votes, kind: .pairwise, flip: flip) == Self.reference(votes, flip: flip))
            }
            // Position statistics: each order's own majority (AB: order AB only), asked unless every vote failed.
            let answered = votes.filter(\.isOK)
            #expect(
                samples.orderMajorities.ab
                    == Preference.majority(answered.filter { $0.order == .ab }.compactMap(\.verdict)))
            #expect(
                samples.orderMajorities.ba
                    == Preference.majority(answered.filter { $0.order == .ba }.compactMap(\.verdict)))
            #expect(samples.askedAB == votes.contains { $0.order == .ab && $0.status != .error })
            #expect(samples.askedBA == votes.contains { $0.order == .ba && $0.status != .error })
        }
    }

    @Test func netCorrectCountsOrdersForAndAgainstTheLabel() {
        #expect(PairwiseRule.netCorrect(ab: .a, ba: .a, label: .a))
        #expect(PairwiseRule.netCorrect(ab: .a, ba: .tie, label: .a))
        #expect(!PairwiseRule.netCorrect(ab: .a, ba: .b, label: .a))
        #expect(!PairwiseRule.netCorrect(ab: .tie, ba: .tie, label: .a))
        #expect(PairwiseRule.netCorrect(ab: .tie, ba: nil, label: .tie))
        #expect(!PairwiseRule.netCorrect(ab: .a, ba: .b, label: .tie))
        #expect(!PairwiseRule.netCorrect(ab: nil, ba: nil, label: .b))
    }

    @Test func pointwiseSamplesAverageTheAnsweredScores() {
        var s = PointwiseSamples()
        #expect(s.mean == nil)
        s.add(status: .ok, score: 2)
        s.add(status: .abstain, score: 9)
        s.add(status: .ok, score: nil)
        s.add(status: .ok, score: 5)
        #expect(s.mean == 3.5)
    }

    @Test func compactVoteFieldsReadBackAsPacked() {
        for verdict in [CompactVote.VerdictCode.none, .a, .b, .tie] {
            for order in [CompactVote.OrderCode.none, .ab, .ba] {
                for status in [CompactVote.StatusCode.ok, .abstain, .error] {
                    for reason in [CompactVote.ReasonCode.other, .refusal, .length] {
                        let v = CompactVote(
                            item: 7, judge: 3, verdict: verdict, order: order, status: status, reason: reason,
                            flags: [.live, .logprobsUnavailable])
                        #expect(v.verdict?.rawValue == [nil, "A", "B", "tie"][Int(verdict.rawValue)])
                        #expect(v.order?.rawValue == [nil, "AB", "BA"][Int(order.rawValue)])
                        #expect(v.status.rawValue == ["ok", "abstain", "error"][Int(status.rawValue)])
                        #expect(v.isRefusal == (reason == .refusal) && v.isLengthStop == (reason == .length))
                        #expect(v.live && v.logprobsUnavailable && !v.hasCost)
                    }
                }
            }
        }
        #expect(MemoryLayout<CompactVote>.size == 8)
    }

    @Test func backendsNormaliseTheirProvidersStates() {
        let openAI: [(String, BatchState)] = [
            ("validating", .running), ("in_progress", .running), ("finalizing", .running), ("cancelling", .cancelling),
            ("completed", .ended), ("failed", .failed), ("expired", .expired), ("cancelled", .cancelled),
            ("canceled", .cancelled),
        ]
        for (word, state) in openAI { #expect(OpenAIBatchBackend.phase(word) == state, "\(word)") }
        for (word, state) in [("in_progress", BatchState.running), ("canceling", .cancelling), ("ended", .ended)] {
            #expect(AnthropicBatchBackend.phase(word) == state, "\(word)")
        }
        let gemini: [(String, Bool, BatchState)] = [
            ("BATCH_STATE_PENDING", true, .running), ("BATCH_STATE_RUNNING", false, .running),
            ("BATCH_STATE_SUCCEEDED", true, .ended), ("JOB_STATE_FAILED", true, .failed),
            ("BATCH_STATE_CANCELLED", true, .cancelled), ("BATCH_STATE_EXPIRED", true, .expired),
            ("BATCH_STATE_UNSPECIFIED", true, .ended), ("BATCH_STATE_UNSPECIFIED", false, .running),
        ]
        for (word, done, state) in gemini { #expect(GeminiBatchBackend.phase(word, done: done) == state, "\(word)") }
        let states: [BatchState] = [.running, .cancelling, .ended, .failed, .expired, .cancelled]
        #expect(states.filter(\.isTerminal) == [.ended, .failed, .expired, .cancelled])
    }

    @Test func logprobAvailabilityKeepsItsJSONValue() throws {
        var v = Vote(item: "i", judge: "j", protocol: .pairwise, verdict: .a)
        v.logprobs = .unavailable
        let line = try VotesFile.line(v)
        #expect(line.contains("\"logprobs\":\"unavailable\""))
        let back = try JSONDecoder().decode(Vote.self, from: Data(line.utf8))
        #expect(back.logprobs == .unavailable)
        let other = try JSONDecoder().decode(
            Vote.self, from: Data(#"{"item":"i","judge":"j","verdict":"A","logprobs":"partial"}"#.utf8))
        #expect(other.logprobs?.rawValue == "partial")
    }

    @Test func voteTotalsNameTheCountsOnce() {
        var t = VoteTotals()
        var v = Vote(item: "i", judge: "j", protocol: .pairwise, verdict: .a)
        v.costUSD = 0.25
        t.add(v)
        t.add(Vote(item: "i", judge: "j", protocol: .pairwise, status: .abstain))
        t.add(Vote(item: "i", judge: "j", protocol: .pairwise, status: .error))
        #expect(t.votes == 3 && t.ok == 1 && t.abstentions == 1 && t.errors == 1 && t.costUSD == 0.25)
    }
}
