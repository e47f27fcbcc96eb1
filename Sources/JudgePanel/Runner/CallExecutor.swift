import Foundation
import JudgeStats

/// How failed calls are retried.
public struct RetryPolicy: Sendable, Hashable {
    /// Delay before the first retry, in seconds; doubles each time, with jitter.
    public var baseDelay: Double
    /// The largest delay between tries (Retry-After is honoured up to `maxRetryAfter`).
    public var maxDelay: Double
    public var maxRetryAfter: Double

    public init(baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }
}

/// A judge ready to be called: its configuration, provider and limits.
final class JudgeRuntime: Sendable {
    let config: JudgeConfig
    let provider: any JudgeProvider
    let limiter: RateLimiter
    let semaphore: AsyncSemaphore

    init(config: JudgeConfig, provider: any JudgeProvider) {
        self.config = config
        self.provider = provider
        self.limiter = RateLimiter(rpm: config.rpm, tpm: config.tpm)
        self.semaphore = AsyncSemaphore(config.concurrency)
    }
}

/// Executes one call: cache, rate limit, retries, parsing, one repair re-ask; always returns a vote
/// (ok, abstain or error) unless cancelled.
struct CallExecutor: Sendable {
    let rubric: Rubric
    let cache: ResponseCache?
    let retry: RetryPolicy
    let stats: RunCounters

