import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// What was read from a judge's reply.
package enum ParsedAnswer: Sendable, Hashable {
    /// A pairwise choice in the *shown* order: `.a` is the answer shown first.
    case choice(Preference)
    case score(Double)
    case checks([Bool?])
}

/// Reads a judge's reply per the rubric's output spec: the pattern's last match counts, or a JSON field.
///
/// Given the texts the judge was shown (``parse(_:quoting:)``), matches inside passages the reply
/// reproduces from them — a candidate quoting `[[B]]` — are skipped, and a reply whose own matches
/// disagree is not read at all (an abstention with reason `ambiguous`).
///
/// ```swift
/// let parser = AnswerParser(rubric: rubric, structured: false)
/// parser.parse("A is clearer. [[A]]")  // .choice(.a)
/// ```
package struct AnswerParser: Sendable {
    package let rubric: Rubric
    package let structured: Bool
    package let questionCount: Int
    private let regex: BoundedRegex?

    /// - Throws: ``JudgePanelError`` (bad input) when the rubric's output pattern does not compile — a rubric
    ///   built in code is not checked at load as a rubric file is, and a parser without its pattern would read
    ///   every reply as unparsed.
    package init(rubric: Rubric, structured: Bool, questionCount: Int = 0) throws {
        self.rubric = rubric
        self.structured = structured
        self.questionCount = questionCount
        if case .pattern(let p) = rubric.output {
            do {
                regex = try BoundedRegex(pattern: p)
            } catch {
                throw JudgePanelError.badInput(
                    "rubric '\(rubric.id)': output pattern '\(p)' does not compile: \(error.localizedDescription)",
                    file: rubric.source)
            }
        } else {
            regex = nil
        }
    }

    /// What reading a reply gave.
    package enum Reading: Sendable, Equatable {
        /// The judge's answer.
        case answer(ParsedAnswer)
        /// Nothing readable in the judge's own words.
        case unparsed
        /// The judge's own matches disagree (the distinct values, in reply order).
        case ambiguous([ParsedAnswer])
        /// The pattern ran past its time budget on this reply.
        case overBudget
    }

    /// The parsed answer, or nil when the reply cannot be read.
    package func parse(_ reply: String) -> ParsedAnswer? {
        parse(reply, quoting: [])
    }

    /// The parsed answer, reading only the judge's own words: matches that lie in passages the reply
    /// reproduces from `sources` (the prompt and candidate texts the judge was shown) do not count.
    /// Nil when the reply cannot be read, when its own matches disagree, or when the pattern overruns.
    package func parse(_ reply: String, quoting sources: [String]) -> ParsedAnswer? {
        if case .answer(let a) = read(reply, quoting: sources) { return a }
        return nil
    }

    /// Reads a reply; see ``parse(_:quoting:)``.
    package func read(_ reply: String, quoting sources: [String]) -> Reading {
        var quotes = QuoteFinder(reply: reply, sources: sources)
        // A JSON object copied from a shown text is a quotation, unless it is the whole reply (then it is
        // the judge's answer, whoever wrote it first).
        let bare = Self.withoutFence(reply)
        let quotedJSON: (String) -> Bool = { [quotes] object in object != bare && quotes.reproducesVerbatim(object) }
        if rubric.kind == .checklist {
            return parseChecklist(reply, quotes: &quotes, quotedJSON: structured ? { _ in false } : quotedJSON)
                .map(Reading.answer) ?? .unparsed
        }
        // Structured output is constrained by the provider to the judge's own object: read as is.
        if structured, let v = Self.lastJSONObject(in: reply) {
            let field = rubric.kind == .pairwise ? "verdict" : "score"
            if let value = v[field], let parsed = interpret(value.textValue) { return .answer(parsed) }
        }
        switch rubric.output {
        case .json(let field):
            guard let v = Self.lastJSONObject(in: reply, skipping: quotedJSON), let value = v[field],
                let parsed = interpret(value.textValue)
            else { return .unparsed }
            return .answer(parsed)
        case .pattern:
            guard let regex else { return .unparsed }
            guard case .matches(let matches) = regex.matches(in: reply) else { return .overBudget }
            let ns = reply as NSString
            var values: [ParsedAnswer] = []
            for m in matches {
                if quotes.isQuoted(m.range) { continue }
                let r = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                if let parsed = interpret(ns.substring(with: r)), !values.contains(parsed) { values.append(parsed) }
            }
            if values.count > 1 { return .ambiguous(values) }
            if let only = values.first { return .answer(only) }
            // Judges often answer in JSON even when asked for a pattern: read the conventional field.
            if let v = Self.lastJSONObject(in: reply, skipping: quotedJSON),
                let value = v[rubric.kind == .pairwise ? "verdict" : "score"], let parsed = interpret(value.textValue)
            {
                return .answer(parsed)
            }
            return .unparsed
        }
    }

    /// The reply without surrounding whitespace and a Markdown code fence.
    static func withoutFence(_ reply: String) -> String {
        var text = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```"), text.hasSuffix("```"), text.count >= 6 {
            text = String(text.dropFirst(3).dropLast(3))
            if let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
            text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return text
    }

    /// The texts of `item` a judge may quote back (prompt, candidates, reference), for ``parse(_:quoting:)``.
    static func quotableTexts(of item: Item) -> [String] {
        [item.promptText, item.response, item.responseA, item.responseB, item.reference]
            .compactMap { $0 }.filter { !$0.isEmpty }
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
        var none = QuoteFinder(reply: reply, sources: [])
        return parseChecklist(reply, quotes: &none, quotedJSON: { _ in false })
    }

    /// Checklist replies, skipping answer lines and JSON objects the reply quotes from what it was shown.
    func parseChecklist(_ reply: String, quotes: inout QuoteFinder, quotedJSON: (String) -> Bool)
        -> ParsedAnswer?
    {
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
        if let v = Self.lastJSONObject(in: reply, skipping: quotedJSON), let arr = v["answers"]?.arrayValue {
            var out = [Bool?](repeating: nil, count: n)
            var any = false
            for (i, a) in arr.prefix(n).enumerated() {
                if case .bool(let b) = a {
                    out[i] = b
                    any = true
                } else if let r = read(a.textValue) {
                    out[i] = r
                    any = true
                }
            }
            return any ? .checks(out) : nil
        }
        var out = [Bool?](repeating: nil, count: n)
        var any = false
        // A constant pattern (every checklist test parses with it): it cannot fail.
        let lineRegex = try! NSRegularExpression(
            pattern: "^\\s*(?:Q(?:uestion)?\\s*)?(\\d+)\\s*[.):\\-]?\\s*(?:.*?[:\\-–]\\s*)?\\**\\s*(YES|NO|UNSURE)\\b",
            options: [.anchorsMatchLines, .caseInsensitive])
        let ns = reply as NSString
        for m in lineRegex.matches(in: reply, range: NSRange(location: 0, length: ns.length)) {
            guard let idx = Int(ns.substring(with: m.range(at: 1))), idx >= 1, idx <= n, !quotes.isQuoted(m.range)
            else {
                continue
            }
            if let r = read(ns.substring(with: m.range(at: 2))) {
                out[idx - 1] = r
                any = true
            }
        }
        return any ? .checks(out) : nil
    }

    /// The last top-level JSON object in the text (fenced or bare) whose text `skip` does not reject.
    package static func lastJSONObject(in text: String, skipping skip: (String) -> Bool = { _ in false }) -> JSONValue?
    {
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
                        if depth == 0 {
                            start = i
                            break
                        }
                    }
                }
                i -= 1
            }
            if let start, let v = try? JSONValue(jsonData: Data(chars[start...close])),
                case .object = v, !skip(String(decoding: chars[start...close], as: UTF8.self))
            {
                return v
            }
            end = close - 1
        }
        return nil
    }
}
