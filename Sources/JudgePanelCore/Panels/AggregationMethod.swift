/// How the panel combines its judges' verdicts.
public enum AggregationMethod: String, Sendable, Codable, CaseIterable {
    case majority, mean, median, weighted
    case dawidSkene = "dawid-skene"
}