    /// Executes a call within the judge's concurrency bound and journals the vote.
    func executeBounded(
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

    /// The request a call sends (before any repair re-ask).
    static func request(call: Call, item: Item, judge config: JudgeConfig, rubric: Rubric, checklist: [String]?) -> CompletionRequest {
        var shown = item
        if let side = call.side {
            shown.response = side == .a ? item.responseA : item.responseB
        }
        let messages = Prompting.messages(rubric: rubric, item: shown, order: call.order, checklist: checklist)
        let questionCount = checklist?.count ?? rubric.checklist?.items.count ?? 0
        return CompletionRequest(
            model: config.model, messages: messages, temperature: config.temperature, maxTokens: config.maxTokens,
            seed: config.seed.map { $0 + call.sample },
            jsonSchema: config.structuredOutput ? Prompting.schema(rubric: rubric, questions: questionCount) : nil,
            topLogprobs: config.topLogprobs)
    }

    /// The fingerprint of the vote a call produces (see ``RunFingerprint``).
    static func fingerprint(call: Call, item: Item, judge: JudgeConfig, rubric: Rubric, checklist: [String]?) -> String {
        RunFingerprint.call(
            request: request(call: call, item: item, judge: judge, rubric: rubric, checklist: checklist), judge: judge,
            rubric: rubric, call: call)
    }

    func execute(call: Call, item: Item, judge: JudgeRuntime, checklist: [String]? = nil) async throws -> Vote {
        let config = judge.config
        let request = Self.request(call: call, item: item, judge: config, rubric: rubric, checklist: checklist)
        let messages = request.messages
        let questionCount = checklist?.count ?? rubric.checklist?.items.count ?? 0
        var vote = Vote(
            item: item.id, judge: config.name, protocol: rubric.kind, order: call.order, sample: call.sample)
        vote.variant = call.variant
        vote.side = call.side
        vote.fingerprint = RunFingerprint.call(request: request, judge: config, rubric: rubric, call: call)
        let parser = AnswerParser(rubric: rubric, structured: config.structuredOutput, questionCount: questionCount)
        let started = ContinuousClock.now
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)
        var attempts = 0
        var allCached = true
        func finish() -> Vote {
            let elapsed = ContinuousClock.now - started
            vote.latencyMS = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                .rounded()
            vote.usage = usage
            vote.attempts = attempts
            vote.cached = allCached
            if let price = config.price {
                vote.costUSD = allCached ? 0 : price.cost(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens)
            }
            stats.record(vote)
            return vote
        }
        let first: CompletionResponse
        do {
            let r = try await send(request, sample: call.sample, judge: judge)
            first = r.response
            attempts += r.attempts
            allCached = allCached && r.cached
            usage.promptTokens += r.response.usage?.promptTokens ?? 0
            usage.completionTokens += r.response.usage?.completionTokens ?? 0
        } catch let e as SendFailure {
            vote.status = .error
            vote.error = e.error.message
            vote.reason = e.error.reason
            attempts += e.attempts
            allCached = false
            return finish()
        }
        var answer = parser.parse(first.text)
        var answering = first
        var raw = first.text
        if answer == nil {
            var repairRequest = request
            repairRequest.messages =
                messages + [.assistant(first.text), .user(Prompting.repairMessage(rubric: rubric, structured: config.structuredOutput))]
            do {
                let r = try await send(repairRequest, sample: call.sample, judge: judge)
                attempts += r.attempts
                allCached = allCached && r.cached
                usage.promptTokens += r.response.usage?.promptTokens ?? 0
                usage.completionTokens += r.response.usage?.completionTokens ?? 0
                raw = first.text + "\n---repair---\n" + r.response.text
                answer = parser.parse(r.response.text)
                answering = r.response
                if answer != nil { vote.repaired = true }
            } catch let e as SendFailure {
                vote.status = .error
                vote.raw = first.text
                vote.error = "repair re-ask failed: \(e.error.message)"
                vote.reason = e.error.reason
                attempts += e.attempts
                allCached = false
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
        case .choice(let shownChoice):
            vote.verdict = call.order == .ba ? shownChoice.swapped : shownChoice
        case .score(let s):
            vote.score = s
        case .checks(let c):
            vote.checks = c
        }
        if config.topLogprobs != nil {
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

    struct Sent {
        let response: CompletionResponse
        let attempts: Int
        let cached: Bool
    }

    /// A call that failed for good: the last provider error and the number of HTTP attempts made.
    struct SendFailure: Error {
        let error: ProviderError
        let attempts: Int
    }

    /// Cache, rate limit and retry around the provider. Throws ``SendFailure`` (with the exact attempt count)
    /// when the provider keeps failing or fails with a non-retryable error; rethrows cancellation.
    func send(_ request: CompletionRequest, sample: Int, judge: JudgeRuntime) async throws -> Sent {
        let key = cache.map { _ in ResponseCache.key(provider: judge.config.provider, request: request, sample: sample) }
        if let cache, let key, let hit = cache.get(key) {
            return Sent(response: hit, attempts: 0, cached: true)
        }
        let estimate = request.messages.reduce(0) { $0 + $1.content.utf8.count / 4 } + (request.maxTokens ?? 256)
        var attempt = 0
        var rng = SystemRandomNumberGenerator()
        while true {
            try Task.checkCancellation()
            attempt += 1
            try await judge.limiter.acquire(tokens: estimate)
            do {
                let response = try await judge.provider.complete(request, timeout: judge.config.timeoutSeconds)
                stats.callMade()
                if let cache, let key { cache.put(key, response) }
                return Sent(response: response, attempts: attempt, cached: false)
            } catch let e as ProviderError {
                if Task.isCancelled { throw CancellationError() }
                stats.callMade()
                guard e.isRetryable, attempt <= judge.config.retries else { throw SendFailure(error: e, attempts: attempt) }
                stats.retried()
                var delay = min(retry.maxDelay, retry.baseDelay * pow(2, Double(attempt - 1)))
                delay *= Double.random(in: 0.5...1.0, using: &rng)
                if let ra = e.retryAfter {
                    let wait = min(ra, retry.maxRetryAfter)
                    await judge.limiter.pause(seconds: wait)
                    delay = max(delay, wait)
                }
                try await Task.sleep(for: .seconds(delay))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                stats.callMade()
                let e = ProviderError.connection(String(describing: error))
                guard attempt <= judge.config.retries else { throw SendFailure(error: e, attempts: attempt) }
                stats.retried()
                try await Task.sleep(for: .seconds(min(retry.maxDelay, retry.baseDelay * pow(2, Double(attempt - 1)))))
            }
        }
    }
}
