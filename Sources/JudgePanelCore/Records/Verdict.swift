import Foundation
import JudgeStats

/// The panel's reconciled result for one item: a line of `verdicts.jsonl`.
public struct Verdict: Sendable, Hashable, Codable {
    /// The item's id.
    public package(set) var item: String
    /// The panel's preference (pairwise), nil when no judge answered.
    public package(set) var verdict: Preference?
    /// The panel's score (pointwise, checklist), nil when no judge answered.
    public package(set) var score: Double?
    /// Each judge's reconciled verdict (`"A"`/`"B"`/`"tie"`), score, or null when it abstained.
    public package(set) var judges: [String: JSONValue]
    /// Share of answering judges that agree with the panel.
    public package(set) var agreement: Double?
    /// Judges whose two orders disagreed.
    public package(set) var flips: [String]
    /// Judges with no usable answer.
    public package(set) var abstained: [String]
    /// Share of the vote behind the verdict, or the posterior (Dawid–Skene).
    public package(set) var confidence: Double?
    /// The perturbation the verdict is for (probe runs), nil for the item as given.
    public package(set) var variant: String?

    /// A verdict from its parts.
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
