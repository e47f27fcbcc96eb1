/// What a judge whose two orders disagree counts as.
public enum FlipPolicy: String, Sendable, Codable, CaseIterable {
    case tie, abstain
}
