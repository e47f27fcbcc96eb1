import Foundation
import JudgePanelTesting
import NIOCore
import Synchronization
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Helpers

/// Runs `body` with a fresh ``AsyncHTTPClientTransport`` and shuts it down afterwards, also when `body` throws.
func withTransport<T>(
    maxConnectionsPerHost: Int = 8, environment: [String: String] = [:],
    _ body: (AsyncHTTPClientTransport) async throws -> T
) async throws -> T {
    let transport = try AsyncHTTPClientTransport(maxConnectionsPerHost: maxConnectionsPerHost, environment: environment)
    do {
        let value = try await body(transport)
        try await transport.shutdown()
        return value
    } catch {
        try await transport.shutdown()
        throw error
    }
}

/// Counts calls from any task (a test double's own counter).
final class CallCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

private let chatBody = Data(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8)

private func chatRequest(_ base: URL, body: Data = chatBody, timeout: Double = 20, headers: [String: String] = [:])
    -> HTTPRequest
{
    var h = ["Content-Type": "application/json"]
    h.merge(headers) { $1 }
    return HTTPRequest(
        url: base.appendingPathComponent("v1/chat/completions"), method: "POST", headers: h, body: body,
        timeout: timeout)
}

private func elapsed(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// What ``RawServer`` does with one request: answer with raw bytes (then keep or close the connection),
/// or close the connection without a byte.
private enum RawAction: Sendable {
    case reply(String, thenClose: Bool = false)
    case close
}

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 for replies the fake provider cannot produce (chunked bodies,
/// interim 1xx, bodies to end of stream, connections closed between requests, a proxy's `CONNECT`), counting
/// connections and requests at the server. One thread per connection; the handler may block (sleep) on it.
private final class RawServer: Sendable {
    /// (connection number, request number on that connection) → action.
    typealias Handler = @Sendable (_ connection: Int, _ request: Int) -> RawAction

    let port: Int
    private let listener: Int32
    private let handler: Handler
    /// Reads one chunk of each connection's first bytes, records it and closes (a TLS client's first record).
    private let peekOnly: Bool
    private let peeked = Mutex<[[UInt8]]>([])
    private let state = Mutex<(connections: Int, requests: Int, fds: [Int32], stopped: Bool, heads: [String])>(
        (0, 0, [], false, []))

    init(peekOnly: Bool = false, _ handler: @escaping Handler) throws {
        self.handler = handler
        self.peekOnly = peekOnly
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var base: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var connections: Int { state.withLock { $0.connections } }
    var requests: Int { state.withLock { $0.requests } }
    /// Every request head received (request line and headers), in order.
    var heads: [String] { state.withLock { $0.heads } }

    func stop() {
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            _ = shutdown(listener, Int32(SHUT_RDWR))
            for fd in s.fds { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                _ = close(listener)  // accept fails once `stop` shut the listener down
                return
            }
            let n = state.withLock { s -> Int in
                s.connections += 1
                s.fds.append(fd)
                return s.connections - 1
            }
            let thread = Thread { [self] in serve(fd, connection: n) }
            thread.start()
        }
    }

    /// The first bytes of each connection, in peek-only mode.
    var firstBytes: [[UInt8]] { peeked.withLock { $0 } }

    private func serve(_ fd: Int32, connection: Int) {
        // Forgotten before it is closed, so `stop` never shuts down a reused descriptor number.
        defer {
            state.withLock { $0.fds.removeAll { $0 == fd } }
            _ = close(fd)
        }
        if peekOnly {
            var chunk = [UInt8](repeating: 0, count: 16)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            peeked.withLock { $0.append(Array(chunk.prefix(max(0, n)))) }
            return
        }
        var pending: [UInt8] = []
        var index = 0
        while readRequest(fd, &pending) {
            state.withLock { $0.requests += 1 }
            switch handler(connection, index) {
            case .close: return
            case .reply(let text, let thenClose):
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                if thenClose { return }
            }
            index += 1
        }
    }

    /// Reads one request (head and Content-Length body); false at end of stream.
    private func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        func more() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            pending.append(contentsOf: chunk[0..<n])
            return true
        }
        let crlf2: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if pending.count >= 4 {
                headEnd = (0...(pending.count - 4)).first { pending[$0..<($0 + 4)].elementsEqual(crlf2) }
            }
            if headEnd == nil, !more() { return false }
        }
        guard let end = headEnd else { return false }
        let original = String(decoding: pending[0..<end], as: UTF8.self)
        state.withLock { $0.heads.append(original) }
        let head = original.lowercased()
        var length = 0
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        while pending.count < end + 4 + length {
            if !more() { return false }
        }
        pending.removeFirst(end + 4 + length)
        return true
    }
}

