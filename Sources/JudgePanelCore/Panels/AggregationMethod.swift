/// How the panel combines its judges' verdicts.
public enum AggregationMethod: String, Sendable, Codable, CaseIterable {
    /// The (weighted) most frequent verdict; for scores, the most frequent rounded score.
    case majority
    /// The mean (preferences as +1 / 0 / −1).
    case mean
    /// The median (preferences as +1 / 0 / −1).
    case median
    /// The mean weighted by each judge's weight; for preferences, the weighted majority.
    case weighted
    /// Dawid–Skene over all items at once: each judge's confusion matrix is estimated without labels and the
    /// verdict is the posterior's most likely class (`Aggregator.isJoint`).
    case dawidSkene = "dawid-skene"
}
