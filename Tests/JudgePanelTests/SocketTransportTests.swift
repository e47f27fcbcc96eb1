#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation
@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports
import JudgePanelTesting
import Synchronization
import Testing

// MARK: - Helpers

private let chatBody = Data(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8)

private func chatRequest(_ base: URL, body: Data = chatBody, timeout: Double = 20, headers: [String: String] = [:]) -> HTTPRequest {
    var h = ["Content-Type": "application/json"]
    h.merge(headers) { $1 }
    return HTTPRequest(url: base.appendingPathComponent("v1/chat/completions"), method: "POST", headers: h, body: body, timeout: timeout)
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
/// interim 1xx, bodies to end of stream, connections closed between requests). One thread per connection.
private final class RawServer: Sendable {
    /// (connection number, request number on that connection) → action.
    typealias Handler = @Sendable (_ connection: Int, _ request: Int) -> RawAction

    let port: Int
    private let listener: Int32
    private let handler: Handler
    private let state = Mutex<(connections: Int, requests: Int, fds: [Int32], stopped: Bool)>((0, 0, [], false))

    init(_ handler: @escaping Handler) throws {
        self.handler = handler
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

    private func serve(_ fd: Int32, connection: Int) {
        // Forgotten before it is closed, so `stop` never shuts down a reused descriptor number.
        defer {
            state.withLock { $0.fds.removeAll { $0 == fd } }
            _ = close(fd)
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
        let head = String(decoding: pending[0..<end], as: UTF8.self).lowercased()
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

private func send(_ transport: SocketHTTPTransport, _ url: URL, timeout: Double = 20) async throws -> HTTPResponse {
    try await transport.send(HTTPRequest(url: url.appendingPathComponent("x"), method: "GET", timeout: timeout))
}

// MARK: - Tests

@Suite("SocketHTTPTransport")
struct SocketTransportTests {
    @Test("round trip: status, lower-cased headers, exact body bytes")
    func roundTrip() async throws {
        let body = #"{"exact":"body","n":[1,2,3]}"#
        try await withFakeServer({ _ in .status(418, body: body, headers: ["X-Custom-Header": "Value 1"]) }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 4)
            let response = try await transport.send(chatRequest(base, headers: ["Authorization": "Bearer sk-secret"]))
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

    @Test("64 concurrent requests share a few keep-alive connections")
    func concurrentRequestsReuseConnections() async throws {
        try await withFakeServer({ request in .delayed(.milliseconds(20), .status(200, body: "reply \(request.lastUserText)")) }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 8)
            for round in 0..<2 {
                let bodies = try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
                    for i in 0..<64 {
                        group.addTask {
                            let body = Data(#"{"model":"m","messages":[{"role":"user","content":"n\#(i)"}]}"#.utf8)
                            return (i, try await transport.send(chatRequest(base, body: body)))
                        }
                    }
                    var out: [Int: HTTPResponse] = [:]
                    for try await (i, r) in group { out[i] = r }
                    return out
                }
                #expect(bodies.count == 64)
                for (i, r) in bodies {
                    #expect(r.status == 200)
                    #expect(String(decoding: r.body, as: UTF8.self) == "reply n\(i)")
                }
                #expect(await server.requestCount() == 64 * (round + 1))
            }
            let stats = transport.statistics
            #expect(stats.connectionsOpened <= 8, "\(stats)")
            #expect(stats.requests >= 128)
        }
    }

    @Test("waiters beyond the connection limit are served over one connection")
    func oneConnectionSerializes() async throws {
        try await withFakeServer({ _ in .status(200, body: "ok") }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await transport.send(chatRequest(base)).status } }
                for try await status in group { #expect(status == 200) }
            }
            #expect(transport.statistics.connectionsOpened == 1)
            #expect(await server.requestCount() == 20)
        }
    }

    @Test("request and response bodies over 1 MiB")
    func largeBodies() async throws {
        let big = String(repeating: "0123456789abcdef", count: 90_000)  // 1.4 MiB
        try await withFakeServer({ _ in .status(200, body: big) }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 2)
            let content = String(repeating: "q", count: 1_200_000)
            let requestBody = Data(#"{"model":"m","messages":[{"role":"user","content":"\#(content)"}]}"#.utf8)
            // A generous deadline: the point is the byte counts, and a loaded machine parses 1 MiB slowly.
            let response = try await transport.send(chatRequest(base, body: requestBody, timeout: 180))
            #expect(response.status == 200)
            #expect(response.body == Data(big.utf8))
            #expect(await server.recordedRequests().first?.body == requestBody)
            // The connection is still good afterwards.
            #expect(try await transport.send(chatRequest(base, timeout: 180)).body == Data(big.utf8))
            #expect(transport.statistics.connectionsOpened == 1)
        }
    }

    @Test("chunked body after a 100 Continue, connection reused afterwards")
    func chunkedAndInterim() async throws {
        let server = try RawServer { _, _ in
            .reply(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
                    + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
        }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 4)
        for _ in 0..<3 {
            let response = try await send(transport, server.base)
            #expect(response.status == 200)
            #expect(response.headers["x-a"] == "1")
            #expect(String(decoding: response.body, as: UTF8.self) == "hello, world")
        }
        #expect(server.connections == 1)
    }

    @Test("body read to end of stream; that connection is not reused")
    func bodyToEndOfStream() async throws {
        let server = try RawServer { _, _ in .reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", thenClose: true) }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 4)
        for _ in 0..<2 {
            let response = try await send(transport, server.base)
            #expect(String(decoding: response.body, as: UTF8.self) == "until the end")
        }
        #expect(server.connections == 2)
    }

    @Test("Connection: close is honoured")
    func connectionClose() async throws {
        let server = try RawServer { _, _ in
            .reply("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", thenClose: false)
        }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 4)
        for _ in 0..<2 { #expect(try await send(transport, server.base).body == Data("ok".utf8)) }
        #expect(transport.statistics.connectionsOpened == 2)
    }

    @Test("a dropped connection is a connection error, reported long before the timeout")
    func droppedConnection() async throws {
        try await withFakeServer(FakeProviderServer.sequence([.status(200, body: "warm"), .dropConnection, .dropConnection], then: .status(200, body: "ok"))) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
            // A fresh connection dropped: no retry.
            let fresh = SocketHTTPTransport(maxConnectionsPerHost: 1)
            _ = try await transport.send(chatRequest(base))  // warm: the next request reuses the connection
            let start = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.send(chatRequest(base, timeout: 20)) }
            #expect(error?.kind == .connection)
            #expect(elapsed(since: start) < 10)
            // The reused connection was dropped, then the retry on a fresh one was dropped too.
            #expect(transport.statistics.staleRetries == 1)
            #expect(await server.requestCount() == 3)
            let next = try await fresh.send(chatRequest(base))
            #expect(String(decoding: next.body, as: UTF8.self) == "ok")
        }
    }

    @Test("a fresh connection dropped is not retried")
    func droppedFreshConnection() async throws {
        try await withFakeServer({ _ in .dropConnection }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
            let start = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.send(chatRequest(base, timeout: 20)) }
            #expect(error?.kind == .connection)
            #expect(elapsed(since: start) < 10)
            #expect(await server.requestCount() == 1)
            #expect(transport.statistics.staleRetries == 0)
        }
    }

    @Test("a truncated body is a connection error and the connection is not reused")
    func truncatedBody() async throws {
        let server = try RawServer { connection, _ in
            connection == 0 ? .reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part", thenClose: true) : okReply("fine")
        }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
        let error = await #expect(throws: ProviderError.self) { try await send(transport, server.base) }
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("truncated") == true)
        #expect(try await send(transport, server.base).body == Data("fine".utf8))
        #expect(server.connections == 2)
        #expect(transport.statistics.staleRetries == 0)
    }

    @Test("a malformed response is a connection error")
    func malformedResponse() async throws {
        let server = try RawServer { _, _ in .reply("SPDY/9 what\r\n\r\n", thenClose: true) }
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await send(SocketHTTPTransport(), server.base) }
        #expect(error?.kind == .connection)
    }

    @Test("a refused connection is a connection error")
    func refused() async throws {
        let server = try RawServer { _, _ in .close }
        let url = server.base
        server.stop()
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: ProviderError.self) { try await send(SocketHTTPTransport(), url, timeout: 20) }
        #expect(error?.kind == .connection)
    }

    @Test("a reply later than the timeout is ProviderError.timeout")
    func timeout() async throws {
        try await withFakeServer({ _ in .delayed(.seconds(30), .status(200, body: "late")) }) { _, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 2)
            let start = ContinuousClock.now
            let error = await #expect(throws: ProviderError.self) { try await transport.send(chatRequest(base, timeout: 0.5)) }
            #expect(error?.kind == .timeout)
            #expect(error == ProviderError.timeout(after: 0.5))
            #expect(elapsed(since: start) < 15)
        }
    }

    @Test("cancelling the task throws CancellationError promptly")
    func cancellation() async throws {
        try await withFakeServer({ _ in .delayed(.seconds(60), .status(200, body: "late")) }) { server, base in
            let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
            let start = ContinuousClock.now
            let task = Task { try await transport.send(chatRequest(base, timeout: 60)) }
            // Cancel once the request reached the server (it is then blocked reading the reply).
            while await server.requestCount() == 0, elapsed(since: start) < 20 { try await Task.sleep(for: .milliseconds(10)) }
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

    @Test("a keep-alive connection the server closed between requests: the next request still succeeds")
    func staleConnectionClosedWhileIdle() async throws {
        // Every reply says keep-alive, then the server closes the connection anyway.
        let server = try RawServer { _, _ in .reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", thenClose: true) }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
        for _ in 0..<3 {
            #expect(try await send(transport, server.base).body == Data("ok".utf8))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.connections == 3)
    }

    @Test("a reused connection closed before any response byte is retried once on a fresh one")
    func staleConnectionClosedOnRequest() async throws {
        // The first connection answers once, then closes on its second request without a byte.
        let server = try RawServer { connection, request in
            connection == 0 && request == 1 ? .close : okReply("c\(connection)r\(request)")
        }
        defer { server.stop() }
        let transport = SocketHTTPTransport(maxConnectionsPerHost: 1)
        #expect(try await send(transport, server.base).body == Data("c0r0".utf8))
        #expect(try await send(transport, server.base).body == Data("c1r0".utf8))
        #expect(transport.statistics.staleRetries == 1)
        #expect(server.connections == 2)
    }

    @Test("unsupported schemes and bad header values fail without echoing the value")
    func badInput() async throws {
        let transport = SocketHTTPTransport()
        let ftp = await #expect(throws: ProviderError.self) {
            try await transport.send(HTTPRequest(url: URL(string: "ftp://127.0.0.1/x")!, method: "GET"))
        }
        #expect(ftp?.kind == .connection)
        let bad = await #expect(throws: ProviderError.self) {
            try await transport.send(
                HTTPRequest(url: URL(string: "http://127.0.0.1:9/x")!, headers: ["Authorization": "sk-KEY\r\nX: y"]))
        }
        #expect(bad?.message.contains("sk-KEY") == false)
    }

    @Test("the factory defaults to sockets; JUDGEPANEL_HTTP=urlsession opts out")
    func factoryDefault() {
        let judge = JudgeConfig(name: "j", provider: .openai, model: "m", baseURLs: ["http://127.0.0.1:1/v1"], concurrency: 8)
        #expect(ProviderFactory.defaultTransport(judge: judge, environment: [:]) is SocketHTTPTransport)
        let opted = ProviderFactory.defaultTransport(judge: judge, environment: ["JUDGEPANEL_HTTP": "urlsession"])
        #expect(opted is URLSessionTransport)
        #expect((ProviderFactory.defaultTransport(judge: judge, environment: [:]) as? SocketHTTPTransport)?.maxConnectionsPerHost == 12)
    }
}
