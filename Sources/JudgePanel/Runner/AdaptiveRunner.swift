import Foundation
import JudgeStats

/// An adaptive panel for pairwise rubrics: it calls judges one at a time, in panel order, and stops as soon as
/// the judges not yet heard (and the swapped orders not yet asked) can no longer change the panel's strict
/// majority.
///
/// Per item:
/// 1. **Phase 1 (first order only).** Ask each judge the dataset order (`AB`) in panel order until the majority
///    of the answers so far — taking each `AB` answer at face value — cannot be overturned by the judges not
///    yet asked.
/// 2. **Phase 2 (swap where it matters).** Ask the swapped order (`BA`) of the judges whose `AB` vote is in the
///    leading bloc (then the others), one at a time, until the majority is decided *allowing for flips*: a judge
///    whose `BA` is pending may still become a tie (`flip: tie`) or abstain (`flip: abstain`). If flips overturn
///    the lead, go back to phase 1 with the next judge.
///
/// "Decided" is exact: the leader's guaranteed weight (judges whose final verdict can only be the leader)
/// exceeds every other verdict's largest possible weight. So with `majority` (or `weighted`, using the panel
/// weights) and deterministic judges, the adaptive verdict always equals the full panel's; when nothing can be
/// decided early every call is made. Other aggregation methods use the same stopping rule and aggregate the
/// judges heard. Pointwise rubrics and single-response checklist items stop by ``ScoreStopping`` (`adaptive:` in
/// the panel file).
///
/// The rule runs inside ``PanelRunner`` (``RunOptions/policy`` `= .adaptive`), so an adaptive run journals,
/// resumes and caches like a full one; `score --adaptive` is
/// ``ScoreJob/run(outDir:resume:resumeChanged:counters:retainResults:)`` with that policy, and `judgepanel plan`
/// replays the same rule over recorded votes.
public struct AdaptiveRunner: Sendable {
    public let panel: Panel
    public let rubric: Rubric
    public let options: RunOptions

    public init(panel: Panel, rubric: Rubric, options: RunOptions = RunOptions()) {
        self.panel = panel
        self.rubric = rubric
        self.options = options
    }

    /// What an adaptive run produced: the results (votes of the calls made only) and the call counts.
    public struct Outcome: Sendable {
        public var result: RunResult
        /// Calls made per item, in item order.
        public var callsPerItem: [Int]
        /// Calls the full panel would make per item.
        public var fullCallsPerItem: [Int]
        public var calls: Int { callsPerItem.reduce(0, +) }
        public var fullCalls: Int { fullCallsPerItem.reduce(0, +) }
    }

    /// Judges all items adaptively (items concurrently, each item's calls one judge-order at a time), with an
    /// optional journal (every call appended as it finishes) and `completed` votes of a journal being resumed.
    public func run(
        items: [Item], counters: RunCounters? = nil, journal: VoteJournal? = nil, completed: [String: Vote] = [:]
    ) async throws -> Outcome {
        var options = options
        options.policy = .adaptive
        let result = try await PanelRunner(panel: panel, rubric: rubric, options: options)
            .run(items: items, journal: journal, completed: completed, counters: counters)
        let full = items.enumerated().map { Call.plan(itemIndex: $0, item: $1, rubric: rubric, panel: panel).count }
        return Outcome(result: result, callsPerItem: result.results.map(\.votes.count), fullCallsPerItem: full)
    }

    // MARK: - The stopping rule

    /// A judge's possible final verdicts ("A", "B", "tie", or "-" for abstaining) given what has been asked.
    public static func possible(ab: [Vote]?, ba: [Vote]?, swap: Bool, flip: FlipPolicy) -> Set<String> {
        let all: Set<String> = ["A", "B", "tie", "-"]
        func key(_ p: Preference?) -> String { p?.rawValue ?? "-" }
        guard let ab else { return all }
        if !swap || ba != nil {
            return [key(Reconcile.judge(ab + (ba ?? []), kind: .pairwise, flip: flip).verdict)]
        }
        guard let x = Reconcile.majority(ab.filter(\.isOK).compactMap(\.verdict)) else { return all }
        let flipped = flip == .tie ? "tie" : "-"
        return [key(x), x == .tie && flip == .tie ? "tie" : flipped]
    }

