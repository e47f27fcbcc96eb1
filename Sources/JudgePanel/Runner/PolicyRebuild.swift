import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// `report DIR` of a scheduled run (adaptive, cascade): config.json records the policy (and a cascade's tiers and
/// escalation rule), and the policy's verdicts and summary are replayed from votes.jsonl with the code the run used
/// (``PanelRunner/itemResult(index:item:votes:aggregating:)``, ``CascadeRule``, ``ScoreJob/applyPolicy(_:result:)``).
extension ScoreJob {
    /// config.json's `policy` object: nil for the full panel.
    var policyConfig: JSONValue? {
        guard options.policy != .full else { return nil }
        var o: [String: JSONValue] = [
            "name": .string(options.policy.rawValue),
            "escalate": [
                "min_share": .number(panel.escalate.minShare), "on_flip": .bool(panel.escalate.onFlip),
                "min_margin": panel.escalate.minMargin.map { .number($0) } ?? .null,
            ],
        ]
        if let tiers = panel.tiers { o["tiers"] = .array(tiers.map { .array($0.map { .string($0) }) }) }
        return .object(o)
    }

    /// The policy outcome of a scheduled run, rebuilt from its config.json and votes.jsonl (nil when config.json
    /// records no policy: a full-panel run). Each item's verdict is that of the judges its policy aggregated (a
    /// cascade: the last tier whose judges were all asked in every order, as in the run); the summary counts the
    /// votes per item against the full panel's plan. The votes are read once and held per item, as the run held
    /// its results.
    ///
    /// - Throws: ``/JudgePanelCore/JudgePanelError`` naming config.json when its policy, panel or analysis cannot be read, or the
    ///   votes file when a line is bad.
    static func rebuiltPolicy(config: RunConfig, items: [Item], votesPath: String, configPath: String) throws
        -> RunReports.PolicyOutcome?
    {
        guard let recorded = config.policy else { return nil }
        func bad(_ key: String) -> JudgePanelError { .badInput("\(key) has an unreadable value", file: configPath) }
        guard let name = recorded["name"]?.stringValue, let policy = CallPolicy(rawValue: name), policy != .full else {
            throw bad("policy.name")
        }
        guard let analysis = try RunReports.analysisOptions(config, file: configPath) else {
            throw JudgePanelError.badInput("no analysis options (written by an older judgepanel)", file: configPath)
        }
        guard let kind = analysis.protocolKind else { throw bad("analysis.protocol") }
        guard let recordedJudges = config.panel?.judges, !recordedJudges.isEmpty else { throw bad("panel.judges") }
        let judges = try recordedJudges.map { j -> JudgeConfig in
            guard !j.name.isEmpty, let samples = j.samples, samples >= 1, let weight = j.weight else {
                throw bad("panel.judges")
            }
            return JudgeConfig(name: j.name, model: j.model ?? j.name, weight: weight, samples: samples)
        }
        guard let swap = config.panel?.swap else { throw bad("panel.swap") }
        var panel = Panel(judges: judges, aggregate: analysis.aggregate, swap: swap, flip: analysis.flip)
        if let tiers = recorded["tiers"] {
            guard let rows = tiers.arrayValue else { throw bad("policy.tiers") }
            panel.tiers = try rows.map { row in
                guard let names = row.arrayValue?.compactMap(\.stringValue), names.count == row.arrayValue?.count else {
                    throw bad("policy.tiers")
                }
                return names
            }
        }
        if let e = recorded["escalate"] {
            guard case .number(let share)? = e["min_share"], case .bool(let onFlip)? = e["on_flip"] else {
                throw bad("policy.escalate")
            }
            var margin: Double?
            if case .number(let m)? = e["min_margin"] { margin = m }
            panel.escalate = EscalationRule(minShare: share, onFlip: onFlip, minMargin: margin)
        }
        // The run's rubric matters here only through its protocol and a checklist's tie margin.
        let rubric = Rubric(
            id: config.rubric?.id ?? "", kind: kind, template: try Template(""),
            output: .json(field: "verdict"),
            checklist: kind == .checklist ? ChecklistSpec(tieMargin: analysis.tieMargin) : nil)
        var options = RunOptions(aggregate: analysis.aggregate, flip: analysis.flip)
        options.policy = policy
        let job = try ScoreJob(
            itemsPath: config.items ?? "", items: items, rubric: rubric, panel: panel, options: options,
            analysis: analysis)

        var perItem = [[Vote]](repeating: [], count: items.count)
        let index = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let reader = try LineReader(path: votesPath)
        let decoder = JSONDecoder()
        while let v = try reader.nextBytes({ number, bytes in
            try VoteDigest.vote(bytes, decoder: decoder, path: votesPath, line: number)
        }) {
            guard let v, v.variant == nil, let i = index[v.item] else { continue }
            perItem[i].append(v)
        }
        let runner = PanelRunner(panel: panel, rubric: rubric, options: options)
        let cascade =
            policy == .cascade ? CascadeRule(panel: panel, method: analysis.aggregate, flip: analysis.flip) : nil
        var results = items.indices.map { i -> ItemResult in
            var aggregating: [Int]?
            if let cascade {
                var asked = [AskedJudge](repeating: AskedJudge(), count: judges.count)
                for (j, judge) in judges.enumerated() {
                    let mine = perItem[i].filter { $0.judge == judge.name }
                    let ab = mine.filter { ($0.order ?? .ab) == .ab }
                    let ba = mine.filter { $0.order == .ba }
                    if !ab.isEmpty { asked[j].ab = ab }
                    if !ba.isEmpty { asked[j].ba = ba }
                }
                aggregating = cascade.aggregated(asked)
            }
            return runner.itemResult(index: i, item: items[i], votes: perItem[i], aggregating: aggregating)
        }
        results = runner.aggregator.finish(results, kind: kind)
        var counters = RunCounters.Snapshot()
        counters.httpCalls = config.run?.httpCalls ?? 0
        let result = RunResult(
            items: items, results: results, counters: counters, wallSeconds: config.run?.wallSeconds ?? 0)
        return RunReports.PolicyOutcome(verdicts: result.verdicts) { job.applyPolicy(&$0, result: result) }
    }
}
