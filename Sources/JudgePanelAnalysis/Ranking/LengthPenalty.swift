import Foundation
import JudgePanelCore
import JudgeStats

/// WildBench's length penalty on five-level pairwise verdicts (`rank --length-penalty K`, its WB-Reward rule in
/// `leaderboard/data_dir/_create_tables.py`): a *slight* win whose winner's answer is longer than the loser's by
/// more than K characters (Unicode code points, Python's `len`) counts as a tie; a strong win, a tie and a loss
/// by the longer answer are kept.
///
/// The five levels are read from a vote's raw answer, in the order the answers were shown: its last `[[…]]`
/// label as arena-hard-auto's judges write it (`A>>B`, `A>B`, `A=B`, `B>A`, `B>>A`, and `A<<B`, `A<B`, `B<A`,
/// `B<<A`), or a raw answer that is exactly a WildBench choice (`A++`, `A+`, `A=B`, `B+`, `B++`). A vote whose
/// raw answer has no such label, or one that names another winner than the vote's verdict, keeps its verdict.
package enum LengthPenalty {
    /// How strongly the shown winner won: 2 much better, 1 slightly, 0 a tie; nil when the raw answer has no
    /// five-level label. `winnerShownFirst` says which position won.
    package static func extent(raw: String) -> (extent: Int, winnerShownFirst: Bool?)? {
        let t = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        switch t {
        case "A++": return (2, true)
        case "A+": return (1, true)
        case "B++": return (2, false)
        case "B+": return (1, false)
        default: break
        }
        var label: Substring?
        var rest = Substring(raw)
        while let open = rest.range(of: "[["), let close = rest[open.upperBound...].range(of: "]]") {
            label = rest[open.upperBound..<close.lowerBound]
            rest = rest[close.upperBound...]
        }
        guard let l = label.map({ $0.trimmingCharacters(in: .whitespaces) }) ?? (t == "A=B" ? "A=B" : nil) else {
            return nil
        }
        switch l {
        case "A>>B", "B<<A": return (2, true)
        case "A>B", "B<A": return (1, true)
        case "B>>A", "A<<B": return (2, false)
        case "B>A", "A<B": return (1, false)
        case "A=B", "B=A": return (0, nil)
        default: return nil
        }
    }

    /// The votes with the rule applied, and how many slight wins became ties; `fiveLevel` counts the votes
    /// whose raw answer carried a five-level label.
    package static func apply(k: Int, items: [Item], votes: [Vote]) -> (votes: [Vote], turned: Int, fiveLevel: Int) {
        var byID: [String: Int] = [:]
        for (i, item) in items.enumerated() where byID[item.id] == nil { byID[item.id] = i }
        var out = votes
        var turned = 0
        var fiveLevel = 0
        for (n, v) in votes.enumerated() {
            guard v.protocol == .pairwise, v.isOK, let verdict = v.verdict, let raw = v.raw,
                let e = extent(raw: raw)
            else { continue }
            fiveLevel += 1
            guard e.extent == 1, let shownFirst = e.winnerShownFirst, verdict != .tie,
                let i = byID[v.item], let ra = items[i].responseA, let rb = items[i].responseB
            else { continue }
            // The shown-first answer is A, unless the vote was asked with the answers swapped.
            let winnerIsA = (v.order == .ba) ? !shownFirst : shownFirst
            guard (winnerIsA ? Preference.a : .b) == verdict else { continue }
            let (lw, ll) =
                winnerIsA
                ? (ControlledRanking.length(ra), ControlledRanking.length(rb))
                : (ControlledRanking.length(rb), ControlledRanking.length(ra))
            if k >= 0 && lw > ll + k {
                out[n].verdict = .tie
                out[n].probs = nil
                turned += 1
            }
        }
        return (out, turned, fiveLevel)
    }
}
