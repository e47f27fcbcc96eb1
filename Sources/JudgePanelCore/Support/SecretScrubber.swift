import Foundation

/// Removes API keys from text that came from a provider (error bodies, header echoes) before it reaches a vote,
/// the journal, the cache, a log line or a report.
///
/// Two kinds of rule:
/// - generic, for any text: `Bearer …`, `x-api-key: …` / `x-goog-api-key: …` / `api-key: …` / `authorization: …`
///   echoes, `key=…` (and `api_key=`, `access_token=`) in URLs, OpenAI-style keys and their masked forms
///   (`sk-proj-****MxYA`, `sk-…1234`, `sk-ant-…`), Google API keys (`AIza…`), and any run of `*`, `•` or `…`
///   followed by key-like characters (the way providers mask a key);
/// - per key, for the judge's own key(s): the key itself, its first 8 characters (and whatever follows them), and
///   its last 4 characters after a mask (`****MxYA`, `…MxYA`).
///
/// ``scrub(_:)`` applies both (for error text); ``scrubKeys(_:)`` applies only the per-key rules and the
/// unambiguous key shapes, for text a model wrote (`raw`), where a markdown `****bold**` must stay.
package struct SecretScrubber: Sendable {
    /// What replaces a secret.
    package static let mark = "[redacted]"

    /// The shortest piece of a secret that is removed wherever it appears: every run of this many characters (bytes)
    /// of a known secret, and whatever adjoining characters of the secret it extends into.
    static let minimumPiece = 8

    /// The secrets this scrubber was made with (for ``withRegistered()``).
    private let kept: [String?]
    /// Every 8-byte window of the known secrets, as a little-endian integer (see ``scrubPieces(_:)``).
    private let windows: Set<UInt64>

    private let keyPatterns: [NSRegularExpression]
    /// Literal fragments every match of ``keyPatterns`` contains (each key's first 8 and last 4 characters): text
    /// holding none of them is left alone without running the patterns.
    private let keyTriggers: [String]

    /// A scrubber for `secrets` (empty or very short values are ignored: they cannot be told from text).
    package init(secrets: [String?] = []) {
        var patterns: [String] = []
        var triggers: [String] = []
        var windows = Set<UInt64>()
        for secret in Set(secrets.compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) })
        where secret.utf8.count >= Self.minimumPiece {
            let bytes = Array(secret.utf8)
            for start in 0...(bytes.count - Self.minimumPiece) { windows.insert(Self.window(bytes, at: start)) }
        }
        self.windows = windows
        kept = secrets
        for secret in Set(secrets.compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) })
        where secret.count >= 8 {
            patterns.append(NSRegularExpression.escapedPattern(for: secret))
            let prefix = String(secret.prefix(8))
            patterns.append(NSRegularExpression.escapedPattern(for: prefix) + #"[^\s"',;}\]]*"#)
            let suffix = String(secret.suffix(4))
            patterns.append(#"(?:[*•…]+|\.{3})"# + NSRegularExpression.escapedPattern(for: suffix))
            triggers += [prefix, suffix]
        }
        keyTriggers = triggers
        // Escaped literals and fixed character classes: always valid patterns.
        keyPatterns = patterns.map { try! NSRegularExpression(pattern: $0) }
    }

    /// The scrubber for a judge: its key variables' values from `environment`.
    package init(keyVariables: [String], environment: [String: String]) {
        self.init(secrets: keyVariables.map { environment[$0] })
    }

    /// This scrubber and the secrets registered for the process (``register(_:)``).
    package func withRegistered() -> SecretScrubber {
        let extra = Self.registered
        guard !extra.isEmpty else { return self }
        return SecretScrubber(secrets: kept + extra)
    }

    private static func window(_ bytes: [UInt8], at start: Int) -> UInt64 {
        var w: UInt64 = 0
        for k in 0..<minimumPiece { w |= UInt64(bytes[start + k]) << (8 * UInt64(k)) }
        return w
    }

    /// Removes every piece of 8 or more bytes of a known secret: each 8-byte window of `text` that is a window of a
    /// secret is covered, adjacent and overlapping covers merge, and each covered run (widened to whole characters)
    /// becomes ``mark``. One pass over the bytes with a set lookup per byte.
    package func scrubPieces(_ text: String) -> String {
        guard !windows.isEmpty else { return text }
        let bytes = Array(text.utf8)
        let n = Self.minimumPiece
        guard bytes.count >= n else { return text }
        var covered: [Range<Int>] = []
        var w: UInt64 = 0
        for i in 0..<bytes.count {
            w = (w >> 8) | (UInt64(bytes[i]) << 56)
            guard i >= n - 1 else { continue }
            let start = i - n + 1
            guard windows.contains(w) else { continue }
            if let last = covered.last, last.upperBound >= start {
                covered[covered.count - 1] = last.lowerBound..<(i + 1)
            } else {
                covered.append(start..<(i + 1))
            }
        }
        guard !covered.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var at = 0
        for r in covered {
            var lo = r.lowerBound
            var hi = r.upperBound
            while lo > at && lo < bytes.count && bytes[lo] & 0xC0 == 0x80 { lo -= 1 }  // whole characters
            while hi < bytes.count && bytes[hi] & 0xC0 == 0x80 { hi += 1 }
            if lo < at { lo = at }
            out += bytes[at..<lo]
            out += Array(Self.mark.utf8)
            at = hi
        }
        if at < bytes.count { out += bytes[at...] }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: secrets of the process

    private static let registry = RegisteredSecrets()

    /// Secrets the process knows of (the keys a loaded panel names, its `headers` values, credentials in its URLs):
    /// every log line and message judgepanel prints is scrubbed of them too.
    package static func register(_ secrets: [String]) { registry.add(secrets.filter { $0.utf8.count >= minimumPiece }) }

    /// The secrets registered so far.
    package static var registered: [String?] { registry.all }

    /// The process's scrubber: the generic rules and every registered secret.
    package static var process: SecretScrubber { registry.scrubber }

    /// The credentials written in a URL: its user, password and the values of key-like query parameters.
    static func urlSecrets(_ text: String) -> [String] {
        guard let c = URLComponents(string: text) else { return [] }
        var out: [String] = []
        if let u = c.user, !u.isEmpty {
            out.append(u.removingPercentEncoding ?? u)
            out.append(u)
        }
        if let p = c.password, !p.isEmpty {
            out.append(p.removingPercentEncoding ?? p)
            out.append(p)
        }
        for q in c.queryItems ?? [] where Self.secretQueryNames.contains(q.name.lowercased()) {
            if let v = q.value, !v.isEmpty { out.append(v) }
        }
        return out
    }

    /// Query parameter names whose values are credentials.
    static let secretQueryNames: Set<String> = [
        "key", "api_key", "api-key", "apikey", "access_token", "token", "secret", "password", "sig", "signature",
    ]

    /// `text` (a URL) with its credentials replaced: `user:pass@` → `[redacted]@`, `?key=…` → `?key=[redacted]`.
    package static func redactURL(_ text: String) -> String {
        guard var c = URLComponents(string: text) else { return generic.scrub(text) }
        var changed = false
        let hadUser = c.user != nil || c.password != nil
        if hadUser {
            c.user = nil
            c.password = nil
            changed = true
        }
        if let items = c.queryItems, items.contains(where: { secretQueryNames.contains($0.name.lowercased()) }) {
            c.queryItems = items.map {
                secretQueryNames.contains($0.name.lowercased()) ? URLQueryItem(name: $0.name, value: "REDACTED") : $0
            }
            changed = true
        }
        guard changed, var out = c.string else { return text }
        if hadUser, let range = out.range(of: "://") {
            out.insert(contentsOf: "[redacted]@", at: range.upperBound)
        }
        return out.replacingOccurrences(of: "=REDACTED", with: "=" + mark)
    }

    /// Shapes that are keys whatever the text (safe on a model's own words).
    private static let keyShapes: [(String, String)] = [
        (#"(?i)\bBearer\s+[A-Za-z0-9._~+/=*…•-]+"#, "Bearer " + mark),
        (#"\bsk-[A-Za-z0-9_*…•.-]{3,}"#, mark),
        (#"\bAIza[0-9A-Za-z_-]{10,}"#, mark),
        (#"(?i)([?&](?:key|api_key|api-key|apikey|access_token|token)=)[^&\s"'#]+"#, "$1" + mark),
        (#"(?i)\b(x-api-key|x-goog-api-key|api-key|authorization)(["']?\s*[:=]\s*["']?)[^\s"',;}]+"#, "$1$2" + mark),
    ]

    /// Fragments every match of ``keyShapes`` contains, in lower case: text holding none is left alone.
    private static let shapeTriggers = ["bearer", "sk-", "aiza", "key=", "token=", "api-key", "authorization"]

    /// Masked fragments: a run of `*`, `•` or `…` followed by key characters.
    private static let masks: [(String, String)] = [
        (#"(?:\*{2,}|[•…]+)[A-Za-z0-9_-]{2,}"#, mark)
    ]

    private static let compiledShapes = compile(keyShapes)
    private static let compiledMasks = compile(masks)

    private static func compile(_ rules: [(String, String)]) -> [(NSRegularExpression, String)] {
        rules.map { pattern, template in
            // The patterns are constants checked by the tests; a failure here is a programming error.
            (try! NSRegularExpression(pattern: pattern), template)
        }
    }

    /// Error text: every rule.
    package func scrub(_ text: String) -> String {
        var out = scrubKeys(text)
        out = Self.apply(Self.compiledMasks, to: out)
        return out
    }

    /// A model's text: the judge's own key in any form, and unambiguous key shapes.
    package func scrubKeys(_ text: String) -> String {
        var out = scrubPieces(text)
        if keyTriggers.contains(where: { out.contains($0) }) {
            for re in keyPatterns {
                out = re.stringByReplacingMatches(
                    in: out, range: NSRange(out.startIndex..., in: out),
                    withTemplate: NSRegularExpression.escapedTemplate(for: Self.mark))
            }
        }
        let lower = out.lowercased()
        guard Self.shapeTriggers.contains(where: { lower.contains($0) }) else { return out }
        return Self.apply(Self.compiledShapes, to: out)
    }

    /// An optional text, scrubbed as error text.
    package func scrub(_ text: String?) -> String? { text.map { scrub($0) } }

    private static func apply(_ rules: [(NSRegularExpression, String)], to text: String) -> String {
        var out = text
        for (re, template) in rules {
            out = re.stringByReplacingMatches(
                in: out, range: NSRange(out.startIndex..., in: out), withTemplate: template)
        }
        return out
    }

    /// The generic rules only (no known key): what ``ProviderError/http(_:)`` applies to every error body.
    package static let generic = SecretScrubber()
}

/// The secrets a process registered (``SecretScrubber/register(_:)``), and the scrubber made of them.
private final class RegisteredSecrets: @unchecked Sendable {
    private let lock = NSLock()
    private var secrets: [String] = []
    private var cached: SecretScrubber?

    func add(_ more: [String]) {
        lock.lock()
        defer { lock.unlock() }
        let fresh = more.filter { !secrets.contains($0) }
        guard !fresh.isEmpty else { return }
        secrets += fresh
        cached = nil
    }

    var all: [String?] {
        lock.lock()
        defer { lock.unlock() }
        return secrets
    }

    var scrubber: SecretScrubber {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let made = SecretScrubber(secrets: secrets)
        cached = made
        return made
    }
}
