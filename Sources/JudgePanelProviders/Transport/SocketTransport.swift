#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Dispatch
import Foundation
import Synchronization
import JudgePanelCore

/// HTTP/1.1 over plain TCP sockets: a lean transport for `http://` providers (local servers, vLLM,
/// llama.cpp, Ollama, proxies), with a keep-alive connection pool per host and port.
///
/// `https://` requests are delegated to a ``URLSessionTransport`` the transport holds (there is no TLS
/// here). Blocking socket I/O runs on a small pool of long-lived threads (never on Swift's cooperative
/// pool); each exchange costs a few system calls and no per-call thread creation.
///
/// Behaviour:
/// - at most `maxConnectionsPerHost` connections per host:port; callers beyond that wait, first in first out;
/// - `TCP_NODELAY`; the request carries `Host`, `Content-Length` and the given headers (never `Expect`);
/// - responses with `Content-Length`, `Transfer-Encoding: chunked`, or delimited by end of stream
///   (that connection is then closed); 1xx interim responses are skipped; `Connection: close` is honoured;
/// - `HTTPRequest.timeout` bounds the whole request → ``ProviderError/timeout(after:)``; refused, reset,
///   truncated or malformed responses → ``ProviderError/connection(_:)``; task cancellation →
///   `CancellationError` (the socket is shut down at once and discarded);
/// - an idle keep-alive connection the server closed is noticed before it is used, and a reused connection
///   that ends before any response byte arrives is retried once, at once, on a fresh connection; the re-send is a
///   request like any other, counted in the run's HTTP calls and the vote's attempts.
///
/// Header values (API keys) never appear in errors or logs.
///
/// ```swift
/// let transport = SocketHTTPTransport(maxConnectionsPerHost: 32)
/// let response = try await transport.send(HTTPRequest(url: URL(string: "http://127.0.0.1:8080/health")!, method: "GET"))
/// ```
package final class SocketHTTPTransport: HTTPTransport {
    /// Counters since the transport was created (for tests and benchmarks).
    package struct Statistics: Sendable, Hashable {
        /// Plain-HTTP requests sent (each stale-connection retry counts once more).
        package var requests: Int = 0
        /// TCP connections opened.
        package var connectionsOpened: Int = 0
        /// Requests re-sent on a fresh connection because a reused one closed before any response byte.
        package var staleRetries: Int = 0
    }

    /// The most connections kept or opened per host:port.
    package let maxConnectionsPerHost: Int
    private let pools = Mutex<[String: HostPool]>([:])
    private let counters = TransportCounters()
    private let secureFallback = Mutex<URLSessionTransport?>(nil)
    private let executor: BlockingExecutor

    /// - Parameter maxConnectionsPerHost: size it to the judge's concurrency (a few more do no harm).
    package init(maxConnectionsPerHost: Int = 64) {
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        executor = .shared
    }

    deinit {
        for pool in pools.withLock({ Array($0.values) }) { pool.closeIdle() }
    }

    /// Counters since creation.
    package var statistics: Statistics { counters.snapshot }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let scheme = request.url.scheme?.lowercased()
        if scheme == "https" { return try await secureTransport().send(request) }
        guard scheme == "http" else {
            throw ProviderError.connection("unsupported URL scheme '\(scheme ?? "")' (http or https)")
        }
        let target = try RequestTarget(request.url)
        let head = try RequestHead.serialize(request, target: target)
        try Task.checkCancellation()
        let deadline = MonotonicTime.now() &+ MonotonicTime.nanoseconds(request.timeout)
        let pool = hostPool(target)
        let lease = try await pool.acquire()
        guard MonotonicTime.now() < deadline else {
            pool.release(nil, closing: lease.connection)
            throw ProviderError.timeout(after: request.timeout)
        }
        let token = CancelToken()
        let exchange = Exchange(
            target: target, head: head, body: request.body ?? Data(), method: request.method, deadline: deadline,
            token: token, counters: counters, tally: RequestTally.current)
        let outcome: Result<HTTPResponse, ExchangeError> = await withTaskCancellationHandler {
            await executor.run {
                let (result, keep) = exchange.perform(lease.connection)
                pool.release(keep, closing: nil)
                return result
            }
        } onCancel: {
            token.cancel()
        }
        switch outcome {
        case .success(let response): return response
        case .failure(.timedOut): throw ProviderError.timeout(after: request.timeout)
        case .failure(.cancelled): throw CancellationError()
        case .failure(.closedBeforeResponse(let why)), .failure(.failed(let why)):
            throw ProviderError.connection("\(why) (\(target.authority))")
        }
    }

    private func hostPool(_ target: RequestTarget) -> HostPool {
        pools.withLock { pools in
            if let pool = pools[target.authority] { return pool }
            let pool = HostPool(limit: maxConnectionsPerHost)
            pools[target.authority] = pool
            return pool
        }
    }

    private func secureTransport() -> URLSessionTransport {
        secureFallback.withLock { fallback in
            if let fallback { return fallback }
            let made = URLSessionTransport(maxConnectionsPerHost: maxConnectionsPerHost)
            fallback = made
            return made
        }
    }
}

