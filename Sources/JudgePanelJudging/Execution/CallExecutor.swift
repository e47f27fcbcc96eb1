import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// How failed calls are retried.
public struct RetryPolicy: Sendable, Hashable {
    /// Delay before the first retry, in seconds; doubles each time, with jitter.
    public var baseDelay: Double
    /// The largest backoff delay between tries.
    public var maxDelay: Double
    /// One call's wait budget: the most seconds of waiting its provider may ask of it (Retry-After, retry-after-ms,
    /// Gemini `retryDelay`, reset headers), added up over its tries. A requested wait longer than what is left is
    /// recorded as the call's error (reason `rate_limited`, naming the wait), never slept through or cut short
    /// silently; a call that finds its judge held (by a wait told to another call) for longer than it has left
    /// fails unsent.
    public var maxRetryAfter: Double

    /// A policy; delays in seconds.
    public init(baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }
}

/// A judge ready to be called: its configuration, provider, lane (limits, pauses, quota stop) and the scrubber
/// for its key.
package final class JudgeRuntime: Sendable {
    package let config: JudgeConfig
    package let provider: any JudgeProvider
    let limiter: RateLimiter
    package let semaphore: AsyncSemaphore
    package let scrubber: SecretScrubber
    /// What the judge's server asked for during this run (parameters dropped or renamed, logprobs off).
    package let adjustments = JudgeAdjustments()
    /// The judge's first call goes alone (``FirstCallGate``).
    let firstCall = FirstCallGate()

    package init(config: JudgeConfig, provider: any JudgeProvider, scrubber: SecretScrubber = .generic) {
        self.config = config
        self.provider = provider
        self.limiter = RateLimiter(rpm: config.rpm, tpm: config.tpm)
        self.semaphore = AsyncSemaphore(config.concurrency)
        self.scrubber = scrubber
    }

    /// A judge whose key comes from `environment` (its `keyVariables`); that key is scrubbed from its errors.
    package convenience init(config: JudgeConfig, provider: any JudgeProvider, environment: [String: String]) {
        self.init(
            config: config, provider: provider,
            scrubber: SecretScrubber(secrets: config.secrets(environment: environment)).withRegistered())
    }
}

