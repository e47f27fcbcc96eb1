import FlyingFox
import Foundation

import enum JudgePanel.JSONValue

/// An in-process HTTP server on 127.0.0.1 that speaks the OpenAI, Anthropic, Gemini and Ollama
/// chat wire formats, answering each request with whatever a ``FakeHandler`` returns — including
/// faults (error statuses, rate limits, delays, dropped connections, truncated or garbage bodies).
///
/// Endpoints:
///
/// | Method | Path | Wire |
/// | --- | --- | --- |
/// | POST | `/v1/chat/completions`, `/chat/completions` | ``FakeWire/openai`` |
/// | POST | `/v1/messages` | ``FakeWire/anthropic`` |
/// | POST | `/v1beta/models/{model}:generateContent` (also `/v1/models/…`) | ``FakeWire/gemini`` |
/// | POST | `/api/chat` (non-streaming) | ``FakeWire/ollama`` |
/// | GET | `/health` → `{"status":"ok"}` | — |
/// | GET | `/v1/models`, `/models`, `/v1beta/models`, `/api/tags` → a model list | — |
///
/// Anything else gets a 404 JSON error. Only the four provider endpoints reach the handler and
/// count in ``requestCount()``/``recordedRequests()``; a provider request whose body is not a JSON
/// object is recorded (with empty messages) and answered 400 without calling the handler.
///
/// ```swift
/// let server = FakeProviderServer { request in
///     request.index == 0 ? .rateLimited(retryAfterSeconds: 0.01) : .text("Rating: [[8]]")
/// }
/// try await server.start()
/// defer { Task { await server.stop() } }
/// let base = await server.baseURL          // http://127.0.0.1:PORT
/// var request = URLRequest(url: base.appending(path: "v1/chat/completions"))
/// request.httpMethod = "POST"
/// request.httpBody = Data(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8)
/// let (data, _) = try await URLSession.shared.data(for: request)   // 429 first, then the text
/// #expect(await server.requestCount() == 1)
/// ```
///
/// Requests are served concurrently (one task per connection); size the client's
/// `httpMaximumConnectionsPerHost` to the concurrency you test.
public actor FakeProviderServer {
    private let handler: FakeHandler
    private let rules: FakeAPIRules
    private let batchAPI: FakeBatchAPI?
    private let log = RequestLog()
    private var server: HTTPServer?
    private var runTask: Task<Void, Never>?
    private var boundPort: Int = 0

    /// Creates a server that answers provider requests with `handler`. Call ``start()`` to listen.
    /// Requests that break a provider's documented rules (``FakeAPIRules``) get that provider's documented
    /// error instead, without calling the handler.
    public init(rules: FakeAPIRules = .documented, handler: @escaping FakeHandler) {
        self.handler = handler
        self.rules = rules
        batchAPI = nil
    }

    /// A server that also speaks the providers' batch APIs (``FakeBatchAPI``), answering batch requests with `handler`.
    public init(batchAPI: FakeBatchAPI, rules: FakeAPIRules = .documented, handler: @escaping FakeHandler) {
        self.handler = handler
        self.rules = rules
        self.batchAPI = batchAPI
    }

    /// A server whose every provider request gets `reply`.
    public init(reply: FakeReply) {
        self.init { _ in reply }
    }

    /// Binds 127.0.0.1 on an ephemeral port and returns once the server is listening.
    /// Calling it on a running server does nothing.
    public func start() async throws {
        guard server == nil else { return }
        let http = HTTPServer(
            address: try .inet(ip4: "127.0.0.1", port: 0),
            timeout: 24 * 3600,
            logger: .disabled
        )
        server = http
        let handler = self.handler
        let log = self.log
        let rules = self.rules
        let batchAPI = self.batchAPI
        await http.appendRoute("*") { request in
            if let batchAPI, let reply = await Self.batchReply(request, api: batchAPI, handler: handler) {
                return Self.makeResponse(reply)
            }
            return await Self.respond(to: request, handler: handler, rules: rules, log: log)
        }
        runTask = Task { try? await http.run() }
        do {
            try await http.waitUntilListening(timeout: 10)
        } catch {
            server = nil
            runTask?.cancel()
            runTask = nil
            throw error
        }
        if case .ip4(_, let port)? = await http.listeningAddress {
            boundPort = Int(port)
        }
    }

    /// The bound port, or 0 before ``start()``.
    public var port: Int { boundPort }

    /// `http://127.0.0.1:PORT`, without a path.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(boundPort)")!
    }

    /// Stops listening, ends in-flight requests (pending ``FakeReply/delayed(_:_:)`` sleeps are cut
    /// short and their connections closed) and waits for the server task to finish.
    public func stop() async {
        guard let http = server else { return }
        server = nil
        await http.stop(timeout: 0)
        await runTask?.value
        runTask = nil
    }

    /// How many provider requests arrived, including faulted and undecodable ones.
    public func requestCount() async -> Int {
        await log.count
    }

    /// Every provider request received so far, in arrival (``FakeRequest/index``) order.
    public func recordedRequests() async -> [FakeRequest] {
        await log.requests
    }

    /// A handler that answers request `i` (by ``FakeRequest/index``) with `replies[i]`, then `then`.
    ///
    /// ```swift
    /// let server = FakeProviderServer(handler: FakeProviderServer.sequence(
    ///     [.rateLimited(retryAfterSeconds: 0.01), .status(503)], then: .text("ok")))
    /// ```
    public static func sequence(_ replies: [FakeReply], then: FakeReply) -> FakeHandler {
        { request in request.index < replies.count ? replies[request.index] : then }
    }

    // MARK: - Serving

    private static func respond(
        to http: HTTPRequest, handler: FakeHandler, rules: FakeAPIRules, log: RequestLog
    ) async -> HTTPResponse {
        let path = http.path
        let method = http.method.rawValue.uppercased()
        let route = Route(method: method, path: path)
        switch route {
        case .health:
            return makeResponse(
                .response(status: 200, headers: WireRenderer.jsonHeaders, body: Data(#"{"status":"ok"}"#.utf8)))
        case .models(let shape):
            return makeResponse(.response(status: 200, headers: WireRenderer.jsonHeaders, body: shape.body))
        case .notFound:
            let json = WireRenderer.error(
                wire: nil, status: 404, message: "No route for \(method) \(path) (fake provider).", retryAfter: nil)
            return makeResponse(.response(status: 404, headers: WireRenderer.jsonHeaders, body: json.encoded()))
        case .provider(let wire, let pathModel):
            let body = (try? await http.bodyData) ?? Data()
            var headers: [String: String] = [:]
            for (name, value) in http.headers {
                let key = name.rawValue.lowercased()
                headers[key] = headers[key].map { "\($0), \(value)" } ?? value
            }
            var query: [String: String] = [:]
            for item in http.query {
                query[item.name] = item.value
            }
            let index = await log.reserveIndex()
            switch FakeRequest.decode(
                wire: wire, path: path, headers: headers, query: query, body: body, pathModel: pathModel, index: index
            ) {
            case .success(let request):
                await log.record(request)
                if let violation = rules.violation(request) { return makeResponse(violation) }
                let reply = await resolveDelays(await handler(request))
                return makeResponse(WireRenderer.render(reply, for: request))
            case .failure(let error):
                let request = FakeRequest(
                    wire: wire, path: path, headers: headers, query: query, body: body,
                    model: pathModel ?? "", messages: [], index: index
                )
                await log.record(request)
                let json = WireRenderer.error(wire: wire, status: 400, message: error.message, retryAfter: nil)
                return makeResponse(.response(status: 400, headers: WireRenderer.jsonHeaders, body: json.encoded()))
            }
        }
    }

    /// Routes a request to the batch API; nil when it is not a batch-API path.
    private static func batchReply(_ http: HTTPRequest, api: FakeBatchAPI, handler: @escaping FakeHandler) async
        -> RenderedReply?
    {
        let body = (try? await http.bodyData) ?? Data()
        var headers: [String: String] = [:]
        for (name, value) in http.headers { headers[name.rawValue.lowercased()] = value }
        var query: [String: String] = [:]
        for item in http.query { query[item.name] = item.value }
        return await api.respond(
            method: http.method.rawValue.uppercased(), path: http.path, query: query, headers: headers, body: body,
            handler: handler)
    }

    /// Sleeps through `.delayed` layers; a cancelled sleep (server stopping) drops the connection.
    private static func resolveDelays(_ reply: FakeReply) async -> FakeReply {
        var reply = reply
        while case .delayed(let duration, let inner) = reply {
            do {
                try await Task.sleep(for: duration)
            } catch {
                return .dropConnection
            }
            reply = inner
        }
        return reply
    }

    private static func makeResponse(_ rendered: RenderedReply) -> HTTPResponse {
        switch rendered {
        case .response(let status, let headers, let body):
            var httpHeaders = HTTPHeaders()
            for (name, value) in headers {
                httpHeaders[HTTPHeader(name)] = value
            }
            return HTTPResponse(
                statusCode: HTTPStatusCode(status, phrase: WireRenderer.reasonPhrase(for: status)),
                headers: httpHeaders,
                body: body
            )
        case .drop:
            // FlyingFox runs a WebSocket handler's `makeFrames` before it writes the upgrade
            // response; throwing there makes the connection loop close the socket with no byte sent.
            return HTTPResponse(webSocket: DropConnectionHandler())
        }
    }
}

// MARK: - Routing

private enum Route {
    case health
    case models(ModelList)
    case provider(FakeWire, pathModel: String?)
    case notFound

    init(method: String, path: String) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        switch (method, trimmed) {
        case ("GET", "/health"): self = .health
        case ("GET", "/v1/models"), ("GET", "/models"): self = .models(.openai)
        case ("GET", "/v1beta/models"): self = .models(.gemini)
        case ("GET", "/api/tags"): self = .models(.ollama)
        case ("POST", "/v1/chat/completions"), ("POST", "/chat/completions"): self = .provider(.openai, pathModel: nil)
        case ("POST", "/v1/messages"): self = .provider(.anthropic, pathModel: nil)
        case ("POST", "/api/chat"): self = .provider(.ollama, pathModel: nil)
        case ("POST", _):
            if let model = Self.geminiModel(trimmed) {
                self = .provider(.gemini, pathModel: model)
            } else {
                self = .notFound
            }
        default: self = .notFound
        }
    }

    /// `{model}` from `/v1beta/models/{model}:generateContent` (or `/v1/…`).
    static func geminiModel(_ path: String) -> String? {
        for prefix in ["/v1beta/models/", "/v1/models/"] where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            let suffix = ":generateContent"
            guard rest.hasSuffix(suffix) else { return nil }
            let model = String(rest.dropLast(suffix.count))
            return model.isEmpty || model.contains("/") ? nil : model
        }
        return nil
    }
}

