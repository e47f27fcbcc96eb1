// Pairwise-preference metrics: MT-Bench agreement, position consistency, first-slot rate.

// `Preference` (A / B / tie) is defined in Preference.swift.

/// MT-Bench agreement (`compute_agreement.py`): the share of items, both votes present, where judge
/// equals human; with `includeTies == false`, items where either voted tie are skipped.
/// Undefined when the lengths differ or no item counts.
public func mtBenchAgreement(judge: [Preference?], human: [Preference?], includeTies: Bool) -> MetricValue {
    guard judge.count == human.count else { return .undefined("length mismatch") }
    var n = 0
    var agree = 0
    for i in judge.indices {
        guard let j = judge[i], let h = human[i] else { continue }
        if !includeTies && (j == .tie || h == .tie) { continue }
        n += 1
        if j == h { agree += 1 }
    }
    guard n > 0 else { return .undefined(includeTies ? "no item with both votes" : "no item with two non-tie votes") }
    return .defined(Double(agree) / Double(n))
}

/// The share of items answered in both orders whose two votes agree (`position_consistency_answered`);
/// `ab` and `ba` are the votes from the two presentation orders, both already mapped to dataset orientation,
/// nil where that order gave no usable answer (such items are left out).
/// Undefined when the lengths differ or no item has both votes.
public func positionConsistency(ab: [Preference?], ba: [Preference?]) -> MetricValue {
    guard ab.count == ba.count else { return .undefined("length mismatch") }
    var n = 0
    var same = 0
    for i in ab.indices {
        guard let x = ab[i], let y = ba[i] else { continue }
        n += 1
        if x == y { same += 1 }
    }
    guard n > 0 else { return .undefined("no item with votes in both orders") }
    return .defined(Double(same) / Double(n))
}

/// Position consistency over every item asked in both orders, and its parts.
///
/// LLMBar's "equal" convention: an item counts as consistent only when both orders answered and agree, so an
/// item where one order gave no usable answer is inconsistent. Items where both orders abstained stay in the
/// denominator but are counted apart in ``bothAbstained`` (LLMBar itself counts two missing answers as equal:
/// its figure is `(consistent + bothAbstained) / asked`).
public struct PositionConsistency: Sendable, Hashable {
    /// Items asked in both orders (the denominator of ``consistency``).
    public var asked: Int
    /// Items answered in both orders with the same verdict.
    public var consistent: Int
    /// Items answered in both orders (the denominator of ``answered``).
    public var answeredBoth: Int
    /// Items where neither order gave a usable answer.
    public var bothAbstained: Int
    /// `consistent / asked`; undefined when no item was asked in both orders.
    public var consistency: MetricValue
    /// `consistent / answeredBoth`; undefined when no item was answered in both orders.
    public var answered: MetricValue
}

/// Position consistency over items asked in both orders: `ab[i]` and `ba[i]` are item i's verdicts from the two
/// presentation orders (dataset orientation), nil where that order gave no usable answer. Every index is an item
/// asked in both orders. Lengths that differ give undefined values.
public func positionConsistencyOverAsked(ab: [Preference?], ba: [Preference?]) -> PositionConsistency {
    guard ab.count == ba.count else {
        return PositionConsistency(
            asked: 0, consistent: 0, answeredBoth: 0, bothAbstained: 0, consistency: .undefined("length mismatch"),
            answered: .undefined("length mismatch"))
    }
    var same = 0
    var both = 0
    var neither = 0
    for i in ab.indices {
        switch (ab[i], ba[i]) {
        case (let x?, let y?):
            both += 1
            if x == y { same += 1 }
        case (nil, nil): neither += 1
        default: break
        }
    }
    return PositionConsistency(
        asked: ab.count, consistent: same, answeredBoth: both, bothAbstained: neither,
        consistency: ab.isEmpty
            ? .undefined("no item asked in both orders") : .defined(Double(same) / Double(ab.count)),
        answered: both == 0 ? .undefined("no item with votes in both orders") : .defined(Double(same) / Double(both)))
}

/// The share of non-tie votes that chose whichever answer was shown first: A in the `ab` order, B in
/// the `ba` order (votes in dataset orientation). 0.5 means no position bias.
/// Undefined when there is no non-tie vote. The two arrays may differ in length.
public func firstSlotRate(ab: [Preference?], ba: [Preference?]) -> MetricValue {
    var n = 0
    var first = 0
    for case let v? in ab where v != .tie {
        n += 1
        if v == .a { first += 1 }
    }
    for case let v? in ba where v != .tie {
        n += 1
        if v == .b { first += 1 }
    }
    guard n > 0 else { return .undefined("no non-tie vote") }
    return .defined(Double(first) / Double(n))
}
