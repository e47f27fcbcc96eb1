import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// Turns a batch reply into a vote with the reading live calls use (``CallExecutor/read``): refusals, quoted
/// verdicts, cut-off replies, one repair re-ask (sent live, since a batch cannot hold a follow-up turn), the same
/// verdict orientation, scores, checks and log-probability fields.
enum BatchVotes {
    package static func vote(
        call: Call, item: Item, judge: JudgeConfig, rubric: Rubric, request: CompletionRequest,
        first: CompletionResponse,
        questionCount: Int, batchPrice: Price?, repair: (CompletionRequest) async throws -> CallExecutor.Sent
    ) async throws -> Vote {
        var vote = Vote(item: item.id, judge: judge.name, protocol: rubric.kind, order: call.order, sample: call.sample)
        vote.variant = call.variant
        vote.side = call.side
        vote.attempts = 1
        vote.cached = false
        vote.modelVersion = first.modelVersion
        vote.systemFingerprint = first.systemFingerprint
        // Usage missing or implausible (negative, absurd): the call's cost is unknown, never negative, never $0.
        var usageKnown = first.usage?.isPlausible == true
        let firstUsage = usageKnown ? first.usage : nil
        var cost = batchPrice?.cost(
            promptTokens: firstUsage?.promptTokens ?? 0, completionTokens: firstUsage?.completionTokens ?? 0)
        var usage = TokenUsage(
            promptTokens: firstUsage?.promptTokens ?? 0, completionTokens: firstUsage?.completionTokens ?? 0)
        usage.reasoningTokens = firstUsage?.reasoningTokens
        func finish() -> Vote {
            vote.usage = usageKnown ? usage : nil
            if let cost, usageKnown { vote.costUSD = cost }
            return vote
        }
        var extraAttempts = 0
        try await CallExecutor.read(
            first: first, request: request, call: call, shown: CallExecutor.shown(item, call: call), rubric: rubric,
            config: judge, questionCount: questionCount, vote: &vote
        ) { repairRequest in
            do {
                let r = try await repair(repairRequest)
                extraAttempts += r.attempts
                if !r.cached && r.response.usage?.isPlausible != true { usageKnown = false }
                usage.promptTokens += r.response.usage?.promptTokens ?? 0
                usage.completionTokens += r.response.usage?.completionTokens ?? 0
                if let t = r.response.usage?.reasoningTokens {
                    usage.reasoningTokens = (usage.reasoningTokens ?? 0) + t
                }
                if let price = judge.price, !r.cached {
                    cost =
                        (cost ?? 0)
                        + price.cost(
                            promptTokens: r.response.usage?.promptTokens ?? 0,
                            completionTokens: r.response.usage?.completionTokens ?? 0)
                }
                return r.response
            } catch let e as CallExecutor.SendFailure {
                extraAttempts += e.attempts
                throw e
            }
        }
        vote.attempts = 1 + extraAttempts
        return finish()
    }
}
