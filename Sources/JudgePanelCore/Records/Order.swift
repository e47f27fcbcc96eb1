/// The order in which a pairwise question shows its two answers.
public enum Order: String, Sendable, Codable, CaseIterable {
    /// The dataset's orientation: response_a first.
    case ab = "AB"
    /// Swapped: response_b first.
    case ba = "BA"
}
