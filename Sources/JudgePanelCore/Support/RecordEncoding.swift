import Foundation
import JudgeStats

/// Encodes one record of a JSONL or JSON output file, or fails naming the record: a record that cannot be
/// encoded is an error, never an empty object or a dropped line.
///
/// Non-finite numbers (NaN, ±infinity) have no JSON form; they are refused here with the field they are in,
/// before `JSONEncoder` would fail with a message that names neither the record nor the field.
package enum RecordEncoding {
    /// One compact, key-sorted JSON line for `value`; `record` names it in the error ("vote for item 'x', …").
    package static func line<T: Encodable>(_ value: T, record: @autoclosure () -> String, file: String? = nil) throws
        -> String
    {
        try String(decoding: data(value, record: record(), file: file, pretty: false), as: UTF8.self)
    }

    /// The JSON bytes of `value` (compact or pretty, keys sorted).
    package static func data<T: Encodable>(
        _ value: T, record: @autoclosure () -> String, file: String? = nil, pretty: Bool
    ) throws -> Data {
        do {
            return try (pretty ? JSONEncoder.pretty : JSONEncoder.compact).encode(value)
        } catch let EncodingError.invalidValue(bad, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            let what = (bad as? Double).map { "\($0) is not a finite number" } ?? context.debugDescription
            throw JudgePanelError.io(
                "cannot encode \(record()): \(path.isEmpty ? "" : "\(path): ")\(what)", file: file)
        } catch {
            throw JudgePanelError.io("cannot encode \(record()): \(error)", file: file)
        }
    }

    /// A JSON value of an `Encodable` report or summary; throws naming `record` where it does not encode.
    package static func value<T: Encodable>(_ value: T, record: @autoclosure () -> String, file: String? = nil) throws
        -> JSONValue
    {
        let bytes = try data(value, record: record(), file: file, pretty: false)
        return try JSONValue(jsonData: bytes)
    }
}

extension Vote {
    /// How a vote is named in errors: item, judge, order or side, sample and variant.
    package var recordName: String {
        var parts = ["item '\(item)'", "judge '\(judge)'"]
        if let order { parts.append("order \(order.rawValue)") }
        if let side { parts.append("response \(side.rawValue)") }
        parts.append("sample \(sample)")
        if let variant { parts.append("variant '\(variant)'") }
        return "vote (" + parts.joined(separator: ", ") + ")"
    }
}

extension Verdict {
    /// How a verdict is named in errors.
    package var recordName: String { "verdict of item '\(item)'" + (variant.map { " (variant '\($0)')" } ?? "") }
}

/// Reads and writes verdicts files (`verdicts.jsonl`).
public enum VerdictsFile {
    /// One compact JSON line for a verdict.
    ///
    /// - Throws: ``JudgePanelError`` naming the item when the verdict cannot be encoded (a non-finite number).
    public static func line(_ verdict: Verdict) throws -> String {
        try RecordEncoding.line(verdict, record: verdict.recordName)
    }
}
