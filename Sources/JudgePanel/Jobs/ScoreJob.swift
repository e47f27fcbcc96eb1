import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
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
package struct ScoreJob: Sendable {
    package var itemsPath: String
    package var items: [Item]
    package var rubric: Rubric
    package var panel: Panel
    package var options: RunOptions
    package var analysis: MetaAnalysis.Options
    /// How items were read (`--map`, `--label-map`); recorded in config.json so `report DIR` reads them the same way.
    package var mapping: ItemMapping = ItemMapping()
    /// Set by ``restrict(to:)`` for `score --shard I/N`: `items` then hold only this shard's items.
    package var shard: ShardAssignment?
    /// Send the calls of `openai` and `anthropic` judges through the providers' batch APIs (`score --batch`).
    package var batch: BatchOptions?
    /// Set by ``init(streamingItemsPath:rubricPath:panelPath:loader:options:analysis:)``: `items` is then empty and
    /// the items are read from `itemsPath` in passes (run, resume check, analysis) instead of held.
    var itemsSource: StreamedItems?
    /// Tool outputs cut when the items' trajectories were rendered (`--max-tool-output-chars`), over all items.
    package var truncatedToolOutputs = 0

    /// How a streamed job reads its items again, and what its validation pass counted.
    struct StreamedItems: Sendable {
        package var loader: ItemLoader
        package var count: Int
        package var plannedCalls: Int
        /// `score --shard`: only this shard's items are read (``count`` and ``plannedCalls`` are the shard's).
        package var shard: Shard?
    }

    /// Loads and validates everything; throws ``/JudgePanelCore/JudgePanelError`` (bad input) before any call.
    package init(
        itemsPath: String, rubricPath: String, panelPath: String, loader: ItemLoader = ItemLoader(),
        options: RunOptions = RunOptions(), analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        let rubric = try Rubric.load(path: rubricPath)
        let panel = try Panel.load(path: panelPath, environment: options.environment)
        try self.init(
            itemsPath: itemsPath, items: loader.load(path: itemsPath), rubric: rubric, panel: panel, options: options,
            analysis: analysis)
        mapping = loader.mapping
    }

    /// A job over items already read with `loader` (recorded as the run's mapping), and a loaded rubric and panel.
    package init(
        itemsPath: String, items: [Item], loader: ItemLoader, rubric: Rubric, panel: Panel,
        options: RunOptions = RunOptions(), analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        try self.init(
            itemsPath: itemsPath, items: items, rubric: rubric, panel: panel, options: options, analysis: analysis)
        mapping = loader.mapping
    }

    /// The checks every item passes before any call, on every path (held, streamed, dry run): the rubric can judge
    /// it, and a rubric that generates checklists has one for it. Errors name the file and the item's line.
    static func check(_ item: Item, rubric: Rubric, panel: Panel, options: RunOptions, file: String) throws {
        try rubric.validate(item, file: file)
        try VisionSupport.check(item, panel: panel, file: file)
        if rubric.kind == .checklist, rubric.checklist?.generate == true, options.checklists[item.id] == nil {
            throw JudgePanelError.badInput(
                "item '\(item.id)' has no generated checklist (pass --checklists FILE or generate first)", file: file,
                line: item.line)
        }
    }

    package init(
        itemsPath: String, items: [Item], rubric: Rubric, panel: Panel, options: RunOptions = RunOptions(),
        analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        guard !items.isEmpty else { throw JudgePanelError.badInput("no items", file: itemsPath) }
        // A rubric built in code is not checked at load: its pattern must compile before any call.
        _ = try AnswerParser(rubric: rubric, structured: false)
        for item in items { try Self.check(item, rubric: rubric, panel: panel, options: options, file: itemsPath) }
        truncatedToolOutputs = items.reduce(0) { $0 + $1.truncatedToolOutputs }
        self.itemsPath = itemsPath
        self.items = items
        self.rubric = rubric
        self.panel = panel
        self.options = options
        self.analysis = Self.resolved(analysis, options: options, rubric: rubric, panel: panel)
    }

    /// A job whose items are not held: they are validated in one pass here (the same checks as
    /// ``init(itemsPath:rubricPath:panelPath:loader:options:analysis:)``, which keeps them), and read again from the
    /// file for the run, a resume check and the analysis, so memory does not grow with the number of items. `items`
    /// stays empty; ``itemCount`` and ``plannedCalls`` come from the validation pass. A run that needs the items
    /// together (`retainResults`, a scheduled policy) loads them first; batches and shards stream
    /// (``restrict(to:)`` keeps only the shard's count). ``estimate()`` reads `items`: `--dry-run` uses
    /// ``streamEstimate(itemsPath:loader:rubric:panel:options:shard:)``.
    package init(
        streamingItemsPath itemsPath: String, rubricPath: String, panelPath: String, loader: ItemLoader = ItemLoader(),
        options: RunOptions = RunOptions(), analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        let rubric = try Rubric.load(path: rubricPath)
        let panel = try Panel.load(path: panelPath, environment: options.environment)
        try self.init(
            streamingItemsPath: itemsPath, rubric: rubric, panel: panel, loader: loader, options: options,
            analysis: analysis)
    }

    /// ``init(streamingItemsPath:rubricPath:panelPath:loader:options:analysis:)`` with the rubric and panel already
    /// loaded (the CLI loads each once and passes it down).
    package init(
        streamingItemsPath itemsPath: String, rubric: Rubric, panel: Panel, loader: ItemLoader = ItemLoader(),
        options: RunOptions = RunOptions(), analysis: MetaAnalysis.Options = MetaAnalysis.Options()
    ) throws {
        _ = try AnswerParser(rubric: rubric, structured: false)
        var count = 0
        var planned = 0
        var truncated = 0
        try loader.forEach(path: itemsPath) { item in
            try Self.check(item, rubric: rubric, panel: panel, options: options, file: itemsPath)
            truncated += item.truncatedToolOutputs
            planned += Call.plan(itemIndex: count, item: item, rubric: rubric, panel: panel).count
            count += 1
        }
        guard count > 0 else { throw JudgePanelError.badInput("no items", file: itemsPath) }
        self.itemsPath = itemsPath
        self.items = []
        self.rubric = rubric
        self.panel = panel
        self.options = options
        self.analysis = Self.resolved(analysis, options: options, rubric: rubric, panel: panel)
        truncatedToolOutputs = truncated
        self.mapping = loader.mapping
        self.itemsSource = StreamedItems(loader: loader, count: count, plannedCalls: planned)
    }

    /// The analysis options of a run: the given ones with the panel's and rubric's settings.
    package static func resolved(_ analysis: MetaAnalysis.Options, options: RunOptions, rubric: Rubric, panel: Panel)
        -> MetaAnalysis.Options
    {
        var a = analysis
        a.flip = options.flip ?? panel.flip
        a.aggregate = options.aggregate ?? panel.aggregate
        a.judgeOrder = panel.judges.map(\.name)
        a.weights = Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) })
        a.tieMargin = rubric.checklist?.tieMargin ?? 0.05
        a.protocolKind = rubric.kind
        return a
    }

    /// The number of items (also of a streamed job, whose `items` is empty).
    package var itemCount: Int { itemsSource?.count ?? items.count }

    /// Every item with its index: from `items`, or read from the file for a streamed job.
    func forEachItem(_ body: (Int, Item) throws -> Void) throws {
        guard let source = itemsSource else {
            for (i, item) in items.enumerated() { try body(i, item) }
            return
        }
        var i = 0
        try source.loader.forEach(path: itemsPath) { item in
            guard source.shard?.contains(item.id) ?? true else { return }
            try body(i, item)
            i += 1
        }
        guard i == source.count else { throw Self.itemsChanged(itemsPath) }
    }

    /// The items as the analysis reads them (no texts): `items`, or a pass over the file for a streamed job.
    func analysisItems() throws -> [Item] {
        guard let source = itemsSource else { return items }
        let loaded = try source.loader.loadForAnalysis(path: itemsPath, keep: itemFilter)
        guard loaded.count == source.count else { throw Self.itemsChanged(itemsPath) }
        return loaded
    }

    static func itemsChanged(_ path: String) -> JudgePanelError {
        .badInput("the items file changed while the run was reading it", file: path)
    }

    /// Calls the run will make (before cache hits).
    package var plannedCalls: Int {
        if let source = itemsSource { return source.plannedCalls }
        return items.enumerated().reduce(0) {
            $0 + Call.plan(itemIndex: $1.offset, item: $1.element, rubric: rubric, panel: panel).count
        }
    }

    /// A cost estimate without sending anything.
    package struct Estimate: Sendable {
        package var calls: Int
        package var cachedCalls: Int
        package var promptTokens: Int
        package var maxCompletionTokens: Int
        package var perJudge: [(judge: String, calls: Int, promptTokens: Int, maxCompletionTokens: Int, usd: Double?)]
        package var usd: Double?
    }

    /// Estimates calls, tokens (about 4 characters a token) and dollars from the panel's prices.
    package func estimate() -> Estimate {
        var tally = EstimateTally(rubric: rubric, panel: panel, options: options)
        for (i, item) in items.enumerated() { tally.add(item, index: i) }
        return tally.estimate
    }

    /// What a finished run produced.
    package struct Outcome: Sendable {
        package var result: RunResult
        package var report: MetaReport
        package var reportJSON: JSONValue
        /// The run's facts, as config.json and report.json record them under `run`.
        package var facts: RunFacts
        package var errors: Int
        /// What `--resume` did with the journal (all zero for a fresh run).
        package var resume: ResumeCounts = ResumeCounts()
    }

    /// What a resumed run did with the journaled votes.
    package struct ResumeCounts: Sendable, Hashable {
        /// Journaled votes whose call fingerprint still matches: reused without a call.
        package var reused = 0
        /// Journaled votes whose call's inputs changed (or that carry no fingerprint): asked again.
        package var reasked = 0
        /// Journaled votes for calls that are no longer part of the run (an item, judge or sample removed).
        package var dropped = 0

        /// One line for the terminal.
        package var text: String {
            "resume: \(reused) journaled votes reused, \(reasked) re-asked (their inputs changed), \(dropped) dropped (no longer in the run)"
        }
    }

    /// Runs the panel and writes the run directory. With `resume`, finished calls in the directory's
    /// journal are reused when their call fingerprint still matches; without it, an existing journal is refused.
    /// A resumed run whose panel or rubric changed is refused unless `resumeChanged` is set (then only the calls
    /// whose inputs changed are asked again). The directory is locked (``RunLock``) for the whole run: by `lock`, a
    /// hold the caller took on `outDir` (the CLI takes it once, before checklist generation), else by the run.
    ///
    /// Votes stream to `votes.jsonl` in plan order as items finish, and the verdicts and reports are computed in a
    /// pass over that file. With `retainResults: false` the votes are not kept in memory either (``Outcome/result``
    /// then has no per-item results; the counts are in ``Outcome/reportJSON``'s `run`), so memory does not grow
    /// with the number of votes.
    package func run(
        outDir: String, resume: Bool = false, resumeChanged: Bool = false, counters: RunCounters? = nil,
        retainResults: Bool = true, lock held: RunLock? = nil
    ) async throws -> Outcome {
        if let source = itemsSource, retainResults || options.policy != .full {
            // These need the items together: read them all once.
            var job = self
            job.items = try source.loader.load(path: itemsPath)
            job.itemsSource = nil
            return try await job.run(
                outDir: outDir, resume: resume, resumeChanged: resumeChanged, counters: counters,
                retainResults: retainResults, lock: held)
        }
        // Nothing is written (not even the lock) into a directory that is not a score run's.
        try OutputDirectory.check(outDir, kind: .score)
        if let held, held.path != RunLock.lockPath(dir: outDir) {
            throw JudgePanelError.usage("the lock given to the run is \(held.path), not the lock of \(outDir)")
        }
        let lock = try held == nil ? RunLock.acquire(dir: outDir, command: resume ? "score --resume" : "score") : nil
        defer { lock?.release() }
        let dir = RunDirectory(path: outDir)
        let journalExists = FileManager.default.fileExists(atPath: dir.journalPath)
        if journalExists && !resume {
            throw JudgePanelError.usage(
                "\(outDir) already holds a run (journal.jsonl): pass --resume to finish it, or choose another --out")
        }
        let fingerprint = RunFingerprint.run(rubric: rubric, panel: panel)
        var completed: [String: Vote] = [:]
        var resumeCounts = ResumeCounts()
        if resume && journalExists {
            try checkResumable(dir: dir, current: fingerprint, resumeChanged: resumeChanged)
            (completed, resumeCounts) = try matchJournal(
                VoteJournal.completed(path: dir.journalPath), journalPath: dir.journalPath, resumeChanged: resumeChanged
            )
        }
        let itemsHash = try Self.fileHash(itemsPath)
        // Written before the first call, so that a killed run can be checked when it is resumed.
        try resolvedConfig(fingerprint: fingerprint, itemsHash: itemsHash, facts: nil).write(to: dir)
        let journal = try VoteJournal(path: dir.journalPath, observer: options.onJournaled)
        let runner = PanelRunner(panel: panel, rubric: rubric, options: options)
        let started = Date()
        let counters = counters ?? RunCounters(expected: 0)
        let votesFile = try JSONLinesWriter(path: dir.url.appendingPathComponent(".votes.jsonl.partial").path)
        var tally = VoteCounts()
        tally.priced = Set(panel.judges.filter { $0.price != nil }.map(\.name))
        var kept: [ItemResult] = []
        // A scheduled policy's summary needs each item's calls and verdict.
        let retainResults = retainResults || options.policy != .full
        let wall: Double
        let adjustments: [String]
        do {
            // The batch votes are read back from their batches' votes files as the runner reaches each item.
            var batchVotes: ((Int, Item) throws -> [String: Vote])?
            if let batch {
                let collected = try await BatchRunner(
                    job: self, dir: dir, journal: journal, options: batch, counters: counters
                ).run(completed: completed)
                batchVotes = try batchVoteLookup(collected, completed: completed)
            }
            var ran = 0
            let onResult: (ItemResult) async throws -> Void = { r in
                for v in r.votes {
                    try votesFile.append(VotesFile.line(v))
                    tally.add(v)
                }
                ran += 1
                if retainResults { kept.append(r) }
            }
            if let source = itemsSource {
                (wall, adjustments) = try await runner.runInOrder(
                    stream: try ItemFileSequence(path: itemsPath, loader: source.loader, keep: itemFilter),
                    journal: journal,
                    completed: completed, counters: counters, completedFor: batchVotes, onResult: onResult)
                guard ran == source.count else { throw Self.itemsChanged(itemsPath) }
            } else {
                (wall, adjustments) = try await runner.runInOrder(
                    stream: AsyncIndexedItems(items: items), journal: journal, completed: completed, counters: counters,
                    completedFor: batchVotes, onResult: onResult)
            }
            try votesFile.finish(renamingTo: dir.votesPath)
        } catch {
            await journal.close()
            votesFile.discard()
            throw error
        }
        await journal.close()
        // The cache's writer commits what it still holds, so that a write failure is known for the facts.
        options.cache?.flush()
        if retainResults { kept = runner.aggregator.finish(kept, kind: rubric.kind) }
        var result = RunResult(items: items, results: kept, counters: counters.snapshot, wallSeconds: wall)
        result.adjustments = adjustments
        let errors = tally.errors
        let c = result.counters
        var facts = RunFacts()
        facts.itemsFile = itemsPath
        facts.rubric = rubric.id
        facts.protocol = rubric.kind.rawValue
        facts.panel = panel.source ?? ""
        facts.judges = panel.judges.map(\.name)
        facts.started = ISO8601DateFormatter().string(from: started)
        facts.wallSeconds = (result.wallSeconds * 1000).rounded() / 1000
        facts.reusedFromJournal = resumeCounts.reused
        facts.reasked = resumeCounts.reasked
        facts.droppedFromJournal = resumeCounts.dropped
        facts.httpCalls = c.httpCalls
        facts.cached = c.cached
        facts.record(tally.totals)
        if tally.costUnknown > 0 { facts.costUnknownCalls = tally.costUnknown }
        // What the providers reported answering: {judge: {model version: votes}} (README, "Drift").
        if !tally.modelVersions.isEmpty { facts.modelVersions = tally.modelVersions }
        if !tally.systemFingerprints.isEmpty { facts.systemFingerprints = tally.systemFingerprints }
        let notes = adjustments + tally.logprobNotes(judges: panel.judges.map(\.name))
        if !notes.isEmpty { facts.notes = notes }
        if let why = options.cache?.writeFailure {
            // Said once on stderr when it happened; here for whoever reads the run later.
            facts.cacheUnwritable = "\(options.cache?.directory.path ?? ""): \(why)"
        }
        if !c.stoppedJudges.isEmpty {
            // Judges stopped by an exhausted quota: why, in the provider's (scrubbed) words.
            facts.stoppedJudges = c.stoppedJudges
            facts.quotaUnsent = tally.quotaUnsent
        }
        var config = resolvedConfig(fingerprint: fingerprint, itemsHash: itemsHash, facts: facts)
        if shard != nil, case .object(var s)? = config.shard {
            // What `merge` checks this shard's votes.jsonl against: its vote count and the SHA-256 of its bytes.
            s["votes"] = .number(Double(tally.votes))
            s["votes_sha256"] = .string(try ContentHash.hexOfFile(dir.votesPath))
            config.shard = .object(s)
        }
        // A scheduled run (adaptive, cascade) decides each item as its policy did: those verdicts are the run's,
        // and the report carries the policy's summary.
        let policy: RunReports.PolicyOutcome? =
            options.policy == .full ? nil : .init(verdicts: result.verdicts) { applyPolicy(&$0, result: result) }
        let built = try RunReports.writeScoreRun(dir, config: config, source: analysisSource, policy: policy)
        try config.write(to: dir)
        return Outcome(
            result: result, report: built.report, reportJSON: built.json, facts: facts, errors: errors,
            resume: resumeCounts)
    }

    /// Refuses to resume a run whose panel or rubric changed (unless `resumeChanged`), saying what changed.
    func checkResumable(dir: RunDirectory, current: JSONValue, resumeChanged: Bool) throws {
        let configPath = dir.url.appendingPathComponent("config.json").path
        let config = try RunConfig.read(dir: dir.url.path)
        let recorded = config?.fingerprint
        if let config {
            // A run continues under the policy it recorded.
            let name = config.policy?["name"]?.stringValue ?? CallPolicy.full.rawValue
            if name != options.policy.rawValue {
                throw JudgePanelError.usage(
                    "\(dir.url.path) was run under the \(name) policy, not \(options.policy.rawValue): resume it under its own "
                        + "policy (the CLI's --resume does), or choose another --out")
            }
        }
        guard !resumeChanged else { return }
        guard let recorded else {
            throw JudgePanelError.usage(
                "\(configPath) holds no run fingerprint (an older judgepanel wrote this run), so its votes cannot be checked "
                    + "against the current inputs: pass --resume-changed to re-ask them, or choose another --out")
        }
        let changes = RunFingerprint.changes(recorded: recorded, current: current)
        if !changes.isEmpty {
            throw JudgePanelError.usage(
                "\(dir.url.path) was run with other inputs; changed: " + changes.joined(separator: "; ")
                    + ". Pass --resume-changed to re-ask only the calls whose inputs changed, or choose another --out")
        }
    }

    /// Splits journaled votes into those to reuse (call fingerprint matches) and counts the rest.
    func matchJournal(_ journaled: [String: Vote], journalPath: String, resumeChanged: Bool) throws -> (
        [String: Vote], ResumeCounts
    ) {
        let unfingerprinted = journaled.values.filter { $0.fingerprint == nil }.count
        if unfingerprinted > 0 && !resumeChanged {
            throw JudgePanelError.usage(
                "\(journalPath): \(unfingerprinted) journaled votes carry no call fingerprint (an older judgepanel wrote them), "
                    + "so they cannot be checked against the current inputs: pass --resume-changed to re-ask them")
        }
        var reuse: [String: Vote] = [:]
        var counts = ResumeCounts()
        var planned = Set<String>()
        try forEachItem { i, item in
            for call in Call.plan(itemIndex: i, item: item, rubric: rubric, panel: panel) {
                let judge = panel.judges[call.judge]
                let key = call.key(itemID: item.id, judgeName: judge.name)
                planned.insert(key)
                guard let old = journaled[key] else { continue }
                let now = CallExecutor.fingerprint(
                    call: call, item: item, judge: judge, rubric: rubric, checklist: options.checklists[item.id])
                if old.fingerprint == now {
                    reuse[key] = old
                    counts.reused += 1
                } else {
                    counts.reasked += 1
                }
            }
        }
        counts.dropped = journaled.keys.filter { !planned.contains($0) }.count
        return (reuse, counts)
    }

    /// SHA-256 of a file's bytes (nil for items not read from a file).
    static func fileHash(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try ContentHash.hexOfFile(path)
    }

    /// Per judge that asked for log-probabilities: "logprobs unavailable", or the share of degenerate readings.
    package static func logprobNotes(_ votes: [Vote], judges: [String]) -> [String] {
        var counts = VoteCounts()
        for v in votes { counts.add(v) }
        return counts.logprobNotes(judges: judges)
    }

    /// The resolved configuration (no keys: only the names of the variables they come from).
    var resolvedConfig: RunConfig {
        get throws {
            resolvedConfig(
                fingerprint: RunFingerprint.run(rubric: rubric, panel: panel), itemsHash: try Self.fileHash(itemsPath),
                facts: nil)
        }
    }

    /// The resolved configuration with the run fingerprint, the items file's hash and (at the end) the run's facts:
    /// every option that shapes the analysis, so `report DIR` rebuilds the run's files byte for byte.
    func resolvedConfig(fingerprint: JSONValue, itemsHash: String?, facts: RunFacts?) -> RunConfig {
        var config = RunConfig()
        config.rubric = .init(
            id: rubric.id, protocol: rubric.kind.rawValue, source: rubric.source ?? "",
            templateSHA256: ContentHash.hex(rubric.template.source))
        config.panel = .init(
            source: panel.source ?? "", aggregate: analysis.aggregate.rawValue, swap: panel.swap,
            flip: analysis.flip.rawValue, judges: panel.judges.map(Self.judgeRecord))
        config.items = itemsPath
        config.itemsSHA256 = itemsHash
        config.itemMapping = .init(mapping)
        config.analysis = RunReports.analysisConfig(analysis)
        config.fingerprint = fingerprint
        config.run = facts
        config.policy = policyConfig
        config.shard = shard.map { $0.shard.config(items: itemCount, itemsTotal: $0.itemsTotal) }
        return config
    }

    /// A judge as config.json records it (no key: only the name of its variable; URLs redacted).
    static func judgeRecord(_ j: JudgeConfig) -> RunConfig.JudgeRecord {
        var r = RunConfig.JudgeRecord(name: j.name)
        r.provider = j.provider.rawValue
        r.model = j.model
        r.baseURLs = j.baseURLs.map { SecretScrubber.redactURL($0) }
        r.family = j.family
        r.apiKeyEnv = j.keyVariables.first
        r.temperature = j.temperature
        r.maxTokens = j.maxTokens
        r.seed = j.seed
        r.concurrency = j.concurrency
        r.samples = j.samples
        r.structuredOutput = j.structuredOutput
        r.logprobs = j.topLogprobs
        r.weight = j.weight
        r.gguf = j.llamacpp?.gguf
        // wire settings; header values are left out (only their names)
        r.wire = RequestBuilder.request(config: j, messages: [], jsonSchema: nil, sample: 0).wire.fingerprint
        return r
    }
}

