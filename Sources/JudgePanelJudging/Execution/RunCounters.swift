import Foundation
import JudgePanelCore
import JudgePanelProviders
import Synchronization

/// Live counters of a run (calls, retries, votes by status, tokens, cost), safe to read from a progress reporter.
public final class RunCounters: Sendable {
    /// The counters at one moment.
    public struct Snapshot: Sendable, Hashable {
        /// Votes recorded.
        public var votes = 0
        /// Votes with a usable answer.
        public var ok = 0
        /// Votes without a usable answer.
        public var abstain = 0
        /// Votes that failed.
        public var error = 0
        /// Votes served from the response cache.
        public var cached = 0
        /// Requests sent to providers.
        public var httpCalls = 0
        /// Retries made.
        public var retries = 0
        /// Prompt tokens used.
        public var promptTokens = 0
        /// Completion tokens used.
        public var completionTokens = 0
        /// Dollars spent.
        public var costUSD = 0.0
        /// Judges stopped during the run (an exhausted quota), by name, with the provider's message: their
        /// remaining calls were recorded as error votes (reason `quota`) without being sent.
        public var stoppedJudges: [String: String] = [:]

        /// Counters at zero.
        package init() {}
    }

    private let state = Mutex(Snapshot())
    /// Votes this run expects to produce (for progress and ETA).
    public let expected: Int

    /// Counters for a run of `expected` votes (0 when unknown).
    public init(expected: Int = 0) {
        self.expected = expected
    }

    /// The counters now.
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
