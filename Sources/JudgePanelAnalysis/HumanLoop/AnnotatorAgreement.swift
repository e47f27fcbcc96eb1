import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgeStats

/// Agreement of the humans of a labels file: among themselves on the items two or more of them labelled (Fleiss κ,
/// Krippendorff α, pairwise Cohen κ — `meta`'s `human` section, computed by the same code), and each annotator with
/// the panel's verdicts.
public struct AnnotatorAgreement: Sendable, Hashable, Codable {
    /// One annotator against the panel.
    public struct WithPanel: Sendable, Hashable, Codable {
        /// The annotator.
        public var annotator: String
        /// Items the annotator labelled on which the panel gave a verdict.
        public var n: Int
        /// The share of those items where the panel's verdict equals the annotator's label.
        public var agreement: MetricValue
        /// Cohen κ between the annotator's labels and the panel's verdicts (over A / B / tie).
        public var cohenKappa: MetricValue

        enum CodingKeys: String, CodingKey {
            case annotator, n, agreement
            case cohenKappa = "cohen_kappa"
        }
    }

    /// Among the annotators (nil with fewer than two annotators).
    public var human: HumanAgreement?
    /// Each annotator against the panel, by name.
    public var withPanel: [WithPanel]

    enum CodingKeys: String, CodingKey {
        case human
        case withPanel = "with_panel"
    }

    /// Computes both sections.
    ///
    /// - Parameters:
    ///   - items: the run's items (their own labels are ignored: the labels file is the human side).
    ///   - labels: the human labels.
    ///   - panel: the panel's verdict per item id (pairwise).
    public static func compute(
        items: [Item], labels: LabelSet, panel: [String: Preference?], options: MetaAnalysis.Options = .init()
    ) -> AnnotatorAgreement {
        let applied = labels.applied(to: items).filter { !$0.labels.isEmpty }
        let human = MetaAnalysis(options: options).human(items: ItemColumns(applied, clusterKey: nil), kind: .pairwise)
        var per: [String: ([String], [String])] = [:]
        for r in labels.records {
            guard let p = r.label.preference, let v = panel[r.item] ?? nil else { continue }
            per[r.annotator, default: ([], [])].0.append(p.rawValue)
            per[r.annotator, default: ([], [])].1.append(v.rawValue)
        }
        let annotators = Set(labels.records.map(\.annotator)).sorted()
        let with = annotators.map { a -> WithPanel in
            let (h, p) = per[a] ?? ([], [])
            guard !h.isEmpty else {
                return WithPanel(
                    annotator: a, n: 0, agreement: .undefined("no labelled item with a panel verdict"),
                    cohenKappa: .undefined("no labelled item with a panel verdict"))
            }
            let hits = zip(h, p).filter { $0 == $1 }.count
            return WithPanel(
                annotator: a, n: h.count, agreement: .defined(Double(hits) / Double(h.count)),
                cohenKappa: cohenKappa(h, p, labels: Preference.allCases.map(\.rawValue).sorted()))
        }
        return AnnotatorAgreement(human: human, withPanel: with)
    }
}
