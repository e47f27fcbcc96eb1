import Foundation
import JudgePanelCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An HTTP request as the transport seam sees it.
public struct HTTPRequest: Sendable, Hashable {
    /// The request URL.
    public var url: URL
    /// The HTTP method.
    public var method: String
    /// Request headers.
    public var headers: [String: String]
    /// The request body.
    public var body: Data?
    /// Seconds before the request is abandoned.
    public var timeout: Double

    /// A request from its parts.
    public init(url: URL, method: String = "POST", headers: [String: String] = [:], body: Data? = nil, timeout: Double = 120) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// An HTTP response: status, headers (lower-cased names) and body.
public struct HTTPResponse: Sendable, Hashable {
    /// The HTTP status.
    public var status: Int
    /// Response headers (names lower-cased).
    public var headers: [String: String]
    /// The response body.
    public var body: Data

    /// A response from its parts.
    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The seam between providers and the network: one `send`. Retry, rate limits and caching wrap providers,
/// never `URLSession` directly, so tests can inject any transport.
///
/// ```swift
/// struct Canned: HTTPTransport {
///     func send(_ r: HTTPRequest) async throws -> HTTPResponse { HTTPResponse(status: 200, body: Data("{}".utf8)) }
/// }
/// ```
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// URLSession (FoundationNetworking on Linux), sized to a judge's concurrency: what ``SocketHTTPTransport`` uses
/// for `https://`, and the transport for everything with `JUDGEPANEL_HTTP=urlsession`.
package final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// - Parameter maxConnectionsPerHost: size it to the judge's concurrency (the default of 6 throttles a panel).
    package init(maxConnectionsPerHost: Int = 64) {
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = max(1, maxConnectionsPerHost)
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.timeoutIntervalForRequest = 600
        config.timeoutIntervalForResource = 3600
        session = URLSession(configuration: config)
    }

    deinit { session.finishTasksAndInvalidate() }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var r = URLRequest(url: request.url)
        r.httpMethod = request.method
        r.timeoutInterval = request.timeout
        for (k, v) in request.headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = request.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch let e as URLError {
            switch e.code {
            case .timedOut: throw ProviderError.timeout(after: request.timeout)
            case .cancelled: throw CancellationError()
            default: throw ProviderError.connection("\(e.code.rawValue) \(e.localizedDescription)")
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProviderError.connection(error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else {
            throw ProviderError.connection("not an HTTP response")
        }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }
}
