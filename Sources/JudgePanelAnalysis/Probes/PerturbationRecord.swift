import Foundation

/// One perturbed item: a line of `perturbations.jsonl`.
public struct PerturbationRecord: Sendable, Hashable, Codable {
    public var item: String
    public var probe: String
    /// `A`, `B`, or `response` for a single-response item.
    public var target: String
    /// The changed fields as shown in the dataset's order (the target in its own slot).
    public var fields: [String: String]
    /// The changed fields for the swapped presentation, where they differ (texts that name a slot).
    public var fieldsSwapped: [String: String]?

    package enum CodingKeys: String, CodingKey {
        case item, probe, target, fields
        case fieldsSwapped = "fields_swapped"
    }

    /// A value from its parts.
    package init(item: String, probe: String, target: String, fields: [String: String], fieldsSwapped: [String: String]? = nil) {
        self.item = item
        self.probe = probe
        self.target = target
        self.fields = fields
        self.fieldsSwapped = fieldsSwapped
    }
}
