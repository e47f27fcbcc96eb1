import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct RankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank", abstract: "Bradley–Terry ranking of the models compared (ties as half wins), with bootstrap CIs.")

    @Argument(help: "Items file (model_a/model_b).") var items: String
    @Option(help: "Votes file.") var votes: String
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Flip policy (tie | abstain).") var flip: FlipPolicy = .tie
    @Option(help: "Aggregation for the panel verdict per item.") var aggregate: AggregationMethod = .majority
    @Option(help: "Bootstrap resamples.") var resamples: Int = 1000
    @Option(help: "Seed.") var seed: UInt64 = 0

    func run() async throws {
        try await runMapped {
            guard resamples > 0 else { throw JudgePanelError.usage("--resamples must be at least 1 (got \(resamples))") }
            let loaded = try ItemLoader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            let rec = MetaAnalysis(options: .init(flip: flip, aggregate: aggregate)).reconcile(
                items: loaded, votes: recorded.filter { $0.variant == nil })
            let ranking = SystemRanking.rank(
                items: loaded, verdicts: rec.panel.map(\.verdict), resamples: resamples, seed: seed)
            var human: MetricValue?
            if loaded.contains(where: { $0.label?.preference != nil }) {
                let h = SystemRanking.rank(items: loaded, verdicts: loaded.map { $0.label?.preference }, resamples: 0, seed: seed)
                human = SystemRanking.kendall(ranking, h)
            }
            guard !ranking.isEmpty else { throw JudgePanelError.badInput("no item with model_a, model_b and a verdict", file: items) }
            if json {
                let arr: [JSONValue] = ranking.map { r in
                    [
                        "model": .string(r.model), "strength": .number(r.strength),
                        "strength_ci": r.strengthCI.map { [.number($0.lo), .number($0.hi)] } ?? .null,
                        "rank": .number(Double(r.rank)),
                        "rank_ci": r.rankCI.map { [.number(Double($0.lo)), .number(Double($0.hi))] } ?? .null,
                    ]
                }
                say(String(decoding: try JSONEncoder.reportEncoder.encode(JSONValue.array(arr)), as: UTF8.self))
                if let human { printErr("Kendall τ between the judges' ranking and the human-label ranking: \(human)") }
            } else {
                say(
                    ReportText.table(
                        header: ["rank", "model", "strength", "95% CI", "rank CI"],
                        rows: ranking.map { r in
                            [
                                String(r.rank), r.model, String(format: "%.3f", r.strength),
                                r.strengthCI.map { String(format: "[%.3f, %.3f]", $0.lo, $0.hi) } ?? "",
                                r.rankCI.map { "\($0.lo)–\($0.hi)" } ?? "",
                            ]
                        }))
                if let human { say("Kendall τ between the judges' ranking and the human-label ranking: \(human)") }
            }
        }
    }
}
