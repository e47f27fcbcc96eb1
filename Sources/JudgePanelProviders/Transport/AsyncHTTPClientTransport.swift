import AsyncHTTPClient
import Foundation
import JudgePanelCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The HTTP transport for `http://` and `https://`: swift-server/async-http-client (SwiftNIO) with TLS, a keep-alive
/// connection pool per host sized to the judges' concurrency, and proxies from the environment.
///
/// Behaviour:
/// - at most `maxConnectionsPerHost` HTTP/1.1 connections per host (HTTP/2 is negotiated over TLS when the server
///   offers it); requests beyond that wait for a connection;
/// - `HTTPRequest.timeout` bounds the whole exchange, connecting, waiting for a connection and reading the body
///   included → ``ProviderError/timeout(after:)``; task cancellation → `CancellationError`;
/// - refused, reset or closed connections, a truncated or malformed response, a TLS failure → ``ProviderError``
///   `.connection` (retryable: the retry layer re-sends, and the server counts every request it saw); a connection
///   is opened once per attempt (no transparent re-connect loop), and a request is never re-sent by the transport;
/// - redirects are not followed (a 3xx is returned as is); bodies are not decompressed;
/// - proxies from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` as `ProxyEnvironment` describes;
/// - a response body larger than `maxResponseBytes` (no cap by default, as before) → ``ProviderError`` `.badResponse`.
///
/// The transport owns an event-loop group and one `HTTPClient` per proxy route it uses (usually one). Call
/// ``shutdown()`` when done: it closes every connection and stops the event-loop threads. (A transport released
/// without it starts the same shutdown in the background, so nothing leaks, but nothing waits for it either.)
/// Header values (API keys) never appear in errors.
///
/// ```swift
/// let transport = try AsyncHTTPClientTransport(maxConnectionsPerHost: 32)
/// let response = try await transport.send(HTTPRequest(url: URL(string: "http://127.0.0.1:8080/health")!, method: "GET"))
/// try await transport.shutdown()
/// ```
public final class AsyncHTTPClientTransport: HTTPTransport {
    /// The most HTTP/1.1 connections kept or opened per host.
    public let maxConnectionsPerHost: Int
    /// The largest response body accepted, in bytes.
    public let maxResponseBytes: Int
    package let proxies: ProxyEnvironment
    let eventLoopGroup: MultiThreadedEventLoopGroup