private enum ModelList {
    case openai, gemini, ollama

    var body: Data {
        let json: JSONValue =
            switch self {
            case .openai:
                .object([
                    "object": .string("list"),
                    "data": .array([
                        .object([
                            "id": .string("fake-model"), "object": .string("model"),
                            "created": .int(0), "owned_by": .string("fake-provider"),
                        ])
                    ]),
                ])
            case .gemini:
                .object([
                    "models": .array([
                        .object([
                            "name": .string("models/fake-model"),
                            "supportedGenerationMethods": .array([.string("generateContent")]),
                        ])
                    ])
                ])
            case .ollama:
                .object(["models": .array([.object(["name": .string("fake-model"), "model": .string("fake-model")])])])
            }
        return json.encoded()
    }
}

// MARK: - Support

/// Arrival order and recorded requests, shared by the concurrent connection tasks.
private actor RequestLog {
    private var reserved = 0
    private var recorded: [FakeRequest] = []

    func reserveIndex() -> Int {
        defer { reserved += 1 }
        return reserved
    }

    func record(_ request: FakeRequest) {
        recorded.append(request)
    }

    var count: Int { reserved }

    var requests: [FakeRequest] {
        recorded.sorted { $0.index < $1.index }
    }
}

private struct DroppedConnection: Error {}

/// Fails the WebSocket "upgrade" before any response byte is written, so FlyingFox closes the socket.
private struct DropConnectionHandler: WSHandler {
    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        throw DroppedConnection()
    }
}