/// An OK response with a Content-Length body, kept alive.
private func okReply(_ body: String) -> RawAction {
    .reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
}

private func send(_ transport: AsyncHTTPClientTransport, _ url: URL, timeout: Double = 20) async throws -> HTTPResponse
{
    try await transport.send(HTTPRequest(url: url.appendingPathComponent("x"), method: "GET", timeout: timeout))
}

// MARK: - Tests

@Suite("AsyncHTTPClientTransport")
struct AsyncHTTPClientTransportTests {
    @Test("round trip: status, lower-cased headers, exact body bytes")
    func roundTrip() async throws {
        let body = #"{"exact":"body","n":[1,2,3]}"#
        try await withFakeServer { _ in
            .status(418, body: body, headers: ["X-Custom-Header": "Value 1"])
        } body: {
            server, base in
            let response = try await withTransport {
                try await $0.send(chatRequest(base, headers: ["Authorization": "Bearer sk-secret"]))
            }
            #expect(response.status == 418)
            #expect(response.headers["x-custom-header"] == "Value 1")
            #expect(response.headers.keys.allSatisfy { $0 == $0.lowercased() })
            #expect(response.body == Data(body.utf8))
            let recorded = try #require(await server.recordedRequests().first)
            #expect(recorded.headers["authorization"] == "Bearer sk-secret")
            #expect(recorded.body == chatBody)
            #expect(recorded.headers["expect"] == nil)
        }
    }

