import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// What a scheduled run saved: `adaptive` in report.json of `score --adaptive` (and `--cascade`): the calls
/// made against the calls the full panel would make, and the run's agreement with humans. Comparing with the
/// full panel's verdicts needs the full panel's votes: `judgepanel plan` replays them offline.
public struct AdaptiveSummary: Sendable, Hashable, Codable {
    /// The policy that chose the calls (`adaptive` or `cascade`); nil in summaries from older runs.
    public package(set) var policy: CallPolicy?
    /// Items in the run.
    public package(set) var items: Int
    /// Calls the run's policy made (votes, including those reused from a resumed journal), and the full
    /// panel's planned calls.
    public package(set) var calls: Int
    /// Calls the full panel would make.
    public package(set) var fullCalls: Int
    /// 1 − calls / full_calls.
    public package(set) var savedShare: Double?
    /// Items decided before every call was made.
    public package(set) var itemsStoppedEarly: Int
    /// Requests sent to providers by this process (cache hits and journal reuse excluded).
    public package(set) var httpCalls: Int?
    /// Share of items whose verdict equals the full panel's (only when the full panel's verdicts are given).
    public package(set) var agreementWithFull: MetricValue?
    /// Labelled items and the agreement with the human label there (an abstention is a miss).
    public package(set) var nLabelled: Int
    /// Agreement with the human label (`accuracy`).
    public package(set) var accuracy: MetricValue?
    /// The full panel's agreement with the human label (`full_accuracy`).
    public package(set) var fullAccuracy: MetricValue?
    /// Cascade runs: per tier, the items it decided and their agreement with humans.
    public package(set) var tiers: [TierSummary]?

    package enum CodingKeys: String, CodingKey {
        case policy, items, calls
        case fullCalls = "full_calls"
        case savedShare = "saved_share"
        case itemsStoppedEarly = "items_stopped_early"
        case httpCalls = "http_calls"
        case agreementWithFull = "agreement_with_full"
        case nLabelled = "n_labelled"
        case accuracy
        case fullAccuracy = "full_accuracy"
        case tiers
    }

    /// One cascade tier's share of the work.
    public struct TierSummary: Sendable, Hashable, Codable {
        /// 1 for the cheapest tier.
        public package(set) var tier: Int
        /// The tier's judges.
        public package(set) var judges: [String]
        /// Items whose verdict this tier gave (the last tier each item reached).
        public package(set) var itemsDecided: Int
        /// Calls made to this tier's judges.
        public package(set) var calls: Int
        /// Labelled items among those decided here, and the tier's agreement with humans on them.
        public package(set) var nLabelled: Int
        /// The tier's agreement with the human label on the items it decided.
        public package(set) var accuracy: MetricValue?

        package enum CodingKeys: String, CodingKey {
            case tier, judges
            case itemsDecided = "items_decided"
            case calls
            case nLabelled = "n_labelled"
            case accuracy
        }

        /// A value from its parts.
        package init(
            tier: Int, judges: [String], itemsDecided: Int, calls: Int, nLabelled: Int, accuracy: MetricValue? = nil
        ) {
            self.tier = tier
            self.judges = judges
            self.itemsDecided = itemsDecided
            self.calls = calls
            self.nLabelled = nLabelled
            self.accuracy = accuracy
        }
    }

    /// The summary of a run under `policy` (its votes per item are its calls).
    package init(policy: CallPolicy, verdicts: [Verdict], callsPerItem: [Int], fullCallsPerItem: [Int], items: [Item]) {
        self.policy = policy
        self.items = items.count
        calls = callsPerItem.reduce(0, +)
        fullCalls = fullCallsPerItem.reduce(0, +)
        savedShare = fullCalls > 0 ? 1 - Double(calls) / Double(fullCalls) : nil
        itemsStoppedEarly = zip(callsPerItem, fullCallsPerItem).filter { $0 < $1 }.count
        nLabelled = items.filter { $0.consensus?.preference != nil }.count
        if nLabelled > 0 { accuracy = Self.accuracy(verdicts, items: items, among: Array(items.indices)) }
    }

    /// Share of the labelled items among `among` whose verdict equals the consensus label.
    package static func accuracy(_ vs: [Verdict], items: [Item], among: [Int]) -> MetricValue {
        let labelled = among.filter { items[$0].consensus?.preference != nil }
        guard !labelled.isEmpty else { return .undefined("no labelled items") }
        let hits = labelled.filter { vs[$0].verdict != nil && vs[$0].verdict == items[$0].consensus?.preference }
        return .defined(Double(hits.count) / Double(labelled.count))
    }

    /// The terminal (and report.md) lines.
    public var text: String {
        func f(_ m: MetricValue?) -> String { m?.value.map { String(format: "%.3f", $0) } ?? "n/a" }
        var line = String(
            format: "%@: %d calls vs %d for the full panel (%.1f%% saved; %d/%d items stopped early)",
            policy == .cascade ? "cascade" : "adaptive panel", calls, fullCalls, (savedShare ?? 0) * 100,
            itemsStoppedEarly, items)
        if let httpCalls { line += "; \(httpCalls) HTTP requests" }
        if let agreementWithFull { line += "; verdicts equal to the full panel's on \(f(agreementWithFull)) of items" }
        if nLabelled > 0 {
            line += "; accuracy vs humans on \(nLabelled) labelled items: \(f(accuracy))"
            if fullAccuracy != nil { line += ", full panel \(f(fullAccuracy))" }
        }
        var lines = [line]
        for t in tiers ?? [] {
            lines.append(
                "  tier \(t.tier) (\(t.judges.joined(separator: ", "))): decided \(t.itemsDecided) items with \(t.calls) calls; "
                    + "accuracy vs humans \(f(t.accuracy)) on \(t.nLabelled) labelled")
        }
        return lines.joined(separator: "\n")
    }
}
