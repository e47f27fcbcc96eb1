import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a judge's scores to human scores (linear or isotonic), cross-validated; save the model.")

    @Argument(help: "Items file with numeric human labels (JSONL).") var items: String
    @Option(help: "Recorded votes (JSONL) with the judge's scores.") var votes: String
    @Option(help: "The judge to calibrate.") var judge: String
    @Option(help: "linear | isotonic") var method: String = "linear"
    @Option(help: "Cross-validation folds.") var folds: Int = 5
    @Option(help: "Seed of the fold assignment.") var seed: UInt64 = 0
    @Option(help: "Write the model here (JSON; apply with meta --calibration).") var out: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var itemOptions: ItemOptions

    func run() async throws {
        try await runMapped {
            guard let m = CalibrationModel.Method(rawValue: method) else {
                throw JudgePanelError.usage("--method must be linear or isotonic")
            }
            guard folds >= 2 else { throw JudgePanelError.usage("--folds must be at least 2") }
            let loaded = try itemOptions.loader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            guard recorded.contains(where: { $0.judge == judge }) else {
                throw JudgePanelError.badInput("no votes from judge '\(judge)'", file: votes)
            }
            let pairs = JudgeCalibration.pairs(items: loaded, votes: recorded, judge: judge)
            guard pairs.judge.count >= 2 else {
                throw JudgePanelError.badInput(
                    "fewer than 2 items with a numeric label and a score from '\(judge)'", file: items)
            }
            guard
                let cal = JudgeCalibration.fit(
                    items: loaded, votes: recorded, judge: judge, method: m, folds: folds, seed: seed)
            else {
                throw JudgePanelError.badInput(
                    "cannot fit a \(method) calibration (constant judge scores?)", file: votes)
            }
            if let out {
                let data = try JSONEncoder.reportEncoder.encode(cal)
                guard FileManager.default.createFile(atPath: out, contents: data + Data("\n".utf8)) else {
                    throw JudgePanelError.io("cannot write \(out)")
                }
            }
            if json {
                say(String(decoding: try JSONEncoder.reportEncoder.encode(cal), as: UTF8.self))
                return
            }
            let cv = cal.crossValidation
            func f(_ v: MetricValue?) -> String { v?.value.map { String(format: "%.4f", $0) } ?? "n/a" }
            say(
                "calibration of \(judge) (\(method)) on \(pairs.judge.count) items, \(folds)-fold cross-validation, seed \(seed)"
            )
            say(
                TextTable.plain(
                    header: ["", "MAE", "RMSE"],
                    rows: [
                        ["before (raw scores)", f(cv?.maeBefore), f(cv?.rmseBefore)],
                        ["after (out-of-fold)", f(cv?.maeAfter), f(cv?.rmseAfter)],
                    ]))
            if cal.model.method == .linear {
                say(String(format: "model: human ≈ %.4f + %.4f × judge", cal.model.intercept, cal.model.slope))
            } else {
                say("model: isotonic, \(cal.model.xThresholds.count) thresholds")
            }
            if let out { say("wrote \(out) (apply with: judgepanel meta ITEMS --votes VOTES --calibration \(out))") }
        }
    }
}
