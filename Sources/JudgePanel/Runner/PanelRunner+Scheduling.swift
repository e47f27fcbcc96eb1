import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

extension PanelRunner {
    /// The votes of one item under a scheduling policy, in plan order: each scheduled call is taken from the
    /// resumed journal when finished there, else executed (cache, retries, journal) like the full panel's calls.
    /// Nil when the policy has no scheduler for the rubric (the caller then makes every call).
    func scheduledVotes(
        index: Int, item: Item, runtimes: [JudgeRuntime], executor: CallExecutor, journal: VoteJournal?,
        completed: [String: Vote]
    ) async throws -> ScheduledItem? {
        guard
            let scheduler = options.policy.scheduler(
                panel: panel, rubric: rubric, method: options.aggregate ?? panel.aggregate, flip: flip)
        else { return nil }
        let calls = Call.plan(itemIndex: index, item: item, rubric: rubric, panel: panel)
        var asked = [AskedJudge](repeating: AskedJudge(), count: panel.judges.count)
        while true {
            let batch = scheduler.next(asked)
            if batch.isEmpty { break }
            let wanted = batch.flatMap { b in calls.filter { $0.judge == b.judge && ($0.order ?? .ab) == b.order } }
            let got = try await ask(
                wanted, item: item, runtimes: runtimes, executor: executor, journal: journal, completed: completed)
            for b in batch {
                let mine = zip(wanted, got).filter { $0.0.judge == b.judge && ($0.0.order ?? .ab) == b.order }.map(\.1)
                asked[b.judge][b.order] = mine
            }
        }
        // Plan order (judge, order, sample), as the full panel writes its votes.
        let votes = calls.compactMap { call in
            asked[call.judge][call.order ?? .ab]?.first { $0.sample == call.sample && $0.side == call.side }
        }
        return ScheduledItem(votes: votes, aggregated: scheduler.aggregated(asked))
    }
}
