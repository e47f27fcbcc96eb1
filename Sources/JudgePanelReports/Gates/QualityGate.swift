import Foundation
import JudgePanelCore

/// A quality gate (`--fail-under EXPR`): a path into a report's JSON, a comparison and a number, e.g.
/// `panel.accuracy.ci_lo>=0.7` or `judges.gpt4o.cohen_kappa>=0.6`.
///
/// Grammar (README, "CI gates"):
/// ```
/// gate    := path op number
/// op      := ">=" | ">" | "<=" | "<" | "==" | "!="
/// path    := step ( "." name | "[" index "]" | "[" quoted "]" )*
/// step    := name | "[" quoted "]"
/// name    := one or more characters other than . [ ] < > = ! and spaces
/// quoted  := a JSON string ("gpt-4.1"), for a key or name holding a dot or a bracket
/// ```
/// A name applied to an object selects its member; applied to an array of objects it selects the element whose
/// `judge`, `model` or `name` field equals it (`judges.gpt4o` is the entry of `judges` with `"judge": "gpt4o"`).
/// `ci_lo` / `ci_hi` after a number read the interval beside it: `X.K.ci_lo` is `X.K_ci[0]`, else `X.ci[0]` (the
/// object's one interval: `ppi.overall.estimate`, `kendall_tau_human.tau`, `win_rates.A.B.rate`), never for a count.
package struct QualityGate: Sendable, Hashable, CustomStringConvertible {
    /// The comparison.
    package enum Comparison: String, Sendable, CaseIterable {
        case ge = ">="
        case gt = ">"
        case le = "<="
        case lt = "<"
        case eq = "=="
        case ne = "!="

        package func holds(_ x: Double, _ y: Double) -> Bool {
            switch self {
            case .ge: return x >= y
            case .gt: return x > y
            case .le: return x <= y
            case .lt: return x < y
            case .eq: return x == y
            case .ne: return x != y
            }
        }
    }

    /// One step of a path.
    package enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// The expression as given.
    package let text: String
    package let path: [Step]
    package let comparison: Comparison
    package let threshold: Double

    package var description: String { text }

    /// The path as written, normalised.
    var pathText: String {
        var out = ""
        for step in path {
            switch step {
            case .index(let i): out += "[\(i)]"
            case .key(let k):
                if k.contains(where: { Self.reserved.contains($0) }) {
                    out += "[" + JSONValue.string(k).compactString + "]"
                } else {
                    out += (out.isEmpty ? "" : ".") + k
                }
            }
        }
        return out
    }

    static let reserved: Set<Character> = [".", "[", "]", "<", ">", "=", "!", " ", "\t", "\""]

    /// Parses `PATH OP NUMBER`; a malformed expression is a usage error naming what is wrong.
    package init(parsing expression: String) throws {
        text = expression
        func fail(_ why: String) -> JudgePanelError {
            .usage(
                "--fail-under '\(expression)': \(why) (expected PATH OP NUMBER, e.g. panel.accuracy>=0.7; OP is >=, >, <=, <, == or !=)"
            )
        }
        let chars = Array(expression)
        var i = 0
        var steps: [Step] = []
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        skipSpaces()
        var expectName = true
        while i < chars.count {
            let c = chars[i]
            if c == "[" {
                i += 1
                if i < chars.count, chars[i] == "\"" {
                    // A JSON string up to its closing quote.
                    var j = i + 1
                    var escaped = false
                    while j < chars.count {
                        if escaped {
                            escaped = false
                        } else if chars[j] == "\\" {
                            escaped = true
                        } else if chars[j] == "\"" {
                            break
                        }
                        j += 1
                    }
                    guard j < chars.count else { throw fail("unterminated quoted name") }
                    let literal = String(chars[i...j])
                    guard let value = try? JSONValue(jsonData: Data(literal.utf8)), let s = value.stringValue else {
                        throw fail("bad quoted name \(literal)")
                    }
                    steps.append(.key(s))
                    i = j + 1
                } else {
                    var j = i
                    while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                    guard j > i, let n = Int(String(chars[i..<j])) else {
                        throw fail("'[' must hold an index (0, 1, …) or a quoted name")
                    }
                    steps.append(.index(n))
                    i = j
                }
                guard i < chars.count, chars[i] == "]" else { throw fail("missing ']'") }
                i += 1
                expectName = false
                continue
            }
            if c == "." {
                guard !steps.isEmpty, !expectName else { throw fail("empty name in the path") }
                i += 1
                expectName = true
                continue
            }
            if "<>=!".contains(c) || c == " " || c == "\t" { break }
            guard expectName else { throw fail("'.' or '[' expected after ']' ") }
            var j = i
            while j < chars.count, !Self.reserved.contains(chars[j]) { j += 1 }
            steps.append(.key(String(chars[i..<j])))
            i = j
            expectName = false
        }
        guard !steps.isEmpty else { throw fail("no path") }
        guard !expectName else { throw fail("the path ends with '.'") }
        skipSpaces()
        var op: Comparison?
        for candidate in [Comparison.ge, .le, .eq, .ne, .gt, .lt] {
            let s = Array(candidate.rawValue)
            if i + s.count <= chars.count, Array(chars[i..<(i + s.count)]) == s {
                op = candidate
                i += s.count
                break
            }
        }
        guard let op else { throw fail("no comparison after the path") }
        skipSpaces()
        let rest = String(chars[i...]).trimmingCharacters(in: .whitespaces)
        guard let number = Double(rest), number.isFinite, !rest.lowercased().contains("n"), !rest.isEmpty else {
            throw fail(rest.isEmpty ? "no number after \(op.rawValue)" : "'\(rest)' is not a number")
        }
        path = steps
        comparison = op
        threshold = number
    }

    /// What a path leads to in a report.
    package enum Resolution: Sendable, Hashable {
        /// A number.
        case number(Double)
        /// The path exists and holds null (a metric that does not apply).
        case null
        /// The path exists but holds something other than a number (an object, a string…).
        case notNumber(String)
        /// The path does not exist; the message names the first step that is missing and what is there instead.
        case missing(String)
    }

    /// Follows the path through `document`.
    package func resolve(in document: JSONValue) -> Resolution {
        var current = document
        var parent: (object: [String: JSONValue], key: String)?
        var walked = ""
        for step in path {
            let here = walked.isEmpty ? "the report" : walked
            switch step {
            case .index(let n):
                guard case .array(let a) = current else {
                    return .missing("\(here) is \(Self.kind(current)), not an array")
                }
                guard a.indices.contains(n) else { return .missing("\(here) has \(a.count) elements, no [\(n)]") }
                current = a[n]
                parent = nil
                walked += "[\(n)]"
            case .key(let k):
                switch current {
                case .object(let o):
                    guard let v = o[k] else {
                        let keys = o.keys.sorted()
                        let shown = keys.prefix(12).joined(separator: ", ") + (keys.count > 12 ? ", …" : "")
                        return .missing("\(here) has no key '\(k)' (keys: \(shown))")
                    }
                    parent = (o, k)
                    current = v
                case .array(let a):
                    let named = a.filter { e in Self.nameKeys.contains { e[$0]?.stringValue == k } }
                    guard named.count == 1 else {
                        let names = a.compactMap { e in Self.nameKeys.lazy.compactMap { e[$0]?.stringValue }.first }
                        if named.isEmpty {
                            return .missing(
                                "\(here) has no entry named '\(k)' (names: \(names.joined(separator: ", ")))")
                        }
                        return .missing("\(here) has \(named.count) entries named '\(k)'")
                    }
                    current = named[0]
                    parent = nil
                case .number, .null:
                    // `K.ci_lo` / `K.ci_hi`: the interval beside the number.
                    guard k == "ci_lo" || k == "ci_hi", let beside = parent else {
                        return .missing("\(here) is \(Self.kind(current)); it has no '\(k)'")
                    }
                    // `K_ci`, else the object's one `ci` (ppi's estimate, kendall_tau_human's tau, a win rate's rate);
                    // never for a count (`n`, `n_…`).
                    let isCount = beside.key == "n" || beside.key.hasPrefix("n_")
                    let ci = beside.object[beside.key + "_ci"] ?? (isCount ? nil : beside.object["ci"])
                    guard let ci else {
                        return .missing(
                            "\(here) has no interval beside it (no '\(beside.key)_ci'\(isCount ? "" : " or 'ci'"))")
                    }
                    if ci == .null {
                        current = .null
                    } else {
                        guard case .array(let bounds) = ci, bounds.count == 2 else {
                            return .missing("the interval of \(here) is not a [lo, hi] pair")
                        }
                        current = bounds[k == "ci_lo" ? 0 : 1]
                    }
                    parent = nil
                default:
                    return .missing("\(here) is \(Self.kind(current)); it has no '\(k)'")
                }
                walked += walked.isEmpty ? k : ".\(k)"
            }
        }
        switch current {
        case .number(let x): return .number(x)
        case .null: return .null
        default: return .notNumber(Self.kind(current))
        }
    }

    /// The fields that name an array's entries.
    static let nameKeys = ["judge", "model", "name"]

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// The outcome of one gate on one report.
package struct GateResult: Sendable, Hashable {
    package var gate: QualityGate
    /// The value read (nil: null or not found).
    package var value: Double?
    package var passed: Bool
    /// Why, in words: `0.742 >= 0.7`, or what was missing.
    package var message: String
    /// The path does not exist in the report (a usage error, never a pass).
    package var pathMissing: Bool
}

package enum QualityGates {
    /// Parses every expression (before any call is made).
    package static func parse(_ expressions: [String]) throws -> [QualityGate] {
        try expressions.map(QualityGate.init(parsing:))
    }

    /// Evaluates the gates on a report. A null value fails its gate (a metric that does not apply cannot pass);
    /// a value that is not a number, or a path that does not exist, is reported with `pathMissing`.
    package static func evaluate(_ gates: [QualityGate], on report: JSONValue) -> [GateResult] {
        gates.map { gate in
            switch gate.resolve(in: report) {
            case .number(let x):
                let ok = gate.comparison.holds(x, gate.threshold)
                return GateResult(
                    gate: gate, value: x, passed: ok,
                    message: "\(gate.pathText) = \(format(x))"
                        + (ok ? " \(gate.comparison.rawValue) " : ", not \(gate.comparison.rawValue) ")
                        + format(gate.threshold),
                    pathMissing: false)
            case .null:
                return GateResult(
                    gate: gate, value: nil, passed: false,
                    message:
                        "\(gate.pathText) is null (the metric does not apply to this run), so the gate cannot pass",
                    pathMissing: false)
            case .notNumber(let kind):
                return GateResult(
                    gate: gate, value: nil, passed: false, message: "\(gate.pathText) is \(kind), not a number",
                    pathMissing: true)
            case .missing(let why):
                return GateResult(
                    gate: gate, value: nil, passed: false, message: "\(gate.pathText): no such path: \(why)",
                    pathMissing: true)
            }
        }
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return String(format: "%.6g", x)
    }
}
