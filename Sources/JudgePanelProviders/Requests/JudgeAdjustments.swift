import Foundation
import JudgePanelCore
import Synchronization

/// What a judge's server asked for during a run — a parameter dropped or renamed after a 400 that names it,
/// log-probabilities turned off after a refusal — applied to every later request of that judge, once
/// learned. Shared by the judge's concurrent calls.
package final class JudgeAdjustments: Sendable {
    package struct State: Sendable {
        package var fixes: [WireFix] = []
        package var notes: [String] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// The fixes learned so far, in the order they were learned.
    package var fixes: [WireFix] { state.withLock { $0.fixes } }

    /// One line per fix for the run summary and report notes.
    package var notes: [String] { state.withLock { $0.notes } }

    /// Whether log-probabilities were turned off for this judge.
    package var logprobsUnavailable: Bool { fixes.contains(.noLogprobs) }

    /// Records `fix` (once); returns false when it was already known.
    @discardableResult
    package func record(_ fix: WireFix, judge: String, detail: String) -> Bool {
        state.withLock { s in
            guard !s.fixes.contains(fix) else { return false }
            s.fixes.append(fix)
            let what: String
            switch fix {
            case .drop(let p): what = "the server rejected '\(p)'; it is left out"
            case .rename(let from, let to): what = "the server rejected '\(from)'; the value is sent as '\(to)'"
            case .noLogprobs: what = "logprobs unavailable; asked again without them"
            }
            s.notes.append("judge '\(judge)': \(what) for the rest of the run (\(detail))")
            return true
        }
    }

    /// `request` with every learned fix applied.
    package func apply(_ request: CompletionRequest) -> CompletionRequest {
        var r = request
        for fix in fixes {
            switch fix {
            case .noLogprobs:
                r.topLogprobs = nil
            case .rename(let from, let to):
                if from == "max_tokens" || from == "max_completion_tokens" {
                    r.wire.tokenLimitField = to
                } else {
                    r.wire.omit.insert(from)
                    var extra = r.wire.extraBody?.objectValue ?? [:]
                    if extra[to] == nil, let v = Self.value(of: from, in: r) { extra[to] = v }
                    r.wire.extraBody = .object(extra)
                }
            case .drop(let p):
                switch p {
                case "temperature": r.temperature = nil
                case "max_tokens", "max_completion_tokens": r.maxTokens = nil
                case "seed": r.seed = nil
                case "logprobs", "top_logprobs": r.topLogprobs = nil
                default: r.wire.omit.insert(p)
                }
            }
        }
        return r
    }

    private static func value(of field: String, in r: CompletionRequest) -> JSONValue? {
        switch field {
        case "temperature": return r.temperature.map { .number($0) }
        case "seed": return r.seed.map { .number(Double($0)) }
        default: return nil
        }
    }

    /// Whether `fix` may be applied to this judge: a value the panel file wrote is never dropped (renaming the
    /// output limit keeps its value, and log-probabilities fall back by design).
    package static func allowed(_ fix: WireFix, config: JudgeConfig) -> Bool {
        switch fix {
        case .noLogprobs, .rename: return true
        case .drop(let p): return !config.explicitFields.contains(p == "max_completion_tokens" ? "max_tokens" : p)
        }
    }
}

/// Lets a judge's first HTTP call go alone: the others wait until it is answered, so a parameter the server
/// rejects is learned from one request, not from every call in flight at once.
package actor FirstCallGate {
    private var done = false
    private var leading = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    package init() {}

    /// True for the caller that must go first (it calls ``open()`` when answered); others return once it has.
    package func enter() async -> Bool {
        if done { return false }
        if !leading {
            leading = true
            return true
        }
        await withCheckedContinuation { waiters.append($0) }
        return false
    }

    /// Lets every waiting call go.
    package func open() {
        done = true
        let w = waiters
        waiters = []
        for c in w { c.resume() }
    }
}
