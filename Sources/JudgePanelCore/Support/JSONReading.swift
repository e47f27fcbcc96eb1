import Foundation

/// Why ``JSONValue/init(jsonData:)`` rejected its input, in words a user can act on.
///
/// Foundation's `JSONDecoder` reports a syntax error only as "The given data was not valid JSON"; where it does,
/// the same bytes are handed to `JSONSerialization` (on the error path only) for its description of what and
/// where (`Invalid value around character 6.`).
package struct JSONReadError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What was wrong, e.g. `Invalid value around character 6.` or `Unexpected end of file during JSON parse.`
    package let description: String

    package var errorDescription: String? { description }

    package init(_ description: String) {
        self.description = description
    }

    /// The error for `data` that `JSONDecoder` refused with `error`.
    package init(decoding error: any Error, data: Data) {
        switch error {
        case DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty:
            // A syntax error: JSONSerialization says what and where (it accepts nothing JSONDecoder refuses as
            // syntax; where it does accept the bytes the decoder's own words are kept).
            do {
                _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                self.init(Self.words(context))
            } catch {
                let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                self.init(detail ?? error.localizedDescription)
            }
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
            DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            self.init(path.isEmpty ? Self.words(context) : "\(path): \(Self.words(context))")
        default:
            // Foundation's own JSONError (a string that is not valid UTF-8, …) names its line and column.
            self.init(String(describing: error))
        }
    }

    private static func words(_ context: DecodingError.Context) -> String {
        context.underlyingError.map { "\(context.debugDescription) (\($0.localizedDescription))" }
            ?? context.debugDescription
    }
}

extension JSONValue {
    /// Reads one JSON document (UTF-8; exactly one value, any JSON type, with optional surrounding whitespace)
    /// with Foundation's `JSONDecoder`: numbers are the correctly rounded `Double` (one too large for a `Double`
    /// is an error), `true`/`false` stay booleans (never the numbers 1/0), a repeated object key keeps its first
    /// value, containers may nest 512 deep, and invalid UTF-8 or an unescaped control character in a string is an
    /// error. `JSONDecoder` also accepts a trailing comma before `]` or `}`.
    ///
    /// ```swift
    /// let v = try JSONValue(jsonData: Data(#"{"a": [1, true, null]}"#.utf8))
    /// print(v["a"]?[1]?.boolValue ?? false)  // true
    /// ```
    ///
    /// - Throws: ``JSONReadError`` saying what was wrong and, for a syntax error, where (a byte offset).
    package init(jsonData data: Data) throws(JSONReadError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw JSONReadError(decoding: error, data: data)
        }
    }
}
