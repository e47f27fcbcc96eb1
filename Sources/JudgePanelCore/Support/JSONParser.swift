import Foundation

/// Why ``JSONValue/parse(_:)-(Data)`` rejected its input: what was wrong and where.
///
/// `line` and `column` count from 1; `column` counts Unicode scalars (not bytes) from the start of the
/// line, `offset` is the 0-based byte offset into the input.
///
/// ```swift
/// do { _ = try JSONValue.parse("{\"a\": x}") } catch let e as JSONParseError {
///     print(e)  // unexpected character 'x' at line 1, column 7 (byte 6); expected a value
/// }
/// ```
package struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What was found, e.g. `unexpected character 'x'` or `unexpected end of input`.
    package let problem: String
    /// What the parser expected there (`a value`, `',' or '}'`, …), or "" when nothing specific.
    package let expected: String
    /// 0-based byte offset of the offending byte (the input's length at end of input).
    package let offset: Int
    /// 1-based line of `offset` (lines end at `\n`).
    package let line: Int
    /// 1-based column of `offset`, in Unicode scalars.
    package let column: Int

    package var description: String {
        let base = "\(problem) at line \(line), column \(column) (byte \(offset))"
        return expected.isEmpty ? base : "\(base); expected \(expected)"
    }

    package var errorDescription: String? { description }

    /// Builds the error for `offset` in `bytes`, computing line and column.
    package init(_ problem: String, expected: String = "", offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var column = 1
        for b in bytes[..<min(offset, bytes.count)] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        self.problem = problem
        self.expected = expected
        self.offset = offset
        self.line = line
        self.column = column
    }
}

