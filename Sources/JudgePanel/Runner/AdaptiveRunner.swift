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
/// judges heard. Pointwise and checklist rubrics run the full panel.
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

    var flip: FlipPolicy { options.flip ?? panel.flip }
    var method: AggregationMethod { options.aggregate ?? panel.aggregate }
    var weights: [String: Double] { Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) }) }

    /// Judges all items adaptively (items concurrently, each item's calls one judge-order at a time).
    public func run(items: [Item], counters: RunCounters? = nil, journal: VoteJournal? = nil) async throws -> Outcome {
        let full = items.enumerated().map { Call.plan(itemIndex: $0, item: $1, rubric: rubric, panel: panel).count }
        let runner = PanelRunner(panel: panel, rubric: rubric, options: options)
        guard rubric.kind == .pairwise else {
            let r = try await runner.run(items: items, journal: journal, counters: counters)
            return Outcome(result: r, callsPerItem: full, fullCallsPerItem: full)
        }
        let clock = ContinuousClock.now
        let counters = counters ?? RunCounters(expected: 0)
        let me = self
        let perItem: [(ItemResult, Int)] = try await runner.withRuntimes(counters: counters) { runtimes, executor in
            let totalConcurrency = max(1, runtimes.map(\.config.concurrency).reduce(0, +))
            let window = max(2, totalConcurrency)
            var out = [(ItemResult, Int)?](repeating: nil, count: items.count)
            try await withThrowingTaskGroup(of: (Int, ItemResult, Int).self) { group in
                var inFlight = 0
                for (i, item) in items.enumerated() {
                    if inFlight >= window, let (k, r, c) = try await group.next() {
                        out[k] = (r, c)
                        inFlight -= 1
                    }
                    group.addTask {
                        let (r, c) = try await me.judgeOne(
                            index: i, item: item, runtimes: runtimes, executor: executor, journal: journal)
                        return (i, r, c)
                    }
                    inFlight += 1
                }
                while let (k, r, c) = try await group.next() { out[k] = (r, c) }
            }
            return out.map { $0! }
        }
        var results = perItem.map(\.0)
        if method == .dawidSkene {
            results = Aggregator(method: method, weights: weights).dawidSkene(results, kind: rubric.kind)
        }
        let elapsed = ContinuousClock.now - clock
        let result = RunResult(
            items: items, results: results, counters: counters.snapshot,
            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return Outcome(result: result, callsPerItem: perItem.map(\.1), fullCallsPerItem: full)
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

    private func judgeOne(
        index: Int, item: Item, runtimes: [JudgeRuntime], executor: CallExecutor, journal: VoteJournal?
    ) async throws -> (ItemResult, Int) {
        let n = panel.judges.count
        let w = panel.judges.map { method == .weighted ? $0.weight : 1 }
        var ab = [[Vote]?](repeating: nil, count: n)
        var ba = [[Vote]?](repeating: nil, count: n)
        var calls = 0
        let checklist = options.checklists[item.id]

        func ask(_ j: Int, _ order: Order) async throws -> [Vote] {
            let rt = runtimes[j]
            let samples = (0..<panel.judges[j].samples).map { Call(item: index, judge: j, order: order, sample: $0) }
            calls += samples.count
            return try await withThrowingTaskGroup(of: (Int, Vote).self) { group in
                for (s, call) in samples.enumerated() {
                    group.addTask {
                        let v = try await executor.executeBounded(
                            call: call, item: item, judge: rt, checklist: checklist, journal: journal)
                        return (s, v)
                    }
                }
                var out = [Vote?](repeating: nil, count: samples.count)
                for try await (s, v) in group { out[s] = v }
                return out.map { $0! }
            }
        }

        while true {
            let exact = (0..<n).map { Self.possible(ab: ab[$0], ba: ba[$0], swap: panel.swap, flip: flip) }
            if Self.decided(exact, weights: w) != nil { break }
            // Phase 1 view: first-order answers at face value.
            let optimistic = (0..<n).map { j -> Set<String> in
                guard let a = ab[j], ba[j] == nil, panel.swap else { return exact[j] }
                let x = Reconcile.majority(a.filter(\.isOK).compactMap(\.verdict))
                return x.map { [$0.rawValue] } ?? exact[j]
            }
            let unasked = (0..<n).first { ab[$0] == nil }
            if Self.decided(optimistic, weights: w) == nil, let j = unasked {
                ab[j] = try await ask(j, .ab)
                continue
            }
            if panel.swap {
                let pending = (0..<n).filter { ab[$0] != nil && ba[$0] == nil }
                if !pending.isEmpty {
                    // The leading bloc first: the judges whose flip could cost the leader its majority.
                    var tally: [String: Double] = [:]
                    for j in 0..<n where optimistic[j].count == 1 { tally[optimistic[j].first!, default: 0] += w[j] }
                    let leader = tally.filter { $0.key != "-" }.max { $0.value < $1.value }?.key
                    let j = pending.first { optimistic[$0] == [leader ?? ""] } ?? pending[0]
                    ba[j] = try await ask(j, .ba)
                    continue
                }
            }
            if let j = unasked {
                ab[j] = try await ask(j, .ab)
                continue
            }
            break
        }

        var votes: [Vote] = []
        var perJudge: [String: JudgeVerdict] = [:]
        var heard: [(name: String, verdict: JudgeVerdict)] = []
        for (j, judge) in panel.judges.enumerated() where ab[j] != nil {
            let vs = (ab[j] ?? []) + (ba[j] ?? [])
            votes += vs
            let jv = Reconcile.judge(vs, kind: .pairwise, flip: flip)
            perJudge[judge.name] = jv
            heard.append((judge.name, jv))
        }
        let verdict = Aggregator(method: method, weights: weights).aggregate(item: item.id, judges: heard, kind: .pairwise)
        return (ItemResult(index: index, item: item, votes: votes, judgeVerdicts: perJudge, verdict: verdict), calls)
    }
}

/// The adaptive panel against the full panel: `adaptive` in report.json of `score --adaptive`.
public struct AdaptiveSummary: Sendable, Hashable, Codable {
    public var items: Int
    /// Calls the adaptive panel made, and the full panel's planned calls.
    public var calls: Int
    public var fullCalls: Int
    /// 1 − calls / full_calls.
    public var savedShare: Double?
    /// Items decided before every call was made.
    public var itemsStoppedEarly: Int
    /// Share of items whose adaptive verdict equals the full panel's.
    public var agreementWithFull: MetricValue?
    /// Labelled items and each panel's agreement with the human label there (an abstention is a miss).
    public var nLabelled: Int
    public var accuracy: MetricValue?
    public var fullAccuracy: MetricValue?

    enum CodingKeys: String, CodingKey {
        case items, calls
        case fullCalls = "full_calls"
        case savedShare = "saved_share"
        case itemsStoppedEarly = "items_stopped_early"
        case agreementWithFull = "agreement_with_full"
        case nLabelled = "n_labelled"
        case accuracy
        case fullAccuracy = "full_accuracy"
    }

    /// Compares an adaptive run with the full panel's verdicts (same items, same order).
    public init(adaptive: AdaptiveRunner.Outcome, full: [Verdict]?, items: [Item]) {
        self.items = items.count
        calls = adaptive.calls
        fullCalls = adaptive.fullCalls
        savedShare = fullCalls > 0 ? 1 - Double(calls) / Double(fullCalls) : nil
        itemsStoppedEarly = zip(adaptive.callsPerItem, adaptive.fullCallsPerItem).filter { $0 < $1 }.count
        let mine = adaptive.result.verdicts
        if let full, full.count == mine.count, !mine.isEmpty {
            let same = zip(mine, full).filter { $0.verdict == $1.verdict && $0.score == $1.score }.count
            agreementWithFull = .defined(Double(same) / Double(mine.count))
        }
        let labelled = items.indices.filter { MetaAnalysis.consensus(items[$0])?.preference != nil }
        nLabelled = labelled.count
        func acc(_ vs: [Verdict]) -> MetricValue {
            guard !labelled.isEmpty else { return .undefined("no labelled items") }
            let hits = labelled.filter { vs[$0].verdict != nil && vs[$0].verdict == MetaAnalysis.consensus(items[$0])?.preference }
            return .defined(Double(hits.count) / Double(labelled.count))
        }
        if !labelled.isEmpty {
            accuracy = acc(mine)
            if let full, full.count == mine.count { fullAccuracy = acc(full) }
        }
    }

    /// One line for the terminal.
    public var text: String {
        func f(_ m: MetricValue?) -> String { m?.value.map { String(format: "%.3f", $0) } ?? "n/a" }
        return String(
            format: "adaptive panel: %d calls vs %d for the full panel (%.1f%% saved; %d/%d items stopped early); verdicts equal to the full panel's on %@ of items; accuracy vs humans on %d labelled items: adaptive %@, full %@",
            calls, fullCalls, (savedShare ?? 0) * 100, itemsStoppedEarly, items, f(agreementWithFull), nLabelled,
            f(accuracy), f(fullAccuracy))
    }
}

extension ScoreJob {
    /// `score --adaptive`: runs the adaptive panel, then the full panel (the response cache makes the calls the
    /// adaptive run already made free), writes the full run's directory as usual plus `adaptive-votes.jsonl` and
    /// `adaptive-verdicts.jsonl`, and adds the comparison under `adaptive` in report.json and report.md.
    public func runAdaptive(outDir: String, resume: Bool = false, resumeChanged: Bool = false, counters: RunCounters? = nil) async throws -> (
        outcome: Outcome, summary: AdaptiveSummary
    ) {
        let lock = try RunLock.acquire(dir: outDir, command: resume ? "score --adaptive --resume" : "score --adaptive")
        defer { lock.release() }
        let adaptive = try await AdaptiveRunner(panel: panel, rubric: rubric, options: options).run(items: items)
        var outcome = try await run(outDir: outDir, resume: resume, resumeChanged: resumeChanged, counters: counters)
        let summary = AdaptiveSummary(adaptive: adaptive, full: outcome.result.verdicts, items: items)
        outcome.report.adaptive = summary
        if case .object(var o) = outcome.reportJSON {
            o["adaptive"] = try RecordEncoding.value(summary, record: "the adaptive summary")
            outcome.reportJSON = .object(o)
        }
        let dir = RunDirectory(path: outDir)
        try dir.write(
            "adaptive-votes.jsonl", try adaptive.result.votes.map(VotesFile.line).map { $0 + "\n" }.joined())
        try dir.write("adaptive-verdicts.jsonl", try adaptive.result.verdicts.map(VerdictsFile.line).map { $0 + "\n" }.joined())
        try dir.writeJSON("report.json", outcome.reportJSON)
        let mdPath = dir.url.appendingPathComponent("report.md").path
        let md: String
        do {
            md = try String(contentsOfFile: mdPath, encoding: .utf8)
        } catch {
            throw JudgePanelError.io("cannot read: \(error.localizedDescription)", file: mdPath)
        }
        try dir.write("report.md", md + "\n## Adaptive panel\n\n" + summary.text + "\n")
        return (outcome, summary)
    }
}
