import Foundation
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

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
            return [
                0.0, -0.0, 0.1, 1e21, 1e-7, .leastNonzeroMagnitude, 2.2250738585072014e-308, 9_007_199_254_740_992 + 1,
                9_007_199_254_740_992,
                1e15, 1e16, 999999999999999.9, 1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                .infinity, -.infinity, .nan, 123456789012.5, 0.30000000000000004, 1e22, 1e23, 4.35, 100, -1e-5,
            ]
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

/// What Foundation makes of some bytes: the value, or nil where it throws.
private func foundation(_ data: Data) -> JSONValue? {
    try? JSONDecoder().decode(JSONValue.self, from: data)
}

/// Same value, including the sign of zero (compared through the encoder's bytes).
private func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a == b && (try? JSONEncoder.compact.encode(a)) == (try? JSONEncoder.compact.encode(b))
}

@Suite("JSONValue: compact writer and reading through Foundation")
struct JSONValueTests {
    // MARK: Writer (kept: see BENCHMARKS.md "JSONValue parsing and serialising")

    @Test("compactData is byte-identical to JSONEncoder.compact on 5 000 random values")
    func randomEncodeDifferential() throws {
        var gen = ValueGenerator(rng: SeededRNG(state: 0x5EED))
        for n in 0..<5_000 {
            let v = gen.value()
            let expected = try JSONEncoder.compact.encode(v)
            let got = try v.compactData()
            if got != expected {
                Issue.record(
                    "value #\(n): \(String(decoding: got, as: UTF8.self)) != \(String(decoding: expected, as: UTF8.self))"
                )
                return
            }
        }
    }

    @Test("hand-picked values encode identically")
    func handPickedEncode() throws {
        let doubles: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 1.5, 1e21, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, .leastNonzeroMagnitude,
            2.2250738585072014e-308,
            9_007_199_254_740_991, 9_007_199_254_740_992, 9_007_199_254_740_992 + 2, 18_014_398_509_481_984, 1e15, 1e16,
            1e17,
            999_999_999_999_999, 9_999_999_999_999_998, 123_456_789_012_345_680, 1e300, .greatestFiniteMagnitude,
            .leastNormalMagnitude, 4.35, 2.675, 1 / 3, 100, 1e2, 12345.678, -123.456e-10, .infinity, -.infinity, .nan,
            Double(Int64.max), Double(Int64.min), Double(Int32.max) + 0.5,
        ]
        for d in doubles {
            #expect(try JSONValue.number(d).compactData() == JSONEncoder.compact.encode(JSONValue.number(d)), "\(d)")
        }
        let keys = [
            "b", "B", "a", "é", "e\u{301}", "z", "a10", "a9", "a-", "😀", "Ａ", "", "_", " ", "\u{7F}", "\u{0}",
            "AA", "Aa", "aA", "aa", "ä", "\u{FFFF}", "\u{10000}",
        ]
        let obj = JSONValue.object(
            Dictionary(keys.enumerated().map { ($1, JSONValue.number(Double($0))) }, uniquingKeysWith: { a, _ in a }))
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

    // MARK: Reading (JSONValue(jsonData:), JSONValue.init(from:))

    @Test("random values round-trip through JSONEncoder and JSONValue(jsonData:): types kept, numbers exact")
    func roundTrip() throws {
        var gen = ValueGenerator(rng: SeededRNG(state: 42))
        for n in 0..<3_000 {
            let v = gen.value()
            let encoded = try JSONEncoder.compact.encode(v)
            let read = try JSONValue(jsonData: encoded)
            // Non-finite numbers are written as null; everything else comes back as it was.
            let again = try read.compactData()
            if !same(read, foundation(encoded)) || again != encoded {
                Issue.record("value #\(n) read back differently: \(String(decoding: encoded, as: UTF8.self))")
                return
            }
        }
    }

