// Pairwise-preference metrics: MT-Bench agreement, position consistency, first-slot rate.

// `Preference` (A / B / tie) is defined in Preference.swift.

/// MT-Bench agreement (`compute_agreement.py`): the share of items, both votes present, where judge
/// equals human; with `includeTies == false`, items where either voted tie are skipped.
/// Undefined when the lengths differ or no item counts.
public func mtBenchAgreement(judge: [Preference?], human: [Preference?], includeTies: Bool) -> MetricValue {
    guard judge.count == human.count else { return .undefined("length mismatch") }
    var n = 0, agree = 0
    for i in judge.indices {
        guard let j = judge[i], let h = human[i] else { continue }
        if !includeTies && (j == .tie || h == .tie) { continue }
        n += 1
        if j == h { agree += 1 }
    }
    guard n > 0 else { return .undefined(includeTies ? "no item with both votes" : "no item with two non-tie votes") }
    return .defined(Double(agree) / Double(n))
}

/// The share of items (both orders present) whose two votes agree; `ab` and `ba` are the votes from
/// the two presentation orders, both already mapped to dataset orientation.
/// Undefined when the lengths differ or no item has both votes.
public func positionConsistency(ab: [Preference?], ba: [Preference?]) -> MetricValue {
    guard ab.count == ba.count else { return .undefined("length mismatch") }
    var n = 0, same = 0
    for i in ab.indices {
        guard let x = ab[i], let y = ba[i] else { continue }
        n += 1
        if x == y { same += 1 }
    }
    guard n > 0 else { return .undefined("no item with votes in both orders") }
    return .defined(Double(same) / Double(n))
}

/// The share of non-tie votes that chose whichever answer was shown first: A in the `ab` order, B in
/// the `ba` order (votes in dataset orientation). 0.5 means no position bias.
/// Undefined when there is no non-tie vote. The two arrays may differ in length.
public func firstSlotRate(ab: [Preference?], ba: [Preference?]) -> MetricValue {
    var n = 0, first = 0
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
