import ArgumentParser
import Foundation
import JudgePanel

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare two score runs over the same items: did a judge change? (exit 4 on a significant change)",
        discussion: """
            On the items both runs judged, per judge and for the panel: verdict changes with McNemar's exact test \
            (pairwise: A→B vs B→A), a paired bootstrap CI of the mean outcome's difference (pairwise: share of wins of \
            response_a; pointwise: mean score), the change in agreement with human labels when the items carry them, \
            and what changed between the runs' recorded inputs (rubric text, prompt, judge settings, analysis) and in \
            the model versions the providers reported. McNemar p-values are Holm-adjusted over all units; CIs are at \
            1 − α/m. No model call is made.
            """)

    @Argument(help: "The base run directory (e.g. last night's anchor run).") var base: String
    @Argument(help: "The new run directory.") var new: String
    @Option(help: "Test level α.") var alpha: Double = 0.05
    @Option(help: "Bootstrap resamples.") var resamples: Int = 1000
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
    @Flag(help: "Print the drift report JSON.") var json = false
    @Option(help: "Write drift.json, drift.md and drift.html into this directory.") var out: String?
    @Option(
        name: .customLong("max-change-rate"),
        help: "Also a drift: a unit whose share of changed verdicts exceeds this (0–1).")
    var maxChangeRate: Double?
    @Flag(
        name: .customLong("fail-on-change"),
        help: "Also exit 4 when a recorded input or a reported model version changed.")
    var failOnChange = false

    func run() async throws {
        try await runMapped {
            let analysis = try DriftOptions.analysis(
                alpha: alpha, resamples: resamples, seed: seed, maxChangeRate: maxChangeRate)
            let report = try DriftJob.compare(base: base, new: new, analysis: analysis)
            if let out {
                try RunDirectory(path: out).create()
                try DriftJob.write(report, to: out)
            }
            if json {
                say(String(decoding: try JSONEncoder.reportEncoder.encode(report), as: UTF8.self))
            } else {
                for line in report.summaryLines { say(line) }
                if let out { say("wrote \(out)/drift.json, drift.md, drift.html") }
            }
            try DriftOptions.exit(report, failOnChange: failOnChange)
        }
    }
}

enum DriftOptions {
    static func analysis(alpha: Double, resamples: Int, seed: UInt64, maxChangeRate: Double? = nil) throws
        -> DriftAnalysis
    {
        guard alpha > 0, alpha < 1 else { throw JudgePanelError.usage("--alpha must lie in (0, 1) (got \(alpha))") }
        guard resamples >= 1 else { throw JudgePanelError.usage("--resamples must be at least 1 (got \(resamples))") }
        if let m = maxChangeRate, !(m >= 0 && m <= 1) {
            throw JudgePanelError.usage("--max-change-rate must lie in [0, 1] (got \(m))")
        }
        return DriftAnalysis(alpha: alpha, resamples: resamples, seed: seed, maxChangeRate: maxChangeRate)
    }

    /// Exit 4 (a failed quality gate) on a significant change, or with `failOnChange` on any recorded change.
    static func exit(_ report: DriftReport, failOnChange: Bool) throws {
        if report.significant {
            printErr("judgepanel: drift: a significant change between \(report.base) and \(report.new)")
            throw ExitCode(4)
        }
        if failOnChange && (!report.changes.isEmpty || !report.modelVersions.isEmpty) {
            printErr("judgepanel: drift: the recorded inputs or model versions changed (--fail-on-change)")
            throw ExitCode(4)
        }
    }
}