// MARK: - System calls

#if canImport(Glibc)
    private let streamSocketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    private let sendFlags = Int32(MSG_NOSIGNAL)
    private let sockStream = Int32(SOCK_STREAM.rawValue)
    private func sysClose(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    private func sysConnect(_ fd: Int32, _ a: UnsafePointer<sockaddr>?, _ l: socklen_t) -> Int32 { Glibc.connect(fd, a, l) }
    private func sysSend(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, _ f: Int32) -> Int { Glibc.send(fd, p, n, f) }
    private func sysRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ f: Int32) -> Int { Glibc.recv(fd, p, n, f) }
    /// Sockets are created non-blocking and close-on-exec; nothing more to set.
    private func configureSocket(_ fd: Int32) {}
#else
    private let streamSocketType = SOCK_STREAM
    private let sendFlags: Int32 = 0
    private let sockStream = SOCK_STREAM
    private func sysClose(_ fd: Int32) -> Int32 { Darwin.close(fd) }
    private func sysConnect(_ fd: Int32, _ a: UnsafePointer<sockaddr>?, _ l: socklen_t) -> Int32 { Darwin.connect(fd, a, l) }
    private func sysSend(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, _ f: Int32) -> Int { Darwin.send(fd, p, n, f) }
    private func sysRecv(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ f: Int32) -> Int { Darwin.recv(fd, p, n, f) }
    /// Non-blocking, close-on-exec, and no SIGPIPE on a closed peer.
    private func configureSocket(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
    }
#endif

// MARK: - Monotonic time

/// Nanoseconds on the monotonic clock.
package enum MonotonicTime {
    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds as nanoseconds, clamped to [0, 10 years].
    package static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds, 315_360_000) * 1e9)
    }
}

// MARK: - Request target and head

/// Where a request goes: host, port, the request-target path and the `Host` header.
package struct RequestTarget: Sendable {
    package let host: String
    package let port: Int
    /// `host:port`, the pool key and what error messages name.
    package let authority: String
    /// `Host` header value (`host` or `host:port` when the URL names a port).
    package let hostHeader: String
    /// Percent-encoded path and query, at least `/`.
    package let path: String

    package init(_ url: URL) throws {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
            let rawHost = components.host, !rawHost.isEmpty
        else { throw ProviderError.connection("URL without a host") }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { throw ProviderError.connection("bad port \(port)") }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        self.host = host
        self.port = port
        authority = "\(bracketed):\(port)"
        hostHeader = components.port == nil ? bracketed : "\(bracketed):\(port)"
        var path = components.percentEncodedPath
        if path.isEmpty { path = "/" }
        if let query = components.percentEncodedQuery { path += "?" + query }
        self.path = path
    }
}