    @Test("booleans stay booleans and numbers numbers, at the top level and inside containers")
    func boolsAndNumbers() throws {
        #expect(
            try JSONValue(jsonData: Data("[true, 1, 0, false, 1.0, -0, null]".utf8))
                == .array([.bool(true), .number(1), .number(0), .bool(false), .number(1), .number(-0.0), .null]))
        #expect(try JSONValue(jsonData: Data("true".utf8)) == .bool(true))
        #expect(try JSONValue(jsonData: Data("1".utf8)) == .number(1))
        #expect(try JSONValue(jsonData: Data(#"{"a": 1, "b": true}"#.utf8))["b"]?.boolValue == true)
        #expect(try JSONValue(jsonData: Data(#"{"a": 1, "b": true}"#.utf8))["a"]?.boolValue == nil)
        #expect(try JSONValue(jsonData: Data("-0".utf8)).doubleValue?.sign == .minus)
    }

    @Test("top-level scalars, whitespace and a UTF-8 BOM are read; empty input is an error")
    func scalarsAndEmpty() throws {
        #expect(try JSONValue(jsonData: Data(#" "a" "#.utf8)) == "a")
        #expect(try JSONValue(jsonData: Data("null".utf8)) == .null)
        #expect(try JSONValue(jsonData: Data(" \r\n\t[ ]\n".utf8)) == [])
        #expect(try JSONValue(jsonData: Data([0xEF, 0xBB, 0xBF, 0x31])) == 1)
        #expect(throws: JSONReadError.self) { try JSONValue(jsonData: Data()) }
        #expect(throws: JSONReadError.self) { try JSONValue(jsonData: Data("  ".utf8)) }
    }

    @Test("large integers are the correctly rounded Double; a number beyond Double's range is an error")
    func largeNumbers() throws {
        for (text, expected) in [
            ("9007199254740993", 9007199254740992.0), ("12345678901234567890123", 1.2345678901234568e22),
            ("123456789012345678", 123456789012345680.0), ("1e22", 1e22), ("0.1", 0.1), ("4.9e-324", 4.9e-324),
        ] {
            #expect(try JSONValue(jsonData: Data(text.utf8)).doubleValue?.bitPattern == expected.bitPattern, "\(text)")
        }
        #expect(throws: JSONReadError.self) { try JSONValue(jsonData: Data("[1, 1e400]".utf8)) }
    }

    @Test("a repeated key keeps its first value")
    func duplicateKeys() throws {
        #expect(try JSONValue(jsonData: Data(#"{"a":1,"b":2,"a":3}"#.utf8)) == ["a": 1, "b": 2])
        #expect(try JSONValue(jsonData: Data(#"{"o":{"k":"x","k":"y"}}"#.utf8))["o"]?["k"] == "x")
    }

    @Test("nesting: 512 levels read, deeper is an error without exhausting the stack")
    func depth() throws {
        for (depth, ok) in [(512, true), (513, false), (100_000, false)] {
            for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
                let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                #expect(((try? JSONValue(jsonData: Data(text.utf8))) != nil) == ok, "\(open) × \(depth)")
            }
        }
        #expect(throws: JSONReadError.self) {
            try JSONValue(jsonData: Data(String(repeating: "[", count: 1_000_000).utf8))
        }
    }

    @Test(
        "what JSON does not allow is rejected",
        arguments: [
            "", " ", "[,]", "[1,,2]", "01", "-01", "+1", ".5", "1.", "1e", "-", "NaN", "Infinity", "nul", "tru",
            "falsey",
            "1 2", "[1 2]", "{\"a\" 1}", "{a:1}", "{1:2}", "'a'", "\"a\tb\"", "\"a\nb\"", "\"\u{1}\"", "\"\\x\"",
            "\"\\u12\"", "\"abc", "[", "{", "]", "}", "1e400", "[1]x", "\u{0}",
        ])
    func rejects(_ text: String) {
        #expect(throws: JSONReadError.self) { try JSONValue(jsonData: Data(text.utf8)) }
    }

    @Test(
        "invalid UTF-8 in a string is an error, never read as another type",
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x5B, 0x22, 0xFF, 0x22, 0x5D], Array(#"{"a": ""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8),
        ] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONReadError.self) { try JSONValue(jsonData: Data(bytes)) }
    }

    @Test("a syntax error says what and where")
    func errorWords() throws {
        do {
            _ = try JSONValue(jsonData: Data(#"{"id": "1", x}"#.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("character"), "\(error)")
        }
    }

    @Test("ItemLoader: a line that is not JSON is 'invalid JSON' naming file, line and position")
    func itemLoaderMessage() throws {
        do {
            _ = try ItemLoader().parse(line: "{\"id\": \"1\", \"prompt\": oops}", file: "items.jsonl", number: 4)
            Issue.record("accepted")
        } catch let e as JudgePanelError {
            #expect(e.description.hasPrefix("items.jsonl:4: invalid JSON: "), "\(e)")
            #expect(e.description.contains("character"), "\(e)")
        }
    }

    @Test("a provider body that is not JSON is a retryable bad response quoting its start")
    func providerBodyError() {
        for parse in [OpenAIProvider.parse, AnthropicProvider.parse, GeminiProvider.parse, OllamaProvider.parse]
            as [(Data) throws -> CompletionResponse]
        {
            do {
                _ = try parse(Data("<html>oops".utf8))
                Issue.record("accepted")
            } catch let e as ProviderError {
                #expect(e.kind == .badResponse)
                #expect(e.message.contains(#"body is not JSON (10 bytes: "<html>oops")"#), "\(e)")
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(throws: ProviderError.self) { try JSONValue.decodeBody(Data("<html>oops".utf8)) }
    }

    @Test("a reply string that is not valid UTF-8 is a bad response, not an empty answer")
    func providerInvalidUTF8() {
        let bytes = Array(#"{"choices":[{"message":{"content":"caf"#.utf8) + [0xE9] + Array(#""}}]}"#.utf8)
        do {
            _ = try OpenAIProvider.parse(Data(bytes))
            Issue.record("accepted")
        } catch let e as ProviderError {
            #expect(e.kind == .badResponse, "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("CompactVotes values a number exactly as JSONDecoder does")
    func compactVotesNumbers() throws {
        var rng = SeededRNG(state: 2024)
        var texts = [
            "0", "-0", "0.1", "4.35", "2.675", "0.30000000000000004", "12345678901234567",
            "99999999999999999.99999999999999999",
            "1.0000000000000001", "7.5", "-12.5",
        ]
        for _ in 0..<3_000 {
            let int = String(UInt64.random(in: 0...99_999_999_999_999_999, using: &rng))
            let frac = String(UInt64.random(in: 0...99_999_999_999_999_999, using: &rng))
            texts.append((Bool.random(using: &rng) ? "-" : "") + int + (Bool.random(using: &rng) ? "." + frac : ""))
        }
        for text in texts {
            let expected = try JSONDecoder().decode(Double.self, from: Data(text.utf8))
            var bytes = Array(text.utf8)
            let got = try bytes.withUnsafeMutableBufferPointer { buf -> Double in
                var cursor = CompactVoteScanner.Cursor(p: UnsafeBufferPointer(buf))
                return try cursor.number()
            }
            #expect(got.bitPattern == expected.bitPattern, "\(text)")
        }
    }
}
