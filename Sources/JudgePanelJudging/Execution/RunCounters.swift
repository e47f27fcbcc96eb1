import Foundation
import JudgePanelCore
import JudgePanelProviders
import Synchronization

/// Live counters of a run (calls, retries, votes by status, tokens, cost), safe to read from a progress reporter.
public final class RunCounters: Sendable {
    /// The counters at one moment.
    public struct Snapshot: Sendable, Hashable {
        /// Votes recorded, by status, with their tokens and cost.
        public var totals = VoteTotals()
        /// Votes served from the response cache.
        public var cached = 0
        /// Requests sent to providers.
        public var httpCalls = 0
        /// Retries made.
        public var retries = 0
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
            s.totals.add(vote)
            if vote.cached == true { s.cached += 1 }
        }
    }

    /// `n` HTTP requests written (a transport's re-send on a fresh connection is one more).
    func callMade(_ n: Int = 1) { state.withLock { $0.httpCalls += n } }
    package func retried(_ n: Int = 1) { state.withLock { $0.retries += n } }
    func judgeStopped(_ judge: String, reason: String) {
        state.withLock { s in
            if s.stoppedJudges[judge] == nil { s.stoppedJudges[judge] = reason }
        }
    }
}
