import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct ChecklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checklist",
        abstract: "Checklist tools on recorded votes: learned question weights, per-question analysis.",
        subcommands: [ChecklistWeightsCommand.self, ChecklistAnalyzeCommand.self])
}

struct ChecklistWeightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract:
            "Learn per-question weights from human labels (logistic on A−B answers, or linear for scores), k-fold cross-validated."
    )

    @Argument(help: "Items file with human labels (JSONL).") var items: String
    @Option(help: "Votes file of a checklist run.") var votes: String
    @Option(help: "Cross-validation folds.") var folds: Int = 5
    @Option(help: "Fold-assignment seed.") var seed: UInt64 = 0
    @Option(help: "L2 penalty on the weights.") var lambda: Double = 1.0
    @Option(help: "Checklists file (JSONL {item, questions}) to name the questions.") var checklists: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var itemOptions: ItemOptions

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        guard lambda.isFinite, lambda >= 0 else { throw ValidationError("--lambda must be a number ≥ 0") }
    }

    func run() async throws {
        try await runMapped {
            let loaded = try itemOptions.loader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            let w: ChecklistWeights
            do {
                w = try ChecklistWeights.learn(
                    items: loaded, votes: recorded, options: .init(folds: folds, seed: seed, lambda: lambda))
            } catch let e as JudgePanelError {
                throw JudgePanelError.badInput(e.message, file: votes)
            }
            var names: [String] = []
            if let checklists {
                let lists = try ChecklistStore.load(path: checklists)
                let first = loaded.compactMap { lists[$0.id] }.first ?? []
                let same = Set(loaded.compactMap { lists[$0.id] }).count == 1
                if same { names = first }
            }
            if json {
                var obj = try JSONValue(jsonData: JSONEncoder().encode(w))
                if case .object(var o) = obj, !names.isEmpty {
                    o["question_texts"] = .array(names.map { .string($0) })
                    obj = .object(o)
                }
                say(String(decoding: try JSONEncoder.reportEncoder.encode(obj), as: UTF8.self))
                return
            }
            let rows = w.weights.enumerated().map { i, v in
                [String(i + 1), String(format: "%+.3f", v), i < names.count ? names[i] : ""]
            }
            say(TextTable.plain(header: ["question", "weight", "text"], rows: rows))
            if let b = w.intercept { say(String(format: "intercept %.3f", b)) }
            func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
            say(
                "\(w.kind.rawValue) labels, \(w.n) items, \(w.folds)-fold CV (seed \(w.seed)): \(w.metric) "
                    + "unweighted \(f(w.before)) → weighted \(f(w.after))")
        }
    }
}

struct ChecklistAnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract:
            "Per-question pass rates, judge agreement (Cohen κ) and flags for questions judges do not answer consistently."
    )

    @Argument(help: "Items file (JSONL).") var items: String
    @Option(help: "Votes file of a checklist run.") var votes: String
    @Option(help: "Checklists file (JSONL {item, questions}) to name the questions.") var checklists: String?
    @Option(help: "Rubric whose fixed checklist names the questions.") var rubric: String?
    @Option(name: .customLong("min-agreement"), help: "Flag questions whose judge agreement is below this.")
    var minAgreement: Double = 0.6
    @Option(name: .customLong("max-unsure"), help: "Flag questions with more than this share of UNSURE answers.")
    var maxUnsure: Double = 0.5
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var itemOptions: ItemOptions

    func run() async throws {
        try await runMapped {
            guard minAgreement.isFinite, (0...1).contains(minAgreement) else {
                throw JudgePanelError.usage("--min-agreement must be a number from 0 to 1")
            }
            guard maxUnsure.isFinite, (0...1).contains(maxUnsure) else {
                throw JudgePanelError.usage("--max-unsure must be a number from 0 to 1")
            }
            let loaded = try itemOptions.loader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            guard recorded.contains(where: { $0.checks != nil }) else {
                throw JudgePanelError.badInput("no checklist votes (no `checks`)", file: votes)
            }
            let lists = try checklists.map { try ChecklistStore.load(path: $0) } ?? [:]
            let fixed = try rubric.map { try Rubric.load(path: $0).checklist?.items ?? [] } ?? []
            let a = ChecklistAnalysis.analyze(
                items: loaded, votes: recorded, checklists: lists, fixed: fixed, agreementThreshold: minAgreement,
                unsureThreshold: maxUnsure)
            if json {
                say(String(decoding: try JSONEncoder.reportEncoder.encode(a), as: UTF8.self))
            } else {
                say(a.table)
            }
        }
    }
}
