import Foundation

/// When a cascade tier passes an item on to the next tier (`escalate:` in the panel file).
public struct EscalationRule: Sendable, Hashable, Codable {
    /// Escalate when the tier's leading verdict holds less than this share of the tier's judge weight
    /// (abstaining judges count in the total, so an abstention never makes a tier more sure).
    public var minShare: Double
    /// Escalate when any judge of the tier gave different verdicts in the two orders.
    public var onFlip: Bool
    /// Escalate when a judge's probability margin |P(A) − P(B)| (from log-probabilities, averaged over its votes
    /// that carry them) is below this; judges without probabilities are held to the other criteria only.
    public var minMargin: Double?

    /// Creates a rule; the defaults escalate split and order-flipped tiers.
    public init(minShare: Double = 0.75, onFlip: Bool = true, minMargin: Double? = nil) {
        self.minShare = minShare
        self.onFlip = onFlip
        self.minMargin = minMargin
    }

    package enum CodingKeys: String, CodingKey {
        case minShare = "min_share"
        case onFlip = "on_flip"
        case minMargin = "min_margin"
    }
}
