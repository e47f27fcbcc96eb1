import Foundation
import JudgePanelCore
import JudgeStats

/// One judge's (or the panel's) reconciled verdicts over a list of items, as compact columns: a byte per item
/// (verdict, flipped, probability verdict, which optional values are present), and a score and an expected-score
/// column that are allocated only once some item has one. Reads as a collection of ``JudgePanelCore/JudgeVerdict``
/// (one per item), so a metric written over `[JudgeVerdict]` reads it unchanged; memory is 1 byte an item for
/// pairwise verdicts instead of the 40 of a `JudgeVerdict`.
package struct VerdictColumn: Sendable, RandomAccessCollection {
    /// bits 0–1 verdict (0 none, 1 A, 2 B, 3 tie), bit 2 flipped, bits 3–4 probability verdict (as bits 0–1),
    /// bit 5 a score, bit 6 an expected score.
    package private(set) var codes: [UInt8]
    /// Scores by item (empty until some item has one; 0 where an item has none).
    package private(set) var scores: [Double] = []
    /// Expected scores by item (empty until some item has one; 0 where an item has none).
    package private(set) var expected: [Double] = []

    package var startIndex: Int { 0 }
    package var endIndex: Int { codes.count }

    /// `count` items all reconciled to `value`.
    package init(repeating value: JudgeVerdict, count: Int) {
        codes = []
        if value.score == nil && value.expectedScore == nil {
            codes = [UInt8](repeating: Self.code(value), count: count)
        } else {
            codes = [UInt8](repeating: 0, count: count)
            for i in 0..<count { self[i] = value }
        }
    }

    /// An empty column, to be filled with ``append(_:)``.
    package init() {
        codes = []
    }

    /// The column of `verdicts`.
    package init(_ verdicts: some Sequence<JudgeVerdict>) {
        codes = []
        codes.reserveCapacity(verdicts.underestimatedCount)
        for v in verdicts { append(v) }
    }

    /// Reserves room for `n` items.
    package mutating func reserveCapacity(_ n: Int) { codes.reserveCapacity(n) }

    /// Adds the verdict of the next item.
    package mutating func append(_ v: JudgeVerdict) {
        codes.append(0)
        self[codes.count - 1] = v
    }

    /// The verdict of item `i` (get and set).
    package subscript(i: Int) -> JudgeVerdict {
        get {
            let c = codes[i]
            var v = JudgeVerdict(
                verdict: Self.preference(c & 3), score: c & 32 != 0 ? scores[i] : nil, flipped: c & 4 != 0)
            if c & 24 != 0 { v.probVerdict = Self.preference((c >> 3) & 3) }
            if c & 64 != 0 { v.expectedScore = expected[i] }
            return v
        }
        set {
            codes[i] = Self.code(newValue)
            if let s = newValue.score {
                if scores.isEmpty { scores = [Double](repeating: 0, count: codes.count) }
                if scores.count < codes.count {
                    scores.append(contentsOf: repeatElement(0, count: codes.count - scores.count))
                }
                scores[i] = s
            } else if i < scores.count {
                scores[i] = 0
            }
            if let e = newValue.expectedScore {
                if expected.count < codes.count {
                    expected.append(contentsOf: repeatElement(0, count: codes.count - expected.count))
                }
                expected[i] = e
            } else if i < expected.count {
                expected[i] = 0
            }
        }
    }

    /// The verdict (A, B, tie or none) of item `i`, without building a ``JudgePanelCore/JudgeVerdict``.
    package func verdict(_ i: Int) -> Preference? { Self.preference(codes[i] & 3) }

    /// The score of item `i`, if any.
    package func score(_ i: Int) -> Double? { codes[i] & 32 != 0 ? scores[i] : nil }

    /// The byte of a verdict (its optional values aside).
    package static func code(_ v: JudgeVerdict) -> UInt8 {
        var c = preferenceCode(v.verdict)
        if v.flipped { c |= 4 }
        c |= preferenceCode(v.probVerdict) << 3
        if v.score != nil { c |= 32 }
        if v.expectedScore != nil { c |= 64 }
        return c
    }

    /// 0 none, 1 A, 2 B, 3 tie.
    package static func preferenceCode(_ p: Preference?) -> UInt8 {
        switch p {
        case .a?: return 1
        case .b?: return 2
        case .tie?: return 3
        case nil: return 0
        }
    }

    /// The preference of a 2-bit code (0 none, 1 A, 2 B, 3 tie).
    package static func preference(_ code: UInt8) -> Preference? {
        switch code {
        case 1: return .a
        case 2: return .b
        case 3: return .tie
        default: return nil
        }
    }
}
