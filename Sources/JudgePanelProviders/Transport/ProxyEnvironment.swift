import Foundation
import JudgePanelCore

/// The proxies named by the environment, and which URLs bypass them: what ``AsyncHTTPClientTransport`` reads.
///
/// Supported, in the manner of curl and Python's `urllib`/`httpx` (the lower-case spelling wins when both are set):
/// - `HTTPS_PROXY` for `https://` targets, `HTTP_PROXY` for `http://` targets, `ALL_PROXY` for either when the
///   scheme's own variable is unset or empty;
/// - a proxy URL `http://[user:password@]host[:port]` (an HTTP proxy, reached with `CONNECT` for every target; port
///   80 by default) or `socks5://host[:port]` / `socks5h://host[:port]` (port 1080 by default), or a bare
///   `host:port` (read as `http://`); credentials in the URL are sent as `Proxy-Authorization: Basic`;
/// - `NO_PROXY`: comma- or space-separated entries; `*` bypasses every host; an entry matches the host itself and
///   its subdomains (a leading `.` or `*.` is ignored: `example.com`, `.example.com` and `*.example.com` all match
///   `example.com` and `api.example.com`); an entry with `:port` matches only that port; IP addresses match
///   literally (`[::1]` or `::1`). CIDR ranges (`10.0.0.0/8`) are not supported and match nothing.
///
/// Not supported: TLS to the proxy itself (`https://` proxy URLs are refused with a clear error) and SOCKS
/// credentials.
package struct ProxyEnvironment: Sendable, Hashable {
    /// A proxy server to send through.
    package struct Proxy: Sendable, Hashable {
        package enum Kind: Sendable, Hashable { case http, socks }
        package var kind: Kind
        package var host: String
        package var port: Int
        package var username: String?
        package var password: String?
    }

    /// One `NO_PROXY` entry.
    package struct Bypass: Sendable, Hashable {
        /// Lower-cased host or domain without leading dots or brackets; nil for `*`.
        package var domain: String?
        package var port: Int?
    }

    package var http: Proxy?
    package var https: Proxy?
    var bypass: [Bypass] = []

    /// No proxy at all.
    package static let none = ProxyEnvironment()

    /// Reads the proxy variables of `environment`.
    /// - Throws: ``JudgePanelError/badInput(_:file:line:)`` naming the variable (never its credentials) when a proxy
    ///   URL cannot be used.
    package init(environment: [String: String]) throws {
        func value(_ name: String) -> (name: String, value: String)? {
            for candidate in [name.lowercased(), name] {
                if let v = environment[candidate]?.trimmingCharacters(in: .whitespaces), !v.isEmpty {
                    return (candidate, v)
                }
            }
            return nil
        }
        let all = try value("ALL_PROXY").map { try Self.parseProxy($0.value, variable: $0.name) }
        http = try value("HTTP_PROXY").map { try Self.parseProxy($0.value, variable: $0.name) } ?? all
        https = try value("HTTPS_PROXY").map { try Self.parseProxy($0.value, variable: $0.name) } ?? all
        bypass = value("NO_PROXY").map { Self.parseBypass($0.value) } ?? []
    }

    package init(http: Proxy? = nil, https: Proxy? = nil, bypass: [Bypass] = []) {
        self.http = http
        self.https = https
        self.bypass = bypass
    }

    /// The proxy `url` goes through, or nil for a direct connection.
    package func proxy(for url: URL) -> Proxy? {
        let scheme = url.scheme?.lowercased()
        guard let proxy = scheme == "https" ? https : scheme == "http" ? http : nil else { return nil }
        guard var host = url.host?.lowercased(), !host.isEmpty else { return proxy }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        for entry in bypass {
            guard let domain = entry.domain else { return nil }
            if let p = entry.port, p != port { continue }
            if host == domain || host.hasSuffix("." + domain) { return nil }
        }
        return proxy
    }

    static func parseProxy(_ text: String, variable: String) throws -> Proxy {
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let c = URLComponents(string: withScheme), let host = c.host, !host.isEmpty else {
            throw JudgePanelError.badInput(
                "\(variable): not a proxy URL (expected http://host:port or socks5://host:port)")
        }
        let scheme = (c.scheme ?? "http").lowercased()
        let kind: Proxy.Kind
        switch scheme {
        case "http": kind = .http
        case "socks5", "socks5h": kind = .socks
        default:
            throw JudgePanelError.badInput(
                "\(variable): proxy scheme '\(scheme)' is not supported (http:// or socks5://; no TLS to the proxy)")
        }
        let port = c.port ?? (kind == .http ? 80 : 1080)
        guard (1...65535).contains(port) else { throw JudgePanelError.badInput("\(variable): bad proxy port") }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if kind == .socks, c.user != nil {
            throw JudgePanelError.badInput("\(variable): SOCKS proxy credentials are not supported")
        }
        return Proxy(
            kind: kind, host: bare, port: port, username: c.user?.removingPercentEncoding,
            password: c.password?.removingPercentEncoding)
    }

    static func parseBypass(_ text: String) -> [Bypass] {
        text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).compactMap { raw in
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard !entry.isEmpty else { return nil }
            if entry == "*" { return Bypass(domain: nil, port: nil) }
            if entry.hasPrefix("*.") { entry.removeFirst(2) }
            while entry.hasPrefix(".") { entry.removeFirst() }
            var port: Int?
            if entry.hasPrefix("[") {  // [v6]:port
                guard let close = entry.firstIndex(of: "]") else { return nil }
                let rest = entry[entry.index(after: close)...]
                if rest.hasPrefix(":") { port = Int(rest.dropFirst()) }
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                port = Int(entry[entry.index(after: colon)...])
                entry = String(entry[..<colon])
            }
            guard !entry.isEmpty else { return nil }
            return Bypass(domain: entry, port: port)
        }
    }
}
