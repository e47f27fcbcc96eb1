import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgeStats

/// FairEval's human-in-the-loop calibration curve (`meta ITEMS --votes VOTES --labels LABELS --hitl`): the panel's
/// and each judge's accuracy against the items' reference labels when the verdicts of the first k labelled items
/// (in the labels file's order: the order the humans labelled them) are replaced by the human label, for k = 0 … L.
///
/// - The reference ("gold") is the items file's own `label` (or its annotators' majority); items without one are
///   left out of every accuracy (and counted in `n_items_without_reference`).
/// - The human label of an item is its annotators' majority in the labels file (a tie at the top is `tie`).
/// - Accuracy is over all items with a reference, an abstained verdict counting as a miss (as `meta`'s `accuracy`).
/// - `share` = k / the number of items in the run (FairEval's x axis: the share of items sent to a human).
public struct HITLCurve: Sendable, Hashable, Codable {
    /// One point of the curve.
    public struct Point: Sendable, Hashable, Codable {
        /// Items whose verdict was replaced by the human label.
        public var labelled: Int
        /// labelled / the run's item count.
        public var share: Double
        /// The panel's accuracy (null when no item has a reference).
        public var panelAccuracy: Double?
        /// Each judge's accuracy with the same items replaced.
        public var judges: [String: Double?]

        enum CodingKeys: String, CodingKey {
            case labelled, share, judges
            case panelAccuracy = "panel_accuracy"
        }
    }

    /// Items in the run.
    public var nItems: Int
    /// Items with a reference label (the accuracies' denominator).
    public var nWithReference: Int
    /// Items without a reference label (left out of the accuracies).
    public var nWithoutReference: Int
    /// Labelled items of the labels file that are not in the run (ignored).
    public var unknownItems: Int
    /// The selection rules the labels record (`selected_by`), in order of first appearance.
    public var selectedBy: [String]
    /// The curve, k = 0 … L.
    public var points: [Point]

    enum CodingKeys: String, CodingKey {
        case points
        case nItems = "n_items"
        case nWithReference = "n_items_with_reference"
        case nWithoutReference = "n_items_without_reference"
        case unknownItems = "unknown_items"
        case selectedBy = "selected_by"
    }

    /// Computes the curve.
    ///
    /// - Parameters:
    ///   - items: the run's items, with their reference labels (pairwise).
    ///   - votes: the judges' votes.
    ///   - labels: the human labels (file order = labelling order).
    ///   - flip: how a judge's two disagreeing orders count.
    ///   - aggregate: the panel's aggregation.
    public static func compute(
        items: [Item], votes: [Vote], labels: [LabelRecord], flip: FlipPolicy = .tie,
        aggregate: AggregationMethod = .majority, weights: [String: Double] = [:]
    ) -> HITLCurve {
        let table = Reconcile.table(items: items, votes: votes, kind: .pairwise, flip: flip)
        let panel = Aggregator(method: aggregate, weights: weights).aggregate(
            items: items.map(\.id), judges: table.judges,
            verdicts: items.indices.map { i in table.judges.indices.map { table.verdicts[$0][i] } }, kind: .pairwise)
        let gold: [Preference?] = items.map { item in
            if let p = item.label?.preference { return p }
            let ps = item.labels.compactMap(\.label.preference)
            return ps.isEmpty ? nil : Preference.majority(ps)
        }
        let index = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Items in order of their first label; each one's human label is its annotators' majority.
        var order: [Int] = []
        var byItem: [Int: [Preference]] = [:]
        var unknown = Set<String>()
        var rules: [String] = []
        for r in labels {
            if !rules.contains(r.selectedBy) { rules.append(r.selectedBy) }
            guard let i = index[r.item] else {
                unknown.insert(r.item)
                continue
            }
            guard let p = r.label.preference else { continue }
            if byItem[i] == nil { order.append(i) }
            byItem[i, default: []].append(p)
        }
        let human = byItem.mapValues { Preference.majority($0) }
        let withRef = gold.compactMap { $0 }.count

        func accuracy(_ predicted: [Preference?]) -> Double? {
            guard withRef > 0 else { return nil }
            var hits = 0
            for i in items.indices { if let g = gold[i], predicted[i] == g { hits += 1 } }
            return Double(hits) / Double(withRef)
        }
        var panelPred = panel.verdicts.map(\.verdict)
        var judgePred = table.judges.indices.map { j in items.indices.map { table.verdicts[j][$0].verdict } }
        var points: [Point] = []
        func point(_ k: Int) {
            var js: [String: Double?] = [:]
            for (j, name) in table.judges.enumerated() { js[name] = accuracy(judgePred[j]) }
            points.append(
                Point(
                    labelled: k, share: items.isEmpty ? 0 : Double(k) / Double(items.count),
                    panelAccuracy: accuracy(panelPred), judges: js))
        }
        point(0)
        for (k, i) in order.enumerated() {
            let h = human[i] ?? nil
            panelPred[i] = h
            for j in judgePred.indices { judgePred[j][i] = h }
            point(k + 1)
        }
        return HITLCurve(
            nItems: items.count, nWithReference: withRef, nWithoutReference: items.count - withRef,
            unknownItems: unknown.count, selectedBy: rules, points: points)
    }

    /// The curve as a text table (one row per point; `every` thins the rows of a long curve, the last always shown).
    public func text(every: Int = 1) -> String {
        let judges = points.first.map { $0.judges.keys.sorted() } ?? []
        var lines = [
            "human-in-the-loop calibration (FairEval): accuracy against the items' reference labels,"
                + " the first k labelled items' verdicts replaced by the human label",
            "items \(nItems), with a reference \(nWithReference)"
                + (unknownItems > 0 ? ", \(unknownItems) labelled items not in the run (ignored)" : ""),
        ]
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "—" }
        lines.append((["labelled", "share", "panel"] + judges).joined(separator: "\t"))
        for (n, p) in points.enumerated() where n % max(1, every) == 0 || n == points.count - 1 {
            lines.append(
                ([String(p.labelled), String(format: "%.4f", p.share), f(p.panelAccuracy)]
                    + judges.map { f(p.judges[$0] ?? nil) }).joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}
