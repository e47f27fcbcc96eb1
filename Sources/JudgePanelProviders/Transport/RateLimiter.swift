import Foundation
import JudgePanelCore

/// A judge's lane: its request and token rate limits (requests and tokens per minute, as token buckets), the
/// pause a provider asked for (every call of the judge waits it out, not only the one that was told), and the stop
/// after an exhausted quota (no further call of the judge is sent).
package actor RateLimiter {
    private let rpm: Double?
    private let tpm: Double?
    private var requestTokens: Double
    private var tokenTokens: Double
    private var last: ContinuousClock.Instant
    private var pausedUntil: ContinuousClock.Instant?
    /// Why the lane is paused (the provider's request, in words).
    private var pauseReason = ""
    private var stopped: ProviderError?

    package init(rpm: Double?, tpm: Double?) {
        self.rpm = rpm
        self.tpm = tpm
        requestTokens = min(rpm ?? 1, max(1, (rpm ?? 60) / 60))
        tokenTokens = (tpm ?? 0) / 60
        last = .now
    }

    private func refill() {
        let now = ContinuousClock.now
        let dt = Double((now - last).components.seconds) + Double((now - last).components.attoseconds) / 1e18
        last = now
        if let rpm { requestTokens = min(max(1, rpm / 60), requestTokens + dt * rpm / 60) }
        if let tpm { tokenTokens = min(max(1, tpm / 6), tokenTokens + dt * tpm / 60) }
    }

    /// Waits until a request of about `tokens` tokens may be sent. Throws ``JudgeStopped`` once the judge is stopped,
    /// and ``LanePaused`` (without waiting) when the judge is held by a provider's pause for longer than `maxPause`.
    package func acquire(tokens: Int, maxPause: Double = .infinity) async throws {
        while true {
            if let stopped { throw JudgeStopped(cause: stopped) }
            if let until = pausedUntil, until > .now {
                let left = Self.seconds(until - .now)
                if left > maxPause { throw LanePaused(seconds: left, reason: pauseReason) }
                try await Task.sleep(until: until, clock: .continuous)
                continue
            }
            guard rpm != nil || tpm != nil else { return }
            refill()
            let needTokens = tpm == nil ? 0 : min(Double(tokens), max(1, tpm! / 6))
            if requestTokens >= 1 || rpm == nil, tokenTokens >= needTokens || tpm == nil {
                if rpm != nil { requestTokens -= 1 }
                if tpm != nil { tokenTokens -= needTokens }
                return
            }
            var wait = 0.05
            if let rpm, requestTokens < 1 { wait = max(wait, (1 - requestTokens) * 60 / rpm) }
            if let tpm, tokenTokens < needTokens { wait = max(wait, (needTokens - tokenTokens) * 60 / tpm) }
            try await Task.sleep(for: .seconds(min(wait, 5)))
        }
    }

    /// Holds every request of this judge for `seconds` (a provider's Retry-After); `reason` says who asked.
    package func pause(seconds: Double, reason: String = "") {
        let until = ContinuousClock.now + .seconds(min(seconds, 1e9))
        if pausedUntil == nil || pausedUntil! < until {
            pausedUntil = until
            pauseReason = reason
        }
    }

    package static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Stops the judge: every later ``acquire(tokens:)`` throws ``JudgeStopped`` with `cause` (the first cause is kept).
    /// Returns whether this call stopped it (false when it was already stopped).
    package func stop(_ cause: ProviderError) -> Bool {
        guard stopped == nil else { return false }
        stopped = cause
        return true
    }
}

/// The judge's lane is paused for longer than the call may wait: the call was not sent.
package struct LanePaused: Error {
    package let seconds: Double
    package let reason: String
}

/// A judge stopped after `cause` (an exhausted quota): the call was not sent.
package struct JudgeStopped: Error {
    package let cause: ProviderError
}