    @Test("64 concurrent requests share at most the pool's connections, counted at the server")
    func concurrentRequestsReuseConnections() async throws {
        let server = try RawServer { connection, request in
            usleep(20_000)
            return okReply("c\(connection)r\(request)")
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 8) { transport in
            for round in 0..<2 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<64 { group.addTask { try await send(transport, server.base).status } }
                    var out: [Int] = []
                    for try await s in group { out.append(s) }
                    return out
                }
                #expect(statuses.count == 64 && statuses.allSatisfy { $0 == 200 })
                #expect(server.requests == 64 * (round + 1))
            }
        }
        #expect(server.connections <= 8, "\(server.connections) connections")
        #expect(
            server.connections >= 2, "the pool opened only \(server.connections) connection(s) for 64 waiting requests")
    }

    @Test("waiters beyond the connection limit are served over one connection")
    func oneConnectionSerializes() async throws {
        let server = try RawServer { _, _ in okReply("ok") }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 1) { transport in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await send(transport, server.base).status } }
                for try await status in group { #expect(status == 200) }
            }
        }
        #expect(server.connections == 1)
        #expect(server.requests == 20)
    }

    @Test("request and response bodies over 1 MiB")
    func largeBodies() async throws {
        let big = String(repeating: "0123456789abcdef", count: 90_000)  // 1.4 MiB
        try await withFakeServer { _ in
            .status(200, body: big)
        } body: { server, base in
            try await withTransport(maxConnectionsPerHost: 2) { transport in
                let content = String(repeating: "q", count: 1_200_000)
                let requestBody = Data(#"{"model":"m","messages":[{"role":"user","content":"\#(content)"}]}"#.utf8)
                // A generous deadline: the point is the byte counts, and a loaded machine parses 1 MiB slowly.
                let response = try await transport.send(chatRequest(base, body: requestBody, timeout: 180))
                #expect(response.status == 200)
                #expect(response.body == Data(big.utf8))
                #expect(await server.recordedRequests().first?.body == requestBody)
                // The connection is still good afterwards.
                #expect(try await transport.send(chatRequest(base, timeout: 180)).body == Data(big.utf8))
                #expect(await server.requestCount() == 2)
            }
        }
    }

    @Test("a body over maxResponseBytes is a bad response")
    func responseCap() async throws {
        let server = try RawServer { _, _ in okReply(String(repeating: "x", count: 5000)) }
        defer { server.stop() }
        let transport = try AsyncHTTPClientTransport(maxConnectionsPerHost: 1, environment: [:], maxResponseBytes: 1000)
        let error = await #expect(throws: ProviderError.self) { try await send(transport, server.base) }
        try await transport.shutdown()
        #expect(error?.kind == .badResponse)
        #expect(error?.message.contains("1000 bytes") == true)
    }

    @Test("chunked body after a 100 Continue, connection reused afterwards")
    func chunkedAndInterim() async throws {
        let server = try RawServer { _, _ in
            .reply(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
                    + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 4) { transport in
            for _ in 0..<3 {
                let response = try await send(transport, server.base)
                #expect(response.status == 200)
                #expect(response.headers["x-a"] == "1")
                #expect(String(decoding: response.body, as: UTF8.self) == "hello, world")
            }
        }
        #expect(server.connections == 1)
    }

    @Test("body read to end of stream; that connection is not reused")
    func bodyToEndOfStream() async throws {
        let server = try RawServer { _, _ in
            .reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", thenClose: true)
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 4) { transport in
            for _ in 0..<2 {
                let response = try await send(transport, server.base)
                #expect(String(decoding: response.body, as: UTF8.self) == "until the end")
            }
        }
        #expect(server.connections == 2)
    }

    @Test("Connection: close is honoured")
    func connectionClose() async throws {
        let server = try RawServer { _, _ in
            .reply("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", thenClose: false)
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 4) { transport in
            for _ in 0..<2 {
                let body = try await send(transport, server.base).body
                #expect(body == Data("ok".utf8))
            }
        }
        #expect(server.connections == 2)
    }

    @Test("a dropped connection is a connection error at once, sent once: the retry layer re-sends")
    func droppedConnection() async throws {
        try await withFakeServer(
            FakeProviderServer.sequence(
                [.status(200, body: "warm"), .dropConnection, .dropConnection], then: .status(200, body: "ok"))
        ) { server, base in
            try await withTransport(maxConnectionsPerHost: 1) { transport in
                _ = try await transport.send(chatRequest(base))  // warm: the next request reuses the connection
                for n in 2...3 {
                    let start = ContinuousClock.now
                    let error = await #expect(throws: ProviderError.self) {
                        try await transport.send(chatRequest(base, timeout: 20))
                    }
                    #expect(error?.kind == .connection)
                    #expect(error?.isRetryable == true)
                    #expect(elapsed(since: start) < 10)
                    // Never re-sent by the transport: the server saw exactly one request per send.
                    #expect(await server.requestCount() == n)
                }
                let next = try await transport.send(chatRequest(base))
                #expect(String(decoding: next.body, as: UTF8.self) == "ok")
                #expect(await server.requestCount() == 4)
            }
        }
    }

    @Test("a truncated body is a connection error and the connection is not reused")
    func truncatedBody() async throws {
        let server = try RawServer { connection, _ in
            connection == 0
                ? .reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part", thenClose: true) : okReply("fine")
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 1) { transport in
            let error = await #expect(throws: ProviderError.self) { try await send(transport, server.base) }
            #expect(error?.kind == .connection)
            let body = try await send(transport, server.base).body
            #expect(body == Data("fine".utf8))
        }
        #expect(server.connections == 2)
        #expect(server.requests == 2)
    }

    @Test("a malformed response is a connection error")
    func malformedResponse() async throws {
        let server = try RawServer { _, _ in .reply("SPDY/9 what\r\n\r\n", thenClose: true) }
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) {
            try await withTransport { try await send($0, server.base) }
        }
        #expect(error?.kind == .connection)
    }

    @Test("a refused connection is a connection error, at once")
    func refused() async throws {
        // A socket bound to a port but not listening: a connect is refused, and the port stays ours for the whole
        // test. (A closed server's port was taken by a parallel test's server in a fresh-clone run: the send got
        // that server's 200, and the other test counted one connection too many.)
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        #expect(bound)
        let url = URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")!
        let start = ContinuousClock.now
        // "At once" means well before the request's deadline (a refusal is not waited out as a timeout); the bound is
        // half the deadline because the whole suite runs in parallel on 2 cores, where this took up to 13 s at load 13.
        let error = await #expect(throws: ProviderError.self) {
            try await withTransport { try await send($0, url, timeout: 60) }
        }
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("refused") == true, "\(error?.message ?? "")")
        #expect(elapsed(since: start) < 30)
    }

    @Test("a reply later than the timeout is ProviderError.timeout")
    func timeout() async throws {
        try await withFakeServer { _ in
            .delayed(.seconds(30), .status(200, body: "late"))
        } body: { _, base in
            let start = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) {
                try await withTransport(maxConnectionsPerHost: 2) { try await $0.send(chatRequest(base, timeout: 0.5)) }
            }
            #expect(error?.kind == .timeout)
            #expect(error == ProviderError.timeout(after: 0.5))
            #expect(elapsed(since: start) < 15)
        }
    }

    @Test("a body that stalls after the head still ends at the timeout")
    func stalledBody() async throws {
        // The head and a part of the body arrive, then nothing: the deadline covers the body too.
        let server = try RawServer { _, _ in
            .reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
        }
        defer { server.stop() }
        let start = ContinuousClock.now
        let error = await #expect(throws: ProviderError.self) {
            try await withTransport { try await send($0, server.base, timeout: 1) }
        }
        #expect(error == ProviderError.timeout(after: 1))
        // Without the deadline over the body the send would never end (the server holds the connection open); the
        // bound is loose because a loaded machine running the whole suite has taken ~55 s here.
        #expect(elapsed(since: start) < 180)
    }

    @Test("cancelling the task throws CancellationError promptly")
    func cancellation() async throws {
        try await withFakeServer { _ in
            .delayed(.seconds(60), .status(200, body: "late"))
        } body: { server, base in
            try await withTransport(maxConnectionsPerHost: 1) { transport in
                let start = ContinuousClock.now
                let task = Task { try await transport.send(chatRequest(base, timeout: 60)) }
                // Cancel once the request reached the server (it is then waiting for the reply).
                while await server.requestCount() == 0, elapsed(since: start) < 20 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                // A second caller waits for the only connection; cancel it too.
                let waiter = Task { try await transport.send(chatRequest(base, timeout: 60)) }
                try await Task.sleep(for: .milliseconds(50))
                task.cancel()
                waiter.cancel()
                await #expect(throws: CancellationError.self) { try await task.value }
                await #expect(throws: CancellationError.self) { try await waiter.value }
                #expect(elapsed(since: start) < 30)
            }
        }
    }

    @Test("a keep-alive connection the server closed between requests: the next request still succeeds")
    func staleConnectionClosedWhileIdle() async throws {
        // Every reply says keep-alive, then the server closes the connection anyway.
        let server = try RawServer { _, _ in .reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", thenClose: true) }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 1) { transport in
            for _ in 0..<3 {
                #expect(try await send(transport, server.base).body == Data("ok".utf8))
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(server.connections == 3)
        #expect(server.requests == 3)
    }

    @Test("a reused connection closed before any response byte: a retryable connection error, the next send succeeds")
    func staleConnectionClosedOnRequest() async throws {
        // The first connection answers once, then closes on its second request without a byte.
        let server = try RawServer { connection, request in
            connection == 0 && request == 1 ? .close : okReply("c\(connection)r\(request)")
        }
        defer { server.stop() }
        try await withTransport(maxConnectionsPerHost: 1) { transport in
            let first = try await send(transport, server.base).body
            #expect(first == Data("c0r0".utf8))
            let error = await #expect(throws: ProviderError.self) { try await send(transport, server.base) }
            #expect(error?.kind == .connection && error?.isRetryable == true)
            let third = try await send(transport, server.base).body
            #expect(third == Data("c1r0".utf8))
        }
        #expect(server.requests == 3)
        #expect(server.connections == 2)
    }

    @Test("unsupported schemes and bad header values fail without echoing the value")
    func badInput() async throws {
        try await withTransport { transport in
            let ftp = await #expect(throws: ProviderError.self) {
                try await transport.send(HTTPRequest(url: URL(string: "ftp://127.0.0.1/x")!, method: "GET"))
            }
            #expect(ftp?.kind == .connection)
            let bad = await #expect(throws: ProviderError.self) {
                try await transport.send(
                    HTTPRequest(url: URL(string: "http://127.0.0.1:9/x")!, headers: ["Authorization": "sk-KEY\r\nX: y"])
                )
            }
            #expect(bad?.message.contains("sk-KEY") == false)
        }
    }

    @Test(
        "https goes through TLS on the same transport: a ClientHello reaches the server, a failed handshake is a connection error"
    )
    func httpsUsesTLS() async throws {
        let server = try RawServer(peekOnly: true) { _, _ in .close }
        defer { server.stop() }
        let url = URL(string: "https://127.0.0.1:\(server.port)")!
        let error = await #expect(throws: ProviderError.self) {
            try await withTransport { try await send($0, url, timeout: 20) }
        }
        #expect(error?.kind == .connection)
        let first = try #require(server.firstBytes.first)
        #expect(first.first == 0x16, "not a TLS handshake record: \(first)")  // TLS record type 22: handshake
    }

    @Test("shutdown closes the connections and stops the event loops; later sends fail")
    func shutdownStopsEverything() async throws {
        let server = try RawServer { _, _ in okReply("ok") }
        defer { server.stop() }
        let transport = try AsyncHTTPClientTransport(maxConnectionsPerHost: 2, environment: [:])
        #expect(try await send(transport, server.base).status == 200)
        try await transport.shutdown()
        try await transport.shutdown()  // a second call is a no-op
        let after = await #expect(throws: ProviderError.self) { try await send(transport, server.base) }
        #expect(after?.message.contains("shut down") == true)
        #expect(server.requests == 1)
    }

    @Test("a run makes one transport for all its judges, sized to their concurrency, and shuts it down at the end")
    func runOwnsItsTransport() async throws {
        try await withFakeServer { _ in
            .text("[[A]]")
        } body: { server, base in
            let judges = [
                JudgeConfig(
                    name: "a", provider: .openai, model: "a", baseURLs: [base.absoluteString + "/v1"], concurrency: 3),
                JudgeConfig(
                    name: "b", provider: .openai, model: "b", baseURLs: [base.absoluteString + "/v1"], concurrency: 5),
            ]
            let runner = PanelRunner(
                panel: Panel(judges: judges, aggregate: .majority, swap: false, flip: .tie),
                rubric: try loadRubric("pairwise-mtbench"),
                options: panelTestOptions)
            try await runner.start()
            let transport = try #require(runner.runTransport)
            #expect(transport.maxConnectionsPerHost == 3 + 5 + 4)
            let result = try await runner.run(items: syntheticPairwise(2).items)
            #expect(result.votes.count == 4 && result.votes.allSatisfy { $0.status == .ok })
            #expect(runner.runTransport === transport)  // started by hand: the run does not stop it
            try await runner.shutdown()
            #expect(runner.runTransport == nil)
            let after = await #expect(throws: ProviderError.self) {
                try await transport.send(HTTPRequest(url: base.appendingPathComponent("x"), method: "GET"))
            }
            #expect(after?.message.contains("shut down") == true)
            // Run without `start`: the run starts, and then stops, its own.
            _ = try await runner.run(items: syntheticPairwise(1).items)
            #expect(runner.runTransport == nil)
            #expect(await server.requestCount() == 6)
        }
    }
}

