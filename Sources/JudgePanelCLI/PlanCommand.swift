import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract:
            "Choose a panel offline: replay recorded pairwise votes under every judge subset and call policy (full, adaptive, cascade) against human labels."
    )

    @Argument(help: "Votes file (votes.jsonl of a full run, or imported votes).") var votes: String
    @Option(help: "Items file with human labels.") var items: String
    @Option(help: "Panel file: judge order, weights, prices, tiers:/escalate:, swap, flip, aggregate.") var panel:
        String?
    @Option(
        help:
            "Rubric file: with --panel prices, votes without token usage are costed from its prompt (~4 characters a token)."
    )
    var rubric: String?
    @Option(help: "Recommend the most accurate candidate costing at most this many USD per 1000 items.") var budget:
        Double?
    @Option(
        name: .customLong("target-accuracy"),
        help: "Recommend the cheapest candidate with at least this accuracy vs humans.")
    var targetAccuracy: Double?
    @Option(help: "Repeat the plan per value of this meta key.") var by: String?
    @Option(help: "Bootstrap clusters: a meta key whose items are resampled together.") var cluster: String?
    @Option(help: "Flip policy without --panel (tie | abstain).") var flip: FlipPolicy = .tie
    @Option(help: "Aggregation without --panel.") var aggregate: AggregationMethod = .majority
    @Option(help: "Bootstrap resamples.") var resamples: Int = 1000
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(
        name: .customLong("max-exhaustive"),
        help: "Every subset up to this many judges; greedy forward selection beyond.")
    var maxExhaustive: Int = 12
    @Flag(help: "Print the plan as JSON.") var json = false
    @Option(help: "Write the HTML plot of agreement against cost to this file.") var html: String?
    @OptionGroup var itemOptions: ItemOptions
    @Option(
        name: .customLong("labels"),
        help: "Pilot human labels (labels.jsonl, repeatable) for --half-width; default: the items' own labels.")
    var labels: [String] = []
    @Option(
        name: .customLong("half-width"),
        help: "How many human labels reach a prediction-powered CI of this half-width (and with labels alone).")
    var halfWidth: Double?
    @Option(help: "With --half-width: the interval's error level.") var alpha: Double = 0.05

    func run() async throws {
        try await runMapped {
            if let halfWidth {
                guard halfWidth > 0, alpha > 0, alpha < 1 else {
                    throw JudgePanelError.usage("--half-width must be > 0 and --alpha in (0, 1)")
                }
                var loaded = try itemOptions.loader().load(path: items)
                let pilot = try HumanLabels.read(labels, items: loaded)
                if let pilot { loaded = pilot.items }
                let recorded = try VotesFile.load(path: votes).filter { $0.variant == nil }
                let panel = MetaAnalysis(options: .init(flip: flip, aggregate: aggregate)).reconcile(
                    items: loaded, votes: recorded
                ).panel
                guard
                    let plan = PPILabelPlan.plan(
                        items: loaded, outcomes: PPIAnalysis.outcomes(panel), scores: panel.map(\.score),
                        pSelect: pilot?.pSelect ?? [:], halfWidth: halfWidth, alpha: alpha)
                else {
                    throw JudgePanelError.badInput(
                        "--half-width needs a pilot: at least two judged items with a varying human label",
                        file: labels.first ?? items)
                }
                if json {
                    print(String(decoding: try JSONEncoder.reportEncoder.encode(plan), as: UTF8.self))
                } else {
                    print(plan.text)
                }
                return
            }
            if !labels.isEmpty { throw JudgePanelError.usage("--labels on plan goes with --half-width") }
            if let t = targetAccuracy, !(0...1).contains(t) {
                throw JudgePanelError.usage("--target-accuracy must be in [0, 1]")
            }
            if let b = budget, b < 0 { throw JudgePanelError.usage("--budget must be at least 0") }
            guard resamples >= 0, maxExhaustive >= 1, maxExhaustive <= 16 else {
                throw JudgePanelError.usage("--resamples must be ≥ 0 and --max-exhaustive in 1...16")
            }
            let loaded = try itemOptions.loader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            let panelValue = try panel.map { try Panel.load(path: $0) }
            var options = PanelPlan.Options(
                flip: flip, aggregate: aggregate, resamples: resamples, seed: seed, clusterKey: cluster, sliceKey: by,
                budget: budget, targetAccuracy: targetAccuracy, maxExhaustive: maxExhaustive, panel: panelValue)
            options.rubric = try rubric.map { try Rubric.load(path: $0) }
            options.votesFile = votes
            options.itemsFile = items
            let report = try PanelPlan(options: options).plan(items: loaded, votes: recorded)
            if let html {
                // The folder is made as `--out` folders are (`--html runs/plan.html` in a fresh clone).
                let url = URL(fileURLWithPath: html)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(report.html(title: "judgepanel plan — \(votes)").utf8).write(to: url)
            }
            if json {
                print(String(decoding: try JSONEncoder.reportEncoder.encode(report), as: UTF8.self))
                return
            }
            print(PlanText.text(report))
        }
    }
}

enum PlanText {
    static func text(_ r: PanelPlan.Report) -> String {
        var out = [
            "plan: \(r.nItems) items (\(r.nLabelled) labelled), judges \(r.judges.joined(separator: ", ")); \(r.search) search over "
                + "\(r.candidates.count) candidates; cost axis: \(r.costBasis == "usd" ? "USD per 1000 items" : "calls per item")"
        ]
        if r.candidates.count <= 24 {
            out += [
                "",
                "candidates, cheapest first (frontier: on the Pareto frontier of agreement with humans against cost):",
                table(r.candidates),
            ]
        } else {
            out += ["", "Pareto frontier (agreement with humans against cost):", table(r.frontier)]
        }
        if let c = r.recommended {
            out.append("")
            out.append(
                "recommended: \(c.judges.joined(separator: "+")) (\(c.policy.rawValue)) — \(r.recommendation ?? "")")
        } else if let why = r.recommendation {
            out.append("")
            out.append(why)
        }
        for (key, byValue) in (r.slices ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (value, sub) in byValue.sorted(by: { $0.key < $1.key }) {
                out += [
                    "", "slice \(key)=\(value) (\(sub.nItems) items, \(sub.nLabelled) labelled):", table(sub.frontier),
                ]
                if let c = sub.recommended {
                    out.append("recommended: \(c.judges.joined(separator: "+")) (\(c.policy.rawValue))")
                }
            }
        }
        for n in r.notes ?? [] { out.append("note: \(n)") }
        return out.joined(separator: "\n")
    }

    static func table(_ cs: [PanelPlan.Candidate]) -> String {
        func m(_ v: MetricValue?, _ ci: Interval?) -> String {
            guard let x = v?.value else { return "n/a" }
            return String(format: "%.3f", x) + (ci.map { String(format: " [%.3f, %.3f]", $0.lo, $0.hi) } ?? "")
        }
        return TextTable.plain(
            header: [
                "frontier", "judges", "policy", "accuracy [95% CI]", "κ [95% CI]", "calls/item", "USD/1000",
                "same as full",
            ],
            rows: cs.map { c in
                [
                    c.pareto ? "yes" : "no", c.judges.joined(separator: "+"), c.policy.rawValue,
                    m(c.accuracy, c.accuracyCI), m(c.cohenKappa, c.cohenKappaCI),
                    String(format: "%.2f", c.callsPerItem), c.usdPer1000.map { String(format: "%.4f", $0) } ?? "n/a",
                    String(format: "%.3f", c.sameAsFull),
                ]
            })
    }
}
