import Synchronization
import JudgePanelCore

/// Counts the HTTP requests a transport actually writes for one provider call, re-sends included (a reused
/// keep-alive connection that closed before any response byte is re-sent on a fresh one by
/// ``SocketHTTPTransport``). The call executor binds one to ``current`` around each provider call; a transport that
/// knows about re-sends adds to it, and a call whose transport adds nothing counts as one request.
package final class RequestTally: Sendable {
    private let count = Mutex(0)

    /// A tally at zero.
    package init() {}

    /// The tally of the provider call running in this task, if any.
    @TaskLocal package static var current: RequestTally?

    /// Records `n` requests written.
    package func add(_ n: Int = 1) { count.withLock { $0 += n } }

    /// Requests written so far.
    package var value: Int { count.withLock { $0 } }
}
