import Foundation
import JudgeStats

/// One judge's reconciled answer on one item, after swap and samples are combined.
public struct JudgeVerdict: Sendable, Hashable {
    /// The judge's preference (pairwise), nil when it abstained.
    public package(set) var verdict: Preference?
    /// The judge's score (pointwise; checklist pass ratio), nil when it abstained.
    public package(set) var score: Double?
    /// Whether the judge's two orders disagreed.
    public package(set) var flipped: Bool
    /// Probability-based verdict (P(A) vs P(B) averaged over both orders), when log-probabilities were read.
    public package(set) var probVerdict: Preference?
    /// Expected score from log-probabilities, averaged over samples.
    public package(set) var expectedScore: Double?

    /// A verdict from its parts.
    public init(verdict: Preference? = nil, score: Double? = nil, flipped: Bool = false) {
        self.verdict = verdict
        self.score = score
        self.flipped = flipped
    }

    /// Whether the judge gave neither a preference nor a score.
    public var abstained: Bool { verdict == nil && score == nil }
}
