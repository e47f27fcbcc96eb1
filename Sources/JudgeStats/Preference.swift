/// A pairwise preference in the dataset's orientation: answer A, answer B, or a tie.
public enum Preference: String, Sendable, Codable, CaseIterable, Comparable {
    case a = "A"
    case b = "B"
    case tie = "tie"

    private var order: Int {
        switch self {
        case .a: return 0
        case .b: return 1
        case .tie: return 2
        }
    }

    public static func < (lhs: Preference, rhs: Preference) -> Bool { lhs.order < rhs.order }

    /// The same preference seen from the swapped order (A↔B; a tie stays a tie).
    public var swapped: Preference {
        switch self {
        case .a: return .b
        case .b: return .a
        case .tie: return .tie
        }
    }
}