/// Serializes the request line and headers.
package enum RequestHead {
    /// Headers the transport writes itself (the caller's are ignored) or never sends.
    private static let reserved: Set<String> = ["host", "content-length", "transfer-encoding", "expect", "connection"]

    package static func serialize(_ request: HTTPRequest, target: RequestTarget) throws -> [UInt8] {
        let method = request.method.isEmpty ? "GET" : request.method
        guard method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw ProviderError.connection("bad HTTP method") }
        var head = "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        var hasUserAgent = false
        var wantsClose = false
        for (name, value) in request.headers {
            let lower = name.lowercased()
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ":") }) else {
                throw ProviderError.connection("invalid header name")
            }
            // Never echo the value: it may be a key.
            guard !value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) else {
                throw ProviderError.connection("invalid value for header '\(name)'")
            }
            if lower == "connection" { wantsClose = value.lowercased().contains("close") }
            if reserved.contains(lower) { continue }
            if lower == "user-agent" { hasUserAgent = true }
            head += "\(name): \(value)\r\n"
        }
        if !hasUserAgent { head += "User-Agent: judgepanel\r\n" }
        if wantsClose { head += "Connection: close\r\n" }
        let length = request.body?.count ?? 0
        if length > 0 || !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"].contains(method.uppercased()) {
            head += "Content-Length: \(length)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8)
    }
}

// MARK: - Connections and the per-host pool

/// One open TCP connection. Owned by exactly one request at a time; ownership moves through ``HostPool``.
package struct Connection: Sendable {
    package let fd: Int32
    /// Responses read on it so far (0: fresh).
    package var served: Int = 0

    package func close() {
        _ = sysClose(fd)
    }
}

/// What ``HostPool/acquire()`` grants: an idle connection to reuse, or a slot to open a new one in.
package struct Lease: Sendable {
    package let connection: Connection?
}

/// The transport's ``SocketHTTPTransport/Statistics``, updated from the I/O threads.
package final class TransportCounters: Sendable {
    private let state = Mutex(SocketHTTPTransport.Statistics())

    package func update(_ body: (inout SocketHTTPTransport.Statistics) -> Void) {
        state.withLock { body(&$0) }
    }

    package var snapshot: SocketHTTPTransport.Statistics { state.withLock { $0 } }
}

