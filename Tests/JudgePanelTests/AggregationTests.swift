import JudgePanel
import JudgeStats
import Testing

@Suite("Reconciliation and aggregation")
struct AggregationTests {
    func jv(_ p: Preference?) -> JudgeVerdict { JudgeVerdict(verdict: p) }

    @Test("strict majority: most votes win; an even split is a tie, never broken by list order")
    func majority() {
        #expect(Reconcile.majority([.a, .a, .b]) == .a)
        #expect(Reconcile.majority([.a, .b]) == .tie)
        #expect(Reconcile.majority([.b, .a]) == .tie)
        #expect(Reconcile.majority([.a, .tie]) == .tie)
        #expect(Reconcile.majority([.b, .b, .a, .a, .tie]) == .tie)
        #expect(Reconcile.majority([]) == nil)
        #expect(Reconcile.majority([.a, .b, .b], weights: [3, 1, 1]) == .a)
    }

    @Test("abstentions are left out of the majority and listed")
    func abstentionAware() {
        let agg = Aggregator(method: .majority)
        let v = agg.aggregate(item: "i", judges: [("x", jv(.a)), ("y", jv(nil)), ("z", jv(nil))], kind: .pairwise)
        #expect(v.verdict == .a)
        #expect(v.abstained == ["y", "z"])
        #expect(v.agreement == 1)
        let split = agg.aggregate(item: "i", judges: [("x", jv(.a)), ("y", jv(.b)), ("z", jv(nil))], kind: .pairwise)
        #expect(split.verdict == .tie)
        #expect(split.confidence == 0.5)
        let none = agg.aggregate(item: "i", judges: [("x", jv(nil))], kind: .pairwise)
        #expect(none.verdict == nil)
    }

    @Test("mean and median pooling of scores, ignoring abstentions")
    func pooling() {
        let judges: [(name: String, verdict: JudgeVerdict)] = [
            ("a", JudgeVerdict(score: 2)), ("b", JudgeVerdict(score: 3)), ("c", JudgeVerdict(score: 10)),
            ("d", JudgeVerdict()),
        ]
        #expect(Aggregator(method: .mean).aggregate(item: "i", judges: judges, kind: .pointwise).score == 5)
        #expect(Aggregator(method: .median).aggregate(item: "i", judges: judges, kind: .pointwise).score == 3)
        let even = Array(judges.prefix(2)) + [("e", JudgeVerdict(score: 9)), ("f", JudgeVerdict(score: 10))]
        #expect(Aggregator(method: .median).aggregate(item: "i", judges: even, kind: .pointwise).score == 6)
        #expect(
            Aggregator(method: .weighted, weights: ["a": 3, "b": 1, "c": 0]).aggregate(
                item: "i", judges: judges, kind: .pointwise
            ).score == 2.25)
    }

    @Test("swap reconciliation under both flip policies")
    func swap() {
        func vote(_ o: Order, _ p: Preference) -> Vote {
            Vote(item: "i", judge: "j", protocol: .pairwise, order: o, verdict: p)
        }
        let agree = Reconcile.judge([vote(.ab, .a), vote(.ba, .a)], kind: .pairwise, flip: .tie)
        #expect(agree.verdict == .a && !agree.flipped)
        let flipTie = Reconcile.judge([vote(.ab, .a), vote(.ba, .b)], kind: .pairwise, flip: .tie)
        #expect(flipTie.verdict == .tie && flipTie.flipped)
        let flipAbstain = Reconcile.judge([vote(.ab, .a), vote(.ba, .b)], kind: .pairwise, flip: .abstain)
        #expect(flipAbstain.verdict == nil && flipAbstain.flipped)
        var abstained = vote(.ba, .b)
        abstained.status = .abstain
        abstained.verdict = nil
        #expect(Reconcile.judge([vote(.ab, .a), abstained], kind: .pairwise, flip: .abstain).verdict == .a)
    }
}
