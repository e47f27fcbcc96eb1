import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging

/// One perturbed item: a line of `perturbations.jsonl`.
package struct PerturbationRecord: Sendable, Hashable, Codable {
    package var item: String
    package var probe: String
    /// `A`, `B`, or `response` for a single-response item.
    package var target: String
    /// The changed fields as shown in the dataset's order (the target in its own slot).
    package var fields: [String: String]
    /// The changed fields for the swapped presentation, where they differ (texts that name a slot).
    package var fieldsSwapped: [String: String]?

    package enum CodingKeys: String, CodingKey {
        case item, probe, target, fields
        case fieldsSwapped = "fields_swapped"
    }

    /// A value from its parts.
    package init(
        item: String, probe: String, target: String, fields: [String: String], fieldsSwapped: [String: String]? = nil
    ) {
        self.item = item
        self.probe = probe
        self.target = target
        self.fields = fields
        self.fieldsSwapped = fieldsSwapped
    }
}
