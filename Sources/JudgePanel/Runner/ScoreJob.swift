import Foundation
import JudgeStats

/// The whole `score` flow as a value: load and validate inputs (before any call), plan, run with a journal,
/// reconcile, analyse, and write the run directory. The CLI is a thin layer over it.
///
/// ```swift
/// let job = try ScoreJob(itemsPath: "items.jsonl", rubricPath: "rubrics/pairwise-mtbench.yaml",
///                        panelPath: "panels/local.yaml")
/// let outcome = try await job.run(outDir: "runs/demo")
/// print(outcome.report.panel?.accuracy?.value ?? .nan)
/// ```
public struct ScoreJob: Sendable {
    public var itemsPath: String
    public var items: [Item]
    public var rubric: Rubric
    public var panel: Panel
    public var options: RunOptions
    public var analysis: MetaAnalysis.Options

    /// Loads and validates everything; throws ``JudgePanelError`` (bad input) before any call.
    public init(
        itemsPath: String, rubricPath: String, panelPath: String, loader: ItemLoader = ItemLoader(),
        options: RunOptions = RunOptions(), analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        let rubric = try Rubric.load(path: rubricPath)
        let panel = try Panel.load(path: panelPath, environment: options.environment)
        try self.init(itemsPath: itemsPath, items: loader.load(path: itemsPath), rubric: rubric, panel: panel, options: options, analysis: analysis)
    }

