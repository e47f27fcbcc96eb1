import ArgumentParser
import Foundation
import JudgePanel
import JudgePanelUI

extension LabelSelection.Rule: ExpressibleByArgument {}

/// `judgepanel label RUN --budget N --select RULE`: which items a human should label, then the Label view on them.
struct LabelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Select the items worth a human label (bpde, disagreement, uncertainty, random) and label them.",
        discussion: """
            bpde (FairEval): -sum p ln p over the win/tie/lose shares of response_a in the judges' 2k results (k samples \
            x both orders; --judge for one judge). disagreement: entropy of the judges' reconciled verdicts. \
            uncertainty: 1 - the largest Dawid-Skene posterior. Highest first, ties by id. --explore E draws round(E*N) \
            of the budget uniformly from the items outside the top N - round(E*N); p_select is 1 for a top item and \
            round(E*N) / (n - N + round(E*N)) for every other item (random: N / n), so inverse-probability weighting \
            is unbiased when E > 0. --dry-run --json prints [{"item", "score", "p_select"}] in selection order.
            """)

    @Argument(help: "Run directory.") var run: String
    @Option(help: "How many items to select.") var budget: Int?
    @Option(help: "Selection rule: bpde | disagreement | uncertainty | random.") var select: LabelSelection.Rule?
    @Option(help: "Share of the budget drawn uniformly from the rest (0…1).") var explore: Double = 0
    @Option(help: "Seed of the explore / random draw.") var seed: UInt64 = 0
    @Option(help: "bpde over this judge's results only (default: every judge, the panel).") var judge: String?
    @Option(help: "Flip policy for reconciling a judge's two orders (disagreement, uncertainty).") var flip:
        FlipPolicy = .tie
    @Flag(name: .customLong("dry-run"), help: "Print the selection instead of serving the Label view.") var dryRun =
        false
    @Flag(help: "With --dry-run: JSON.") var json = false
    @Option(
        parsing: .upToNextOption,
        help: "Write tasks for another tool instead: label-studio FILE (FILE.xml: the labelling config).")
    var export: [String] = []
    @OptionGroup var server: UIServerOptions

    func run() async throws {
        try await runMapped {
            guard (0...1).contains(explore) else { throw JudgePanelError.usage("--explore must be within 0…1") }
            let index = try server.index(run: run)
            var picks: [LabelSelection.Pick]
            var rule = "census"
            if let select {
                guard let budget, budget > 0 else { throw JudgePanelError.usage("--select needs --budget N (N ≥ 1)") }
                if let judge, !index.judges.contains(judge) {
                    throw JudgePanelError.usage("no votes of judge \(judge.debugDescription) in \(run)")
                }
                let votes = try VotesFile.load(path: index.votesPath)
                let scores = LabelSelection.scores(
                    rule: select, items: index.ids, votes: votes, judge: judge, flip: flip)
                picks = LabelSelection.select(
                    ids: index.ids, scores: scores, rule: select, budget: budget, explore: explore, seed: seed)
                rule = select.rawValue
            } else {
                guard !dryRun else { throw JudgePanelError.usage("--dry-run needs --select and --budget") }
                picks = index.ids.map { LabelSelection.Pick(item: $0, score: nil, pSelect: 1, explored: false) }
            }
            if dryRun {
                if json {
                    let rows: [JSONValue] = picks.map {
                        [
                            "item": .string($0.item), "score": $0.score.map { .number($0) } ?? .null,
                            "p_select": .number($0.pSelect),
                        ]
                    }
                    say(String(decoding: try JSONValue.array(rows).compactData(), as: UTF8.self))
                } else {
                    for p in picks { say("\(p.item)\t\(p.score.map { String($0) } ?? "-")\t\(p.pSelect)") }
                }
                return
            }
            if !export.isEmpty {
                guard export.count == 2, export[0] == "label-studio" else {
                    throw JudgePanelError.usage("--export takes a format and a file: --export label-studio FILE")
                }
                try exportLabelStudio(index: index, picks: picks, rule: rule, file: export[1])
                return
            }
            // The picks are drawn from the index's own items, so each id is in it.
            let queue = picks.compactMap { p in
                index.idIndex[p.item].map { LabelSession.Entry(item: Int($0), selectedBy: rule, pSelect: p.pSelect) }
            }
            try await server.serve(index: index, queue: queue, view: "label")
        }
    }

    func exportLabelStudio(index: RunIndex, picks: [LabelSelection.Pick], rule: String, file: String) throws {
        var items: [Item] = []
        var selected: [String: (String, Double)] = [:]
        for p in picks {
            guard let i = index.idIndex[p.item] else { continue }  // drawn from the index's items: always there
            items.append(try index.item(Int(i)))
            selected[p.item] = (rule, p.pSelect)
        }
        let annotator = server.annotatorName
        let seed = server.orderSeed
        let tasks = LabelStudio.tasks(
            items: items, shownOrder: { LabelSession.shownOrder(seed: seed, annotator: annotator, item: $0.id) },
            selectedBy: selected)
        let pairwise = items.contains { $0.isPairwise }
        let config = pairwise ? LabelStudio.pairwiseConfig : LabelStudio.pointwiseConfig(maxRating: 10)
        let configPath = (file.hasSuffix(".json") ? String(file.dropLast(5)) : file) + ".xml"
        do {
            try tasks.compactData().write(to: URL(fileURLWithPath: file), options: .atomic)
            try Data(config.utf8).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: file)
        }
        say("wrote \(items.count) Label Studio tasks to \(file) and the labelling config to \(configPath)")
    }
}
