import Foundation
import JudgePanelCore
import JudgeStats

/// What an item is expected to get from the panel (`--junit-items`): its `expect` field, else its human label.
///
/// - a verdict (`"A"`, `"B"`, `"tie"`): the panel's verdict must equal it;
/// - a number: the panel's score must lie within 0.5 of it (the nearest point of an integer scale);
/// - `{"min": x, "max": y}` (either bound optional): the panel's score must lie in [x, y].
package enum ItemExpectation: Sendable, Hashable, CustomStringConvertible {
    case verdict(Preference)
    case score(Double)
    case range(min: Double?, max: Double?)

    package var description: String {
        switch self {
        case .verdict(let p): return p.rawValue
        case .score(let x): return "\(QualityGates.format(x)) ± 0.5"
        case .range(let lo, let hi):
            return "[\(lo.map(QualityGates.format) ?? "−∞"), \(hi.map(QualityGates.format) ?? "∞")]"
        }
    }

    /// Reads an `expect` value; nil for something that states no expectation (null). A value of another shape is
    /// bad input (the caller names file and line).
    package static func parse(_ v: JSONValue) throws -> ItemExpectation? {
        switch v {
        case .null: return nil
        case .string(let s):
            guard let p = ItemLoader.preference(s) else { throw Failure(why: "expect '\(s)' is not A, B or tie") }
            return .verdict(p)
        case .number(let x): return .score(x)
        case .object(let o):
            let unknown = Set(o.keys).subtracting(["min", "max"])
            guard unknown.isEmpty, !o.isEmpty else { throw Failure(why: "expect object takes only min and max") }
            var lo: Double?
            var hi: Double?
            for (k, value) in o {
                guard case .number(let x) = value else { throw Failure(why: "expect.\(k) must be a number") }
                if k == "min" { lo = x } else { hi = x }
            }
            return .range(min: lo, max: hi)
        default: throw Failure(why: "expect must be a verdict, a number or {min, max}")
        }
    }

    /// The expectation a human label states.
    package static func from(label: Label) -> ItemExpectation? {
        if let p = label.preference { return .verdict(p) }
        if let x = label.score { return .score(x) }
        return nil
    }

    package struct Failure: Error { package var why: String }

    /// Whether the panel's verdict or score meets the expectation, with what it got in words.
    package func check(verdict: Preference?, score: Double?) -> (passed: Bool, got: String) {
        switch self {
        case .verdict(let want):
            guard let verdict else {
                return (false, score.map { "a score (\(QualityGates.format($0)))" } ?? "no verdict (abstained)")
            }
            return (verdict == want, verdict.rawValue)
        case .score(let want):
            guard let score else {
                return (false, verdict.map { "a verdict (\($0.rawValue))" } ?? "no score (abstained)")
            }
            return (abs(score - want) <= 0.5, QualityGates.format(score))
        case .range(let lo, let hi):
            guard let score else {
                return (false, verdict.map { "a verdict (\($0.rawValue))" } ?? "no score (abstained)")
            }
            return ((lo.map { score >= $0 } ?? true) && (hi.map { score <= $0 } ?? true), QualityGates.format(score))
        }
    }
}

/// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one `<testsuite>` of the gates and, with
/// `--junit-items`, one of the items that state an expectation. The shape follows the Jenkins xUnit plugin's
/// `junit-10.xsd` (the Ant/Surefire format), against which the tests validate it.
package struct JUnitReport: Sendable {
    package struct Case: Sendable {
        package var name: String
        var classname: String
        /// nil: passed; else the failure's message.
        package var failure: String?
        /// Longer text inside `<failure>` (values, what was expected).
        package var detail: String?
    }

    package struct Suite: Sendable {
        package var name: String
        package var cases: [Case]
    }

    package var name: String
    package var suites: [Suite] = []
    package var timestamp: Date = Date()

    package init(name: String) { self.name = name }

    /// The gates' suite: one case per gate, named by its expression.
    package mutating func addGates(_ results: [GateResult], command: String) {
        suites.append(
            Suite(
                name: "judgepanel \(command) quality gates",
                cases: results.map { r in
                    Case(
                        name: r.gate.text.trimmingCharacters(in: .whitespaces),
                        classname: "judgepanel.\(command).gates",
                        failure: r.passed ? nil : r.message, detail: r.passed ? nil : r.message)
                }))
    }

    /// The items' suite: one case per item with an expectation.
    package mutating func addItems(
        _ checks: [(id: String, expected: ItemExpectation, source: String, passed: Bool, got: String)], command: String
    ) {
        suites.append(
            Suite(
                name: "judgepanel \(command) items",
                cases: checks.map { c in
                    let message = "expected \(c.expected) (\(c.source)), the panel gave \(c.got)"
                    return Case(
                        name: c.id, classname: "judgepanel.\(command).items", failure: c.passed ? nil : message,
                        detail: nil)
                }))
    }

    package var xml: String {
        let stamp: String = {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            return f.string(from: timestamp)
        }()
        let tests = suites.map(\.cases.count).reduce(0, +)
        let failures = suites.map { $0.cases.filter { $0.failure != nil }.count }.reduce(0, +)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(Self.escape(name))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\">\n"
        for suite in suites {
            let f = suite.cases.filter { $0.failure != nil }.count
            out +=
                "  <testsuite name=\"\(Self.escape(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(f)\" errors=\"0\" skipped=\"0\" timestamp=\"\(stamp)\">\n"
            for c in suite.cases {
                let head = "    <testcase classname=\"\(Self.escape(c.classname))\" name=\"\(Self.escape(c.name))\""
                if let failure = c.failure {
                    out += head + ">\n"
                    out +=
                        "      <failure type=\"judgepanel\" message=\"\(Self.escape(failure))\">\(Self.escape(c.detail ?? failure))</failure>\n"
                    out += "    </testcase>\n"
                } else {
                    out += head + "/>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// Escapes text for an XML 1.0 attribute or element; characters XML 1.0 cannot hold (most C0 controls, lone
    /// surrogates cannot occur in a Swift string) become U+FFFD.
    package static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Writes the file atomically; an unwritable path is an I/O error.
    package func write(to path: String) throws {
        do {
            try Data(xml.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw JudgePanelError.io("cannot write the JUnit report: \(error.localizedDescription)", file: path)
        }
    }
}
