import JudgePanelCore
import JudgeStats

// The one home of the reconciliation rules. `Reconcile.judge` (the live run, probes, cascades), the votes-file
// digest (`VoteTally`) and the compact columns of a large votes file (`VoteDigest.compact`) all fill these values
// from their own decoding and ask them for the verdict, so a rule changes in one place. Everything here is plain
// values and `@inlinable`: the compact reader calls it once per vote and per (item, judge) without allocating.

/// How many answered samples preferred A, B or a tie.
package struct PreferenceCounts: Sendable, Hashable {
    package var a: Int32
    package var b: Int32
    package var tie: Int32

    @inlinable
    package init(a: Int32 = 0, b: Int32 = 0, tie: Int32 = 0) {
        self.a = a
        self.b = b
        self.tie = tie
    }

    /// No answered sample.
    @inlinable
    package var isEmpty: Bool { a == 0 && b == 0 && tie == 0 }

    /// Counts one answered sample.
    @inlinable
    package mutating func add(_ p: Preference) {
        switch p {
        case .a: a += 1
        case .b: b += 1
        case .tie: tie += 1
        }
    }

    /// The strict majority: the most frequent preference wins, a tie at the top is a tie, no sample is nil
    /// (``Preference/majority(_:weights:)`` without weights, over counts).
    @inlinable
    package var majority: Preference? {
        let top = Swift.max(a, b, tie)
        guard top > 0 else { return nil }
        if a == top { return b == top || tie == top ? .tie : .a }
        if b == top { return tie == top ? .tie : .b }
        return .tie
    }

    @inlinable
    package static func + (l: PreferenceCounts, r: PreferenceCounts) -> PreferenceCounts {
        PreferenceCounts(a: l.a + r.a, b: l.b + r.b, tie: l.tie + r.tie)
    }
}

/// One judge's pairwise votes on one item, as the rules need them: the answered samples of each order and which
/// orders were asked. Each reader adds its votes (``add(order:status:verdict:)``), then asks for the verdict.
package struct PairwiseSamples: Sendable, Hashable {
    /// Answered samples shown without an order (imported verdicts): reconciled with the AB side.
    package var unordered = PreferenceCounts()
    /// Answered samples shown in the dataset's orientation.
    package var ab = PreferenceCounts()
    /// Answered samples shown swapped.
    package var ba = PreferenceCounts()
    /// The AB order was asked: it has a vote that is not a failed call (an abstention was asked).
    package var askedAB = false
    /// The BA order was asked (as ``askedAB``).
    package var askedBA = false

    @inlinable
    package init() {}

    /// Adds one vote: an `ok` vote with a verdict is an answered sample of its order; any vote but a failed call
    /// marks its order as asked.
    @inlinable
    package mutating func add(order: Order?, status: VoteStatus, verdict: Preference?) {
        if status != .error {
            switch order {
            case .ab?: askedAB = true
            case .ba?: askedBA = true
            case nil: break
            }
        }
        guard status == .ok, let verdict else { return }
        switch order {
        case nil: unordered.add(verdict)
        case .ab?: ab.add(verdict)
        case .ba?: ba.add(verdict)
        }
    }

    /// Adds one vote (``add(order:status:verdict:)``).
    @inlinable
    package mutating func add(_ v: Vote) { add(order: v.order, status: v.status, verdict: v.verdict) }

    /// The judge's reconciled verdict under `flip`: each order's samples by strict majority (a vote without an order
    /// counts as AB), then the two orders by ``PairwiseRule/reconcile(ab:ba:flip:)``.
    @inlinable
    package func verdict(flip: FlipPolicy) -> JudgeVerdict {
        PairwiseRule.reconcile(ab: (unordered + ab).majority, ba: ba.majority, flip: flip)
    }

    /// The majority of each order's own samples (AB: order AB only), as position consistency compares them.
    @inlinable
    package var orderMajorities: (ab: Preference?, ba: Preference?) { (ab.majority, ba.majority) }

    /// Both orders were asked.
    @inlinable
    package var askedBoth: Bool { askedAB && askedBA }
}

/// The pairwise rules over reconciled per-order preferences.
package enum PairwiseRule {
    /// The two orders' majorities combined under the flip policy: agreeing orders give their preference; if both
    /// answered and disagree the judge flipped and counts as a tie (`flip: tie`) or abstains (`flip: abstain`); if
    /// only one order answered, that order stands; if neither, the judge abstains.
    @inlinable
    package static func reconcile(ab: Preference?, ba: Preference?, flip: FlipPolicy) -> JudgeVerdict {
        switch (ab, ba) {
        case (let x?, let y?):
            return x == y ? JudgeVerdict(verdict: x) : JudgeVerdict(verdict: flip == .tie ? .tie : nil, flipped: true)
        case (let x?, nil), (nil, let x?): return JudgeVerdict(verdict: x)
        case (nil, nil): return JudgeVerdict()
        }
    }

    /// JudgeBench's two-order score of one labelled item: +1 per order whose majority is the label, −1 per order
    /// that prefers the other response (a tie on either side neither gains nor loses against a non-tie label); the
    /// item counts as correct when the sum is positive.
    @inlinable
    package static func netCorrect(ab: Preference?, ba: Preference?, label t: Preference) -> Bool {
        @inline(__always) func score(_ p: Preference?) -> Int {
            guard let p else { return 0 }
            if p == t { return 1 }
            return t != .tie && p != .tie ? -1 : 0
        }
        return score(ab) + score(ba) > 0
    }
}

/// One judge's pointwise samples on one item: the mean of the answered scores.
package struct PointwiseSamples: Sendable, Hashable {
    /// Sum of the answered scores, in the order added.
    package var sum = 0.0
    /// Answered scores.
    package var count = 0

    @inlinable
    package init() {}

    /// Adds one vote: an `ok` vote's score is a sample.
    @inlinable
    package mutating func add(status: VoteStatus, score: Double?) {
        guard status == .ok, let score else { return }
        sum += score
        count += 1
    }

    /// The mean of the answered scores (nil: none).
    @inlinable
    package var mean: Double? { count == 0 ? nil : sum / Double(count) }
}
