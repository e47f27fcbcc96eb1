import Foundation
import Synchronization
import JudgePanelCore
import JudgePanelProviders

/// Live counters of a run (calls, retries, votes by status, tokens, cost), safe to read from a progress reporter.
public final class RunCounters: Sendable {
    public struct Snapshot: Sendable, Hashable {
        public var votes = 0
        public var ok = 0
        public var abstain = 0
        public var error = 0
        public var cached = 0
        public var httpCalls = 0
        public var retries = 0
        public var promptTokens = 0
        public var completionTokens = 0
        public var costUSD = 0.0
        /// Judges stopped during the run (an exhausted quota), by name, with the provider's message: their
        /// remaining calls were recorded as error votes (reason `quota`) without being sent.
        public var stoppedJudges: [String: String] = [:]
    }

    private let state = Mutex(Snapshot())
    /// Votes this run expects to produce (for progress and ETA).
    public let expected: Int

    public init(expected: Int = 0) {
        self.expected = expected
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    package func record(_ vote: Vote) {
        state.withLock { s in
            s.votes += 1
            switch vote.status {
            case .ok: s.ok += 1
            case .abstain: s.abstain += 1
            case .error: s.error += 1
            }
            if vote.cached == true { s.cached += 1 }
            s.promptTokens += vote.usage?.promptTokens ?? 0
            s.completionTokens += vote.usage?.completionTokens ?? 0
            s.costUSD += vote.costUSD ?? 0
        }
    }

    /// `n` HTTP requests written (a transport's re-send on a fresh connection is one more).
    package func callMade(_ n: Int = 1) { state.withLock { $0.httpCalls += n } }
    package func retried(_ n: Int = 1) { state.withLock { $0.retries += n } }
    package func judgeStopped(_ judge: String, reason: String) {
        state.withLock { s in
            if s.stoppedJudges[judge] == nil { s.stoppedJudges[judge] = reason }
        }
    }
}
