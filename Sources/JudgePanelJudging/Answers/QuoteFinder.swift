import Foundation
import JudgePanelCore
import JudgePanelProviders

/// Finds the passages of a judge's reply that reproduce text the judge was shown (a candidate answer,
/// the prompt), so that a verdict pattern inside a quotation never decides the verdict.
///
/// A match counts as quoted when a place in a shown text holds the same characters as the match and
/// agrees with the reply around it for at least ``contextNeeded`` characters in all (before and after
/// together), or the whole shown text when it is shorter. Whitespace and quoting marks (`>`, `*`, `_`,
/// backticks, quotation marks) are skipped on both sides, since judges re-indent and re-format what
/// they quote. A judge that writes `Final verdict: [[B]]` in its own words shares a stock phrase at most
/// with a candidate that mimics it; one that quotes a candidate's sentence shares the whole passage.
/// Erring either way is safe: a quotation taken for the judge's words makes the reply ambiguous (an
/// abstention, never a flipped vote), and own words taken for a quotation leave the reply to the repair
/// re-ask, whose bare `[[B]]` shares no context.
struct QuoteFinder {
    /// Characters of agreeing context (whitespace and quoting marks not counted) that make a match a quotation.
    static let contextNeeded = 20
    /// A whole shown text shorter than the context counts only when the reproduced span has this many
    /// characters (so a one-digit candidate does not hide a judge's score).
    static let shortestWholeQuote = 4

    private let replyText: String
    private let sources: [String]
    /// The UTF-16 forms, built on the first match that needs them (most replies have one match or none
    /// worth checking, and the shown texts can be long).
    private var units: (reply: [UInt16], sources: [[UInt16]], significant: [Int])?

    package init(reply: String, sources: [String]) {
        self.replyText = reply
        self.sources = sources
    }

    /// Whether `text` (a JSON object found in the reply) appears word for word in a shown text.
    func reproducesVerbatim(_ text: String) -> Bool {
        sources.contains { $0.contains(text) }
    }

    /// Whether the reply's UTF-16 `range` lies in a passage reproduced from a shown text.
    mutating func isQuoted(_ range: NSRange) -> Bool {
        guard !sources.isEmpty, range.location != NSNotFound, range.length > 0 else { return false }
        if units == nil {
            let sourceUnits = sources.map { Array($0.utf16) }
            units = (
                Array(replyText.utf16), sourceUnits,
                sourceUnits.map { $0.reduce(0) { $0 + (Self.isSignificant($1) ? 1 : 0) } }
            )
        }
        guard let (reply, sourceUnits, sourceSignificant) = units, range.location + range.length <= reply.count else {
            return false
        }
        // Whitespace and quoting marks at the match's edges are formatting (a pattern anchored with `^\s*`).
        var lo = range.location
        var hi = range.location + range.length
        while lo < hi, !Self.isSignificant(reply[lo]) { lo += 1 }
        while hi > lo, !Self.isSignificant(reply[hi - 1]) { hi -= 1 }
        guard lo < hi else { return false }
        let match = reply[lo..<hi]
        let matchSignificant = match.reduce(0) { $0 + (Self.isSignificant($1) ? 1 : 0) }
        for (k, source) in sourceUnits.enumerated() where source.count >= match.count {
            let outside = sourceSignificant[k] - matchSignificant
            let needed = min(Self.contextNeeded, max(0, outside))
            var p = 0
            while let at = Self.find(match, in: source, from: p) {
                let left = Self.agreeing(reply, from: lo - 1, source, from: at - 1, step: -1, limit: needed)
                let right =
                    left >= needed
                    ? 0
                    : Self.agreeing(
                        reply, from: hi, source, from: at + match.count, step: 1,
                        limit: needed - left)
                if left + right >= needed
                    && (needed == Self.contextNeeded || matchSignificant + left + right >= Self.shortestWholeQuote)
                {
                    return true
                }
                p = at + 1
            }
        }
        return false
    }

    /// Counts the significant characters on which `a` (from index `i`) and `b` (from `j`) agree, walking
    /// in `step` direction and skipping insignificant ones on both sides, up to `limit`.
    private static func agreeing(_ a: [UInt16], from i: Int, _ b: [UInt16], from j: Int, step: Int, limit: Int) -> Int {
        var i = i
        var j = j
        var count = 0
        while count < limit {
            while i >= 0, i < a.count, !isSignificant(a[i]) { i += step }
            while j >= 0, j < b.count, !isSignificant(b[j]) { j += step }
            guard i >= 0, i < a.count, j >= 0, j < b.count, a[i] == b[j] else { break }
            count += 1
            i += step
            j += step
        }
        return count
    }

    /// The first index at or after `from` where `needle` occurs in `haystack`.
    private static func find(_ needle: ArraySlice<UInt16>, in haystack: [UInt16], from: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// Whitespace and quoting marks do not count as agreeing context.
    private static func isSignificant(_ u: UInt16) -> Bool {
        switch u {
        // space, tab, LF, CR, > * _ ` " ', curly double and single quotes, no-break space
        case 0x20, 0x09, 0x0A, 0x0D, 0x3E, 0x2A, 0x5F, 0x60, 0x22, 0x27, 0x201C, 0x201D, 0x2018, 0x2019, 0xA0:
            return false
        default:
            return true
        }
    }
}
