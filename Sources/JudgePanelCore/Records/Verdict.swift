import Foundation
import JudgeStats

/// The panel's reconciled result for one item: a line of `verdicts.jsonl`.
public struct Verdict: Sendable, Hashable, Codable {
    public var item: String
    public var verdict: Preference?
    public var score: Double?
    /// Each judge's reconciled verdict (`"A"`/`"B"`/`"tie"`), score, or null when it abstained.
    public var judges: [String: JSONValue]
    /// Share of answering judges that agree with the panel.
    public var agreement: Double?
    /// Judges whose two orders disagreed.
    public var flips: [String]
    /// Judges with no usable answer.
    public var abstained: [String]
    /// Share of the vote behind the verdict, or the posterior (Dawid–Skene).
    public var confidence: Double?
    public var variant: String?

    public init(
        item: String, verdict: Preference? = nil, score: Double? = nil, judges: [String: JSONValue] = [:],
        agreement: Double? = nil, flips: [String] = [], abstained: [String] = [], confidence: Double? = nil
    ) {
        self.item = item
        self.verdict = verdict
        self.score = score
        self.judges = judges
        self.agreement = agreement
        self.flips = flips
        self.abstained = abstained
        self.confidence = confidence
    }
}
