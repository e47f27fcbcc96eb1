import JudgeStats
import Testing

@Suite("Accuracy and pairwise-preference metrics (hand-checked)")
struct PairwiseTests {
    @Test func accuracyCountsAbstentionsAsMisses() {
        let predicted: [Preference?] = [.a, nil, .b, .a]
        let truth: [Preference?] = [.a, .a, .a, nil]
        #expect(accuracy(predicted, truth).value == 1.0 / 3)
        #expect(answeredAccuracy(predicted, truth).value == 0.5)
        #expect(coverage(predicted, truth).value == 2.0 / 3)
        #expect(accuracy([Preference?](), []).value == nil)
        #expect(accuracy([Preference.a], [nil, .b]).reason == "length mismatch")
        #expect(answeredAccuracy([nil, nil], [Preference.a, .b]).value == nil)
    }

    @Test func mtBenchAgreementWithAndWithoutTies() {
        let judge: [Preference?] = [.a, .b, .tie, .a, nil, .b]
        let human: [Preference?] = [.a, .a, .tie, .tie, .b, .b]
        #expect(mtBenchAgreement(judge: judge, human: human, includeTies: true).value == 0.6)
        #expect(mtBenchAgreement(judge: judge, human: human, includeTies: false).value == 2.0 / 3)
        let undefined = mtBenchAgreement(judge: [.tie, nil], human: [.a, .b], includeTies: false)
        #expect(undefined.value == nil && undefined.reason != nil)
        #expect(mtBenchAgreement(judge: [.a], human: [], includeTies: true).value == nil)
    }

    @Test func alwaysFirstSlotJudge() {
        // Always picks whichever answer is shown first: A in the AB order, B in the BA order.
        let ab = [Preference?](repeating: .a, count: 10)
        let ba = [Preference?](repeating: .b, count: 10)
        #expect(positionConsistency(ab: ab, ba: ba).value == 0)
        #expect(firstSlotRate(ab: ab, ba: ba).value == 1)
        // Always picks the second slot.
        #expect(firstSlotRate(ab: ba, ba: ab).value == 0)
    }

    @Test func consistentJudge() {
        let votes: [Preference?] = [.a, .b, .a, nil]
        #expect(positionConsistency(ab: votes, ba: votes).value == 1)
        // AB: A, B, A → 2 first-slot; BA: A, B, A → 1 first-slot (B); 3 of 6.
        #expect(firstSlotRate(ab: votes, ba: votes).value == 0.5)
    }

    @Test func tiesAndMissingVotes() {
        #expect(positionConsistency(ab: [.a, .tie, nil, .b], ba: [.a, .a, .b, nil]).value == 0.5)
        #expect(firstSlotRate(ab: [.tie, .a], ba: [.tie, .tie]).value == 1)
        let allTies = firstSlotRate(ab: [.tie], ba: [.tie, nil])
        #expect(allTies.value == nil && allTies.reason != nil)
        #expect(positionConsistency(ab: [nil], ba: [.a]).value == nil)
        #expect(positionConsistency(ab: [.a], ba: []).value == nil)
    }

    @Test func kappaOnPreferences() {
        let y: [Preference] = [.a, .b, .tie, .a, .b]
        #expect(cohenKappa(y, y).value == 1)
        let one = cohenKappa([Preference.a, .a], [.a, .a])
        #expect(one.value == nil && one.reason != nil)
        #expect(cohenKappa([Preference](), []).value == nil)
        #expect(cohenKappa([Preference.a], [.a, .b]).reason == "length mismatch")
        #expect(cohenKappa([1, 2], [1, 2], labels: [1, 1]).value == nil)
    }

    @Test func kappaFromConfusionMatrix() {
        // 2×2: po = 0.7, pe = 0.5 → κ = 0.4.
        #expect(abs(cohenKappa(confusion: [[20, 5], [10, 15]]).value! - 0.4) < 1e-12)
        #expect(cohenKappa(confusion: [[1, 2]]).value == nil)
        #expect(cohenKappa(confusion: [[0, 0], [0, 0]]).value == nil)
    }

    @Test func fleissUnequalRaterCounts() {
        // The generalisation skips items with fewer than two ratings.
        let withSingles = fleissKappa(table: [[2, 0], [0, 2], [1, 0], [0, 0], [1, 1]])
        let without = fleissKappa(table: [[2, 0], [0, 2], [1, 1]])
        #expect(withSingles == without)
        #expect(without.value != nil)
        #expect(fleissKappa(table: []).value == nil)
        #expect(fleissKappa(table: [[1, 0], [0, 1]]).value == nil)
        #expect(fleissKappa(table: [[2, 0], [1]]).reason == "rows differ in length")
    }

    @Test func correlationsOnLargeInput() {
        // Kendall's τ-b in O(n log n) agrees with the O(n²) definition.
        var rng = SeededGenerator(seed: 7)
        let x = (0..<400).map { _ in Double(rng.nextIndex(below: 6)) }
        let y = x.map { $0 + Double(rng.nextIndex(below: 4)) }
        var con = 0
        var dis = 0
        var tx = 0
        var ty = 0
        for i in 0..<x.count {
            for j in (i + 1)..<x.count {
                let s = (x[i] - x[j]) * (y[i] - y[j])
                if s > 0 {
                    con += 1
                } else if s < 0 {
                    dis += 1
                } else if x[i] == x[j] && y[i] != y[j] {
                    tx += 1
                } else if y[i] == y[j] && x[i] != x[j] {
                    ty += 1
                }
            }
        }
        let tau = Double(con - dis) / (Double(con + dis + tx) * Double(con + dis + ty)).squareRoot()
        #expect(abs(kendallTauB(x, y).value! - tau) < 1e-12)
        #expect(pearson([1, .nan], [1, 2]).value == nil)
        #expect(spearman([1, 2, 3], [1, 2]).reason == "length mismatch")
    }
}
