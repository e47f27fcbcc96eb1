import Foundation
@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports
import Testing

/// A small deterministic generator (SplitMix64) so failures reproduce.
private struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSONValues with adversarial strings and doubles.
private struct ValueGenerator {
    var rng: SeededRNG

    static let scalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\t", "\n", "\u{B}", "\u{C}", "\r", "\u{1F}",
        "\u{7F}", "\u{80}", "é", "ß", "\u{301}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "中",
        "😀", "\u{10FFFF}", "Ａ", "_", "-", "{", "}", "[", "]", ",", ":", "e", "E",
    ]

    mutating func string() -> String {
        let n = Int.random(in: 0...12, using: &rng)
        var s = String.UnicodeScalarView()
        for _ in 0..<n {
            if Bool.random(using: &rng) {
                s.append(Self.scalars.randomElement(using: &rng) ?? "a")
            } else {
                let v = UInt32.random(in: 0...0x10FFFF, using: &rng)
                s.append(Unicode.Scalar(v) ?? "x")
            }
        }
        return String(s)
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return Double(Int.random(in: -1000...1000, using: &rng))
        case 1: return Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))  // may be NaN/inf
        case 2:
            return [0.0, -0.0, 0.1, 1e21, 1e-7, .leastNonzeroMagnitude, 2.2250738585072014e-308, 9007199254740992 + 1, 9007199254740992,
                1e15, 1e16, 999999999999999.9, 1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                .infinity, -.infinity, .nan, 123456789012.5, 0.30000000000000004, 1e22, 1e23, 4.35, 100, -1e-5]
                .randomElement(using: &rng) ?? 0
        case 3: return Double.random(in: -1...1, using: &rng)
        case 4: return Double(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 5: return Double.random(in: -1e6...1e6, using: &rng).rounded() / 100
        default:
            let m = Double.random(in: 1..<10, using: &rng)
            let e = Int.random(in: -330...310, using: &rng)
            return m * pow(10, Double(e)) * (Bool.random(using: &rng) ? 1 : -1)
        }
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let pick = Int.random(in: 0..<(depth > 4 ? 4 : 7), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(double())
        case 3: return .string(string())
        case 4, 5:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) { o[string()] = value(depth: depth + 1) }
            return o.isEmpty ? .object([:]) : .object(o)
        }
    }
}

/// Renders a value as valid JSON text in a randomly chosen but equivalent spelling
/// (whitespace, escapes, number forms), to exercise the parser beyond the encoder's own output.
private struct TextGenerator {
    var rng: SeededRNG

    mutating func ws() -> String {
        ["", "", "", " ", "\n", "\t", "\r\n", "  "].randomElement(using: &rng) ?? ""
    }

    mutating func text(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            guard d.isFinite else { return "null" }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return String(format: "%.17g", d).replacingOccurrences(of: "e+0", with: "e+")
            case 1: return String(format: "%.17E", d)
            default: return "\(d)".replacingOccurrences(of: "inf", with: "0")
            }
        case .string(let s): return quoted(s)
        case .array(let a):
            return "[" + ws() + a.map { ws() + text($0) + ws() }.joined(separator: ",") + ws() + "]"
        case .object(let o):
            return "{" + ws() + o.map { ws() + quoted($0.key) + ws() + ":" + ws() + text($0.value) }.joined(separator: ",") + ws() + "}"
        }
    }

    mutating func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            let forced = u.value < 0x20 || u == "\"" || u == "\\"
            if forced || Int.random(in: 0..<6, using: &rng) == 0 {
                switch u {
                case "\n" where Bool.random(using: &rng): out += "\\n"
                case "/" where Bool.random(using: &rng): out += "\\/"
                case "\"" where Bool.random(using: &rng): out += "\\\""
                case "\\" where Bool.random(using: &rng): out += "\\\\"
                default:
                    for unit in String(u).utf16 {
                        let hex = String(unit, radix: 16, uppercase: Bool.random(using: &rng))
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    }
                }
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// What Foundation makes of some bytes: the value, or nil where it throws.
private func foundation(_ data: Data) -> JSONValue? {
    try? JSONDecoder().decode(JSONValue.self, from: data)
}

/// Same value, including the sign of zero (compared through the encoder's bytes).
private func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a == b && (try? JSONEncoder.compact.encode(a)) == (try? JSONEncoder.compact.encode(b))
}

@Suite("JSONValue: byte-level parser and compact writer, against Foundation")
struct JSONValueParserTests {
    // MARK: Writer