    /// The verdict no remaining answer can change, if any: its guaranteed weight beats every rival's maximum.
    public static func decided(_ sets: [Set<String>], weights: [Double]) -> String? {
        for p in ["A", "B", "tie"] {
            let guaranteed = zip(sets, weights).filter { $0.0 == [p] }.map(\.1).reduce(0, +)
            guard guaranteed > 0 else { continue }
            let beaten = ["A", "B", "tie"].filter { $0 != p }.allSatisfy { q in
                zip(sets, weights).filter { $0.0.contains(q) }.map(\.1).reduce(0, +) < guaranteed - 1e-12
            }
            if beaten { return p }
        }
        return nil
    }
}

/// What a scheduled run saved: `adaptive` in report.json of `score --adaptive` (and `--cascade`): the calls
/// made against the calls the full panel would make, and the run's agreement with humans. Comparing with the
/// full panel's verdicts needs the full panel's votes: `judgepanel plan` replays them offline.
public struct AdaptiveSummary: Sendable, Hashable, Codable {
    /// The policy that chose the calls (`adaptive` or `cascade`); nil in summaries from older runs.
    public var policy: CallPolicy?
    public var items: Int
    /// Calls the run's policy made (votes, including those reused from a resumed journal), and the full
    /// panel's planned calls.
    public var calls: Int
    public var fullCalls: Int
    /// 1 − calls / full_calls.
    public var savedShare: Double?
    /// Items decided before every call was made.
    public var itemsStoppedEarly: Int
    /// Requests sent to providers by this process (cache hits and journal reuse excluded).
    public var httpCalls: Int?
    /// Share of items whose verdict equals the full panel's (only when the full panel's verdicts are given).
    public var agreementWithFull: MetricValue?
    /// Labelled items and the agreement with the human label there (an abstention is a miss).
    public var nLabelled: Int
    public var accuracy: MetricValue?
    public var fullAccuracy: MetricValue?
    /// Cascade runs: per tier, the items it decided and their agreement with humans.
    public var tiers: [TierSummary]?

    enum CodingKeys: String, CodingKey {
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
        public var tier: Int
        public var judges: [String]
        /// Items whose verdict this tier gave (the last tier each item reached).
        public var itemsDecided: Int
        /// Calls made to this tier's judges.
        public var calls: Int
        /// Labelled items among those decided here, and the tier's agreement with humans on them.
        public var nLabelled: Int
        public var accuracy: MetricValue?

        enum CodingKeys: String, CodingKey {
            case tier, judges
            case itemsDecided = "items_decided"
            case calls
            case nLabelled = "n_labelled"
            case accuracy
        }
    }

    /// Compares an adaptive run with the full panel's verdicts (same items, same order).
    public init(adaptive: AdaptiveRunner.Outcome, full: [Verdict]?, items: [Item]) {
        self.init(
            policy: .adaptive, verdicts: adaptive.result.verdicts, callsPerItem: adaptive.callsPerItem,
            fullCallsPerItem: adaptive.fullCallsPerItem, items: items)
        httpCalls = adaptive.result.counters.httpCalls
        let mine = adaptive.result.verdicts
        if let full, full.count == mine.count, !mine.isEmpty {
            let same = zip(mine, full).filter { $0.verdict == $1.verdict && $0.score == $1.score }.count
            agreementWithFull = .defined(Double(same) / Double(mine.count))
            if nLabelled > 0 { fullAccuracy = Self.accuracy(full, items: items, among: Array(items.indices)) }
        }
    }

    /// The summary of a run under `policy` (its votes per item are its calls).
    init(policy: CallPolicy, verdicts: [Verdict], callsPerItem: [Int], fullCallsPerItem: [Int], items: [Item]) {
        self.policy = policy
        self.items = items.count
        calls = callsPerItem.reduce(0, +)
        fullCalls = fullCallsPerItem.reduce(0, +)
        savedShare = fullCalls > 0 ? 1 - Double(calls) / Double(fullCalls) : nil
        itemsStoppedEarly = zip(callsPerItem, fullCallsPerItem).filter { $0 < $1 }.count
        nLabelled = items.filter { MetaAnalysis.consensus($0)?.preference != nil }.count
        if nLabelled > 0 { accuracy = Self.accuracy(verdicts, items: items, among: Array(items.indices)) }
    }

