import Foundation
import JudgePanelCore
import JudgePanelProviders

/// How a reply or a failure becomes a vote's `reason`, and how the repair re-ask is built.
package enum ReplyOutcome {
    struct Withheld {
        package var reason: VoteReason
        package var message: String
    }

    /// A reply that must not be scored: a refusal, a content filter, or a prompt the server cut.
    static func withheld(_ r: CompletionResponse) -> Withheld? {
        if r.promptTruncated == true {
            let n = r.usage.map { " (\($0.promptTokens) prompt tokens evaluated)" } ?? ""
            return Withheld(reason: .context, message: "the server cut the prompt to fit its context\(n); not scored")
        }
        switch r.finishReason {
        case "refusal":
            return Withheld(reason: .refusal, message: "the model refused" + (r.refusal.map { ": \($0)" } ?? ""))
        case "content_filter":
            return Withheld(
                reason: .contentFilter,
                message: "the provider's content filter stopped the reply" + (r.refusal.map { ": \($0)" } ?? ""))
        default:
            if let refusal = r.refusal { return Withheld(reason: .refusal, message: "the model refused: \(refusal)") }
            return nil
        }
    }

    /// The vote reason of a failed call: `context` when the server says the prompt does not fit.
    package static func reason(for error: ProviderError) -> VoteReason {
        ContextOverflow.matches(error) ? .context : error.reason
    }

    /// The messages of the repair re-ask. A reply with text becomes an assistant turn before the repair
    /// instruction; an empty one is not sent (Anthropic answers 400 "all messages must have non-empty content",
    /// Gemini 400 for an empty text part): the instruction is appended to the last user turn instead.
    package static func repairMessages(_ messages: [ChatMessage], firstReply: String, repair: String) -> [ChatMessage] {
        if !firstReply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return messages + [.assistant(firstReply), .user(repair)]
        }
        var out = messages
        if let i = out.lastIndex(where: { $0.role == .user }), i == out.count - 1 {
            out[i] = .user(out[i].content + "\n\n" + repair)
        } else {
            out.append(.user(repair))
        }
        return out
    }
}

extension CallExecutor {
    /// ``send(_:sample:judge:)`` that adapts to the judge's server: a 400 naming an unsupported parameter, or a
    /// refusal to give log-probabilities, is learned once for the judge (``JudgeAdjustments``) and the call is
    /// sent again without it. `request` is updated to what was finally sent. The judge's first call goes alone,
    /// so the server answers such a 400 once, not once per call in flight.
    package func sendAdapting(_ request: inout CompletionRequest, sample: Int, judge: JudgeRuntime) async throws -> Sent
    {
        let leader = await judge.firstCall.enter()
        do {
            let r = try await sendAdaptingOnce(&request, sample: sample, judge: judge)
            if leader { await judge.firstCall.open() }
            return r
        } catch {
            if leader { await judge.firstCall.open() }
            throw error
        }
    }

    private func sendAdaptingOnce(_ request: inout CompletionRequest, sample: Int, judge: JudgeRuntime) async throws
        -> Sent
    {
        request = judge.adjustments.apply(request)
        var spent = 0
        for _ in 0..<4 {
            do {
                let r = try await send(request, sample: sample, judge: judge)
                return Sent(response: r.response, attempts: r.attempts + spent, cached: r.cached)
            } catch let e as SendFailure {
                guard let fix = WireFix.detect(e.error), JudgeAdjustments.allowed(fix, config: judge.config) else {
                    throw SendFailure(error: e.error, attempts: e.attempts + spent)
                }
                let status = e.error.status.map { "HTTP \($0)" } ?? "error"
                judge.adjustments.record(fix, judge: judge.config.name, detail: status)
                let next = judge.adjustments.apply(request)
                guard next != request else { throw SendFailure(error: e.error, attempts: e.attempts + spent) }
                spent += e.attempts
                request = next
            }
        }
        throw SendFailure(error: .badResponse("the server kept rejecting parameters"), attempts: spent)
    }
}
