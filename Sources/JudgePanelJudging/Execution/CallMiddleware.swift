import Foundation
import JudgePanelCore
import JudgePanelProviders
import Synchronization

/// What every layer around one provider call sees: the judge, the sample index, the run's counters and the
/// progress of this send (requests written, whether the reply came from the cache, seconds of waiting granted).
struct CallContext: Sendable {
    package let judge: JudgeRuntime
    package let sample: Int
    package let stats: RunCounters
    package let progress: SendProgress
}

/// The progress of one send through the layers (shared by them; a send runs its layers one after another).
final class SendProgress: Sendable {
    private struct State {
        var requests = 0
        var cached = false
        var waited = 0.0
    }

    private let state = Mutex(State())

    /// HTTP requests written for this send (retries included).
    package var requests: Int { state.withLock { $0.requests } }
    /// Whether the reply came from the cache.
    package var cached: Bool { state.withLock { $0.cached } }
    /// Seconds of waiting this send has been told by the provider (its own 429s).
    package var waited: Double { state.withLock { $0.waited } }

    func addRequests(_ n: Int) { state.withLock { $0.requests += n } }
    func markCached() { state.withLock { $0.cached = true } }
    func addWaited(_ seconds: Double) { state.withLock { $0.waited += seconds } }
}

/// The rest of the chain, as a layer calls it.
typealias CallNext = @Sendable (CompletionRequest, CallContext) async throws -> CompletionResponse

/// One layer around the provider call (in the manner of swift-openapi-runtime's `ClientMiddleware` around a
/// `ClientTransport`): it may answer itself (a cache hit), call `next` once or several times (retries), wait first
/// (rate limits), or turn a failure into another. Layers throw ``ProviderError`` for failures that the layers
/// outside may retry and ``FinalProviderError`` for those no one may.
protocol CallMiddleware: Sendable {
    func intercept(_ request: CompletionRequest, context: CallContext, next: CallNext) async throws
        -> CompletionResponse
}

/// A failure that no layer may retry (a wait longer than the call's budget, a judge stopped by its quota).
struct FinalProviderError: Error {
    package let error: ProviderError
}

/// Layers, outermost first, around the provider call.
struct CallPipeline: Sendable {
    package let layers: [any CallMiddleware]

    /// The standard stack: cache (when given) → retry → rate limit → provider.
    package static func standard(cache: ResponseCache?, retry: RetryPolicy) -> CallPipeline {
        var layers: [any CallMiddleware] = []
        if let cache { layers.append(CacheMiddleware(cache: cache)) }
        layers.append(RetryMiddleware(policy: retry))
        layers.append(RateLimitMiddleware(policy: retry))
        return CallPipeline(layers: layers)
    }

    package func run(_ request: CompletionRequest, context: CallContext) async throws -> CompletionResponse {
        var next: CallNext = { request, context in try await ProviderCall.send(request, context: context) }
        for layer in layers.reversed() {
            let inner = next
            next = { request, context in try await layer.intercept(request, context: context, next: inner) }
        }
        return try await next(request, context)
    }
}

/// The innermost step: one provider call, counted as one HTTP request (the transport never re-sends: a retry is the
/// retry layer's, and counted there), turns stray errors into connection errors, and scrubs the judge's key from
/// every error message before it leaves.
enum ProviderCall {
    package static func send(_ request: CompletionRequest, context: CallContext) async throws -> CompletionResponse {
        let judge = context.judge
        func count() {
            context.progress.addRequests(1)
            context.stats.callMade(1)
        }
        do {
            let response = try await judge.provider.complete(request, timeout: judge.config.timeoutSeconds)
            count()
            return judge.scrubber.scrubbed(response)
        } catch let e as ProviderError {
            if Task.isCancelled { throw CancellationError() }
            count()
            throw e.scrubbed(judge.scrubber)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            count()
            throw ProviderError.connection(String(describing: error)).scrubbed(judge.scrubber)
        }
    }
}

/// Answers from the response cache when it can; stores every fresh reply.
struct CacheMiddleware: CallMiddleware {
    package let cache: ResponseCache

    package func intercept(_ request: CompletionRequest, context: CallContext, next: CallNext) async throws
        -> CompletionResponse
    {
        let key = ResponseCache.key(judge: context.judge.config, request: request, sample: context.sample)
        if let hit = cache.get(key) {
            context.progress.markCached()
            // An entry written before replies were scrubbed is scrubbed on the way out.
            return context.judge.scrubber.scrubbed(hit)
        }
        // Scrubbed before it is stored: a reply that echoes the key (a gateway, a debugging proxy, a model repeating
        // its context) never reaches the cache, which shards and runs share.
        let response = context.judge.scrubber.scrubbed(try await next(request, context))
        cache.put(key, response)
        return response
    }
}