/// Connections to one host:port: at most `limit` open, idle ones kept for reuse, waiters served FIFO.
package final class HostPool: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct State {
        var idle: [Connection] = []
        /// Open connections plus granted slots not yet connected.
        var open = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let limit: Int
    private let state = Mutex(State())

    package init(limit: Int) {
        self.limit = limit
    }

    /// An idle connection (most recently used first), a slot for a new one, or — at the limit — waits for one.
    package func acquire() async throws -> Lease {
        let granted: Lease? = state.withLock { s in
            if let c = s.idle.popLast() { return Lease(connection: c) }
            if s.open < limit {
                s.open += 1
                return Lease(connection: nil)
            }
            return nil
        }
        if let granted { return granted }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let now: Result<Lease, any Error>? = state.withLock { s in
                    // Checked under the lock: a cancellation either happened before (seen here) or will find the waiter.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let c = s.idle.popLast() { return .success(Lease(connection: c)) }
                    if s.open < limit {
                        s.open += 1
                        return .success(Lease(connection: nil))
                    }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { s in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a slot: `keep` goes back to the idle list (or straight to the first waiter); without it the slot
    /// is freed (or passed on to a waiter, who opens a new connection). `closing` is closed first.
    package func release(_ keep: Connection?, closing: Connection?) {
        closing?.close()
        let handoff: Waiter? = state.withLock { s in
            if !s.waiters.isEmpty { return s.waiters.removeFirst() }
            if let keep { s.idle.append(keep) } else { s.open -= 1 }
            return nil
        }
        handoff?.continuation.resume(returning: Lease(connection: keep))
    }

    /// Closes idle connections (the transport is going away).
    package func closeIdle() {
        let idle = state.withLock { s -> [Connection] in
            defer {
                s.open -= s.idle.count
                s.idle = []
            }
            return s.idle
        }
        for c in idle { c.close() }
    }
}

// MARK: - Cancellation

/// Lets a task's cancellation handler shut down the socket an I/O thread is blocked on. The fd is attached
/// only while in use and detached before it is closed, both under the lock, so a late cancellation can never
/// touch a descriptor number the process has since reused.
package final class CancelToken: Sendable {
    private struct State {
        var cancelled = false
        var fd: Int32?
    }

    private let state = Mutex(State())

    package var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Marks the exchange cancelled and shuts its socket down, waking any blocked call.
    package func cancel() {
        state.withLock { s in
            s.cancelled = true
            if let fd = s.fd { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Attaches `fd`; false when already cancelled.
    package func attach(_ fd: Int32) -> Bool {
        state.withLock { s in
            guard !s.cancelled else { return false }
            s.fd = fd
            return true
        }
    }

    /// Detaches the socket; returns whether the exchange was cancelled meanwhile.
    package func detach() -> Bool {
        state.withLock { s in
            s.fd = nil
            return s.cancelled
        }
    }
}

// MARK: - One exchange (blocking, on an I/O thread)

/// Why an exchange failed, before mapping to ``ProviderError``.
package enum ExchangeError: Error {
    case timedOut
    case cancelled
    /// The connection ended (EOF, reset, broken pipe) before any response byte: retryable on a reused connection.
    case closedBeforeResponse(String)
    case failed(String)
}

/// Sends one request and reads its response with blocking, deadline-bounded socket calls.
package struct Exchange: Sendable {
    package let target: RequestTarget
    package let head: [UInt8]
    package let body: Data
    package let method: String
    package let deadline: UInt64
    package let token: CancelToken
    package let counters: TransportCounters
    /// The caller's count of requests written (a stale-connection re-send is a second request).
    package let tally: RequestTally?

    /// Runs the exchange on `reused` (or a new connection). Returns the result and the connection to keep
    /// idle, if it can be reused; every other connection it touched is closed.
    package func perform(_ reused: Connection?) -> (Result<HTTPResponse, ExchangeError>, Connection?) {
        var connection = reused
        // An idle connection the server has closed (or that has stray bytes) is replaced before it is used.
        if let c = connection, !Self.looksIdle(c.fd) {
            c.close()
            connection = nil
        }
        var retried = false
        while true {
            let conn: Connection
            do {
                if let c = connection {
                    conn = c
                } else {
                    conn = try open()
                }
            } catch {
                return (.failure(error), nil)
            }
            connection = nil
            guard token.attach(conn.fd) else {
                conn.close()
                return (.failure(.cancelled), nil)
            }
            counters.update { $0.requests += 1 }
            tally?.add()
            let outcome: Result<(HTTPResponse, Bool), ExchangeError>
            do { outcome = .success(try exchange(on: conn.fd)) } catch { outcome = .failure(error) }
            let cancelled = token.detach()
            switch outcome {
            case .success(let (response, reusable)):
                if reusable && !cancelled {
                    var kept = conn
                    kept.served += 1
                    return (.success(response), kept)
                }
                conn.close()
                return (.success(response), nil)
            case .failure(let error):
                conn.close()
                if cancelled { return (.failure(.cancelled), nil) }
                if case .closedBeforeResponse = error, conn.served > 0, !retried {
                    retried = true
                    counters.update { $0.staleRetries += 1 }
                    continue
                }
                return (.failure(error), nil)
            }
        }
    }

    /// Whether an idle socket is still open and silent (a closed one polls readable: EOF).
    private static func looksIdle(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, 0)
        return n == 0
    }

    /// Resolves and connects (non-blocking connect bounded by the deadline), with `TCP_NODELAY`.
    private func open() throws(ExchangeError) -> Connection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = sockStream
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard rc == 0, let first = list else {
            let why = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw .failed("cannot resolve host: \(why)")
        }
        defer { freeaddrinfo(first) }
        var lastError: ExchangeError = .failed("no address")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, streamSocketType, 0)
            guard fd >= 0 else {
                lastError = .failed("socket: \(Self.describe(errno))")
                continue
            }
            configureSocket(fd)
            guard token.attach(fd) else {
                _ = sysClose(fd)
                throw .cancelled
            }
            do {
                try connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
                _ = token.detach()
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                counters.update { $0.connectionsOpened += 1 }
                return Connection(fd: fd)
            } catch {
                let cancelled = token.detach()
                _ = sysClose(fd)
                if cancelled { throw .cancelled }
                if case .timedOut = error { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) throws(ExchangeError) {
        if sysConnect(fd, address, length) == 0 { return }
        let e = errno
        guard e == EINPROGRESS || e == EINTR else { throw .failed(Self.connectFailure(e)) }
        try wait(fd, for: Int16(POLLOUT))
        var soError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size) == 0 else { throw .failed(Self.connectFailure(errno)) }
        if soError != 0 { throw .failed(Self.connectFailure(soError)) }
        if token.isCancelled { throw .cancelled }
    }

    private static func connectFailure(_ e: Int32) -> String {
        e == ECONNREFUSED ? "connection refused" : "cannot connect: \(describe(e))"
    }

    package static func describe(_ e: Int32) -> String {
        String(cString: strerror(e))
    }

    /// Polls until `events` or the deadline.
    private func wait(_ fd: Int32, for events: Int16) throws(ExchangeError) {
        while true {
            let now = MonotonicTime.now()
            guard now < deadline else { throw .timedOut }
            let ms = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n > 0 { return }  // ready, or an error/hang-up the next call reports
            if n == 0 { continue }  // the loop re-checks the deadline
            if errno == EINTR { continue }
            throw .failed("poll: \(Self.describe(errno))")
        }
    }

    /// Writes the request and reads the final response; `reusable` tells whether the connection may be kept.
    private func exchange(on fd: Int32) throws(ExchangeError) -> (HTTPResponse, reusable: Bool) {
        try write(fd)
        var reader = ResponseReader(fd: fd, exchange: self)
        while true {
            let response = try reader.readResponse(method: method)
            if response.interim { continue }
            return (response.response, response.keepAlive && reader.isDrained)
        }
    }

    private func write(_ fd: Int32) throws(ExchangeError) {
        if body.isEmpty {
            try writeAll(fd, head)
        } else if body.count <= 64 * 1024 {
            // One send for head and body.
            try writeAll(fd, head + body)
        } else {
            try writeAll(fd, head)
            try writeAll(fd, body)
        }
    }

    private func writeAll(_ fd: Int32, _ data: some ContiguousBytes) throws(ExchangeError) {
        // (`withUnsafeBytes` rethrows untyped errors, so the result travels out as a `Result`.)
        try data.withUnsafeBytes { bytes in Result { () throws(ExchangeError) in try writeAll(fd, bytes) } }.get()
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(ExchangeError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = sysSend(fd, base + offset, bytes.count - offset, sendFlags)
            if n >= 0 {
                offset += n
                continue
            }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, for: Int16(POLLOUT))
            case EPIPE, ECONNRESET:
                if token.isCancelled { throw .cancelled }
                throw .closedBeforeResponse("connection closed while sending the request")
            default:
                if token.isCancelled { throw .cancelled }
                throw .failed("send: \(Self.describe(e))")
            }
        }
    }

    /// Reads up to `count` bytes into `into`; 0 means end of stream.
    package func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(ExchangeError) -> Int {
        while true {
            let n = sysRecv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 {
                if n == 0, token.isCancelled { throw .cancelled }
                return n
            }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, for: Int16(POLLIN))
            case ECONNRESET: return -1
            default:
                if token.isCancelled { throw .cancelled }
                throw .failed("recv: \(Self.describe(e))")
            }
        }
    }
}

