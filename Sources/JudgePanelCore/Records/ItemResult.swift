import Foundation
import JudgeStats

/// One item judged by the panel: its votes, each judge's reconciled verdict, and the panel's verdict.
public struct ItemResult: Sendable {
    /// The item's position in the run's input.
    public package(set) var index: Int
    /// The item judged.
    public package(set) var item: Item
    /// Every vote cast on the item, in plan order.
    public package(set) var votes: [Vote]
    /// Each judge's reconciled verdict, by judge name.
    public package(set) var judgeVerdicts: [String: JudgeVerdict]
    /// The panel's verdict.
    public package(set) var verdict: Verdict

    /// A result from its parts.
    public init(index: Int, item: Item, votes: [Vote], judgeVerdicts: [String: JudgeVerdict], verdict: Verdict) {
        self.index = index
        self.item = item
        self.votes = votes
        self.judgeVerdicts = judgeVerdicts
        self.verdict = verdict
    }
}
