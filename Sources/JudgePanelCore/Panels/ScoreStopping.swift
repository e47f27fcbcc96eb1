import Foundation

/// `adaptive:` in the panel file: when an adaptive *pointwise* or *checklist* run stops asking judges about an
/// item (checklist scores are the share of YES answers, in [0, 1]).
public struct ScoreStopping: Sendable, Hashable, Codable {
    /// Decision thresholds: stop once the remaining judges cannot move the pooled score across any of them
    /// (the side of each, `score >= t`, is then the full panel's).
    public var thresholds: [Double]
    /// Stop once the remaining judges cannot move the pooled score by more than this (the reported score is
    /// then within `tolerance` of the full panel's). With thresholds too, both must hold.
    public var tolerance: Double?

    /// Creates a rule; give thresholds, a tolerance, or both.
    public init(thresholds: [Double] = [], tolerance: Double? = nil) {
        self.thresholds = thresholds
        self.tolerance = tolerance
    }

    /// The pooling methods the rule's bounds hold for (others make every call).
    public static let poolingMethods: Set<AggregationMethod> = [.mean, .median, .weighted]
}