// MARK: - Response parsing

/// One parsed response: the public value, whether it was a 1xx interim, and whether the connection may be kept.
package struct ParsedResponse {
    package var response: HTTPResponse
    package var interim: Bool
    package var keepAlive: Bool
}

/// Buffered reading and parsing of HTTP/1.x responses with byte scans.
package struct ResponseReader {
    private let fd: Int32
    private let exchange: Exchange
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// Bytes received in this exchange (0: the connection ended before any response byte).
    private var received = 0
    private var eof = false

    private static let maxHead = 256 * 1024

    package init(fd: Int32, exchange: Exchange) {
        self.fd = fd
        self.exchange = exchange
        buffer = [UInt8](repeating: 0, count: 8192)
    }

    /// Whether nothing beyond the response arrived (stray bytes make a connection unsafe to reuse).
    package var isDrained: Bool { start == end && !eof }

    /// Reads more bytes; false at end of stream. A reset before any byte is reported like an early EOF.
    private mutating func fill() throws(ExchangeError) -> Bool {
        if eof { return false }
        if start > 0 && start == end {
            start = 0
            end = 0
        }
        if end == buffer.count {
            if start > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    guard let base = b.baseAddress else { return }
                    (base).update(from: base + start, count: end - start)
                }
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
        }
        let (fd, exchange, filled) = (self.fd, self.exchange, self.end)
        let n = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(ExchangeError) -> Int in
                try exchange.receive(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
        }.get()
        if n < 0 {
            if received == 0 { throw .closedBeforeResponse("connection reset before the response") }
            throw .failed("connection reset mid-response")
        }
        if n == 0 {
            eof = true
            return false
        }
        self.end += n
        self.received += n
        return true
    }

    package mutating func readResponse(method: String) throws(ExchangeError) -> ParsedResponse {
        let headEnd = try findHeadEnd()
        let head = Array(buffer[start..<headEnd])
        start = headEnd + 4
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        guard !lines.isEmpty else { throw .failed("malformed response: empty head") }
        let statusLine = lines.removeFirst()
        let (version11, status) = try Self.parseStatusLine(statusLine)
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .failed("malformed response header line") }
            let name = String(decoding: Self.trim(line[line.startIndex..<colon]).map { Self.lower($0) }, as: UTF8.self)
            let value = String(decoding: Self.trim(line[(colon + 1)...]), as: UTF8.self)
            if let previous = headers[name] { headers[name] = previous + ", " + value } else { headers[name] = value }
        }
        let connectionTokens = headers["connection"]?.lowercased() ?? ""
        var keepAlive = version11 ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
        if (100..<200).contains(status) {
            guard status != 101 else { throw .failed("unexpected protocol switch (101)") }
            return ParsedResponse(response: HTTPResponse(status: status, headers: headers), interim: true, keepAlive: true)
        }
        let body: Data
        if method.uppercased() == "HEAD" || status == 204 || status == 304 {
            body = Data()
        } else if let te = headers["transfer-encoding"]?.lowercased(), te != "identity" {
            guard te.hasSuffix("chunked") else { throw .failed("unsupported transfer-encoding") }
            body = try readChunked()
        } else if let cl = headers["content-length"] {
            let parts = cl.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let n = parts.first.flatMap({ Int($0) }), n >= 0, parts.allSatisfy({ Int($0) == n }) else {
                throw .failed("malformed response: bad content-length")
            }
            body = try readExactly(n)
        } else {
            body = try readToEnd()
            keepAlive = false
        }
        return ParsedResponse(response: HTTPResponse(status: status, headers: headers, body: body), interim: false, keepAlive: keepAlive)
    }

    /// Index of the `\r\n\r\n` that ends the head (relative to `buffer`), reading as needed.
    private mutating func findHeadEnd() throws(ExchangeError) -> Int {
        var scanFrom = start
        while true {
            if let i = Self.find(crlfcrlf: buffer, from: scanFrom, to: end) { return i }
            scanFrom = max(start, end - 3)
            guard end - start < Self.maxHead else { throw .failed("malformed response: head too large") }
            let before = start
            guard try fill() else {
                if received == 0 { throw .closedBeforeResponse("connection closed before the response") }
                throw .failed("connection closed mid-response (in the head)")
            }
            scanFrom -= before - start  // fill may have compacted the buffer
        }
    }

    private static func find(crlfcrlf b: [UInt8], from: Int, to: Int) -> Int? {
        guard to - from >= 4 else { return nil }
        return b.withUnsafeBufferPointer { p -> Int? in
            var i = from
            while i + 3 < to {
                if p[i + 3] != 0x0a {
                    i += p[i + 3] == 0x0d ? 1 : 4
                    continue
                }
                if p[i] == 0x0d && p[i + 1] == 0x0a && p[i + 2] == 0x0d { return i }
                i += 1
            }
            return nil
        }
    }

    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(ExchangeError) -> (Bool, Int) {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)), bytes[8] == UInt8(ascii: " ") else {
            throw .failed("malformed response: bad status line")
        }
        var status = 0
        for b in bytes[9..<12] {
            guard b >= 0x30 && b <= 0x39 else { throw .failed("malformed response: bad status code") }
            status = status * 10 + Int(b - 0x30)
        }
        guard bytes.count == 12 || bytes[12] == UInt8(ascii: " ") else { throw .failed("malformed response: bad status line") }
        return (bytes[7] == UInt8(ascii: "1"), status)
    }

    private static func lower(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5a ? b + 0x20 : b
    }

    private static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    private mutating func readExactly(_ count: Int) throws(ExchangeError) -> Data {
        var data = Data(capacity: count)
        while data.count < count {
            if start == end {
                guard try fill() else { throw .failed("connection closed mid-response (body truncated)") }
            }
            let take = min(count - data.count, end - start)
            data.append(contentsOf: buffer[start..<(start + take)])
            start += take
        }
        return data
    }

    private mutating func readToEnd() throws(ExchangeError) -> Data {
        var data = Data(buffer[start..<end])
        start = end
        while try fill() {
            data.append(contentsOf: buffer[start..<end])
            start = end
        }
        return data
    }

    /// One CRLF-terminated line (without the CRLF), at most 8 KiB.
    private mutating func readLine() throws(ExchangeError) -> ArraySlice<UInt8> {
        var scanFrom = start
        while true {
            if let nl = buffer[scanFrom..<end].firstIndex(of: 0x0a) {
                var line = buffer[start..<nl]
                if line.last == 0x0d { line = line.dropLast() }
                start = nl + 1
                return line
            }
            guard end - start < 8192 else { throw .failed("malformed response: chunk line too long") }
            let before = start
            scanFrom = end
            guard try fill() else { throw .failed("connection closed mid-response (chunked body truncated)") }
            scanFrom -= before - start
        }
    }

    private mutating func readChunked() throws(ExchangeError) -> Data {
        var data = Data()
        while true {
            let line = try readLine()
            var size = 0
            var digits = 0
            for b in line {
                let v: Int
                switch b {
                case 0x30...0x39: v = Int(b - 0x30)
                case 0x61...0x66: v = Int(b - 0x61 + 10)
                case 0x41...0x46: v = Int(b - 0x41 + 10)
                default: v = -1
                }
                if v < 0 { break }
                guard digits < 15 else { throw .failed("malformed response: chunk too large") }
                size = size * 16 + v
                digits += 1
            }
            guard digits > 0 else { throw .failed("malformed response: bad chunk size") }
            if size == 0 {
                // Trailers, up to the empty line.
                while try !readLine().isEmpty {}
                return data
            }
            data.append(try readExactly(size))
            guard try readLine().isEmpty else { throw .failed("malformed response: missing chunk terminator") }
        }
    }
}

