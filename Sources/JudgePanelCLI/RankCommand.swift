import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

extension SocialChoiceRule: ExpressibleByArgument {}

/// What `rank` counts as an item's outcome: the reconciled verdict (a win, a loss or a tie) or the judges' mean
/// probability of preferring each side (a fractional win).
enum RankPreference: String, ExpressibleByArgument, CaseIterable {
    case verdict, probability
}

struct RankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Bradley–Terry ranking of the models compared (ties as half wins), with bootstrap CIs.",
        discussion: """
            Ranks the panel's verdicts (--votes), one judge's (--judge), or the human labels (no --votes, or --human). \
            The human label is the one `meta` uses: `label`, else the majority of the annotators' `labels`. \
            --by KEY ranks every value of meta.KEY separately; --rule aggregates those slice rankings (each slice one \
            voter) by plurality, borda, copeland, minimax, kemeny (exact, at most 16 models) or schulze; ties by model \
            name. --cluster KEY resamples whole clusters of items in the bootstrap. --json without --by, --cluster or \
            --detail prints the plain ranking array. \
            --preference probability counts each item as a fractional win: the judges' mean probability of preferring \
            each side (from the votes' probs, e.g. AlpacaEval 2's weighted preference; a vote without probs counts its \
            verdict as 1, 0 or ½); the panel's probability is the unweighted mean of its judges'. --baseline MODEL \
            ranks by each model's win rate against MODEL (its mean outcome over the items comparing it with MODEL, \
            ties as half; MODEL itself at 0.5) instead of Bradley–Terry over all pairs — AlpacaEval's leaderboard rule. \
            --length-control (with --baseline) adds AlpacaEval 2's length-controlled win rate (alpaca_eval 0.6.6's \
            GLM; --glm-data takes its df_gamed.csv, without it the reduced formula); --style-control adds \
            arena-hard-auto's style-controlled strengths (length in characters, headers, lists, bold as covariates); \
            --length-penalty K applies WildBench's rule to five-level verdicts read from the votes' raw answers. \
            --resamples 0 gives point figures only (no intervals).
            """)

    @Argument(help: "Items file (model_a/model_b).") var items: String
    @Option(help: "Votes file (omit to rank the human labels).") var votes: String?
    @Option(help: "Rank this judge's reconciled verdicts instead of the panel's.") var judge: String?
    @Flag(help: "Rank the human labels (the consensus `meta` uses), even when --votes is given.") var human = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(
        help:
            "JSON: print the full report object (P(best), win rates, counts, τ against humans) instead of the plain array."
    )
    var detail = false
    @Option(help: "Rank each value of this meta key separately (per-slice Bradley–Terry).") var by: String?
    @Option(
        help: "With --by: aggregate the slice rankings (plurality | borda | copeland | minimax | kemeny | schulze).")
    var rule: SocialChoiceRule?
    @Flag(help: "With --rule: weight each slice by its number of ranked items instead of 1.") var weightSlices = false
    @Option(help: "Bootstrap over clusters of items sharing this meta key (default: items).") var cluster: String?
    @Option(help: "Also write a self-contained HTML report (rank tables, models × slices rank heatmap) to this file.")
    var html: String?
    @Option(help: "Flip policy (tie | abstain).") var flip: FlipPolicy = .tie
    @Option(help: "Aggregation for the panel verdict per item.") var aggregate: AggregationMethod = .majority
    @Option(help: "Outcome of an item: verdict (win, loss, tie) | probability (the judges' mean P, a fractional win).")
    var preference: RankPreference = .verdict
    @Option(help: "Rank by the win rate against this model (AlpacaEval's leaderboard) instead of Bradley–Terry.")
    var baseline: String?
    @Flag(
        name: .customLong("length-control"),
        help: "With --baseline: AlpacaEval 2's length-controlled win rate (alpaca_eval 0.6.6's GLM) beside the raw one."
    )
    var lengthControl = false
    @Option(
        name: .customLong("glm-data"),
        help:
            "With --length-control: alpaca_eval's df_gamed.csv (instruction difficulty, gamed baselines); without it the reduced formula."
    )
    var glmData: String?
    @Flag(
        name: .customLong("style-control"),
        help: "arena-hard-auto's style control: Bradley–Terry with length, header, list and bold covariates.")
    var styleControl = false
    @Option(
        name: .customLong("length-penalty"),
        help:
            "WildBench's rule: a slight win (five-level verdicts) whose winner is longer by more than K characters is a tie."
    )
    var lengthPenalty: Int?
    @Option(help: "Bootstrap resamples (0: point figures only, no intervals).") var resamples: Int = 1000
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(
        name: .customLong("labels"),
        help:
            "Human labels file (labels.jsonl, repeatable): replaces the items' labels; with --votes, labels on a subset add prediction-powered win rates."
    )
    var labels: [String] = []
    @Flag(
        help:
            "With --votes and human labels on a subset: Bradley–Terry by prediction-powered logistic regression, beside the judge-only fit."
    )
    var ppi = false
    @OptionGroup var gateOptions: GateOptions

    func run() async throws {
        try await runMapped {
            _ = try gateOptions.gates()
            if gateOptions.junitItems {
                throw JudgePanelError.usage("--junit-items: rank has no per-item expectations (use score or meta)")
            }
            if rule != nil && by == nil {
                throw JudgePanelError.usage("--rule needs --by KEY (the slices are the voters)")
            }
            if weightSlices && rule == nil { throw JudgePanelError.usage("--weight-slices needs --rule") }
            if judge != nil && votes == nil { throw JudgePanelError.usage("--judge needs --votes") }
            if judge != nil && human { throw JudgePanelError.usage("--judge and --human exclude each other") }
            if resamples < 0 {
                throw JudgePanelError.usage(
                    "--resamples must be ≥ 0 (0: point figures, no intervals; got \(resamples))")
            }
            if lengthControl && styleControl {
                throw JudgePanelError.usage("--length-control and --style-control exclude each other")
            }
            if lengthControl && baseline == nil {
                throw JudgePanelError.usage("--length-control needs --baseline MODEL (the win rate is against it)")
            }
            if glmData != nil && !lengthControl { throw JudgePanelError.usage("--glm-data needs --length-control") }
            if (lengthControl || styleControl) && by != nil {
                throw JudgePanelError.usage("--length-control / --style-control rank all items together: drop --by")
            }
            if let k = lengthPenalty {
                if k < 0 { throw JudgePanelError.usage("--length-penalty must be ≥ 0 characters (got \(k))") }
                if votes == nil || human {
                    throw JudgePanelError.usage(
                        "--length-penalty needs --votes (five-level verdicts are read from the votes' raw answers)")
                }
                if preference == .probability {
                    throw JudgePanelError.usage("--length-penalty applies to verdicts: drop --preference probability")
                }
            }
            let glm = try glmData.map(GLMDataFile.read(path:))
            if preference == .probability && (votes == nil || human) {
                throw JudgePanelError.usage("--preference probability needs --votes (human labels are verdicts)")
            }
            var loaded = try ItemLoader().load(path: items)
            let labelSet = try HumanLabels.read(labels, items: loaded)
            if let labelSet { loaded = labelSet.items }
            if ppi && (votes == nil || human) {
                throw JudgePanelError.usage("--ppi needs --votes (the judges' verdicts to correct)")
            }
            for key in [by, cluster].compactMap({ $0 })
            where !loaded.contains(where: { $0.meta[key] != nil && $0.meta[key] != .null }) {
                throw JudgePanelError.badInput("no item has meta.\(key)", file: items)
            }
            if let baseline,
                !loaded.contains(where: { $0.modelA != $0.modelB && ($0.modelA == baseline || $0.modelB == baseline) })
            {
                throw JudgePanelError.badInput("no item compares a model with the baseline '\(baseline)'", file: items)
            }
            let (humanLabels, humanText) = SliceRanking.humanPreferences(loaded)
            let hasHuman = humanLabels.contains { $0 != nil }
            // Each item's share of a win for model_a (1, 0, ½ for a verdict; 1 − P(B) for a probability).
            var outcomes: [Double?]
            var source: RankingSource
            var penaltyTurned = 0
            if let votes, !human {
                if preference == .probability {
                    let probs = try PreferenceProbabilities.read(path: votes, items: loaded)
                    let pB: [Double?]
                    if let judge {
                        guard let j = probs.judges.firstIndex(of: judge) else {
                            throw JudgePanelError.badInput(
                                "no votes of judge '\(judge)' (judges: \(probs.judges.joined(separator: ", ")))",
                                file: votes)
                        }
                        pB = probs.judge(j)
                        source = .judges("judge \(judge), mean probability")
                    } else {
                        pB = probs.panel
                        source = .judges("panel (mean probability of its judges)")
                    }
                    outcomes = pB.map { $0.map { 1 - $0 } }
                } else if let k = lengthPenalty {
                    // The rule changes votes before reconciliation: the votes are read whole.
                    let penalised = LengthPenalty.apply(k: k, items: loaded, votes: try VotesFile.load(path: votes))
                    guard penalised.fiveLevel > 0 else {
                        throw JudgePanelError.badInput(
                            "--length-penalty: no vote's raw answer carries a five-level verdict ([[A>>B]], [[A>B]], [[A=B]], [[B>A]], [[B>>A]] or A++/A+/B+/B++)",
                            file: votes)
                    }
                    penaltyTurned = penalised.turned
                    let rec = MetaAnalysis(options: .init(flip: flip, aggregate: aggregate)).reconcile(
                        items: loaded, votes: penalised.votes)
                    if let judge {
                        guard let j = rec.judges.firstIndex(of: judge) else {
                            throw JudgePanelError.badInput(
                                "no votes of judge '\(judge)' (judges: \(rec.judges.joined(separator: ", ")))",
                                file: votes)
                        }
                        outcomes = rec.verdicts[j].map { SliceRanking.outcome($0.verdict) }
                        source = .judges("judge \(judge), length penalty K=\(k)")
                    } else {
                        outcomes = rec.panel.map { SliceRanking.outcome($0.verdict) }
                        source = .judges("panel (\(aggregate.rawValue)), length penalty K=\(k)")
                    }
                } else {
                    // Streamed: memory proportional to items × judges, not to the votes file.
                    let rec = try MetaAnalysis(options: .init(flip: flip, aggregate: aggregate)).reconcile(
                        items: ItemColumns(loaded, clusterKey: nil), votesPath: votes)
                    if let judge {
                        guard let j = rec.judges.firstIndex(of: judge) else {
                            throw JudgePanelError.badInput(
                                "no votes of judge '\(judge)' (judges: \(rec.judges.joined(separator: ", ")))",
                                file: votes)
                        }
                        outcomes = rec.verdicts[j].indices.map { SliceRanking.outcome(rec.verdicts[j].verdict($0)) }
                        source = .judges("judge \(judge)")
                    } else {
                        outcomes = rec.panel.indices.map { SliceRanking.outcome(rec.panel.verdict($0)) }
                        source = .judges("panel (\(aggregate.rawValue))")
                    }
                }
            } else {
                guard hasHuman else {
                    throw JudgePanelError.badInput("no item has a pairwise human label (label or labels)", file: items)
                }
                outcomes = humanLabels.map(SliceRanking.outcome)
                source = .humanLabels
            }
            let options = SliceRanking.Options(
                resamples: resamples, seed: seed, clusterKey: cluster, baseline: baseline)
            guard let overall = SliceRanking.rank(items: loaded, outcomes: outcomes, options: options) else {
                throw JudgePanelError.badInput(
                    baseline.map { "no item comparing a model with the baseline '\($0)' has a verdict" }
                        ?? "no item with model_a, model_b and a verdict", file: items)
            }
            let rankingHuman = source == .humanLabels
            let tau =
                !rankingHuman && hasHuman
                ? SliceRanking.agreement(
                    items: loaded, x: outcomes, y: humanLabels.map(SliceRanking.outcome), options: options) : nil
            var bySlice: SliceRanking.BySlice?
            if let by {
                do {
                    bySlice = try SliceRanking.bySlice(
                        items: loaded, outcomes: outcomes, key: by, rule: rule, weightSlices: weightSlices,
                        options: options)
                } catch let failure as SocialChoice.Failure {
                    throw JudgePanelError.badInput(failure.description, file: items)
                }
            }
            // Prediction-powered estimates: the judges' outcomes on every item, corrected by the human labels on a subset.
            var ppiReport: PPIReport?
            var ppiRanking: PPIRanking?
            if votes != nil, !human, hasHuman {
                ppiReport = PPIAnalysis.report(
                    items: loaded, outcomes: outcomes, scores: outcomes.map { _ in nil },
                    pSelect: labelSet?.pSelect ?? [:])
                if ppi {
                    guard let r = PPIRanking.fit(items: loaded, outcomes: outcomes) else {
                        throw JudgePanelError.badInput(
                            "--ppi: no prediction-powered Bradley–Terry fit (needs at least two labelled and one unlabelled compared item, and every model's strength identified)",
                            file: labels.first ?? items)
                    }
                    ppiRanking = r
                }
            } else if ppi {
                throw JudgePanelError.badInput("--ppi: no item has a human label (give --labels FILE)", file: items)
            }
            var report = RankReport(
                source: source.text, humanLabel: rankingHuman || tau != nil ? humanText : nil, clusterKey: cluster,
                resamples: resamples, overall: overall, tauHuman: tau, bySlice: bySlice)
            report.baseline = baseline
            report.preference = preference.rawValue
            if let k = lengthPenalty { report.lengthPenalty = (k, penaltyTurned) }
            if lengthControl, let baseline {
                report.control = try ControlledRanking.lengthControl(
                    items: loaded, outcomes: outcomes, baseline: baseline, figure: overall, glm: glm, file: items)
            } else if styleControl {
                report.control = try ControlledRanking.styleControl(
                    items: loaded, outcomes: outcomes, baseline: baseline, figure: overall, file: items)
            }
            if let html {
                let page = RankHTML.render(
                    report, title: "judgepanel rank — \(URL(fileURLWithPath: items).lastPathComponent)")
                do {
                    let url = URL(fileURLWithPath: html)
                    try FileManager.default.createDirectory(
                        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(page.utf8).write(to: url, options: .atomic)
                } catch {
                    throw JudgePanelError.io("cannot write the HTML report: \(error.localizedDescription)", file: html)
                }
            }
            // The plain array stays the contract unless --labels or --ppi asked for the prediction-powered keys.
            if json && (by != nil || cluster != nil || detail || (ppiReport != nil && (!labels.isEmpty || ppi))) {
                var o = report.json
                if case .object(var d) = o {
                    if let ppiReport {
                        d["ppi"] = try RecordEncoding.value(ppiReport, record: "the ppi report", file: items)
                    }
                    if let ppiRanking {
                        d["ppi_bradley_terry"] = try RecordEncoding.value(
                            ppiRanking, record: "the ppi ranking", file: items)
                    }
                    o = .object(d)
                }
                say(String(decoding: try JSONEncoder.reportEncoder.encode(o), as: UTF8.self))
            } else if json {
                // The contract: [{"model", "strength", "strength_ci", "rank", "rank_ci"}].
                // --length-control / --style-control add their per-model keys (and style_coefficients) to each object.
                let arr: [JSONValue] = overall.rows.map { r in
                    var o: [String: JSONValue] = [
                        "model": .string(r.model), "strength": .number(r.strength),
                        "strength_ci": overall.resamplesUsed > 0
                            ? [.number(r.strengthCI.lo), .number(r.strengthCI.hi)] : .null,
                        "rank": .number(Double(r.rank)),
                        "rank_ci": overall.resamplesUsed > 0
                            ? [.number(Double(r.rankCI.lo)), .number(Double(r.rankCI.hi))] : .null,
                    ]
                    if let c = report.control {
                        for (k, v) in RankReport.controlKeys(c, model: r.model) { o[k] = v }
                        if let sc = c.styleCoefficients {
                            o["style_coefficients"] = .object(sc.mapValues { .number($0) })
                        }
                    }
                    return .object(o)
                }
                say(String(decoding: try JSONEncoder.reportEncoder.encode(JSONValue.array(arr)), as: UTF8.self))
                if let line = report.tauHumanLine { printErr(line) }
                if report.humanLabel != nil { printErr(humanText) }
            } else {
                var text = report.text
                if let ppiReport { text += "\n" + PPIText.terminal(ppiReport).joined(separator: "\n") }
                if let ppiRanking { text += "\n" + PPIText.ranking(ppiRanking).joined(separator: "\n") }
                say(text)
            }
            // Gates read the full report object (`rank --json --detail`).
            try gateOptions.finish(report: report.json, command: "rank")
        }
    }
}

/// What a ranking's outcomes come from: the judges' votes (described for the report) or the items' human labels.
enum RankingSource: Equatable {
    case judges(String)
    case humanLabels

    /// The report's `source` text.
    var text: String {
        switch self {
        case .judges(let description): description
        case .humanLabels: "human labels"
        }
    }
}