/// Executes one call: the request through the layers of ``CallPipeline`` (cache → retry → rate limit → provider),
/// parsing, one repair re-ask; always returns a vote (ok, abstain or error) unless cancelled.
package struct CallExecutor: Sendable {
    package let rubric: Rubric
    package let cache: ResponseCache?
    package let retry: RetryPolicy
    package let stats: RunCounters
    let pipeline: CallPipeline

    package init(rubric: Rubric, cache: ResponseCache?, retry: RetryPolicy, stats: RunCounters) {
        self.rubric = rubric
        self.cache = cache
        self.retry = retry
        self.stats = stats
        pipeline = .standard(cache: cache, retry: retry)
    }

    /// Executes a call within the judge's concurrency bound and journals the vote.
    package func executeBounded(
        call: Call, item: Item, judge: JudgeRuntime, checklist: [String]?, journal: VoteJournal?
    ) async throws -> Vote {
        await judge.semaphore.wait()
        do {
            let v = try await execute(call: call, item: item, judge: judge, checklist: checklist)
            await judge.semaphore.signal()
            try await journal?.append(v)
            return v
        } catch {
            await judge.semaphore.signal()
            throw error
        }
    }

    /// The item as a call shows it (a checklist call on a pairwise item grades one side).
    package static func shown(_ item: Item, call: Call) -> Item {
        var shown = item
        if let side = call.side {
            shown.response = side == .a ? item.responseA : item.responseB
            shown.candidate = side == .a ? item.candidateA : item.candidateB
        }
        return shown
    }

    /// The checklist questions a call asks: the item's generated list or the rubric's, expanded per turn or step
    /// of the shown candidate when the rubric says `per: turn | step`.
    package static func questions(rubric: Rubric, shown: Item, checklist: [String]?) -> [String]? {
        guard let spec = rubric.checklist, spec.per != .item else { return checklist }
        return spec.questions(checklist ?? spec.items, for: shown)
    }

    /// The request a call sends (before any repair re-ask); `adjustments`: what the judge's server asked for
    /// during this run (a renamed or dropped parameter).
    package static func request(
        call: Call, item: Item, judge config: JudgeConfig, rubric: Rubric, checklist: [String]?,
        adjustments: JudgeAdjustments? = nil
    ) -> CompletionRequest {
        let shown = shown(item, call: call)
        let checklist = questions(rubric: rubric, shown: shown, checklist: checklist)
        let messages = Prompting.messages(rubric: rubric, item: shown, order: call.order, checklist: checklist)
        let questionCount = checklist?.count ?? rubric.checklist?.items.count ?? 0
        return RequestBuilder.request(
            config: config, messages: messages,
            jsonSchema: config.structuredOutput ? Prompting.schema(rubric: rubric, questions: questionCount) : nil,
            sample: call.sample, adjustments: adjustments)
    }

    /// The fingerprint of the vote a call produces (see ``RunFingerprint``): the request as the panel configures
    /// it, before any adjustment a server asks for during a run.
    package static func fingerprint(call: Call, item: Item, judge: JudgeConfig, rubric: Rubric, checklist: [String]?)
        -> String
    {
        RunFingerprint.call(
            request: request(call: call, item: item, judge: judge, rubric: rubric, checklist: checklist), judge: judge,
            rubric: rubric, call: call)
    }

    package func execute(call: Call, item: Item, judge: JudgeRuntime, checklist: [String]? = nil) async throws -> Vote {
        let config = judge.config
        let shown = Self.shown(item, call: call)
        var request = Self.request(
            call: call, item: item, judge: config, rubric: rubric, checklist: checklist, adjustments: judge.adjustments)
        let questionCount =
            Self.questions(rubric: rubric, shown: shown, checklist: checklist)?.count
            ?? rubric.checklist?.items.count ?? 0
        var vote = Vote(
            item: item.id, judge: config.name, protocol: rubric.kind, order: call.order, sample: call.sample)
        vote.variant = call.variant
        vote.side = call.side
        vote.fingerprint = Self.fingerprint(call: call, item: item, judge: config, rubric: rubric, checklist: checklist)
        let started = ContinuousClock.now
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)
        var attempts = 0
        var allCached = true
        var reasoningTokens: Int?
        // False once a reply came without usage, or with counts that cannot be a call's (negative, absurd, not
        // numbers): the vote then has no usage and, for a priced judge, no cost (unknown, counted in the run's facts).
        var usageKnown = true
        var modelVersion: String?
        var systemFingerprint: String?
        func finish() -> Vote {
            vote.modelVersion = modelVersion
            vote.systemFingerprint = systemFingerprint
            usage.reasoningTokens = reasoningTokens
            let elapsed = ContinuousClock.now - started
            vote.latencyMS = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                .rounded()
            vote.usage = usageKnown ? usage : nil
            // A defence behind the scrubbing of provider errors: nothing key-like reaches a vote, the journal or a report.
            vote.error = judge.scrubber.scrub(vote.error)
            vote.raw = vote.raw.map { judge.scrubber.scrubKeys($0) }
            vote.attempts = attempts
            vote.cached = allCached
            if let price = config.price {
                vote.costUSD =
                    allCached
                    ? 0
                    : usageKnown
                        ? price.cost(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens) : nil
            }
            stats.record(vote)
            return vote
        }
        let first: CompletionResponse
        func count(_ r: Sent) {
            // The model the provider reported (the last reply's, a repair re-ask included); set on the vote in
            // `finish` (the repair closure runs while `vote` is borrowed by `read`).
            if let m = r.response.modelVersion { modelVersion = m }
            if let f = r.response.systemFingerprint { systemFingerprint = f }
            attempts += r.attempts
            allCached = allCached && r.cached
            guard let u = r.response.usage, u.isPlausible else {
                if !r.cached { usageKnown = false }
                return
            }
            usage.promptTokens += u.promptTokens
            usage.completionTokens += u.completionTokens
            if let t = u.reasoningTokens { reasoningTokens = (reasoningTokens ?? 0) + t }
        }
        do {
            let r = try await sendAdapting(&request, sample: call.sample, judge: judge)
            first = r.response
            count(r)
        } catch let e as SendFailure {
            vote.status = .error
            vote.error = e.error.message
            vote.reason = ReplyOutcome.reason(for: e.error)
            attempts += e.attempts
            allCached = false
            return finish()
        }
        try await Self.read(
            first: first, request: request, call: call, shown: shown, rubric: rubric, config: config,
            questionCount: questionCount, vote: &vote
        ) { repairRequest in
            do {
                let r = try await sendAdapting(&repairRequest, sample: call.sample, judge: judge)
                count(r)
                return r.response
            } catch let e as SendFailure {
                attempts += e.attempts
                allCached = false
                throw e
            }
        }
        return finish()
    }

    /// Reads a judge's first reply into `vote`: a refusal, content filter or cut prompt is recorded as such; an
    /// unreadable reply gets one repair re-ask (`repair` sends it and counts it, also when it fails, before
    /// rethrowing ``SendFailure``; any other error, such as cancellation, is rethrown); verdicts quoted from what the judge was shown never count; a cut-off reply that
    /// holds a verdict keeps it, flagged; log-probabilities are read where asked. The one reading shared by live
    /// calls and batch results, so both score a reply alike.
    package static func read(
        first: CompletionResponse, request: CompletionRequest, call: Call, shown: Item, rubric: Rubric,
        config: JudgeConfig, questionCount: Int, vote: inout Vote,
        repair: (inout CompletionRequest) async throws -> CompletionResponse
    ) async throws {
        let messages = request.messages
        let parser = try AnswerParser(rubric: rubric, structured: config.structuredOutput, questionCount: questionCount)
        // What the judge was shown: a verdict it quotes back from these never counts.
        let shownTexts = messages.map(\.content) + AnswerParser.quotableTexts(of: shown)
        // A refusal, a content filter or a cut prompt is recorded as such, with no re-ask.
        if let outcome = ReplyOutcome.withheld(first) {
            vote.status = .abstain
            vote.reason = outcome.reason
            vote.error = outcome.message
            vote.raw = first.refusal ?? first.text
            return
        }
        var reading = parser.read(first.text, quoting: shownTexts)
        var answering = first
        var raw = first.text
        var lengthStopped = first.finishReason == "length"
        if reading == .unparsed {
            var repairRequest = request
            repairRequest.messages = ReplyOutcome.repairMessages(
                messages, firstReply: first.text,
                repair: Prompting.repairMessage(rubric: rubric, structured: config.structuredOutput))
            do {
                let response = try await repair(&repairRequest)
                raw = first.text + "\n---repair---\n" + (response.refusal ?? response.text)
                if let outcome = ReplyOutcome.withheld(response) {
                    vote.status = .abstain
                    vote.reason = outcome.reason
                    vote.error = "repair re-ask: \(outcome.message)"
                    vote.raw = raw
                    return
                }
                reading = parser.read(response.text, quoting: shownTexts)
                answering = response
                if response.finishReason == "length" { lengthStopped = true }
                if case .answer = reading { vote.repaired = true }
            } catch let e as SendFailure {
                vote.status = .error
                vote.raw = first.text
                vote.error = "repair re-ask failed: \(e.error.message)"
                vote.reason = ReplyOutcome.reason(for: e.error)
                return
            }
        }
        vote.raw = raw
        let answer: ParsedAnswer
        switch reading {
        case .answer(let a):
            answer = a
        case .unparsed:
            vote.status = .abstain
            if lengthStopped {
                vote.error = "reply cut at the output-token limit with no verdict (after one repair re-ask)"
                vote.reason = .length
            } else {
                vote.error = "unparseable answer (after one repair re-ask)"
                vote.reason = .unparsed
            }
            return
        case .ambiguous(let values):
            vote.status = .abstain
            vote.error = "the judge's own matches disagree (\(values.map(Self.describe).joined(separator: ", ")))"
            vote.reason = .ambiguous
            return
        case .overBudget:
            vote.status = .abstain
            vote.error = "the rubric's output pattern ran past its time budget on this reply; stopped"
            vote.reason = .unparsed
            return
        }
        // A cut-off reply that still holds a verdict keeps it, flagged.
        if answering.finishReason == "length" { vote.reason = .length }
        switch answer {
        case .choice(let shownChoice):
            vote.verdict = call.order == .ba ? shownChoice.swapped : shownChoice
        case .score(let s):
            vote.score = s
        case .checks(let c):
            vote.checks = c
        }
        if config.topLogprobs != nil {
            if let tokens = answering.logprobs, !tokens.isEmpty {
                vote.logprobs = .ok
                switch rubric.kind {
                case .pairwise:
                    if let p = Probabilities.pairwise(tokens, allowTie: rubric.allowTie) {
                        var out: [String: Double] = [:]
                        for (k, v) in p { out[(call.order == .ba ? k.swapped : k).rawValue] = v }
                        vote.probs = out
                    }
                case .pointwise:
                    if let scale = rubric.scale {
                        vote.expectedScore = Probabilities.expectedScore(tokens, scale: scale)
                    }
                case .checklist:
                    break
                }
            } else {
                vote.logprobs = .unavailable
            }
        }
    }

    /// A parsed value as a vote's error text shows it (in the order the judge saw).
    package static func describe(_ answer: ParsedAnswer) -> String {
        switch answer {
        case .choice(let p): return "\(p.rawValue) as shown"
        case .score(let s): return s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s)
        case .checks(let c): return c.map { $0.map { $0 ? "YES" : "NO" } ?? "UNSURE" }.joined(separator: " ")
        }
    }

    package struct Sent {
        package let response: CompletionResponse
        package let attempts: Int
        package let cached: Bool
    }

    /// A call that failed for good: the last provider error and the number of HTTP attempts made.
    package struct SendFailure: Error {
        package let error: ProviderError
        package let attempts: Int
    }

    /// The request through the layers around the provider (``CallPipeline``). Throws ``SendFailure`` (with the
    /// exact number of HTTP requests written) when the provider keeps failing or fails for good; rethrows cancellation.
    package func send(_ request: CompletionRequest, sample: Int, judge: JudgeRuntime) async throws -> Sent {
        let progress = SendProgress()
        let context = CallContext(judge: judge, sample: sample, stats: stats, progress: progress)
        do {
            let response = try await pipeline.run(request, context: context)
            return Sent(response: response, attempts: progress.requests, cached: progress.cached)
        } catch let e as ProviderError {
            throw SendFailure(error: e, attempts: progress.requests)
        } catch let e as FinalProviderError {
            throw SendFailure(error: e.error, attempts: progress.requests)
        }
    }
}
