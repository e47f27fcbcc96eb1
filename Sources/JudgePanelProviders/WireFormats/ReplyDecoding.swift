import Foundation
import JudgePanelCore

/// The fields of one JSON object in a provider reply, read the way a provider's reply struct needs them.
///
/// Replies are decoded with `JSONDecoder` into small `Decodable` structs (``OpenAIProvider/Reply`` and its
/// siblings) holding only the fields the provider reads. Providers and proxies vary, so a field is read leniently:
/// a field that is absent, `null` or of another JSON type than the one read reads as absent (`nil`), and a value
/// that is not an object has no fields — the reply's own checks then report what is missing ("no
/// choices[0].message", …), as they would for an absent field. Only a type mismatch is read as absent: any other
/// decoding failure (a string that is not valid UTF-8, a number too large for a `Double`) is thrown, and
/// ``ReplyDecoding/decode(_:from:)`` reports it as a body that is not JSON.
struct ReplyFields<Key: CodingKey> {
    private let container: KeyedDecodingContainer<Key>?

    /// The fields of the value `decoder` is at; none when it is not an object.
    package init(_ decoder: any Decoder) {
        // Not an object (a type mismatch, or `null`): no fields, as `JSONValue`'s subscript reads it.
        container = try? decoder.container(keyedBy: Key.self)
    }

    /// Whether the value is a JSON object.
    var isObject: Bool { container != nil }

    /// Whether `key` is present, `null` included.
    package func contains(_ key: Key) -> Bool { container?.contains(key) ?? false }

    /// `key`'s value when it is a `T`; nil when absent, `null` or of another type.
    package func read<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard let c = container, c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        do {
            return try c.decode(T.self, forKey: key)
        } catch DecodingError.typeMismatch {
            return nil
        }
    }

    /// `key`'s string, when it is one.
    package func string(_ key: Key) throws -> String? { try read(String.self, key) }

    /// `key`'s number, when it is one.
    package func double(_ key: Key) throws -> Double? { try read(Double.self, key) }

    /// `key`'s boolean, when it is one.
    package func bool(_ key: Key) throws -> Bool? { try read(Bool.self, key) }

    /// `key`'s number as an `Int` when it is an integral one (as ``JSONValue/intValue`` reads it).
    package func int(_ key: Key) throws -> Int? {
        guard let d = try double(key) else { return nil }
        return JSONValue.number(d).intValue
    }

    /// `key`'s elements, each read as a `T`, when it is an array (`T`'s decoding must itself be lenient).
    package func array<T: Decodable>(_ type: T.Type, _ key: Key) throws -> [T]? { try read([T].self, key) }

    /// `key`'s value read as a `T` whatever its JSON type, `null` included (`T`'s decoding must be lenient: a
    /// reply struct reads a non-object as one without fields); nil only when `key` is absent.
    package func present<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard let c = container, c.contains(key) else { return nil }
        return try c.decode(T.self, forKey: key)
    }
}

/// Decoding a provider body into its reply struct.
enum ReplyDecoding {
    /// Decodes `data` as a `T` (a lenient reply struct); a body that is not JSON is a retryable bad response
    /// quoting its start, as ``JSONValue/decodeBody(_:)`` reports it.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw JSONValue.notJSON(data, JSONReadError(decoding: error, data: data))
        }
    }
}

/// One entry of OpenAI-style `logprobs` (`{token, logprob, top_logprobs: [{token, logprob}]}`), the shape OpenAI
/// and Ollama share.
struct OpenAIStyleLogprob: Decodable {
    /// An entry of `top_logprobs`.
    package struct Alternative: Decodable {
        let token: String?
        let logprob: Double?

        private enum CodingKeys: String, CodingKey { case token, logprob }

        package init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            token = try f.string(.token)
            logprob = try f.double(.logprob)
        }
    }

    let token: String?
    let logprob: Double?
    let top: [Alternative]?

    private enum CodingKeys: String, CodingKey {
        case token, logprob
        case top = "top_logprobs"
    }

    package init(from decoder: any Decoder) throws {
        let f = ReplyFields<CodingKeys>(decoder)
        token = try f.string(.token)
        logprob = try f.double(.logprob)
        top = try f.array(Alternative.self, .top)
    }

    /// The entries as ``TokenLogprob``s; entries (and alternatives) without a token or log-probability are skipped.
    package static func tokens(_ entries: [OpenAIStyleLogprob]) -> [TokenLogprob] {
        entries.compactMap { t in
            guard let token = t.token, let lp = t.logprob else { return nil }
            let top = (t.top ?? []).compactMap { a -> TokenLogprob.Alternative? in
                guard let tok = a.token, let l = a.logprob else { return nil }
                return TokenLogprob.Alternative(token: tok, logprob: l)
            }
            return TokenLogprob(token: token, logprob: lp, top: top)
        }
    }
}
