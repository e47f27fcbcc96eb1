import Foundation
import HTTPTypes
import Hummingbird
import JudgePanel
import JudgeStats
import Logging
import NIOCore

/// `judgepanel ui RUN`: a local web app over a run directory — Explore (every item with its votes) and Label (blind
/// human labelling) — on Hummingbird.
///
/// Security: bound to 127.0.0.1 unless another host is given explicitly; every request must carry the session's
/// random token (`?token=`, or the `X-JudgePanel-Token` header) or gets 403; the `Host` header must name the bound
/// address (no DNS rebinding); every asset is embedded (no CDN); the API returns JSON only and the page renders every
/// string as text (`textContent`), under a Content-Security-Policy that allows no inline script or style and no other
/// origin; `Referrer-Policy: no-referrer` keeps the token out of other sites' logs.
package struct UIServer: Sendable {
    package struct Options: Sendable {
        package var host = "127.0.0.1"
        package var port = 0
        package var token: String
        /// Which view the printed URL opens (`explore` or `label`).
        package var view = "explore"
        package init(
            host: String = "127.0.0.1", port: Int = 0, token: String = UIServer.newToken(), view: String = "explore"
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.view = view
        }
    }

    package let index: RunIndex
    package let explore: Explore
    package let session: LabelSession
    package let options: Options

    package init(index: RunIndex, session: LabelSession, options: Options) {
        self.index = index
        self.explore = Explore(index: index)
        self.session = session
        self.options = options
    }

    /// 32 random bytes, hex.
    static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", g.next()) }.joined()
    }

    package static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Runs until the task is cancelled; `ready` gets the URL once the socket is bound.
    package func run(ready: @escaping @Sendable (String) async -> Void) async throws {
        let router = Router()
        let boundPort = PortBox()
        router.add(middleware: Guard(token: options.token, host: options.host, port: boundPort))
        // The token is hex, so it goes into the asset URLs as it is.
        let html = Assets.html.replacingOccurrences(of: "app.css\"", with: "app.css?token=\(options.token)\"")
            .replacingOccurrences(of: "app.js\"", with: "app.js?token=\(options.token)\"")
        router.get("/") { _, _ in Self.page(html, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in Self.page(Assets.js, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in Self.page(Assets.css, type: "text/css; charset=utf-8") }
        let explore = self.explore
        let session = self.session
        router.get("/api/summary") { _, _ in try Self.json(explore.summary()) }
        // The run's report.html with links into Explore (it links back here); 404 when the run has none.
        let reportPath = index.dir + "/report.html"
        let reportToken = options.token
        let reportJudges = index.judges
        router.get("/report") { _, _ in
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: reportPath)) } catch {
                return Self.error(.notFound, "no report.html in this run (write one with: judgepanel report RUN)")
            }
            var headers = Self.headers("text/html; charset=utf-8")
            headers[HTTPField.Name("Content-Security-Policy")!] = ReportLinks.contentSecurityPolicy
            let html = ReportLinks.inject(
                into: String(decoding: data, as: UTF8.self), token: reportToken, judges: reportJudges)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/api/items") { request, _ in
            let q = request.uri.queryParameters
            func s(_ k: String) -> String? { q.get(k).flatMap { $0.isEmpty ? nil : $0 } }
            let filter = Explore.Filter(
                disagree: s("disagree") == "1", flips: s("flips") == "1", split: s("split") == "1", judge: s("judge"),
                reason: s("reason"), metaKey: s("meta_key"), metaValue: s("meta_value"), query: s("q"),
                unlabelled: s("unlabelled") == "1")
            let page = max(0, Int(s("page") ?? "0") ?? 0)
            let size = min(200, max(1, Int(s("size") ?? "50") ?? 50))
            return try Self.json(try explore.list(filter, page: page, size: size))
        }
        router.get("/api/item") { request, _ in
            guard let id = request.uri.queryParameters.get("id") else { return Self.error(.badRequest, "no id") }
            guard let detail = try explore.detail(id: id) else { return Self.error(.notFound, "no such item") }
            return try Self.json(detail)
        }
        router.get("/api/label/next") { _, _ in try Self.json(try await session.next()) }
        router.post("/api/label") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 16)
            let v: JSONValue
            do { v = try JSONValue(jsonData: Data(buffer: body)) } catch {
                return Self.error(.badRequest, "body is not JSON")
            }
            guard let key = v["key"]?.intValue, let choice = v["choice"]?.textValue else {
                return Self.error(.badRequest, "key and choice are required")
            }
            do { try await session.label(key: key, choice: choice) } catch let e as JudgePanelError
                where e.code == .usage || e.code == .badInput
            {
                return Self.error(.badRequest, e.description)
            }
            return try Self.json(try await session.next())
        }
        router.post("/api/label/undo") { _, _ in
            do { try await session.undo() } catch let e as JudgePanelError where e.code == .usage || e.code == .badInput
            {
                return Self.error(.conflict, e.description)
            }
            return try Self.json(try await session.next())
        }
        let host = options.host
        let view = options.view
        let token = options.token
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                let shownHost = host.contains(":") ? "[\(host)]" : host
                await ready("http://\(shownHost):\(port)/?token=\(token)#\(view)")
            },
            logger: {
                var l = Logger(label: "judgepanel.ui")
                l.logLevel = .critical  // a cancelled shutdown logs its child channels at error level
                return l
            }()
        )
        try await app.run()
    }

    static func headers(_ type: String) -> HTTPFields {
        var h = HTTPFields()
        h[.contentType] = type
        h[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        h[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        h[HTTPField.Name("X-Frame-Options")!] = "DENY"
        h[.cacheControl] = "no-store"
        return h
    }

    static func page(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: headers(type), body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: JSONValue) throws -> Response {
        let data = try value.compactData()
        return Response(
            status: .ok, headers: headers("application/json; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? JSONValue.object(["error": .string(message)]).compactData()) ?? Data("{}".utf8)
        return Response(
            status: status, headers: headers("application/json; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The bound port, set once the server runs (the Host check needs it with `--port 0`).
    final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var port = -1
        func set(_ p: Int) { lock.withLock { port = p } }
        func get() -> Int { lock.withLock { port } }
    }

    /// Refuses (403) a request without the token, or whose Host is not the bound address.
    struct Guard<Context: RequestContext>: RouterMiddleware {
        let token: String
        let host: String
        let port: PortBox

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
            async throws -> Response
        {
            let given =
                request.uri.queryParameters.get("token") ?? request.headers[HTTPField.Name("X-JudgePanel-Token")!]
            guard let given, Self.equal(given, token) else {
                return UIServer.error(.forbidden, "missing or wrong token")
            }
            if let authority = request.head.authority, !allowedHost(authority) {
                return UIServer.error(.forbidden, "unexpected Host header")
            }
            return try await next(request, context)
        }

        func allowedHost(_ authority: String) -> Bool {
            let p = port.get()
            var names = [host, "localhost"]
            if host == "127.0.0.1" || host == "::1" { names += ["127.0.0.1", "[::1]"] }
            if host.contains(":") { names.append("[\(host)]") }
            if host == "0.0.0.0" || host == "::" { return true }  // explicitly exposed: any name reaching it
            return names.contains { authority == "\($0):\(p)" || (p == 80 && authority == $0) }
        }

        /// Constant-time comparison of two strings' bytes.
        static func equal(_ a: String, _ b: String) -> Bool {
            let x = Array(a.utf8)
            let y = Array(b.utf8)
            guard x.count == y.count else { return false }
            var d: UInt8 = 0
            for i in x.indices { d |= x[i] ^ y[i] }
            return d == 0
        }
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}