@Suite("Proxies from the environment")
struct ProxyEnvironmentTests {
    @Test("HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY as fallback, lower case first")
    func variables() throws {
        let env = try ProxyEnvironment(environment: [
            "HTTPS_PROXY": "http://secure.proxy:3128", "http_proxy": "plain.proxy:8080",
            "HTTP_PROXY": "http://ignored:1",
        ])
        #expect(env.proxy(for: URL(string: "https://api.openai.com/v1")!)?.host == "secure.proxy")
        #expect(env.proxy(for: URL(string: "https://api.openai.com/v1")!)?.port == 3128)
        #expect(env.proxy(for: URL(string: "http://10.1.2.3:8000/v1")!)?.host == "plain.proxy")
        #expect(env.proxy(for: URL(string: "http://10.1.2.3:8000/v1")!)?.port == 8080)
        let all = try ProxyEnvironment(environment: ["ALL_PROXY": "socks5://127.0.0.1"])
        #expect(all.proxy(for: URL(string: "https://x.example")!) == .init(kind: .socks, host: "127.0.0.1", port: 1080))
        #expect(try ProxyEnvironment(environment: [:]).proxy(for: URL(string: "https://x.example")!) == nil)
        let creds = try ProxyEnvironment(environment: ["HTTPS_PROXY": "http://user:p%40ss@proxy:80"])
        #expect(creds.https?.username == "user" && creds.https?.password == "p@ss")
    }

