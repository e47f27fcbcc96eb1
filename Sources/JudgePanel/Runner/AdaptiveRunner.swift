import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
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
/// judges heard. Pointwise rubrics and single-response checklist items stop by ``/JudgePanelCore/ScoreStopping`` (`adaptive:` in
/// the panel file).
///
/// The rule runs inside ``PanelRunner`` (``RunOptions/policy`` `= .adaptive`), so an adaptive run journals,
/// resumes and caches like a full one; `score --adaptive` is
/// ``ScoreJob/run(outDir:resume:resumeChanged:counters:retainResults:)`` with that policy, and `judgepanel plan`
/// replays the same rule over recorded votes.
package struct AdaptiveRunner: Sendable {
    package let panel: Panel
    package let rubric: Rubric
    package let options: RunOptions

    package init(panel: Panel, rubric: Rubric, options: RunOptions = RunOptions()) {
        self.panel = panel
        self.rubric = rubric
        self.options = options
    }

    /// What an adaptive run produced: the results (votes of the calls made only) and the call counts.
    package struct Outcome: Sendable {
        package var result: RunResult
        /// Calls made per item, in item order.
        package var callsPerItem: [Int]
        /// Calls the full panel would make per item.
        package var fullCallsPerItem: [Int]
        package var calls: Int { callsPerItem.reduce(0, +) }
        package var fullCalls: Int { fullCallsPerItem.reduce(0, +) }
    }

    /// Judges all items adaptively (items concurrently, each item's calls one judge-order at a time), with an
    /// optional journal (every call appended as it finishes) and `completed` votes of a journal being resumed.
    package func run(
        items: [Item], counters: RunCounters? = nil, journal: VoteJournal? = nil, completed: [String: Vote] = [:]
    ) async throws -> Outcome {
        var options = options
        options.policy = .adaptive
        let result = try await PanelRunner(panel: panel, rubric: rubric, options: options)
            .run(items: items, journal: journal, completed: completed, counters: counters)
        let full = items.enumerated().map { Call.plan(itemIndex: $0, item: $1, rubric: rubric, panel: panel).count }
        return Outcome(result: result, callsPerItem: result.results.map(\.votes.count), fullCallsPerItem: full)
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
                rule.tiers.enumerated().flatMap { t, js in js.map { (panel.judges[$0].name, t) } },
                uniquingKeysWith: { a, _ in a })
            var decided = [[Int]](repeating: [], count: rule.tiers.count)
            var calls = [Int](repeating: 0, count: rule.tiers.count)
            for (i, r) in result.results.enumerated() {
                let reached = r.votes.compactMap { tierOf[$0.judge] }
                for t in reached { calls[t] += 1 }
                if let last = reached.max() { decided[last].append(i) }
            }
            s.tiers = rule.tiers.indices.map { t in
                let labelled = decided[t].filter { items[$0].consensus?.preference != nil }.count
                return AdaptiveSummary.TierSummary(
                    tier: t + 1, judges: rule.tiers[t].map { panel.judges[$0].name }, itemsDecided: decided[t].count,
                    calls: calls[t], nLabelled: labelled,
                    accuracy: labelled > 0
                        ? AdaptiveSummary.accuracy(result.verdicts, items: items, among: decided[t]) : nil)
            }
        }
        return s
    }

    /// Adds the policy summary to a scheduled run's report; a cascade's panel metrics are recomputed from the
    /// run's verdicts (each item's deciding tier), which the votes alone do not tell.
    func applyPolicy(_ report: inout MetaReport, result: RunResult) {
        report.adaptive = policySummary(result)
        if let s = report.adaptive, s.calls < s.fullCalls {
            report.notes =
                (report.notes ?? []) + [
                    "\(s.policy?.rawValue ?? "adaptive") run: judges were asked only where the policy needed them, so per-judge rows "
                        + "count unasked items as abstentions; compare judges on a full run's votes with `judgepanel plan`"
                ]
        }
        guard options.policy == .cascade, let old = report.panel else { return }
        let meta = MetaAnalysis(options: analysis)
        var p = meta.metrics(
            name: "panel", predictions: result.verdicts.map { JudgeVerdict(verdict: $0.verdict, score: $0.score) },
            labels: items.map(\.consensus), kind: MetaAnalysis.labelKind(items),
            clusters: MetaAnalysis.clusters(items, key: analysis.clusterKey), protocolKind: rubric.kind)
        p.calls = old.calls
        p.costUSD = old.costUSD
        report.panel = p
    }

    /// `score --adaptive`: ``run(outDir:resume:resumeChanged:counters:retainResults:)`` with the adaptive policy — only the calls the
    /// stopping rule needs are made, journaled and resumable like any run; `adaptive` in report.json says how
    /// many calls the full panel would have made.
    package func runAdaptive(
        outDir: String, resume: Bool = false, resumeChanged: Bool = false, counters: RunCounters? = nil
    ) async throws -> (
        outcome: Outcome, summary: AdaptiveSummary
    ) {
        var job = self
        job.options.policy = .adaptive
        let outcome = try await job.run(
            outDir: outDir, resume: resume, resumeChanged: resumeChanged, counters: counters)
        guard let summary = outcome.report.adaptive else {
            throw JudgePanelError.io("the adaptive run wrote no summary", file: outDir)
        }
        return (outcome, summary)
    }
}

extension AdaptiveSummary {
    /// Compares an adaptive run with the full panel's verdicts (same items, same order).
    package init(adaptive: AdaptiveRunner.Outcome, full: [Verdict]?, items: [Item]) {
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
}