/// Counts of a run's votes, added up as they are written: the ``VoteTotals`` (read through, `counts.errors`) and
/// what the run facts add to them.
@dynamicMemberLookup
package struct VoteCounts {
    /// Votes by status, tokens and cost.
    package var totals = VoteTotals()
    package subscript<T>(dynamicMember key: KeyPath<VoteTotals, T>) -> T { totals[keyPath: key] }
    /// Judges with a price: their votes without a cost (usage missing or implausible) are counted in ``costUnknown``.
    package var priced: Set<String> = []
    /// Votes of priced judges whose cost is unknown (shown as such, never as $0).
    var costUnknown = 0

    package mutating func add(_ v: Vote) {
        totals.add(v)
        if v.costUSD == nil && priced.contains(v.judge) { costUnknown += 1 }
        if v.reason == .quota && v.attempts == 0 { quotaUnsent[v.judge, default: 0] += 1 }
        if let m = v.modelVersion { modelVersions[v.judge, default: [:]][m, default: 0] += 1 }
        if let f = v.systemFingerprint { systemFingerprints[v.judge, default: [:]][f, default: 0] += 1 }
        if v.logprobs != nil {
            var l = logprobs[v.judge, default: LogprobCounts()]
            l.asked += 1
            if v.logprobs == .unavailable { l.unavailable += 1 }
            if let p = v.probs {
                l.withProbs += 1
                if Probabilities.isDegenerate(p) { l.degenerate += 1 }
            }
            logprobs[v.judge] = l
        }
    }

    /// Per judge, votes that asked for log-probabilities.
    package struct LogprobCounts {
        package var asked = 0
        package var unavailable = 0
        package var withProbs = 0
        package var degenerate = 0
    }
    package var logprobs: [String: LogprobCounts] = [:]
    /// Per judge, the model versions the provider reported, with their vote counts.
    package var modelVersions: [String: [String: Int]] = [:]
    /// Per judge, OpenAI's `system_fingerprint`s, with their vote counts.
    package var systemFingerprints: [String: [String: Int]] = [:]
    /// Per judge, calls not sent because its quota was exhausted.
    package var quotaUnsent: [String: Int] = [:]

    /// Per judge that asked for log-probabilities: "logprobs unavailable", or the share of degenerate readings.
    package func logprobNotes(judges: [String]) -> [String] {
        judges.compactMap { name in
            guard let l = logprobs[name], l.asked > 0 else { return nil }
            if l.unavailable == l.asked { return "judge '\(name)': logprobs unavailable" }
            guard l.withProbs > 0 else { return nil }
            return
                "judge '\(name)': probabilities degenerate (one label ≥ 0.999) on \(l.degenerate) of \(l.withProbs) votes"
                + (l.unavailable > 0 ? "; logprobs unavailable on \(l.unavailable)" : "")
        }
    }
}