// MARK: - Blocking I/O threads

/// Long-lived threads for blocking socket calls, so they never occupy Swift's cooperative pool. The pool grows
/// to the number of jobs in flight (up to `maxThreads`; beyond that jobs queue FIFO) and threads idle for
/// 30 s exit.
package final class BlockingExecutor: Sendable {
    package static let shared = BlockingExecutor(maxThreads: 2048)

    private final class Worker: Sendable {
        let wake = DispatchSemaphore(value: 0)
    }

    private struct State {
        var queue: [@Sendable () -> Void] = []
        var head = 0
        var idle: [Worker] = []
        var threads = 0

        mutating func pop() -> (@Sendable () -> Void)? {
            guard head < queue.count else { return nil }
            let job = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return job
        }
    }

    private let maxThreads: Int
    private let state = Mutex(State())

    package init(maxThreads: Int) {
        self.maxThreads = maxThreads
    }

    /// Runs `body` on an I/O thread and returns its result.
    package func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            submit { continuation.resume(returning: body()) }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        let (wake, spawn) = state.withLock { s -> (Worker?, Bool) in
            s.queue.append(job)
            if let w = s.idle.popLast() { return (w, false) }
            guard s.threads < maxThreads else { return (nil, false) }
            s.threads += 1
            return (nil, true)
        }
        wake?.wake.signal()
        if spawn {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "judgepanel-io"
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func workerLoop() {
        let me = Worker()
        while true {
            let job = state.withLock { s -> (@Sendable () -> Void)? in
                if let job = s.pop() { return job }
                s.idle.append(me)
                return nil
            }
            if let job {
                job()
                continue
            }
            if me.wake.wait(timeout: .now() + 30) == .success { continue }
            let exit = state.withLock { s -> Bool in
                guard let i = s.idle.firstIndex(where: { $0 === me }) else { return false }
                s.idle.remove(at: i)
                s.threads -= 1
                return true
            }
            if exit { return }
            me.wake.wait()  // a submitter took us off the idle list and is signalling
        }
    }
}