    /// Share of the labelled items among `among` whose verdict equals the consensus label.
    static func accuracy(_ vs: [Verdict], items: [Item], among: [Int]) -> MetricValue {
        let labelled = among.filter { MetaAnalysis.consensus(items[$0])?.preference != nil }
        guard !labelled.isEmpty else { return .undefined("no labelled items") }
        let hits = labelled.filter { vs[$0].verdict != nil && vs[$0].verdict == MetaAnalysis.consensus(items[$0])?.preference }
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

extension ScoreJob {
    /// The summary of a scheduled run (nil for the full panel): calls made against the full panel's, and for a
    /// cascade the work and human agreement of each tier.
    func policySummary(_ result: RunResult) -> AdaptiveSummary? {
        guard options.policy != .full else { return nil }
        let full = items.enumerated().map { Call.plan(itemIndex: $0, item: $1, rubric: rubric, panel: panel).count }
        var s = AdaptiveSummary(
            policy: options.policy, verdicts: result.verdicts, callsPerItem: result.results.map(\.votes.count),
            fullCallsPerItem: full, items: items)
        s.httpCalls = result.counters.httpCalls
        if options.policy == .cascade, rubric.kind == .pairwise {
            let rule = CascadeRule(panel: panel, method: analysis.aggregate, flip: analysis.flip)
            let tierOf = Dictionary(
                rule.tiers.enumerated().flatMap { t, js in js.map { (panel.judges[$0].name, t) } }, uniquingKeysWith: { a, _ in a })
            var decided = [[Int]](repeating: [], count: rule.tiers.count)
            var calls = [Int](repeating: 0, count: rule.tiers.count)
            for (i, r) in result.results.enumerated() {
                let reached = r.votes.compactMap { tierOf[$0.judge] }
                for t in reached { calls[t] += 1 }
                if let last = reached.max() { decided[last].append(i) }
            }
            s.tiers = rule.tiers.indices.map { t in
                let labelled = decided[t].filter { MetaAnalysis.consensus(items[$0])?.preference != nil }.count
                return AdaptiveSummary.TierSummary(
                    tier: t + 1, judges: rule.tiers[t].map { panel.judges[$0].name }, itemsDecided: decided[t].count,
                    calls: calls[t], nLabelled: labelled,
                    accuracy: labelled > 0 ? AdaptiveSummary.accuracy(result.verdicts, items: items, among: decided[t]) : nil)
            }
        }
        return s
    }

    /// Adds the policy summary to a scheduled run's report; a cascade's panel metrics are recomputed from the
    /// run's verdicts (each item's deciding tier), which the votes alone do not tell.
    func applyPolicy(_ report: inout MetaReport, result: RunResult) {
        report.adaptive = policySummary(result)
        if let s = report.adaptive, s.calls < s.fullCalls {
            report.notes = (report.notes ?? []) + [
                "\(s.policy?.rawValue ?? "adaptive") run: judges were asked only where the policy needed them, so per-judge rows "
                    + "count unasked items as abstentions; compare judges on a full run's votes with `judgepanel plan`"
            ]
        }
        guard options.policy == .cascade, let old = report.panel else { return }
        let meta = MetaAnalysis(options: analysis)
        var p = meta.metrics(
            name: "panel", predictions: result.verdicts.map { JudgeVerdict(verdict: $0.verdict, score: $0.score) },
            labels: items.map(MetaAnalysis.consensus), kind: MetaAnalysis.labelKind(items),
            clusters: MetaAnalysis.clusters(items, key: analysis.clusterKey), protocolKind: rubric.kind)
        p.calls = old.calls
        p.costUSD = old.costUSD
        report.panel = p
    }

    /// `score --adaptive`: ``run(outDir:resume:resumeChanged:counters:retainResults:)`` with the adaptive policy — only the calls the
    /// stopping rule needs are made, journaled and resumable like any run; `adaptive` in report.json says how
    /// many calls the full panel would have made.
    public func runAdaptive(
        outDir: String, resume: Bool = false, resumeChanged: Bool = false, counters: RunCounters? = nil
    ) async throws -> (
        outcome: Outcome, summary: AdaptiveSummary
    ) {
        var job = self
        job.options.policy = .adaptive
        let outcome = try await job.run(outDir: outDir, resume: resume, resumeChanged: resumeChanged, counters: counters)
        guard let summary = outcome.report.adaptive else {
            throw JudgePanelError.io("the adaptive run wrote no summary", file: outDir)
        }
        return (outcome, summary)
    }
}