    public init(
        itemsPath: String, items: [Item], rubric: Rubric, panel: Panel, options: RunOptions = RunOptions(),
        analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        guard !items.isEmpty else { throw JudgePanelError.badInput("no items", file: itemsPath) }
        for item in items { try rubric.validate(item, file: itemsPath) }
        if rubric.kind == .checklist, rubric.checklist?.generate == true {
            for item in items where options.checklists[item.id] == nil {
                throw JudgePanelError.badInput(
                    "item '\(item.id)' has no generated checklist (pass --checklists FILE or generate first)",
                    file: itemsPath, line: item.line)
            }
        }
        self.itemsPath = itemsPath
        self.items = items
        self.rubric = rubric
        self.panel = panel
        self.options = options
        var a = analysis
        a.flip = options.flip ?? panel.flip
        a.aggregate = options.aggregate ?? panel.aggregate
        a.judgeOrder = panel.judges.map(\.name)
        a.weights = Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) })
        a.tieMargin = rubric.checklist?.tieMargin ?? 0.05
        self.analysis = a
    }

    /// Calls the run will make (before cache hits).
    public var plannedCalls: Int {
        items.enumerated().reduce(0) { $0 + Call.plan(itemIndex: $1.offset, item: $1.element, rubric: rubric, panel: panel).count }
    }

    /// A cost estimate without sending anything.
    public struct Estimate: Sendable {
        public var calls: Int
        public var cachedCalls: Int
        public var promptTokens: Int
        public var maxCompletionTokens: Int
        public var perJudge: [(judge: String, calls: Int, promptTokens: Int, maxCompletionTokens: Int, usd: Double?)]
        public var usd: Double?
    }

    /// Estimates calls, tokens (about 4 characters a token) and dollars from the panel's prices.
    public func estimate() -> Estimate {
        var per: [String: (Int, Int, Int)] = [:]
        var cached = 0
        for (i, item) in items.enumerated() {
            for call in Call.plan(itemIndex: i, item: item, rubric: rubric, panel: panel) {
                let judge = panel.judges[call.judge]
                var shown = item
                if let side = call.side { shown.response = side == .a ? item.responseA : item.responseB }
                let messages = Prompting.messages(rubric: rubric, item: shown, order: call.order, checklist: options.checklists[item.id])
                let tokens = messages.reduce(0) { $0 + $1.content.utf8.count } / 4 + 8 * messages.count
                var e = per[judge.name] ?? (0, 0, 0)
                e.0 += 1
                e.1 += tokens
                e.2 += judge.maxTokens ?? 512
                per[judge.name] = e
                if let cache = options.cache {
                    let request = CompletionRequest(
                        model: judge.model, messages: messages, temperature: judge.temperature, maxTokens: judge.maxTokens,
                        seed: judge.seed.map { $0 + call.sample },
                        jsonSchema: judge.structuredOutput
                            ? Prompting.schema(rubric: rubric, questions: options.checklists[item.id]?.count ?? rubric.checklist?.items.count ?? 0) : nil,
                        topLogprobs: judge.topLogprobs)
                    if cache.get(ResponseCache.key(provider: judge.provider, request: request, sample: call.sample)) != nil { cached += 1 }
                }
            }
        }
        var rows: [(String, Int, Int, Int, Double?)] = []
        var total: Double? = 0
        for judge in panel.judges {
            let e = per[judge.name] ?? (0, 0, 0)
            let usd = judge.price.map { $0.cost(promptTokens: e.1, completionTokens: e.2) }
            if let usd { total = (total ?? 0) + usd }
            rows.append((judge.name, e.0, e.1, e.2, usd))
        }
        if panel.judges.allSatisfy({ $0.price == nil }) { total = nil }
        return Estimate(
            calls: rows.map(\.1).reduce(0, +), cachedCalls: cached, promptTokens: rows.map(\.2).reduce(0, +),
            maxCompletionTokens: rows.map(\.3).reduce(0, +), perJudge: rows, usd: total)
    }

    /// What a finished run produced.
    public struct Outcome: Sendable {
        public var result: RunResult
        public var report: MetaReport
        public var reportJSON: JSONValue
        public var errors: Int
    }

    /// Runs the panel and writes the run directory. With `resume`, finished calls in the directory's
    /// journal are reused; without it, an existing journal is refused.
    public func run(outDir: String, resume: Bool = false, counters: RunCounters? = nil) async throws -> Outcome {
        let dir = RunDirectory(path: outDir)
        let journalExists = FileManager.default.fileExists(atPath: dir.journalPath)
        if journalExists && !resume {
            throw JudgePanelError.usage("\(outDir) already holds a run (journal.jsonl): pass --resume to finish it, or choose another --out")
        }
        try dir.create()
        let completed = resume ? try VoteJournal.completed(path: dir.journalPath) : [:]
        let journal = try VoteJournal(path: dir.journalPath)
        let runner = PanelRunner(panel: panel, rubric: rubric, options: options)
        let started = Date()
        let result: RunResult
        do {
            result = try await runner.run(items: items, journal: journal, completed: completed, counters: counters)
        } catch {
            await journal.close()
            throw error
        }
        await journal.close()
        var report = MetaAnalysis(options: analysis).report(items: items, votes: result.votes)
        applyPolicy(&report, result: result)
        let errors = result.votes.filter { $0.status == .error }.count
        var json = JSONValue(encoding: report) ?? .object([:])
        if case .object(var o) = json {
            let c = result.counters
            o["run"] = [
                "items_file": .string(itemsPath),
                "rubric": .string(rubric.id),
                "protocol": .string(rubric.kind.rawValue),
                "panel": .string(panel.source ?? ""),
                "judges": .array(panel.judges.map { .string($0.name) }),
                "started": .string(ISO8601DateFormatter().string(from: started)),
                "wall_s": .number((result.wallSeconds * 1000).rounded() / 1000),
                "votes": .number(Double(result.votes.count)),
                "reused_from_journal": .number(Double(completed.count)),
                "http_calls": .number(Double(c.httpCalls)),
                "cached": .number(Double(c.cached)),
                "ok": .number(Double(result.votes.filter(\.isOK).count)),
                "abstain": .number(Double(result.votes.filter { $0.status == .abstain }.count)),
                "error": .number(Double(errors)),
                "prompt_tokens": .number(Double(result.votes.compactMap(\.usage?.promptTokens).reduce(0, +))),
                "completion_tokens": .number(Double(result.votes.compactMap(\.usage?.completionTokens).reduce(0, +))),
                "cost_usd": .number(result.votes.compactMap(\.costUSD).reduce(0, +)),
            ]
            json = .object(o)
        }
        try dir.writeVotes(result.votes)
        try dir.writeVerdicts(result.verdicts)
        try dir.writeJSON("report.json", json)
        let header = [
            "items: \(itemsPath) (\(items.count))", "rubric: \(rubric.id) (\(rubric.kind.rawValue))",
            "panel: \(panel.source ?? "(in code)") — \(panel.judges.map(\.name).joined(separator: ", "))",
            "date: \(ISO8601DateFormatter().string(from: started))",
            String(format: "wall time: %.1f s; votes: %d; errors: %d", result.wallSeconds, result.votes.count, errors),
        ]
        try dir.write("report.md", ReportText.markdown(report, title: "judgepanel score report", header: header))
        try RunReports.writeScoreHTML(dir, report: report, items: items, votes: result.votes, itemsPath: itemsPath, rubric: rubric, panel: panel, analysis: analysis, started: started)
        try dir.writeJSON("config.json", resolvedConfig)
        return Outcome(result: result, report: report, reportJSON: json, errors: errors)
    }

    /// The resolved configuration (no keys: only the names of the variables they come from).
    public var resolvedConfig: JSONValue {
        .object([
            "rubric": [
                "id": .string(rubric.id), "protocol": .string(rubric.kind.rawValue), "source": .string(rubric.source ?? ""),
                "template_sha256": .string(SHA256.hex(rubric.template.source)),
            ],
            "panel": [
                "source": .string(panel.source ?? ""), "aggregate": .string(analysis.aggregate.rawValue),
                "swap": .bool(panel.swap), "flip": .string(analysis.flip.rawValue),
                "judges": .array(panel.judges.map { j in
                    [
                        "name": .string(j.name), "provider": .string(j.provider.rawValue), "model": .string(j.model),
                        "base_urls": .array(j.baseURLs.map { .string($0) }), "family": j.family.map { .string($0) } ?? .null,
                        "api_key_env": j.keyVariables.first.map { .string($0) } ?? .null,
                        "temperature": j.temperature.map { .number($0) } ?? .null,
                        "max_tokens": j.maxTokens.map { .number(Double($0)) } ?? .null,
                        "concurrency": .number(Double(j.concurrency)), "samples": .number(Double(j.samples)),
                        "structured_output": .bool(j.structuredOutput),
                        "gguf": j.llamacpp.map { .string($0.gguf) } ?? .null,
                    ]
                }),
            ],
            "items": .string(itemsPath),
        ])
    }
}
