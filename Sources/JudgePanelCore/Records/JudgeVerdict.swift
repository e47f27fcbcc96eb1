import Foundation
import JudgeStats

/// One judge's reconciled answer on one item, after swap and samples are combined.
public struct JudgeVerdict: Sendable, Hashable {
    public var verdict: Preference?
    public var score: Double?
    /// Whether the judge's two orders disagreed.
    public var flipped: Bool
    /// Probability-based verdict (P(A) vs P(B) averaged over both orders), when log-probabilities were read.
    public var probVerdict: Preference?
    /// Expected score from log-probabilities, averaged over samples.
    public var expectedScore: Double?

    public init(verdict: Preference? = nil, score: Double? = nil, flipped: Bool = false) {
        self.verdict = verdict
        self.score = score
        self.flipped = flipped
    }

    public var abstained: Bool { verdict == nil && score == nil }
}
