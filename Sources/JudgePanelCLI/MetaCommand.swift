import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct MetaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "Meta-evaluate judges and the panel against human labels (offline from votes, or live).")

    @Argument(help: "Items file with human labels (JSONL).") var items: String
    @Option(help: "Recorded votes (JSONL): offline, no model calls.") var votes: String?
    @Option(help: "Rubric (live run).") var rubric: String?
    @Option(help: "Panel (live run).") var panel: String?
    @Option(help: "Run directory for a live run.") var out: String = "runs/meta"
    @Flag(help: "Print the report JSON.") var json = false
    @Flag(help: "Print the report as Markdown.") var markdown = false
    @Option(help: "Slice by a meta key (one table per value).") var by: String?
    @Option(help: "Resample whole clusters of this meta key in the bootstrap.") var cluster: String?
    @Option(help: "Flip policy for recorded votes (tie | abstain).") var flip: FlipPolicy = .tie
    @Option(help: "Aggregation for the panel.") var aggregate: AggregationMethod?
    @Option(name: .customLong("alpha-level"), help: "Krippendorff level: nominal | ordinal | interval | ratio.")
    var alphaLevel: String?
    @Option(help: "Bootstrap resamples (0: point figures only, no intervals).") var resamples: Int = 1000
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
    @Option(help: "Judge names to keep (comma-separated).") var judges: String?
    @Option(help: "Judge weights for 'weighted': name=w,name=w.") var weights: String?
    @Option(
        name: .customLong("calibrate-on"),
        help: "Labelled items to learn 'weighted' weights from (log-odds of accuracy).")
    var calibrateOn: String?
    @Option(name: .customLong("calibrate-votes"), help: "The judges' votes on the --calibrate-on items.")
    var calibrateVotes: String?
    @Option(help: "Calibration model (judgepanel calibrate --out): applied to that judge's scores first (repeatable).")
    var calibration: [String] = []
    @Option(
        name: .customLong("labels"),
        help:
            "Human labels file (labels.jsonl, repeatable): replaces the items' labels; labels on a subset add prediction-powered estimates (report key ppi); with --hitl, FairEval's curve."
    )
    var labels: [String] = []
    @Flag(help: "With --votes and --labels: FairEval's human-in-the-loop curve and the annotators' agreement.")
    var hitl = false
    @OptionGroup var itemOptions: ItemOptions
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup var gateOptions: GateOptions

    func run() async throws {
        try await runMapped {
            if hitl {
                try runHITL()
                return
            }
            _ = try gateOptions.gates()
            guard resamples >= 0 else {
                throw JudgePanelError.usage(
                    "--resamples must be ≥ 0 (0: point figures, no intervals; got \(resamples))")
            }
            var level: MeasurementLevel?
            if let alphaLevel {
                guard let l = MeasurementLevel(rawValue: alphaLevel) else {
                    throw JudgePanelError.usage("--alpha-level must be nominal, ordinal, interval or ratio")
                }
                level = l
            }
            var w: [String: Double] = [:]
            for part in (weights ?? "").split(separator: ",") {
                let kv = part.split(separator: "=")
                guard kv.count == 2, let x = Double(kv[1]) else {
                    throw JudgePanelError.usage("--weights expects name=number,...")
                }
                w[String(kv[0])] = x
            }
            var weightsSource: String? = w.isEmpty ? nil : "given"
            if let learned = try learnedWeights(calibrateOn: calibrateOn, calibrateVotes: calibrateVotes, flip: flip) {
                for (k, v) in learned.weights where w[k] == nil { w[k] = v }
                weightsSource = "learned:" + (calibrateOn ?? "")
            }
            let calibrations = try calibration.map(JudgeCalibration.load(path:))
            var options = MetaAnalysis.Options(
                flip: flip, aggregate: aggregate ?? .majority, resamples: resamples, seed: seed, clusterKey: cluster,
                alphaLevel: level, weights: w)
            let labelSet = try HumanLabels.read(labels, itemsPath: items, loader: itemOptions.loader())
            if let labelSet { options.pSelect = labelSet.pSelect }
            var report: MetaReport
            if let votes {
                guard rubric == nil, panel == nil else {
                    throw JudgePanelError.usage(
                        "give either --votes (offline) or --rubric and --panel (live), not both")
                }
                let keep = judges.map {
                    Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
                }
                if by == nil, calibrations.isEmpty, labelSet == nil {
                    // The items read into the columns the analysis reads, and one streaming pass over the votes file:
                    // memory proportional to items × judges.
                    let columns = try ItemColumns.read(path: items, loader: itemOptions.loader(), clusterKey: cluster)
                    report = try MetaAnalysis(options: options).analyse(
                        items: columns, votesPath: votes, keepJudges: keep
                    ).report
                } else {
                    let loaded = try labelSet?.items ?? itemOptions.loader().load(path: items)
                    // Slices, calibrations and labels files work on the decoded items and votes.
                    var recorded = try VotesFile.load(path: votes)
                    if let keep { recorded = recorded.filter { keep.contains($0.judge) } }
                    for c in calibrations { recorded = c.apply(to: recorded) }
                    report = MetaAnalysis(options: options).report(items: loaded, votes: recorded, sliceKey: by)
                }
            } else {
                guard let rubric, let panel else {
                    throw JudgePanelError.usage("meta needs --votes FILE, or --rubric R and --panel P for a live run")
                }
                let job = try ScoreJob(
                    itemsPath: items, rubricPath: rubric, panelPath: panel, loader: try itemOptions.loader(),
                    options: RunOptions(cache: cacheOptions.cache, aggregate: aggregate), analysis: options)
                let outcome = try await job.run(
                    outDir: out, resume: FileManager.default.fileExists(atPath: out + "/journal.jsonl"))
                var a = job.analysis
                a.flip = flip
                var live = outcome.result.votes
                for c in calibrations { live = c.apply(to: live) }
                a.pSelect = options.pSelect
                report = MetaAnalysis(options: a).report(
                    items: labelSet.map { $0.set.applied(to: job.items) } ?? job.items, votes: live, sliceKey: by)
            }

            if report.aggregate == .weighted, report.weights != nil { report.weightsSource = weightsSource ?? "panel" }
            if !calibrations.isEmpty {
                report.notes =
                    (report.notes ?? [])
                    + calibrations.map {
                        "scores of \($0.judge) calibrated (\($0.model.method.rawValue)) before analysis"
                    }
            }
            if json {
                let data = try JSONEncoder.reportEncoder.encode(report)
                say(String(decoding: data, as: UTF8.self))
            } else if markdown {
                say(ReportText.markdown(report, title: "judgepanel meta-evaluation"))
            } else {
                say(ReportText.terminal(report, title: "judgepanel meta — \(items)"))
            }
            if gateOptions.isActive {
                let document = try JSONValue(jsonData: JSONEncoder.reportEncoder.encode(report))
                let liveVerdicts = URL(fileURLWithPath: out).appendingPathComponent("verdicts.jsonl").path
                try gateOptions.finish(report: document, command: "meta") {
                    let expectations = try ItemChecks.expectations(itemsPath: items, loader: itemOptions.loader())
                    guard let votes else {
                        return ItemChecks.check(expectations, verdicts: try ItemChecks.verdicts(path: liveVerdicts))
                    }
                    // Offline: the panel's verdicts as the report reconciled them.
                    let loaded = try itemOptions.loader().load(path: items)
                    let rec = try MetaAnalysis(options: options).reconcile(items: loaded, votesPath: votes)
                    return ItemChecks.check(
                        expectations,
                        verdicts: Dictionary(rec.panel.map { ($0.item, $0) }, uniquingKeysWith: { a, _ in a }))
                }
            }
        }
    }
}

extension JSONEncoder {
    static var reportEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }
}
