import Foundation

/// A JSON value: used for `meta` pass-through, raw provider bodies and report documents.
///
/// Read it with `JSONValue(jsonData:)` (Foundation's `JSONDecoder`, see JSONReading.swift) or as a field of a
/// `Decodable` struct, and write it with `compactData()` (bytes identical to `JSONEncoder` with
/// `[.sortedKeys, .withoutEscapingSlashes]`, written directly: see JSONCompactWriter.swift and BENCHMARKS.md).
///
/// ```swift
/// let v: JSONValue = ["topic": "math", "n": 3]
/// print(v["topic"]?.stringValue ?? "")
/// ```
public enum JSONValue: Sendable, Hashable, Codable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes any JSON value.
    ///
    /// The container's type is found by asking for each type in turn, most common first (string, number,
    /// object, array, bool). A wrong guess is a `DecodingError.typeMismatch`, which is caught and the next type
    /// tried; any other error (a string that is not valid UTF-8, a number out of range, too deep a nesting) is
    /// thrown, never read as another type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
            return
        }
        do {
            self = .string(try c.decode(String.self))
            return
        } catch DecodingError.typeMismatch {}
        do {
            self = .number(try c.decode(Double.self))
            return
        } catch DecodingError.typeMismatch {}
        do {
            self = .object(try c.decode([String: JSONValue].self))
            return
        } catch DecodingError.typeMismatch {}
        do {
            self = .array(try c.decode([JSONValue].self))
            return
        } catch DecodingError.typeMismatch {}
        self = .bool(try c.decode(Bool.self))
    }

    /// Encodes the value as JSON.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d):
            if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The member named `key` of an object; nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` of an array; nil otherwise (or out of range).
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, if this is one.
    public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an `Int`, if this is an integral one.
    public var intValue: Int? {
        if case .number(let d) = self, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    /// The boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A plain-text rendering: strings as they are, other values as compact JSON.
    public var textValue: String {
        switch self {
        case .string(let s): return s
        case .null: return ""
        case .bool(let b): return String(b)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        default: return compactString
        }
    }
}

extension JSONValue {
    /// The JSON form of an `Encodable` value (a report, a summary), to edit or read by key; nil where it
    /// does not encode.
    public init?(encoding value: some Encodable) {
        guard let data = try? JSONEncoder.compact.encode(value), let parsed = try? JSONValue(jsonData: data) else {
            return nil
        }
        self = parsed
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A JSON string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A JSON number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A JSON number.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A JSON boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A JSON array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A JSON object (a repeated key keeps its last value).
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    /// JSON `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONEncoder {
    /// Compact, key-sorted output: stable bytes for JSONL files, cache keys and golden tests.
    package static var compact: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Indented, key-sorted output for report.json.
    package static var pretty: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }
}

extension JSONValue {
    /// Encodes compact JSON bytes.
    package var data: Data { (try? compactData()) ?? Data() }
}
