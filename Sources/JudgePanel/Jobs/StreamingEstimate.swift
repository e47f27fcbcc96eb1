import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// Adds up a dry run's estimate call by call: per judge, the calls, the prompt tokens (about 4 characters a token,
/// 8 per message) and the most completion tokens, and how many calls the response cache already holds. Only the
/// per-judge sums are kept, so an estimate over an items file streamed item by item stays in constant memory.
struct EstimateTally {
    package let rubric: Rubric
    package let panel: Panel
    package let options: RunOptions
    /// Per judge index: calls, prompt tokens, max completion tokens.
    package var perJudge: [(calls: Int, prompt: Int, completion: Int)]
    package var cached = 0

    package init(rubric: Rubric, panel: Panel, options: RunOptions) {
        self.rubric = rubric
        self.panel = panel
        self.options = options
        perJudge = panel.judges.map { _ in (0, 0, 0) }
    }

    /// Adds every call the plan makes for one item (`index`: its position among the run's items).
    package mutating func add(_ item: Item, index: Int) {
        for call in Call.plan(itemIndex: index, item: item, rubric: rubric, panel: panel) {
            let judge = panel.judges[call.judge]
            var shown = item
            if let side = call.side { shown.response = side == .a ? item.responseA : item.responseB }
            let messages = Prompting.messages(
                rubric: rubric, item: shown, order: call.order, checklist: options.checklists[item.id])
            let tokens = messages.reduce(0) { $0 + $1.content.utf8.count } / 4 + 8 * messages.count
            perJudge[call.judge].calls += 1
            perJudge[call.judge].prompt += tokens
            perJudge[call.judge].completion += judge.maxTokens ?? 512
            if let cache = options.cache {
                let request = RequestBuilder.request(
                    config: judge, messages: messages,
                    jsonSchema: judge.structuredOutput
                        ? Prompting.schema(
                            rubric: rubric,
                            questions: options.checklists[item.id]?.count ?? rubric.checklist?.items.count ?? 0) : nil,
                    sample: call.sample)
                if cache.get(ResponseCache.key(judge: judge, request: request, sample: call.sample)) != nil {
                    cached += 1
                }
            }
        }
    }

    /// The estimate, per judge in the panel's order, priced from the panel file.
    package var estimate: ScoreJob.Estimate {
        // Judges sharing a name (refused by panel validation) would add up under one row, as before.
        var byName: [String: (Int, Int, Int)] = [:]
        for (j, judge) in panel.judges.enumerated() {
            var e = byName[judge.name] ?? (0, 0, 0)
            e.0 += perJudge[j].calls
            e.1 += perJudge[j].prompt
            e.2 += perJudge[j].completion
            byName[judge.name] = e
        }
        var rows: [(String, Int, Int, Int, Double?)] = []
        var total: Double? = 0
        for judge in panel.judges {
            let e = byName[judge.name] ?? (0, 0, 0)
            let usd = judge.price.map { $0.cost(promptTokens: e.1, completionTokens: e.2) }
            if let usd { total = (total ?? 0) + usd }
            rows.append((judge.name, e.0, e.1, e.2, usd))
        }
        if panel.judges.allSatisfy({ $0.price == nil }) { total = nil }
        return ScoreJob.Estimate(
            calls: rows.map(\.1).reduce(0, +), cachedCalls: cached, promptTokens: rows.map(\.2).reduce(0, +),
            maxCompletionTokens: rows.map(\.3).reduce(0, +), perJudge: rows, usd: total)
    }
}

extension ScoreJob {
    /// What a streamed dry run read: the estimate and the items it covered.
    package struct StreamedEstimate: Sendable {
        /// Calls, tokens and dollars, as ``ScoreJob/estimate()`` gives them for the same items.
        package var estimate: Estimate
        /// Items estimated (this shard's, with `shard`).
        package var items: Int
        /// Items in the whole file.
        package var itemsTotal: Int
    }

    /// `score --dry-run` in constant memory: streams the items file once, validating every item with the checks of
    /// ``init(itemsPath:items:rubric:panel:options:analysis:)`` (errors name file and line), and adds
    /// up each item's calls without keeping the item. With `shard`, only that shard's items are estimated (every
    /// item is still validated, as a sharded run does). Memory: the duplicate-id check's 16 bytes an item and the
    /// per-judge sums — 10 M calls plan in the same few MiB as 10 (BENCHMARKS.md, "Dry run").
    ///
    /// ```swift
    /// let e = try ScoreJob.streamEstimate(itemsPath: "items.jsonl", rubric: rubric, panel: panel)
    /// print(e.estimate.calls, e.estimate.usd ?? 0)
    /// ```
    ///
    /// - Throws: ``/JudgePanelCore/JudgePanelError`` for a bad or empty items file, or an item the rubric cannot judge.
    package static func streamEstimate(
        itemsPath: String, loader: ItemLoader = ItemLoader(), rubric: Rubric, panel: Panel,
        options: RunOptions = RunOptions(),
        shard: Shard? = nil
    ) throws -> StreamedEstimate {
        var tally = EstimateTally(rubric: rubric, panel: panel, options: options)
        var total = 0
        var mine = 0
        try loader.forEach(path: itemsPath) { item in
            try check(item, rubric: rubric, panel: panel, options: options, file: itemsPath)
            total += 1
            if let shard, !shard.contains(item.id) { return }
            tally.add(item, index: mine)
            mine += 1
        }
        guard total > 0 else { throw JudgePanelError.badInput("no items", file: itemsPath) }
        return StreamedEstimate(estimate: tally.estimate, items: mine, itemsTotal: total)
    }
}
