import Foundation
import JudgePanelCore

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
    public init(
        url: URL, method: String = "POST", headers: [String: String] = [:], body: Data? = nil, timeout: Double = 120
    ) {
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
/// never the HTTP client directly, so tests can inject any transport; ``AsyncHTTPClientTransport`` is the real one.
///
/// ```swift
/// struct Canned: HTTPTransport {
///     func send(_ r: HTTPRequest) async throws -> HTTPResponse { HTTPResponse(status: 200, body: Data("{}".utf8)) }
/// }
/// ```
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response (any status); throws ``ProviderError`` when no response came.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