    @Test("compactData is byte-identical to JSONEncoder.compact on 5 000 random values")
    func randomEncodeDifferential() throws {
        var gen = ValueGenerator(rng: SeededRNG(state: 0x5EED))
        for n in 0..<5_000 {
            let v = gen.value()
            let expected = try JSONEncoder.compact.encode(v)
            let got = try v.compactData()
            if got != expected {
                Issue.record("value #\(n): \(String(decoding: got, as: UTF8.self)) != \(String(decoding: expected, as: UTF8.self))")
                return
            }
        }
    }

    @Test("hand-picked values encode identically")
    func handPickedEncode() throws {
        let doubles: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 1.5, 1e21, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, .leastNonzeroMagnitude, 2.2250738585072014e-308,
            9007199254740991, 9007199254740992, 9007199254740992 + 2, 18014398509481984, 1e15, 1e16, 1e17,
            999999999999999, 9999999999999998, 123456789012345680, 1e300, .greatestFiniteMagnitude,
            .leastNormalMagnitude, 4.35, 2.675, 1 / 3, 100, 1e2, 12345.678, -123.456e-10, .infinity, -.infinity, .nan,
            Double(Int64.max), Double(Int64.min), Double(Int32.max) + 0.5,
        ]
        for d in doubles {
            #expect(try JSONValue.number(d).compactData() == JSONEncoder.compact.encode(JSONValue.number(d)), "\(d)")
        }
        let keys = ["b", "B", "a", "é", "e\u{301}", "z", "a10", "a9", "a-", "😀", "Ａ", "", "_", " ", "\u{7F}", "\u{0}",
            "AA", "Aa", "aA", "aa", "ä", "\u{FFFF}", "\u{10000}"]
        let obj = JSONValue.object(Dictionary(keys.enumerated().map { ($1, JSONValue.number(Double($0))) }, uniquingKeysWith: { a, _ in a }))
        #expect(try obj.compactData() == JSONEncoder.compact.encode(obj))
        var controls = ""
        for v in 0..<0x80 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        let s = JSONValue.string(controls + "\"\\/é\u{2028}\u{2029}😀\u{FEFF}")
        #expect(try s.compactData() == JSONEncoder.compact.encode(s))
        #expect(try JSONValue.array([]).compactData() == Data("[]".utf8))
        #expect(try JSONValue.object([:]).compactData() == Data("{}".utf8))
        #expect(try JSONValue.object(["u": "a/b"]).compactData() == Data("{\"u\":\"a/b\"}".utf8))
        #expect(JSONValue.object(["k": [1, true, nil]]).compactString == "{\"k\":[1,true,null]}")
    }

    @Test("nesting at JSONEncoder's limit: identical below it, JSONEncoder's own throw at it")
    func encodeDepth() throws {
        var v = JSONValue.null
        for _ in 0..<511 { v = .array([v]) }
        #expect(try v.compactData() == JSONEncoder.compact.encode(v))
        v = .object(["k": v])
        #expect(throws: (any Error).self) { try v.compactData() }
        #expect(throws: (any Error).self) { try JSONEncoder.compact.encode(v) }
        #expect(v.compactString == "")
    }

    // MARK: Parser vs JSONDecoder

    @Test("parse agrees with JSONDecoder on 3 000 random values in random spellings")
    func randomParseDifferential() throws {
        var gen = ValueGenerator(rng: SeededRNG(state: 42))
        var texts = TextGenerator(rng: SeededRNG(state: 7))
        for n in 0..<3_000 {
            let v = gen.value()
            let encoded = try JSONEncoder.compact.encode(v)
            let parsed = try JSONValue.parse(encoded)
            if !same(parsed, foundation(encoded)) {
                Issue.record("encoder output #\(n) parsed differently: \(String(decoding: encoded, as: UTF8.self))")
                return
            }
            let text = texts.ws() + texts.text(v) + texts.ws()
            let data = Data(text.utf8)
            let mine = try? JSONValue.parse(data)
            if !same(mine, foundation(data)) {
                Issue.record("text #\(n) parsed differently: \(text.debugDescription)")
                return
            }
            #expect(same(try JSONValue.parse(text), mine))
        }
    }

    @Test("mutated documents: accepted and rejected exactly as JSONDecoder does (bar trailing commas)")
    func mutationDifferential() throws {
        var gen = ValueGenerator(rng: SeededRNG(state: 99))
        var rng = SeededRNG(state: 1234)
        let alphabet: [UInt8] = Array("{}[],:\"\\ 0123456789-+.eEtrufalsn/ubx\t\n".utf8) + [0x01, 0x1F, 0x7F, 0x80, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5]
        var rejectedBoth = 0
        for n in 0..<4_000 {
            var bytes = [UInt8](try JSONEncoder.compact.encode(gen.value()))
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0...bytes.count, using: &rng)
                let b = alphabet.randomElement(using: &rng) ?? 0x20
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.insert(b, at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = b }
                }
            }
            let data = Data(bytes)
            let mine: Result<JSONValue, JSONParseError> = Result { () throws(JSONParseError) in try JSONValue.parse(data) }
            let theirs = foundation(data)
            switch mine {
            case .success(let v):
                if !same(v, theirs) { Issue.record("#\(n) accepted differently: \(String(decoding: data, as: UTF8.self).debugDescription)") }
            case .failure(let e):
                if theirs == nil {
                    rejectedBoth += 1
                } else if !Self.isTrailingComma(bytes, e) {
                    Issue.record("#\(n) rejected (\(e)) but JSONDecoder accepts: \(String(decoding: data, as: UTF8.self).debugDescription)")
                }
            }
        }
        #expect(rejectedBoth > 1_000)
    }

    /// The one place JSONDecoder is laxer: a ',' right before ']' or '}'.
    static func isTrailingComma(_ bytes: [UInt8], _ e: JSONParseError) -> Bool {
        guard e.offset < bytes.count, bytes[e.offset] == UInt8(ascii: "]") || bytes[e.offset] == UInt8(ascii: "}") else { return false }
        let before = bytes[..<e.offset].last { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return before == UInt8(ascii: ",")
    }

    @Test("every fixture document parses and re-encodes as Foundation does")
    func fixtures() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        var documents = 0
        for file in files where file.hasSuffix(".json") || file.hasSuffix(".jsonl") {
            let data = try Data(contentsOf: root.appendingPathComponent(file))
            let docs = file.hasSuffix(".jsonl") ? data.split(separator: UInt8(ascii: "\n")).map { Data($0) } : [data]
            for doc in docs {
                let theirs = foundation(doc)
                let mine = try? JSONValue.parse(doc)
                #expect(same(mine, theirs), "\(file)")
                if let mine { #expect(try mine.compactData() == JSONEncoder.compact.encode(mine), "\(file)") }
                documents += 1
            }
        }
        #expect(documents > 100)
    }

    @Test("a typical provider reply and request body round-trip")
    func providerShapes() throws {
        let reply = #"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Both answers are fine, but A is better.\n\n[[A]]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":12,"total_tokens":524}}"#
        let v = try JSONValue.parse(reply)
        #expect(same(v, foundation(Data(reply.utf8))))
        #expect(v["choices"]?[0]?["message"]?["content"]?.stringValue?.hasSuffix("[[A]]") == true)
        #expect(try v.compactData() == JSONEncoder.compact.encode(v))
    }

    // MARK: Rejections and errors

    @Test("strict RFC 8259: rejects what JSON does not allow", arguments: [
        "", " ", "[1,]", "{\"a\":1,}", "[,]", "[1,,2]", "01", "-01", "00", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-",
        "NaN", "Infinity", "-Infinity", "nul", "tru", "falsey", "1 2", "[1 2]", "{\"a\" 1}", "{a:1}", "{1:2}",
        "'a'", "\"a\tb\"", "\"a\nb\"", "\"\u{1}\"", "\"\\x\"", "\"\\U0041\"", "\"\\u12\"", "\"\\u00G0\"", "\"abc",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800x\"", "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "[", "{", "]", "}",
        "1e400", "-1e400", "1e-400", "2e-324", "\u{C}1", "[1]x", "\u{0}",
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("invalid UTF-8 is rejected with its byte offset")
    func invalidUTF8() {
        let cases: [([UInt8], Int)] = [
            ([0x22, 0xFF, 0x22], 1), ([0x22, 0x61, 0xC3, 0x22], 3), ([0x22, 0xED, 0xA0, 0x80, 0x22], 2),
            ([0x22, 0xC0, 0xAF, 0x22], 1), ([0x22, 0xE0, 0x80, 0x80, 0x22], 2), ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 2),
            ([0x22, 0xF0, 0x9F, 0x98], 4), ([0x22, 0x5C, 0x6E, 0x80, 0x22], 3),
        ]
        for (bytes, offset) in cases {
            #expect(foundation(Data(bytes)) == nil)
            do {
                _ = try JSONValue.parse(Data(bytes))
                Issue.record("accepted \(bytes)")
            } catch {
                #expect(error.offset == offset, "\(bytes): \(error)")
            }
        }
    }

    @Test("errors name line, column, byte offset and what was expected")
    func errorPositions() throws {
        func error(_ text: String) -> JSONParseError? {
            do { _ = try JSONValue.parse(text); return nil } catch { return error }
        }
        let e = try #require(error("{\"id\": \"1\", x}"))
        #expect(e.description == "unexpected character 'x' at line 1, column 13 (byte 12); expected a string key")
        #expect((e.line, e.column, e.offset) == (1, 13, 12))
        let multi = try #require(error("{\n  \"é\": [1,\n  2,]\n}"))
        #expect((multi.line, multi.column) == (3, 5))
        #expect(multi.description.hasPrefix("unexpected character ']' at line 3, column 5"))
        let end = try #require(error("[1, 2"))
        #expect(end.description == "unexpected end of input at line 1, column 6 (byte 5); expected ',' or ']'")
        let zero = try #require(error("[01]"))
        #expect(zero.description.hasPrefix("leading zero in number at line 1, column 2"))
        let control = try #require(error("\"a\tb\""))
        #expect(control.description.hasPrefix("unescaped control character U+0009 in string at line 1, column 3"))
        let big = try #require(error("[1, 1e999]"))
        #expect(big.description.hasPrefix("number out of range at line 1, column 5"))
        let trailing = try #require(error("{} {}"))
        #expect(trailing.expected == "end of input")
        #expect(error("\"\\ud83d\"")?.problem.contains("unpaired high surrogate") == true)
        #expect(error("\"\\q\"")?.problem == "invalid escape '\\q'")
    }

    @Test("ItemLoader reports the parser's position")
    func itemLoaderMessage() throws {
        do {
            _ = try ItemLoader().parse(line: "{\"id\": \"1\", \"prompt\": oops}", file: "items.jsonl", number: 4)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("invalid JSON: unexpected character 'o' at line 1, column 23"), "\(error)")
        }
    }

    @Test("a provider body that is not JSON says where")
    func providerBodyError() {
        do {
            _ = try JSONValue.decodeBody(Data("<html>oops".utf8))
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("unexpected character '<' at line 1, column 1 (byte 0); expected a value"), "\(error)")
        }
    }

    @Test("nesting: 512 levels parse like JSONDecoder, 513 are refused without exhausting the stack")
    func depthLimit() throws {
        for (depth, ok) in [(512, true), (513, false), (100_000, false)] {
            for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
                let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                let mine = try? JSONValue.parse(text)
                #expect((mine != nil) == ok, "\(open) × \(depth)")
                if depth < 1000 { #expect(same(mine, foundation(Data(text.utf8)))) }
            }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 1_000_000)) }
    }

    // MARK: Values

    @Test("surrogate pairs and \\u escapes decode as JSONDecoder does")
    func surrogates() throws {
        let cases = ["\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"\\udbff\\udfff\"", "\"\\ud800\\udc00\"", "\"\\u00e9\\u0000\\u001F\"",
            "\"a\\/b\\\"\\\\\\b\\f\\n\\r\\t\"", "\"\\uFEFF\\uFFFF\"", "\"😀\\u00e9é\""]
        for text in cases {
            let v = try JSONValue.parse(text)
            #expect(same(v, foundation(Data(text.utf8))), "\(text)")
        }
        #expect(try JSONValue.parse("\"\\ud83d\\ude00\"") == .string("😀"))
    }

    @Test("numbers are the Double JSONDecoder gives", arguments: [
        "0", "-0", "-0.0", "0e-400", "-0e400", "1", "-1", "0.1", "1E+2", "1e-0", "123e-2", "0.30000000000000004",
        "9007199254740993", "12345678901234567890123", "123456789012345678", "1.7976931348623157e308",
        "2.2250738585072011e-308", "4.9e-324", "3e-324", "2.4703282292062328e-324", "1e-320", "1e22", "1e23",
        "8.98846567431158e307", "0.000000000000000000000000000001", "1234567890.0987654321",
        "99999999999999999999999999999999999999999999e-30", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "7.2057594037927933e16", "4.35", "2.675",
        "1.5e300", "-1.5e-300", "100000000000000000000000", "1e15", "0.1e1", "10e-1",
    ])
    func numbers(_ text: String) throws {
        let mine = try JSONValue.parse(text)
        let theirs = try #require(foundation(Data(text.utf8)))
        #expect(mine.doubleValue?.bitPattern == theirs.doubleValue?.bitPattern, "\(text): \(mine) vs \(theirs)")
    }

    @Test("a repeated key keeps its first value, as JSONDecoder does; a UTF-8 BOM is skipped")
    func duplicatesAndBOM() throws {
        let text = "{\"a\":1,\"b\":2,\"a\":3}"
        #expect(try JSONValue.parse(text) == ["a": 1, "b": 2])
        #expect(same(try JSONValue.parse(text), foundation(Data(text.utf8))))
        #expect(try JSONValue.parse(Data([0xEF, 0xBB, 0xBF, 0x31])) == 1)
        #expect(try JSONValue.parse(" \r\n\t[ ]\n") == [])
    }
}
