/// What a judge whose two orders disagree counts as.
public enum FlipPolicy: String, Sendable, Codable, CaseIterable {
    /// A flipped judge counts as a tie.
    case tie
    /// A flipped judge abstains.
    case abstain
}