/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``; see ``JSONValue/parse(_:)-(Data)``.
package struct JSONByteParser: ~Copyable {
    /// Containers may nest this deep (Foundation's `JSONDecoder` accepts 512 and rejects 513). The parser
    /// recurses once per level; 512 levels fit in a 512 KiB thread stack even in a debug build.
    package static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    /// Unescaped string bytes, reused between strings that contain escapes.
    private var scratch: [UInt8] = []
    /// Key paths (object keys from the root; an array element adds `[]`) whose number's source text is kept.
    package var numberPathsToCapture: Set<[String]> = []
    /// The source text of the numbers found at `numberPathsToCapture` (a Double cannot hold every id).
    package private(set) var capturedNumbers: [[String]: String] = [:]
    private var keyPath: [String] = []

    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses the whole input: one value with optional surrounding whitespace (and an optional UTF-8 BOM).
    package mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { i = 3 }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if i < bytes.count { throw unexpected(expected: "end of input") }
        return value
    }

    // MARK: Errors

    private func fail(_ problem: String, expected: String = "", at offset: Int? = nil) -> JSONParseError {
        JSONParseError(problem, expected: expected, offset: offset ?? i, in: bytes)
    }

    /// "unexpected character 'x'" (or end of input) at the cursor.
    private func unexpected(expected: String) -> JSONParseError {
        guard i < bytes.count else { return fail("unexpected end of input", expected: expected) }
        return fail("unexpected character \(Self.show(bytes[i]))", expected: expected)
    }

    /// A byte as the user would see it: `'x'`, or `U+0009`/`0xFF` for controls and non-ASCII bytes.
    private static func show(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        if b < 0x80 { return "U+" + String(format: "%04X", b) }
        return "byte 0x" + String(format: "%02X", b)
    }

    // MARK: Values

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw unexpected(expected: "a value") }
        switch bytes[i] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            let value = try parseNumber()
            if !numberPathsToCapture.isEmpty, numberPathsToCapture.contains(keyPath), capturedNumbers[keyPath] == nil {
                capturedNumbers[keyPath] = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            return .number(value)
        default: throw unexpected(expected: "a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        for k in 0..<word.utf8CodeUnitCount {
            guard i < bytes.count, bytes[i] == word.utf8Start[k] else {
                throw unexpected(expected: "'\(word)'")
            }
            i += 1
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > Self.maximumDepth { throw fail("too deeply nested (more than \(Self.maximumDepth) levels)") }
        i += 1  // [
        skipWhitespace()
        var elements: [JSONValue] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if numberPathsToCapture.isEmpty {
                elements.append(try parseValue(depth: depth))
            } else {
                keyPath.append("[]")
                elements.append(try parseValue(depth: depth))
                keyPath.removeLast()
            }
            skipWhitespace()
            guard i < bytes.count else { throw unexpected(expected: "',' or ']'") }
            switch bytes[i] {
            case UInt8(ascii: ","):
                i += 1
            case UInt8(ascii: "]"):
                i += 1
                return .array(elements)
            default:
                throw unexpected(expected: "',' or ']'")
            }
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > Self.maximumDepth { throw fail("too deeply nested (more than \(Self.maximumDepth) levels)") }
        i += 1  // {
        skipWhitespace()
        var pairs: [(String, JSONValue)] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw unexpected(expected: "a string key") }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw unexpected(expected: "':'") }
            i += 1
            skipWhitespace()
            if numberPathsToCapture.isEmpty {
                pairs.append((key, try parseValue(depth: depth)))
            } else {
                keyPath.append(key)
                pairs.append((key, try parseValue(depth: depth)))
                keyPath.removeLast()
            }
            skipWhitespace()
            guard i < bytes.count else { throw unexpected(expected: "',' or '}'") }
            switch bytes[i] {
            case UInt8(ascii: ","):
                i += 1
            case UInt8(ascii: "}"):
                i += 1
                // A repeated key keeps its first value, as Foundation's JSONDecoder does.
                return .object(Dictionary(pairs, uniquingKeysWith: { first, _ in first }))
            default:
                throw unexpected(expected: "',' or '}'")
            }
        }
    }

    // MARK: Numbers

    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses an RFC 8259 number into the correctly rounded Double. Like JSONDecoder, a number whose
    /// value overflows to infinity, or underflows to zero although it has non-zero digits, is rejected.
    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits accumulated into mantissa (leading zeros excluded)
        var nonZero = false
        var fractionDigits = 0
        var exactMantissa = true
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

        guard i < bytes.count, isDigit(bytes[i]) else { throw unexpected(expected: "a digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("leading zero in number", at: i - 1) }
        } else {
            while i < bytes.count, isDigit(bytes[i]) {
                let d = UInt64(bytes[i] &- UInt8(ascii: "0"))
                nonZero = true
                if digits < 19 { mantissa = mantissa &* 10 &+ d; digits += 1 } else { exactMantissa = false }
                i += 1
            }
        }
        var hasFractionOrExponent = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            hasFractionOrExponent = true
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw unexpected(expected: "a digit after '.'") }
            while i < bytes.count, isDigit(bytes[i]) {
                let d = UInt64(bytes[i] &- UInt8(ascii: "0"))
                if d != 0 { nonZero = true }
                if digits < 19 {
                    if mantissa != 0 || d != 0 { digits += 1 }
                    mantissa = mantissa &* 10 &+ d
                    fractionDigits += 1
                } else if d != 0 {
                    exactMantissa = false
                }
                i += 1
            }
        }
        var exponent = 0
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            hasFractionOrExponent = true
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < bytes.count, isDigit(bytes[i]) else { throw unexpected(expected: "a digit in the exponent") }
            while i < bytes.count, isDigit(bytes[i]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        // Fast paths (exact): an integer mantissa below 2^53 scaled by an exact power of ten gives
        // the correctly rounded result with one IEEE multiplication or division.
        if exactMantissa, mantissa < (1 << 53) {
            let scale = exponent - fractionDigits
            var value = Double(mantissa)
            if !hasFractionOrExponent || scale == 0 {
                return negative ? -value : value
            }
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            if scale > 0, scale <= 22 {
                value *= Self.exactPowersOfTen[scale]
                return negative ? -value : value
            }
            if scale < 0, scale >= -22 {
                value /= Self.exactPowersOfTen[-scale]
                return negative ? -value : value
            }
        }
        let parsed = Self.strtod(bytes, start, i)
        guard let value = parsed, value.isFinite, value != 0 || !nonZero else {
            throw fail("number out of range", at: start)
        }
        return value
    }

    /// The correctly rounded value of the (validated) number bytes `from..<to`, via the C library.
    private static func strtod(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Double? {
        Double(Substring(decoding: UnsafeBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self))
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote; the cursor ends after the closing quote.
    /// Without escapes the input bytes are the string (after UTF-8 validation); with escapes the runs
    /// between them and the decoded escapes are gathered in `scratch`.
    private mutating func parseString() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        var runStart = i
        var escaped = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s: String
                if escaped {
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                    s = String(decoding: scratch, as: UTF8.self)
                } else {
                    s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                }
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                try parseEscape()
                runStart = i
            } else if b < 0x20 {
                throw fail("unescaped control character \(Self.show(b)) in string")
            } else if b < 0x80 {
                i += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw fail("unterminated string", expected: "'\"'")
    }

    /// Validates one multi-byte UTF-8 sequence at the cursor (well-formed per Unicode table 3-7:
    /// no overlongs, no surrogates, nothing above U+10FFFF) and moves past it.
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        let b0 = bytes[i]
        let count: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; hi = 0x9F
        case 0xF0: count = 4; lo = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; hi = 0x8F
        default: throw fail("invalid UTF-8 \(Self.show(b0))")
        }
        for k in 1..<count {
            guard i + k < bytes.count else { throw fail("truncated UTF-8 sequence", at: i + k) }
            let b = bytes[i + k]
            let (l, h) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
            guard b >= l && b <= h else { throw fail("invalid UTF-8 \(Self.show(b))", at: i + k) }
        }
        i += count
    }

    /// Decodes one escape at the cursor (a backslash) into `scratch`.
    private mutating func parseEscape() throws(JSONParseError) {
        let at = i
        i += 1
        guard i < bytes.count else { throw fail("unterminated string", expected: "'\"'") }
        let c = bytes[i]
        i += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(c)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4()
            var scalar: UInt32
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate must be followed by an escaped low surrogate (JSONDecoder rejects it too).
                guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired high surrogate \\u\(String(unit, radix: 16, uppercase: true))", at: at)
                }
                i += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw fail("high surrogate not followed by a low surrogate", at: at)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            case 0xDC00...0xDFFF:
                throw fail("unpaired low surrogate \\u\(String(unit, radix: 16, uppercase: true))", at: at)
            default:
                scalar = UInt32(unit)
            }
            appendUTF8(scalar)
        default:
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(c)))'", at: at)
        }
    }

    /// Four hex digits at the cursor.
    private mutating func hex4() throws(JSONParseError) -> UInt16 {
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw fail("unterminated string", expected: "a hex digit") }
            let b = bytes[i]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw unexpected(expected: "a hex digit in \\u escape")
            }
            v = v << 4 | UInt16(d)
            i += 1
        }
        return v
    }

    private mutating func appendUTF8(_ s: UInt32) {
        switch s {
        case 0..<0x80:
            scratch.append(UInt8(s))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | s >> 6))
            scratch.append(UInt8(0x80 | s & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | s >> 12))
            scratch.append(UInt8(0x80 | s >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | s >> 18))
            scratch.append(UInt8(0x80 | s >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | s >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        }
    }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259, UTF-8) from bytes: exactly one value with optional surrounding
    /// whitespace. Strict: trailing commas, leading zeros, `+1`, `.5`, `1.`, NaN/Infinity, unescaped control
    /// characters, invalid escapes, invalid UTF-8 and unpaired surrogate escapes are rejected. Numbers are
    /// the correctly rounded Double; a number that overflows (or underflows to zero from non-zero digits)
    /// is rejected, as are containers nested deeper than 512; a repeated object key keeps its first value.
    /// These match Foundation's `JSONDecoder` except that it accepts trailing commas and UTF-16/32 input.
    ///
    /// - Throws: ``JSONParseError`` naming the byte offset, line and column.
    package static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        let result = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw) }
        }
        return try result.get()
    }

    /// Parses JSON text; see `parse(_:)` on `Data`.
    package static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { (buf: UnsafeBufferPointer<UInt8>) in
            Result { () throws(JSONParseError) -> JSONValue in
                var parser = JSONByteParser(buf)
                return try parser.parseDocument()
            }
        }
        return try result.get()
    }

    /// Parses JSON from raw UTF-8 bytes; see `parse(_:)` on `Data`.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONByteParser(bytes.assumingMemoryBound(to: UInt8.self))
        return try parser.parseDocument()
    }
}