/// Retries retryable failures up to the judge's `retries`, with exponential backoff and jitter. A wait the provider
/// asked for is not slept here: the rate-limit layer inside holds the judge's lane until it has passed.
struct RetryMiddleware: CallMiddleware {
    package let policy: RetryPolicy

    package func intercept(_ request: CompletionRequest, context: CallContext, next: CallNext) async throws
        -> CompletionResponse
    {
        var attempt = 0
        var rng = SystemRandomNumberGenerator()
        while true {
            try Task.checkCancellation()
            attempt += 1
            do {
                return try await next(request, context)
            } catch let e as ProviderError {
                guard e.isRetryable, attempt <= context.judge.config.retries else { throw e }
                context.stats.retried()
                var delay = min(policy.maxDelay, policy.baseDelay * pow(2, Double(attempt - 1)))
                delay *= Double.random(in: 0.5...1.0, using: &rng)
                Diagnostics.logger.debug(
                    "retrying a call after a retryable error",
                    metadata: [
                        "judge": "\(context.judge.config.name)", "attempt": "\(attempt)",
                        "delay_s": "\(String(format: "%.2f", delay))", "error": "\(e.description)",
                    ])
                try await Task.sleep(for: .seconds(delay))
            }
        }
    }
}

/// The judge's lane: waits for its rate limits and for any pause a provider asked for; on a reply that asks to
/// wait, pauses the whole lane (every call of the judge, not only this one). The waits a call is told itself add up
/// against its wait budget (``RetryPolicy/maxRetryAfter``): a requested wait longer than what is left is reported as
/// its failure, and a call that finds the lane held for longer than what it has left fails unsent. On an exhausted quota it stops the judge (its later calls
/// fail at once, unsent) and records why in the run's counters.
struct RateLimitMiddleware: CallMiddleware {
    package let policy: RetryPolicy

    package func intercept(_ request: CompletionRequest, context: CallContext, next: CallNext) async throws
        -> CompletionResponse
    {
        let lane = context.judge.limiter
        let estimate = request.messages.reduce(0) { $0 + $1.content.utf8.count / 4 } + (request.maxTokens ?? 256)
        let name = context.judge.config.name
        do {
            // Waiting out a pause another call was told is queueing, not this call's wait: it is not charged to the
            // budget, but a pause longer than the budget fails the call unsent.
            try await lane.acquire(tokens: estimate, maxPause: budgetLeft(context))
        } catch let stopped as JudgeStopped {
            throw FinalProviderError(
                error: ProviderError(
                    kind: .quota, status: stopped.cause.status,
                    message: "not sent: judge '\(name)' stopped after its quota ran out (\(stopped.cause.message))"))
        } catch let paused as LanePaused {
            throw FinalProviderError(
                error: ProviderError(
                    kind: .rateLimited,
                    message:
                        "not sent: judge '\(name)' is held \(Self.seconds(paused.seconds)) s more (\(paused.reason)), "
                        + "more than the \(Self.seconds(budgetLeft(context))) s left of this call's wait budget",
                    retryAfter: paused.seconds))
        }
        do {
            return try await next(request, context)
        } catch let e as ProviderError {
            if e.kind == .quota {
                if await lane.stop(e) { context.stats.judgeStopped(context.judge.config.name, reason: e.message) }
                throw e
            }
            if let wait = e.retryAfter, e.isRetryable {
                let asked = "provider asked to wait \(Self.seconds(wait)) s (\(e.retryAfterSource ?? "retry hint"))"
                // The whole lane waits, also when this call cannot: the judge's other calls then fail unsent
                // instead of each asking again.
                await lane.pause(seconds: wait, reason: asked)
                let left = budgetLeft(context)
                context.progress.addWaited(wait)
                if wait > left {
                    throw FinalProviderError(
                        error: ProviderError(
                            kind: .rateLimited, status: e.status,
                            message:
                                "\(asked), more than the \(Self.seconds(left)) s left of this call's wait budget: \(e.message)",
                            retryAfter: wait, retryAfterSource: e.retryAfterSource))
                }
            }
            throw e
        }
    }

    /// Seconds of provider-requested waiting this call may still accept.
    func budgetLeft(_ context: CallContext) -> Double {
        max(0, policy.maxRetryAfter - context.progress.waited)
    }

    package static func seconds(_ s: Double) -> String {
        s == s.rounded() && abs(s) < 1e12 ? String(Int(s)) : String(format: "%.3g", s)
    }
}

extension SecretScrubber {
    /// A reply with the judge's secrets (any piece of 8 or more characters) and unambiguous key shapes removed from
    /// every text it carries; a reply without any is returned unchanged.
    package func scrubbed(_ r: CompletionResponse) -> CompletionResponse {
        var out = r
        out.text = scrubKeys(r.text)
        out.refusal = r.refusal.map { scrubKeys($0) }
        return out
    }
}