    private struct State {
        /// One client per route: nil key is the direct one.
        var clients: [ProxyEnvironment.Proxy?: HTTPClient] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxConnectionsPerHost: size it to the judges' concurrency (a few more do no harm).
    ///   - environment: where the proxy variables are read.
    ///   - maxResponseBytes: the largest response body accepted (default: no cap).
    /// - Throws: ``/JudgePanelCore/JudgePanelError`` when a proxy variable names a proxy that cannot be used.
    public init(
        maxConnectionsPerHost: Int = 64, environment: [String: String] = ProcessInfo.processInfo.environment,
        maxResponseBytes: Int = .max
    ) throws {
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        self.maxResponseBytes = max(0, maxResponseBytes)
        proxies = try ProxyEnvironment(environment: environment)
        // Network I/O only: parsing and everything else runs on Swift's cooperative pool.
        eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(System.coreCount / 2, 4)))
    }

    deinit {
        // Not shut down by its owner: start the same shutdown without waiting for it (never `syncShutdown` here).
        let clients = state.withLock { s -> [HTTPClient]? in
            guard !s.shutDown else { return nil }
            s.shutDown = true
            return Array(s.clients.values)
        }
        guard let clients else { return }
        let group = eventLoopGroup
        let pending = DispatchGroup()
        for client in clients {
            pending.enter()
            client.shutdown(queue: .global()) { _ in pending.leave() }
        }
        pending.notify(queue: .global()) { group.shutdownGracefully(queue: .global()) { _ in } }
    }

    /// Closes every connection and stops the event-loop threads. Requests sent afterwards fail.
    public func shutdown() async throws {
        let clients = state.withLock { s -> [HTTPClient]? in
            guard !s.shutDown else { return nil }
            s.shutDown = true
            defer { s.clients = [:] }
            return Array(s.clients.values)
        }
        guard let clients else { return }
        var firstError: (any Error)?
        for client in clients {
            do { try await client.shutdown() } catch { firstError = firstError ?? error }
        }
        do { try await eventLoopGroup.shutdownGracefully() } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    /// Sends `request` and reads the whole response within `request.timeout`.
    /// - Throws: ``ProviderError`` (`.timeout`, `.connection`, `.badResponse`) or `CancellationError`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let scheme = request.url.scheme?.lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw ProviderError.connection("unsupported URL scheme '\(scheme ?? "")' (http or https)")
        }
        guard let host = request.url.host, !host.isEmpty else { throw ProviderError.connection("URL without a host") }
        let outgoing = try Self.makeRequest(request)
        let client = try client(for: proxies.proxy(for: request.url))
        try Task.checkCancellation()
        let timeout = request.timeout
        let deadline = NIODeadline.now() + .nanoseconds(Int64(Self.nanoseconds(timeout)))
        let limit = maxResponseBytes
        // The deadline bounds the head inside the client; a timer on an event loop, cancelling the exchange, bounds
        // the body too. The timer is cancelled as soon as the exchange ends, which removes it from its event loop: a
        // cancelled `Task.sleep` (the race this replaces) kept its task and dispatch timer alive until the timeout, so
        // a run held ~500 bytes for every call of the last `timeout` seconds (issue 13; BENCHMARKS.md, "Memory of a
        // score run").
        let exchange = Task {
            let response = try await client.execute(outgoing, deadline: deadline)
            let body = try await response.body.collect(upTo: limit)
            return Self.makeResponse(response, body: body)
        }
        let fired = TimerFlag()
        let timer = eventLoopGroup.any().scheduleTask(deadline: deadline) {
            fired.set()
            exchange.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await exchange.value
            } onCancel: {
                exchange.cancel()
            }
        } catch {
            // Cancelled by the timer: a timeout. An exchange that failed by itself keeps its own error, even when its
            // failure is seen after the deadline (a busy process can resume the waiting task late).
            let cancelled = error is CancellationError || (error as? HTTPClientError) == .cancelled
            if cancelled, fired.isSet { throw ProviderError.timeout(after: timeout) }
            throw Self.classify(error, timeout: timeout, limit: limit, authority: Self.authority(request.url))
        }
    }

    /// Set by the timer of ``send(_:)`` when it fired (a cancelled exchange was then cancelled at the timeout, not by
    /// its caller).
    private final class TimerFlag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    // MARK: - Clients

    private func client(for proxy: ProxyEnvironment.Proxy?) throws -> HTTPClient {
        try state.withLock { s in
            guard !s.shutDown else { throw ProviderError.connection("the HTTP transport was shut down") }
            if let c = s.clients[proxy] { return c }
            let c = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration(proxy: proxy))
            s.clients[proxy] = c
            return c
        }
    }

    private func configuration(proxy: ProxyEnvironment.Proxy?) -> HTTPClient.Configuration {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        // Each call has its own deadline; these only stop a dead peer from holding a connection forever.
        config.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(60))
        config.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost)
        // A refused connection fails the attempt at once; the retry layer decides what happens next.
        config.connectionPool.retryConnectionEstablishment = false
        if let proxy {
            switch proxy.kind {
            case .http:
                let auth = proxy.username.map {
                    HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "")
                }
                config.proxy = .server(host: proxy.host, port: proxy.port, authorization: auth)
            case .socks:
                config.proxy = .socksServer(host: proxy.host, port: proxy.port)
            }
        }
        return config
    }

    // MARK: - Request and response

    /// Headers the client writes itself (the caller's are dropped) or never sends.
    private static let reserved: Set<String> = ["host", "content-length", "transfer-encoding", "expect", "connection"]

    static func makeRequest(_ request: HTTPRequest) throws -> HTTPClientRequest {
        let method = request.method.isEmpty ? "GET" : request.method
        guard method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw ProviderError.connection("bad HTTP method")
        }
        var out = HTTPClientRequest(url: request.url.absoluteString)
        out.method = HTTPMethod(rawValue: method.uppercased())
        var hasUserAgent = false
        for (name, value) in request.headers {
            let lower = name.lowercased()
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
                throw ProviderError.connection("invalid header name")
            }
            // Never echo the value: it may be a key.
            guard !value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) else {
                throw ProviderError.connection("invalid value for header '\(name)'")
            }
            if lower == "connection", value.lowercased().contains("close") {
                out.headers.add(name: "Connection", value: "close")
            }
            if reserved.contains(lower) { continue }
            if lower == "user-agent" { hasUserAgent = true }
            out.headers.add(name: name, value: value)
        }
        if !hasUserAgent { out.headers.add(name: "User-Agent", value: "judgepanel") }
        if let body = request.body, !body.isEmpty {
            out.body = .bytes(ByteBuffer(bytes: body))
        } else if !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"].contains(method.uppercased()) {
            out.body = .bytes(ByteBuffer())
        }
        return out
    }

    package static func makeResponse(_ response: HTTPClientResponse, body: ByteBuffer) -> HTTPResponse {
        var headers: [String: String] = [:]
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if let previous = headers[lower] {
                headers[lower] = previous + ", " + value
            } else {
                headers[lower] = value
            }
        }
        let data = body.withUnsafeReadableBytes { Data($0) }
        return HTTPResponse(status: Int(response.status.code), headers: headers, body: data)
    }

    // MARK: - Errors

    /// Maps the client's errors to the transport's cases (the retry policy reads ``ProviderError/Kind``).
    static func classify(_ error: any Error, timeout: Double, limit: Int, authority: String) -> any Error {
        if let e = error as? ProviderError { return e }
        if Task.isCancelled || error is CancellationError { return CancellationError() }
        if error is NIOTooManyBytesError {
            return ProviderError.badResponse("response body larger than \(limit) bytes (\(authority))")
        }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded: return ProviderError.timeout(after: timeout)
            case .connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout,
                .getConnectionFromPoolTimeout, .readTimeout, .writeTimeout:
                return ProviderError(kind: .timeout, message: "timed out: \(e) (\(authority))")
            case .cancelled: return CancellationError()
            case .remoteConnectionClosed:
                return ProviderError.connection("connection closed before the response was complete (\(authority))")
            case .alreadyShutdown: return ProviderError.connection("the HTTP transport was shut down")
            default: return ProviderError.connection("\(e) (\(authority))")
            }
        }
        if let e = error as? IOError {
            if e.errnoCode == ECONNREFUSED { return ProviderError.connection("connection refused (\(authority))") }
            if e.errnoCode == ECONNRESET { return ProviderError.connection("connection reset (\(authority))") }
        }
        let text = String(describing: error)
        if text.contains("Connection refused") { return ProviderError.connection("connection refused (\(authority))") }
        return ProviderError.connection("\(text) (\(authority))")
    }

    package static func authority(_ url: URL) -> String {
        let host = url.host ?? ""
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Seconds as nanoseconds, clamped to [0, 10 years].
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds, 315_360_000) * 1e9)
    }
}
