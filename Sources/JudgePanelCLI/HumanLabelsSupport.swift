import Foundation
import JudgePanel
import JudgeStats

/// `--labels FILE` (repeatable) on meta, rank and plan: the labels files' human labels replace the items' own.
struct HumanLabels {
    var set: LabelSet
    /// The items with the labels applied (an item without a record is unlabelled).
    var items: [Item]
    /// p_select per labelled item.
    var pSelect: [String: Double]

    /// Whether items are pairwise (labels are A/B/tie).
    static func pairwise(_ items: [Item]) -> Bool {
        items.contains { $0.responseA != nil || $0.responseB != nil || $0.modelA != nil }
    }

    /// Reads the labels files against the items; nil without `--labels`.
    static func read(_ paths: [String], itemsPath: String, loader: ItemLoader) throws -> HumanLabels? {
        guard !paths.isEmpty else { return nil }
        let loaded = try loader.load(path: itemsPath)
        return try read(paths, items: loaded)
    }

    static func read(_ paths: [String], items loaded: [Item]) throws -> HumanLabels? {
        guard !paths.isEmpty else { return nil }
        let pairwise = pairwise(loaded)
        var all: [LabelRecord] = []
        for path in paths {
            let records = try LabelsFile.read(path: path, pairwise: pairwise)
            let unknown = LabelSet(records).unknownItems(among: loaded)
            if !unknown.isEmpty {
                throw JudgePanelError.badInput(
                    "\(unknown.count) labelled items are not in the items file (first: \(unknown[0])): a labels file of another run?",
                    file: path)
            }
            all += records
        }
        let set = LabelSet(all)
        var p: [String: Double] = [:]
        for id in set.itemIDs { p[id] = set.pSelect(for: id) }
        return HumanLabels(set: set, items: set.applied(to: loaded), pSelect: p)
    }
}
