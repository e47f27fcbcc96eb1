import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgeStats

/// Labels by item as compact columns: a tag byte per item (none, A, B, tie, score, category) and a value column
/// (the score, or the category's interned index) allocated only once some item has a score or category label.
/// Reads as a collection of `Label?` (one per item).
package struct LabelColumn: Sendable, RandomAccessCollection {
    /// 0 none, 1 A, 2 B, 3 tie, 4 score, 5 category.
    package private(set) var tags: [UInt8] = []
    package private(set) var values: [Double] = []
    package private(set) var categories: [String] = []
    private var categoryIndex: [String: Int] = [:]

    package var startIndex: Int { 0 }
    package var endIndex: Int { tags.count }

    /// An empty column.
    package init() {}

    /// The column of `labels`.
    package init(_ labels: some Sequence<Label?>) {
        for l in labels { append(l) }
    }

    /// Adds the label of the next item.
    package mutating func append(_ label: Label?) {
        switch label {
        case nil: tags.append(0)
        case .pairwise(let p)?: tags.append(VerdictColumn.preferenceCode(p))
        case .score(let s)?:
            tags.append(4)
            setValue(s)
        case .category(let c)?:
            tags.append(5)
            let k =
                categoryIndex[c]
                ?? {
                    categories.append(c)
                    categoryIndex[c] = categories.count - 1
                    return categories.count - 1
                }()
            setValue(Double(k))
        }
    }

    private mutating func setValue(_ x: Double) {
        if values.count < tags.count { values.append(contentsOf: repeatElement(0, count: tags.count - values.count)) }
        values[tags.count - 1] = x
    }

    /// The label of item `i`.
    package subscript(i: Int) -> Label? {
        switch tags[i] {
        case 0: return nil
        case 4: return .score(values[i])
        case 5: return .category(categories[Int(values[i])])
        case let t: return VerdictColumn.preference(t).map { .pairwise($0) }
        }
    }

    /// The preference of item `i`'s label, when it is a pairwise label.
    package func preference(_ i: Int) -> Preference? { tags[i] <= 3 ? VerdictColumn.preference(tags[i]) : nil }
}

/// An item's annotator labels (kept only for items that have some).
package struct AnnotatedItem: Sendable {
    /// The item's ordinal.
    package var index: Int
    package var labels: [AnnotatorLabel]
}

/// What the analysis reads of a list of items, as per-item columns: ids, the consensus label, annotator labels only
/// where present, the bootstrap cluster (with a cluster key), the compared models (interned pairs) and the counts
/// the report's conventions state. Memory is about 20 bytes an item (the id's string, a label byte, a pair index)
/// instead of an `Item` per item; ``read(path:loader:clusterKey:)`` builds it from an items file line by line, each
/// `Item` dropped once its columns are taken.
package struct ItemColumns: Sendable {
    package var ids: [String] = []
    /// The consensus label per item (`Item.consensus`).
    package var consensus = LabelColumn()
    /// Items with annotator labels, in item order.
    package var annotated: [AnnotatedItem] = []
    /// The bootstrap cluster of every item (``MetaAnalysis/clusters(_:key:)``); nil without a cluster key.
    package var clusters: [Int]?
    /// Per item, the index into ``pairs`` of its compared models (−1: not two distinct models); empty when no item
    /// has two.
    package var modelPairs: [Int32] = []
    /// The distinct (model_a, model_b) pairs, in order of first appearance.
    package var pairs: [(a: String, b: String)] = []
    /// Items with a `label` field, and items without one whose consensus comes from their annotators' labels.
    package var ownLabels = 0
    package var derivedLabels = 0
    /// Kinds of the labels present (`label` and annotators' labels).
    private var kinds: (pairwise: Bool, score: Bool, category: Bool) = (false, false, false)
    private var clusterIDs: [String: Int] = [:]
    private var pairIndex: [String: [String: Int32]] = [:]
    private let clusterKey: String?

    package var count: Int { ids.count }

    /// The kind of the items' labels, as ``MetaAnalysis/labelKind(_:)`` gives it.
    package var labelKind: LabelKind? {
        if kinds.pairwise { return .pairwise }
        if kinds.category { return .category }
        if kinds.score { return .score }
        return nil
    }

    /// Whether some item compares two distinct models (the ranking applies).
    var comparesModels: Bool { !pairs.isEmpty }

    /// Empty columns; `clusterKey` is the `meta` key of the bootstrap clusters.
    package init(clusterKey: String?) {
        self.clusterKey = clusterKey
        if clusterKey != nil { clusters = [] }
    }

    /// The columns of `items`.
    package init(_ items: [Item], clusterKey: String?) {
        self.init(clusterKey: clusterKey)
        ids.reserveCapacity(items.count)
        for item in items { append(item) }
    }

    /// Items known by id only (no labels, models or meta).
    package init(ids: [String]) {
        self.init(clusterKey: nil)
        self.ids = ids
        consensus = LabelColumn(repeatElement(Label?.none, count: ids.count))
    }

    /// Reads an items file line by line with `loader` (its validation and errors: file, line, exit 2), keeping only
    /// the columns.
    ///
    /// - Throws: ``JudgePanelError`` for a bad line or a duplicate id.
    package static func read(
        path: String, loader: ItemLoader, clusterKey: String?, keep: ((Item) -> Bool)? = nil
    ) throws -> ItemColumns {
        var columns = ItemColumns(clusterKey: clusterKey)
        try loader.forEach(path: path) { item in
            if keep?(item) ?? true { columns.append(item) }
        }
        return columns
    }

    /// Adds the next item.
    package mutating func append(_ item: Item) {
        let i = ids.count
        ids.append(item.id)
        consensus.append(item.consensus)
        for l in [item.label].compactMap({ $0 }) + item.labels.map(\.label) {
            switch l {
            case .pairwise: kinds.pairwise = true
            case .score: kinds.score = true
            case .category: kinds.category = true
            }
        }
        if item.label != nil { ownLabels += 1 } else if !item.labels.isEmpty { derivedLabels += 1 }
        if !item.labels.isEmpty { annotated.append(AnnotatedItem(index: i, labels: item.labels)) }
        if let key = clusterKey {
            let v = item.meta[key]?.textValue ?? "\u{0}\(item.id)"
            if let c = clusterIDs[v] {
                clusters!.append(c)
            } else {
                clusterIDs[v] = clusterIDs.count
                clusters!.append(clusterIDs.count - 1)
            }
        }
        if let a = item.modelA, let b = item.modelB, a != b {
            if modelPairs.count < i { modelPairs.append(contentsOf: repeatElement(-1, count: i - modelPairs.count)) }
            let p =
                pairIndex[a]?[b]
                ?? {
                    pairs.append((a, b))
                    pairIndex[a, default: [:]][b] = Int32(pairs.count - 1)
                    return Int32(pairs.count - 1)
                }()
            modelPairs.append(p)
        }
    }

    /// The compared models of item `i` (nil unless it names two distinct models).
    package func models(_ i: Int) -> (a: String, b: String)? {
        guard i < modelPairs.count, modelPairs[i] >= 0 else { return nil }
        return pairs[Int(modelPairs[i])]
    }

    /// Item ordinals by id (the first item of a repeated id).
    package func index() -> [String: Int32] {
        var out: [String: Int32] = [:]
        out.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() where out[id] == nil { out[id] = Int32(i) }
        return out
    }

    /// Whether some item's consensus is a preference.
    package var anyHumanPreference: Bool { consensus.tags.contains { $0 >= 1 && $0 <= 3 } }
}