    @Test("NO_PROXY: *, domains and their subdomains, ports, IP literals; CIDR ranges match nothing")
    func noProxy() throws {
        let env = try ProxyEnvironment(environment: [
            "HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://p:1",
            "NO_PROXY": "localhost, .internal.example,*.corp.example api.example:8443,127.0.0.1,[::1],10.0.0.0/8",
        ])
        func direct(_ s: String) -> Bool { env.proxy(for: URL(string: s)!) == nil }
        #expect(direct("http://localhost:8080/v1"))
        #expect(direct("https://internal.example/v1"))
        #expect(direct("https://a.b.internal.example/v1"))
        #expect(!direct("https://notinternal.example/v1"))
        #expect(direct("https://x.corp.example/"))
        #expect(direct("https://api.example:8443/"))
        #expect(!direct("https://api.example/"))  // port 443, not 8443
        #expect(direct("http://127.0.0.1:9/"))
        #expect(direct("http://[::1]:9/"))
        #expect(!direct("http://10.1.2.3/"))  // CIDR is not supported
        #expect(!direct("https://api.openai.com/v1"))
        let everything = try ProxyEnvironment(environment: ["HTTPS_PROXY": "http://p:1", "no_proxy": "*"])
        #expect(everything.proxy(for: URL(string: "https://api.openai.com")!) == nil)
    }

