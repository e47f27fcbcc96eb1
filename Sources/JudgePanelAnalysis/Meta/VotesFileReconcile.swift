import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

extension MetaAnalysis {
    /// ``reconcile(items:votes:)`` over the baseline (non-probe) votes of a votes file, read as a stream
    /// (``VoteDigest``): the judges' verdicts are gathered item by item, so memory is proportional to items × judges,
    /// never to the decoded votes. Without `options.protocolKind` the protocol is guessed from the first vote and
    /// checked against the rule `reconcile` applies to all votes (a wrong guess reads the file again), as
    /// ``analyse(items:votesPath:keepJudges:)`` does.
    ///
    /// - Throws: ``JudgePanelError`` for a missing file or a bad line (naming file and line).
    package func reconcile(items: [Item], votesPath: String) throws -> Reconciled {
        var panel: [Verdict] = []
        let rec = try reconcile(items: ItemColumns(items, clusterKey: nil), votesPath: votesPath) { panel.append($0) }
        return Reconciled(
            judges: rec.judges, kind: rec.kind, verdicts: rec.verdicts.map { Array($0) }, panel: panel,
            estimatedAccuracy: rec.estimatedAccuracy)
    }

    /// ``reconcile(items:votesPath:)`` over the items' columns, as columns: each whole panel verdict goes to `sink`
    /// (when given) in item order as it is aggregated, and only its verdict and score are kept.
    ///
    /// - Throws: ``JudgePanelError`` for a missing file or a bad line (naming file and line), or what `sink` throws.
    package func reconcile(items: ItemColumns, votesPath: String, sink: ((Verdict) throws -> Void)? = nil) throws
        -> ReconciledColumns
    {
        let itemIndex = items.index()
        var kind = try options.protocolKind ?? Self.firstVoteKind(path: votesPath, keepJudges: nil)
        var digest = try VoteDigest.read(
            path: votesPath, items: items, itemIndex: itemIndex, kind: kind, options: options)
        if options.protocolKind == nil, digest.inferredKind != kind {
            kind = digest.inferredKind
            digest = try VoteDigest.read(
                path: votesPath, items: items, itemIndex: itemIndex, kind: kind, options: options)
        }
        digest.verdictsOtherFlip = []
        return try reconcileColumns(
            ids: items.ids, judges: digest.judges, kind: kind, verdicts: digest.verdicts, sink: sink)
    }

    /// The item ids of a votes file in order of first appearance (every vote, probe variants included) — the items
    /// `aggregate` reconciles when no items file is given. Holds one string per item, never the votes.
    ///
    /// - Throws: ``JudgePanelError`` for a missing file or a bad line (naming file and line).
    package static func itemIDs(votesPath path: String) throws -> [String] {
        var ids: [String] = []
        var seen = Set<String>()
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        while let v = try reader.nextBytes({ number, bytes in
            try VoteDigest.vote(bytes, decoder: decoder, path: path, line: number)
        }) {
            guard let v else { continue }
            if seen.insert(v.item).inserted { ids.append(v.item) }
        }
        return ids
    }
}

/// Each judge's probability of preferring `response_b`, per item, averaged over its answered votes — the
/// probability preference `judgepanel rank --preference probability` ranks by (AlpacaEval 2's weighted annotator
/// stores it as `preference − 1`). Read from a votes file in one pass, with memory proportional to items × judges.
package struct PreferenceProbabilities: Sendable {
    /// Judges in order of first appearance among the baseline (non-probe) votes.
    package var judges: [String]
    /// [judge][item]: the sum of the answered votes' P(B) and how many there were.
    package var sums: [[Double]]
    package var counts: [[Int32]]

    /// One vote's probability that B is preferred: from `probs` (P(B) + P(tie)/2 over the mass of A, B and tie;
    /// both in the dataset's orientation), else from its verdict (B 1, A 0, tie ½). Nil for a vote that is not `ok`
    /// or carries neither.
    package static func probabilityB(_ v: Vote) -> Double? {
        guard v.isOK else { return nil }
        if let p = v.probs {
            let a = p[Preference.a.rawValue] ?? 0
            let b = p[Preference.b.rawValue] ?? 0
            let t = p[Preference.tie.rawValue] ?? 0
            let total = a + b + t
            if total > 0, total.isFinite { return (b + t / 2) / total }
        }
        return v.verdict.map { $0 == .b ? 1 : ($0 == .a ? 0 : 0.5) }
    }

    /// Reads `path`: every baseline vote of an item in `items` adds its ``probabilityB(_:)`` to its judge's mean for
    /// that item. Votes naming other items are ignored (as `reconcile` ignores them).
    ///
    /// - Throws: ``JudgePanelError`` for a missing file or a bad line (naming file and line).
    package static func read(path: String, items: [Item]) throws -> PreferenceProbabilities {
        let itemIndex = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out = PreferenceProbabilities(judges: [], sums: [], counts: [])
        var judgeIndex: [String: Int] = [:]
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        while let v = try reader.nextBytes({ number, bytes in
            try VoteDigest.vote(bytes, decoder: decoder, path: path, line: number)
        }) {
            guard let v, v.variant == nil else { continue }
            let j: Int
            if let known = judgeIndex[v.judge] {
                j = known
            } else {
                j = out.judges.count
                judgeIndex[v.judge] = j
                out.judges.append(v.judge)
                out.sums.append([Double](repeating: 0, count: items.count))
                out.counts.append([Int32](repeating: 0, count: items.count))
            }
            guard let i = itemIndex[v.item], let p = probabilityB(v) else { continue }
            out.sums[j][i] += p
            out.counts[j][i] += 1
        }
        return out
    }

    /// Judge `j`'s mean P(B) on every item (nil where it gave no answered vote).
    package func judge(_ j: Int) -> [Double?] {
        zip(sums[j], counts[j]).map { s, n in n == 0 ? nil : s / Double(n) }
    }

    /// The panel's P(B) on every item: the unweighted mean of the judges' means (nil where no judge answered).
    package var panel: [Double?] {
        guard let n = sums.first?.count else { return [] }
        return (0..<n).map { i in
            var total = 0.0
            var answered = 0
            for j in judges.indices where counts[j][i] > 0 {
                total += sums[j][i] / Double(counts[j][i])
                answered += 1
            }
            return answered == 0 ? nil : total / Double(answered)
        }
    }
}
