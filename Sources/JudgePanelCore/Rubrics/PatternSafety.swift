import Foundation

/// Guards against rubric patterns that backtrack catastrophically (`(a+)+$` takes seconds on 26 characters
/// and forever on longer ones): ``problem(in:)`` rejects the known shapes when the rubric loads, and
/// ``BoundedRegex`` runs every match under a hard time budget, for the shapes no static check sees
/// (back-references, long chains of `.*`).
package enum PatternSafety {
    /// Why `pattern` can take exponential time, or nil when it has none of the shapes that do: a repeated
    /// group that itself holds a repetition (`(a+)+`, `(a*)*`, `(?:\s*\w+)*`), or a repeated alternation
    /// whose branches can start alike (`(a|a)+`, `(a|ab)*`, `(\w|\d)+`). Possessive quantifiers and atomic
    /// groups do not backtrack and are allowed.
    package static func problem(in pattern: String) -> String? {
        var scanner = Scanner(Array(pattern.unicodeScalars))
        let info = scanner.alternation()
        return info.problem
    }

    /// The first characters a sub-pattern can start with: some literals, or anything.
    private enum Firsts: Equatable {
        case chars(Set<UnicodeScalar>)
        case any

        func overlaps(_ other: Firsts) -> Bool {
            switch (self, other) {
            case (.chars(let a), .chars(let b)): return !a.isDisjoint(with: b)
            default: return true
            }
        }

        func union(_ other: Firsts) -> Firsts {
            switch (self, other) {
            case (.chars(let a), .chars(let b)): return .chars(a.union(b))
            default: return .any
            }
        }
    }

    /// What is known of a sub-pattern.
    private struct Info {
        /// It holds a quantifier that can repeat (maximum above one).
        var repeats = false
        /// It holds an alternation whose branches can start with the same character.
        var ambiguousAlternation = false
        /// It can match the empty string (conservatively true when unsure).
        var nullable = true
        var firsts: Firsts = .chars([])
        var problem: String?
    }

    private struct Scanner {
        let s: [UnicodeScalar]
        var i = 0
        init(_ s: [UnicodeScalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }

        /// branch ('|' branch)*
        mutating func alternation() -> Info {
            var branches: [Info] = [sequence()]
            while !atEnd, s[i] == "|" {
                i += 1
                branches.append(sequence())
            }
            if branches.count == 1 { return branches[0] }
            var out = Info()
            out.nullable = branches.contains { $0.nullable }
            out.repeats = branches.contains { $0.repeats }
            out.ambiguousAlternation = branches.contains { $0.ambiguousAlternation }
            out.problem = branches.lazy.compactMap(\.problem).first
            out.firsts = branches.reduce(Firsts.chars([])) { $0.union($1.firsts) }
            for a in 0..<branches.count {
                for b in (a + 1)..<branches.count
                where branches[a].nullable || branches[b].nullable || branches[a].firsts.overlaps(branches[b].firsts) {
                    out.ambiguousAlternation = true
                }
            }
            return out
        }

        /// A run of quantified atoms, up to '|' or ')'.
        mutating func sequence() -> Info {
            var out = Info()
            out.nullable = true
            out.firsts = .chars([])
            while !atEnd, s[i] != "|", s[i] != ")" {
                var atom = self.atom()
                atom = quantified(atom)
                if out.problem == nil { out.problem = atom.problem }
                out.repeats = out.repeats || atom.repeats
                out.ambiguousAlternation = out.ambiguousAlternation || atom.ambiguousAlternation
                if out.nullable { out.firsts = out.firsts.union(atom.firsts) }
                out.nullable = out.nullable && atom.nullable
            }
            return out
        }

        /// Applies a quantifier after an atom, if there is one.
        mutating func quantified(_ atom: Info) -> Info {
            guard !atEnd else { return atom }
            var minimum = 1
            var maximum: Int? = 1
            switch s[i] {
            case "*":
                minimum = 0
                maximum = nil
                i += 1
            case "+":
                minimum = 1
                maximum = nil
                i += 1
            case "?":
                minimum = 0
                maximum = 1
                i += 1
            case "{":
                guard let (lo, hi, next) = bounds(from: i) else { return atom }
                minimum = lo
                maximum = hi
                i = next
            default: return atom
            }
            var possessive = false
            if !atEnd, s[i] == "?" {
                i += 1  // lazy: backtracks all the same
            } else if !atEnd, s[i] == "+" {
                i += 1
                possessive = true
            }
            var out = atom
            if minimum == 0 { out.nullable = true }
            let repeating = maximum.map { $0 > 1 } ?? true
            if repeating && !possessive && out.problem == nil {
                let text = String(String.UnicodeScalarView(s[..<min(i, s.count)]))
                if atom.repeats {
                    out.problem =
                        "nested quantifiers: a repeated group holds another repetition (near '\(text)'), which can take exponential time"
                } else if atom.ambiguousAlternation {
                    out.problem =
                        "a repeated alternation whose branches can match alike (near '\(text)'), which can take exponential time"
                }
            }
            // A possessive repetition gives nothing back, so an enclosing one cannot try its splits.
            if repeating && !possessive { out.repeats = true }
            return out
        }

        /// `{n}`, `{n,}`, `{n,m}` at `at`: the bounds and the index after `}`; nil when it is a literal brace.
        func bounds(from at: Int) -> (Int, Int?, Int)? {
            var j = at + 1
            func number() -> Int? {
                var v: Int?
                while j < s.count, let d = Int(String(s[j])), s[j].isASCII {
                    v = (v ?? 0) &* 10 &+ d
                    j += 1
                }
                return v
            }
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if j < s.count, s[j] == "," {
                j += 1
                hi = number()
            }
            guard j < s.count, s[j] == "}" else { return nil }
            return (lo, hi, j + 1)
        }

        /// One atom: a group, a class, an escape or a literal.
        mutating func atom() -> Info {
            let c = s[i]
            switch c {
            case "(":
                i += 1
                var atomic = false
                var lookaround = false
                if !atEnd, s[i] == "?" {
                    i += 1
                    if !atEnd {
                        switch s[i] {
                        case ":": i += 1
                        case ">":
                            i += 1
                            atomic = true
                        case "=", "!":
                            i += 1
                            lookaround = true
                        case "<":
                            if i + 1 < s.count, s[i + 1] == "=" || s[i + 1] == "!" {
                                i += 2
                                lookaround = true
                            } else {
                                while !atEnd, s[i] != ">" { i += 1 }
                                i += 1
                            }
                        default:
                            // Inline flags `(?i)` or `(?i:...)`.
                            while !atEnd, s[i] != ")", s[i] != ":" { i += 1 }
                            if !atEnd, s[i] == ")" {
                                i += 1
                                return Info(nullable: true, firsts: .chars([]))
                            }
                            i += 1
                        }
                    }
                }
                var inner = alternation()
                if !atEnd, s[i] == ")" { i += 1 }
                if atomic {
                    inner.repeats = false
                    inner.ambiguousAlternation = false
                }
                if lookaround { return Info(nullable: true, firsts: .chars([]), problem: inner.problem) }
                return inner
            case "[":
                i += 1
                if !atEnd, s[i] == "^" { i += 1 }
                if !atEnd, s[i] == "]" { i += 1 }
                var depth = 1
                while !atEnd, depth > 0 {
                    if s[i] == "\\" {
                        i += 2
                        continue
                    }
                    if s[i] == "[" { depth += 1 }
                    if s[i] == "]" { depth -= 1 }
                    i += 1
                }
                return Info(nullable: false, firsts: .any)
            case "\\":
                i += 1
                guard !atEnd else { return Info(nullable: false, firsts: .any) }
                let e = s[i]
                i += 1
                switch e {
                case "b", "B", "A", "z", "Z", "G": return Info(nullable: true, firsts: .chars([]))
                case "Q":
                    var lit: [UnicodeScalar] = []
                    while i < s.count, !(s[i] == "\\" && i + 1 < s.count && s[i + 1] == "E") {
                        lit.append(s[i])
                        i += 1
                    }
                    i = min(s.count, i + 2)
                    return lit.first.map { Info(nullable: false, firsts: .chars([$0])) }
                        ?? Info(nullable: true, firsts: .chars([]))
                case "p", "P", "x", "u", "N":
                    if !atEnd, s[i] == "{" {
                        while !atEnd, s[i] != "}" { i += 1 }
                        i += 1
                    } else if e == "x" {
                        i = min(s.count, i + 2)
                    } else if e == "u" {
                        i = min(s.count, i + 4)
                    } else if e == "p" || e == "P" {
                        i = min(s.count, i + 1)
                    }
                    return Info(nullable: false, firsts: .any)
                default:
                    if e.properties.isAlphabetic || ("0"..."9").contains(e) {
                        return Info(nullable: false, firsts: .any)
                    }
                    return Info(nullable: false, firsts: .chars([e]))
                }
            case "^", "$":
                i += 1
                return Info(nullable: true, firsts: .chars([]))
            case ".":
                i += 1
                return Info(nullable: false, firsts: .any)
            default:
                i += 1
                return Info(nullable: false, firsts: .chars([c]))
            }
        }
    }
}

/// A compiled rubric pattern whose matching stops after a time budget, so no reply can hang a run.
///
/// ```swift
/// let regex = try BoundedRegex(pattern: "\\[\\[(A|B)\\]\\]")
/// if case .matches(let found) = regex.matches(in: reply) { print(found.count) }
/// ```
package struct BoundedRegex: Sendable {
    /// The most time one reply's matching may take.
    static let defaultBudget: Duration = .milliseconds(250)

    /// The matches, or a note that the budget ran out first.
    package enum Outcome {
        case matches([NSTextCheckingResult])
        case overBudget
    }

    private let regex: NSRegularExpression
    package let budget: Duration

    package init(pattern: String, budget: Duration = BoundedRegex.defaultBudget) throws {
        regex = try NSRegularExpression(pattern: pattern, options: [])
        self.budget = budget
    }

    /// Every match in `text`, unless matching takes longer than the budget. ICU calls the block
    /// periodically during a long match (`.reportProgress`), which is where an overrun is stopped.
    package func matches(in text: String) -> Outcome {
        let deadline = ContinuousClock.now + budget
        var found: [NSTextCheckingResult] = []
        var over = false
        let range = NSRange(location: 0, length: (text as NSString).length)
        regex.enumerateMatches(in: text, options: [.reportProgress], range: range) { result, _, stop in
            if let result { found.append(result) }
            if ContinuousClock.now > deadline {
                over = true
                stop.pointee = true
            }
        }
        return over ? .overBudget : .matches(found)
    }
}