    @Test("an unusable proxy URL is a clear error naming the variable, never its credentials")
    func badProxy() {
        let tls = #expect(throws: JudgePanelError.self) {
            try ProxyEnvironment(environment: ["HTTPS_PROXY": "https://u:secret@p:1"])
        }
        #expect(tls?.description.contains("HTTPS_PROXY") == true)
        #expect(tls?.description.contains("secret") == false)
        #expect(throws: JudgePanelError.self) { try AsyncHTTPClientTransport(environment: ["HTTP_PROXY": "ftp://p:1"]) }
    }

    @Test("a request through HTTP_PROXY goes to the proxy with CONNECT and Basic credentials; NO_PROXY hosts go direct")
    func throughProxy() async throws {
        // The fake proxy accepts the tunnel, then answers the tunnelled request itself.
        let proxy = try RawServer { _, request in
            request == 0 ? .reply("HTTP/1.1 200 Connection established\r\n\r\n") : okReply("via proxy")
        }
        defer { proxy.stop() }
        let origin = try RawServer { _, _ in okReply("direct") }
        defer { origin.stop() }
        let environment = ["HTTP_PROXY": "http://judge:pa%40ss@127.0.0.1:\(proxy.port)", "NO_PROXY": "127.0.0.1"]
        try await withTransport(environment: environment) { transport in
            // Never resolved here: only the proxy is contacted.
            let proxied = try await send(transport, URL(string: "http://judge-server.invalid:8080")!)
            #expect(String(decoding: proxied.body, as: UTF8.self) == "via proxy")
            let direct = try await send(transport, origin.base)
            #expect(String(decoding: direct.body, as: UTF8.self) == "direct")
        }
        let heads = proxy.heads
        #expect(heads.count == 2)
        #expect(heads.first?.hasPrefix("CONNECT judge-server.invalid:8080 HTTP/1.1") == true, "\(heads)")
        let auth = "Basic " + Data("judge:pa@ss".utf8).base64EncodedString()
        #expect(heads.first?.lowercased().contains("proxy-authorization: \(auth.lowercased())") == true, "\(heads)")
        #expect(heads.last?.hasPrefix("GET /x HTTP/1.1") == true, "\(heads)")
        #expect(origin.requests == 1)
        #expect(proxy.connections == 1)
    }
}
