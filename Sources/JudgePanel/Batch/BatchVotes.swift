import Foundation
import JudgeStats

/// Turns a batch reply into a vote the way ``CallExecutor`` turns a live reply into one: the same
/// ``AnswerParser``, one repair re-ask (sent live, since a batch cannot hold a follow-up turn), the same
/// verdict orientation, scores, checks and log-probability fields.
enum BatchVotes {
    static func vote(
        call: Call, item: Item, judge: JudgeConfig, rubric: Rubric, request: CompletionRequest, first: CompletionResponse,
        questionCount: Int, batchPrice: Price?, repair: (CompletionRequest) async throws -> CallExecutor.Sent
    ) async throws -> Vote {
        var vote = Vote(item: item.id, judge: judge.name, protocol: rubric.kind, order: call.order, sample: call.sample)
        vote.variant = call.variant
        vote.side = call.side
        vote.attempts = 1
        vote.cached = false
        let parser = AnswerParser(rubric: rubric, structured: judge.structuredOutput, questionCount: questionCount)
        var cost = batchPrice?.cost(promptTokens: first.usage?.promptTokens ?? 0, completionTokens: first.usage?.completionTokens ?? 0)
        var usage = TokenUsage(promptTokens: first.usage?.promptTokens ?? 0, completionTokens: first.usage?.completionTokens ?? 0)
        func finish() -> Vote {
            vote.usage = usage
            if let cost { vote.costUSD = cost }
            return vote
        }
        var answer = parser.parse(first.text)
        var answering = first
        var raw = first.text
        if answer == nil {
            var repairRequest = request
            repairRequest.messages =
                request.messages + [.assistant(first.text), .user(Prompting.repairMessage(rubric: rubric, structured: judge.structuredOutput))]
            do {
                let r = try await repair(repairRequest)
                vote.attempts = 1 + r.attempts
                usage.promptTokens += r.response.usage?.promptTokens ?? 0
                usage.completionTokens += r.response.usage?.completionTokens ?? 0
                if let price = judge.price, !r.cached {
                    cost = (cost ?? 0)
                        + price.cost(promptTokens: r.response.usage?.promptTokens ?? 0, completionTokens: r.response.usage?.completionTokens ?? 0)
                }
                raw = first.text + "\n---repair---\n" + r.response.text
                answer = parser.parse(r.response.text)
                answering = r.response
                if answer != nil { vote.repaired = true }
            } catch let e as CallExecutor.SendFailure {
                vote.status = .error
                vote.raw = first.text
                vote.error = "repair re-ask failed: \(e.error.message)"
                vote.reason = e.error.reason
                vote.attempts = 1 + e.attempts
                return finish()
            }
        }
        vote.raw = raw
        guard let answer else {
            vote.status = .abstain
            vote.error = "unparseable answer (after one repair re-ask)"
            vote.reason = .unparsed
            return finish()
        }
        switch answer {
        case .choice(let shown): vote.verdict = call.order == .ba ? shown.swapped : shown
        case .score(let s): vote.score = s
        case .checks(let c): vote.checks = c
        }
        if judge.topLogprobs != nil {
            if let tokens = answering.logprobs, !tokens.isEmpty {
                vote.logprobs = "ok"
                switch rubric.kind {
                case .pairwise:
                    if let p = Probabilities.pairwise(tokens, allowTie: rubric.allowTie) {
                        var out: [String: Double] = [:]
                        for (k, v) in p { out[(call.order == .ba ? k.swapped : k).rawValue] = v }
                        vote.probs = out
                    }
                case .pointwise:
                    if let scale = rubric.scale { vote.expectedScore = Probabilities.expectedScore(tokens, scale: scale) }
                case .checklist:
                    break
                }
            } else {
                vote.logprobs = "unavailable"
            }
        }
        return finish()
    }
}
