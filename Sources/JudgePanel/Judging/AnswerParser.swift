import Foundation
import JudgeStats

/// What was read from a judge's reply.
public enum ParsedAnswer: Sendable, Hashable {
    /// A pairwise choice in the *shown* order: `.a` is the answer shown first.
    case choice(Preference)
    case score(Double)
    case checks([Bool?])
}

/// Reads a judge's reply per the rubric's output spec: the pattern's last match counts, or a JSON field.
///
/// ```swift
/// let parser = AnswerParser(rubric: rubric, structured: false)
/// parser.parse("A is clearer. [[A]]")  // .choice(.a)
/// ```
public struct AnswerParser: Sendable {
    public let rubric: Rubric
    public let structured: Bool
    public let questionCount: Int
    private let regex: NSRegularExpression?

    public init(rubric: Rubric, structured: Bool, questionCount: Int = 0) {
        self.rubric = rubric
        self.structured = structured
        self.questionCount = questionCount
        if case .pattern(let p) = rubric.output {
            regex = try? NSRegularExpression(pattern: p, options: [])
        } else {
            regex = nil
        }
    }

    /// The parsed answer, or nil when the reply cannot be read.
    public func parse(_ reply: String) -> ParsedAnswer? {
        if rubric.kind == .checklist { return parseChecklist(reply) }
        if structured, let v = Self.lastJSONObject(in: reply) {
            let field = rubric.kind == .pairwise ? "verdict" : "score"
            if let value = v[field], let parsed = interpret(value.textValue) { return parsed }
        }
        switch rubric.output {
        case .json(let field):
            guard let v = Self.lastJSONObject(in: reply), let value = v[field] else { return nil }
            return interpret(value.textValue)
        case .pattern:
            guard let regex else { return nil }
            let ns = reply as NSString
            let matches = regex.matches(in: reply, range: NSRange(location: 0, length: ns.length))
            for m in matches.reversed() {
                let r = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                if let parsed = interpret(ns.substring(with: r)) { return parsed }
            }
            // Judges often answer in JSON even when asked for a pattern: read the conventional field.
            if let v = Self.lastJSONObject(in: reply), let value = v[rubric.kind == .pairwise ? "verdict" : "score"] {
                return interpret(value.textValue)
            }
            return nil
        }
    }

    func interpret(_ raw: String) -> ParsedAnswer? {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        switch rubric.kind {
        case .pairwise:
            guard let p = ItemLoader.preference(text) else { return nil }
            if p == .tie && !rubric.allowTie { return nil }
            return .choice(p)
        case .pointwise:
            guard let d = Double(text), d.isFinite else { return nil }
            if let s = rubric.scale, d < Double(s.min) || d > Double(s.max) { return nil }
            return .score(d)
        case .checklist:
            return nil
        }
    }

    /// Checklist replies: a JSON `answers` array, or numbered lines `1. YES`; unanswered questions are UNSURE (nil).
    func parseChecklist(_ reply: String) -> ParsedAnswer? {
        let n = questionCount
        guard n > 0 else { return nil }
        func read(_ s: String) -> Bool?? {
            switch s.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)).uppercased() {
            case "YES", "Y", "TRUE", "PASS": return .some(true)
            case "NO", "N", "FALSE", "FAIL": return .some(false)
            case "UNSURE", "UNKNOWN", "N/A", "NA": return .some(nil)
            default: return .none
            }
        }
        if let v = Self.lastJSONObject(in: reply), let arr = v["answers"]?.arrayValue {
            var out = [Bool?](repeating: nil, count: n)
            var any = false
            for (i, a) in arr.prefix(n).enumerated() {
                if case .bool(let b) = a { out[i] = b; any = true } else if let r = read(a.textValue) { out[i] = r; any = true }
            }
            return any ? .checks(out) : nil
        }
        var out = [Bool?](repeating: nil, count: n)
        var any = false
        let lineRegex = try! NSRegularExpression(
            pattern: "^\\s*(?:Q(?:uestion)?\\s*)?(\\d+)\\s*[.):\\-]?\\s*(?:.*?[:\\-–]\\s*)?\\**\\s*(YES|NO|UNSURE)\\b",
            options: [.anchorsMatchLines, .caseInsensitive])
        let ns = reply as NSString
        for m in lineRegex.matches(in: reply, range: NSRange(location: 0, length: ns.length)) {
            guard let idx = Int(ns.substring(with: m.range(at: 1))), idx >= 1, idx <= n else { continue }
            if let r = read(ns.substring(with: m.range(at: 2))) {
                out[idx - 1] = r
                any = true
            }
        }
        return any ? .checks(out) : nil
    }

    /// The last top-level JSON object in the text (fenced or bare).
    static func lastJSONObject(in text: String) -> JSONValue? {
        let chars = Array(text.utf8)
        var end = chars.count - 1
        while end >= 0 {
            guard let close = (0...end).reversed().first(where: { chars[$0] == UInt8(ascii: "}") }) else { return nil }
            var depth = 0
            var inString = false
            var i = close
            var start: Int?
            while i >= 0 {
                let c = chars[i]
                if c == UInt8(ascii: "\"") && (i == 0 || chars[i - 1] != UInt8(ascii: "\\")) { inString.toggle() }
                if !inString {
                    if c == UInt8(ascii: "}") { depth += 1 }
                    if c == UInt8(ascii: "{") {
                        depth -= 1
                        if depth == 0 { start = i; break }
                    }
                }
                i -= 1
            }
            if let start, let v = try? JSONValue.parse(Data(chars[start...close])),
                case .object = v
            {
                return v
            }
            end = close - 1
        }
        return nil
    }
}
