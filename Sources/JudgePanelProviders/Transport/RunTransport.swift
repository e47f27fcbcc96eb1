import Foundation
import JudgePanelCore

/// The HTTP transport a run makes when none is injected, and its lifetime: made when the run starts, shut down
/// (`try await shutdown()`, never a blocking shutdown) when it ends.
package enum RunTransport {
    /// One ``AsyncHTTPClientTransport`` for `judges`, with proxies from `environment`. Judges may share a host (one
    /// local server, one provider's API), so the per-host connection limit is the sum of their concurrency (plus a
    /// few): no judge waits for a connection below its own concurrency.
    package static func make(judges: [JudgeConfig], environment: [String: String]) throws -> AsyncHTTPClientTransport {
        try AsyncHTTPClientTransport(
            maxConnectionsPerHost: judges.map(\.concurrency).reduce(0, +) + 4, environment: environment)
    }

    /// Runs `body` with `injected` (its owner shuts it down), or with a transport made for `judges` and shut down
    /// when `body` ends, also when it throws.
    package static func with<T>(
        _ injected: (any HTTPTransport)?, judges: [JudgeConfig], environment: [String: String],
        _ body: (any HTTPTransport) async throws -> T
    ) async throws -> T {
        if let injected { return try await body(injected) }
        let made = try make(judges: judges, environment: environment)
        let value: T
        do {
            value = try await body(made)
        } catch {
            await shutdown(made, after: error)
            throw error
        }
        try await made.shutdown()
        return value
    }

    /// Shuts `transport` down after the run failed with `failure`. The run's own failure is what the caller reports,
    /// so a failure to shut down here is not: it can only be a client already shut down.
    package static func shutdown(_ transport: AsyncHTTPClientTransport?, after failure: any Error) async {
        guard let transport else { return }
        do {
            try await transport.shutdown()
        } catch {
            // `failure` is reported by the caller; see above.
        }
    }
}

/// Sends each request on a transport of its own, shut down before `send` returns: for rare requests where no run's
/// transport is at hand (a local server's health poll while it starts). Proxies are not used (the requests go to
/// this machine).
package struct OneShotTransport: HTTPTransport {
    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await RunTransport.with(nil, judges: [], environment: [:]) { try await $0.send(request) }
    }
}
