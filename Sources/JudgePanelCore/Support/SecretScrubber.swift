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

    private let keyPatterns: [NSRegularExpression]
    /// Literal fragments every match of ``keyPatterns`` contains (each key's first 8 and last 4 characters): text
    /// holding none of them is left alone without running the patterns.
    private let keyTriggers: [String]

    /// A scrubber for `secrets` (empty or very short values are ignored: they cannot be told from text).
    package init(secrets: [String?] = []) {
        var patterns: [String] = []
        var triggers: [String] = []
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
        var out = text
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
