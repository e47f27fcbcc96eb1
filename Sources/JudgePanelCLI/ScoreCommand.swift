import ArgumentParser
import Foundation
import JudgePanel

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score generations with a panel of judges (pointwise, pairwise, checklist).")

    @Argument(help: "Items file (JSONL).") var items: String
    @Option(help: "Rubric file (YAML).") var rubric: String
    @Option(help: "Panel file (YAML).") var panel: String
    @Option(help: "Run directory.") var out: String = "runs/latest"
    @Flag(
        help:
            "Finish an interrupted run in --out without repeating finished calls (a journaled vote is reused only while its call's inputs are unchanged)."
    ) var resume = false
    @Flag(
        name: .customLong("resume-changed"),
        help: "With --resume: accept a changed panel or rubric and re-ask only the calls whose inputs changed.")
    var resumeChanged = false
    @Flag(name: .customLong("dry-run"), help: "Print calls, estimated tokens and dollars; send nothing.") var dryRun =
        false
    @Option(help: "Override the panel's aggregation (majority | mean | median | weighted | dawid-skene).")
    var aggregate: AggregationMethod?
    @Option(help: "Override the flip policy (tie | abstain).") var flip: FlipPolicy?
    @Option(help: "Pre-written checklists per item (JSONL {item, questions}).") var checklists: String?
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
    @Flag(
        help:
            "Adaptive panel (pairwise): only the calls the stopping rule needs to decide the majority; calls made vs the full panel's in report.json (adaptive). Compare with the full panel offline: judgepanel plan."
    )
    var adaptive = false
    @Flag(
        help:
            "Cascade (pairwise): the panel file's tiers: in order, escalating an item only while its tier is split, flipped or below escalate.min_share."
    )
    var cascade = false
    @Option(help: "Run only shard I of N (0-based: 0/N … (N-1)/N): the items whose id hashes to I mod N (see `merge`).")
    var shard: String?
    @OptionGroup var batchOptions: BatchFlags
    @OptionGroup var itemOptions: ItemOptions
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup var gateOptions: GateOptions
    @Option(
        help:
            "Drift sentinel: compare this run with an earlier run directory over the same items (drift.json, drift.md, drift.html in --out); a significant change exits 4."
    )
    var baseline: String?
    @Option(name: .customLong("alpha"), help: "With --baseline: the drift tests' level α.") var driftAlpha: Double =
        0.05
    @Option(
        name: .customLong("max-change-rate"),
        help: "With --baseline: also a drift when a unit's share of changed verdicts exceeds this.")
    var maxChangeRate: Double?

    func run() async throws {
        try await runMapped {
            _ = try gateOptions.gates()
            let drift = try DriftOptions.analysis(
                alpha: driftAlpha, resamples: 1000, seed: seed, maxChangeRate: maxChangeRate)
            if let baseline,
                !FileManager.default.fileExists(
                    atPath: URL(fileURLWithPath: baseline).appendingPathComponent("config.json").path)
            {
                throw JudgePanelError.badInput(
                    "--baseline: not a judgepanel score run directory (no config.json)", file: baseline)
            }
            if resumeChanged && !resume { throw JudgePanelError.usage("--resume-changed needs --resume") }
            // Before anything reads or writes --out: a directory that is not a score run's is refused untouched.
            if !dryRun { try OutputDirectory.check(out, kind: .score) }
            var options = RunOptions(cache: cacheOptions.cache, aggregate: aggregate, flip: flip)
            if adaptive && cascade { throw JudgePanelError.usage("--adaptive and --cascade are exclusive") }
            // --resume continues under the policy the run recorded (adaptive, cascade, batch), or refuses a flag that
            // contradicts it: a resumed adaptive run without its flag would otherwise ask the whole panel.
            let (runAdaptive, runCascade, runBatch) = try recordedPolicy()
            options.policy = runAdaptive ? .adaptive : (runCascade ? .cascade : .full)
            // The rubric and panel are read once, here, and passed down.
            let rubricValue = try Rubric.load(path: rubric)
            let panelValue = try Panel.load(path: panel, environment: options.environment)
            if options.policy != .full {
                // Before anything is sent (checklist generation included).
                try ScoreJob.checkPolicy(
                    options.policy, rubric: rubricValue, panel: panelValue, aggregate: aggregate, panelFile: panel)
            }
            if let checklists { options.checklists = try ChecklistStore.load(path: checklists) }
            let shardValue = try shard.map(Shard.parse)
            if shardValue != nil { try checkShardable(rubricValue) }
            try checkShardIdentity(shardValue)
            // The run directory's lock, taken once (by checklist generation, or before the run) and held to the end.
            var lock: RunLock?
            defer { lock?.release() }
            let prepared = try await prepareChecklists(&options, rubric: rubricValue, panel: panelValue, lock: &lock)
            let generation = prepared.generation
            if dryRun {
                // Streams the items file: nothing is kept per item, so 10 M calls estimate in constant memory.
                let streamed = try ScoreJob.streamEstimate(
                    itemsPath: items, loader: try itemOptions.loader(), rubric: rubricValue, panel: panelValue,
                    options: options, shard: shardValue)
                if let shardValue { print("shard \(shardValue): \(streamed.items) of \(streamed.itemsTotal) items") }
                var estimate = streamed.estimate
                if try runBatch.options(adaptive: runAdaptive || runCascade) != nil {
                    estimate.applyBatchDiscount(panelValue)
                }
                printEstimate(estimate)
                return
            }
            let batch = try runBatch.options(adaptive: runAdaptive || runCascade)
            // A full run (batches and shards too) reads its items in passes instead of holding them (memory flat in
            // the number of items).
            let streamed = options.checklists.isEmpty && options.policy == .full
            let loader = try itemOptions.loader()
            let analysis = MetaAnalysis.Options(seed: seed)
            var job =
                streamed
                ? try ScoreJob(
                    streamingItemsPath: items, rubric: rubricValue, panel: panelValue, loader: loader,
                    options: options, analysis: analysis)
                : try ScoreJob(
                    itemsPath: items, items: prepared.items ?? loader.load(path: items), loader: loader,
                    rubric: rubricValue, panel: panelValue, options: options, analysis: analysis)
            if let shardValue {
                let total = job.itemCount
                try job.restrict(to: shardValue)
                print("shard \(shardValue): \(job.itemCount) of \(total) items")
            }
            job.batch = batch
            if job.truncatedToolOutputs > 0 {
                printErr(
                    "judgepanel: note: \(job.truncatedToolOutputs) tool outputs longer than \(itemOptions.maxToolOutputChars) "
                        + "characters were cut for the judges (marked '[truncated N characters]'; --max-tool-output-chars)"
                )
            }
            try takeLock(&lock)
            let counters = RunCounters(expected: job.plannedCalls)
            let progress = ProgressReporter(counters: counters)
            progress.start()
            if !options.checklists.isEmpty {
                try RunDirectory(path: out).create()
                try ChecklistStore.save(options.checklists, order: job.items.map(\.id), to: checklistsPath)
            }
            let outcome: ScoreJob.Outcome
            do {
                outcome = try await job.run(
                    outDir: out, resume: resume, resumeChanged: resumeChanged, counters: counters, retainResults: false,
                    lock: lock)
            } catch {
                progress.stop()
                throw error
            }
            progress.stop()
            let facts = outcome.facts
            let unknownCost = facts.costUnknownCalls ?? 0
            if resume { say(outcome.resume.text) }
            if let a = outcome.report.adaptive { say(a.text) }
            say(
                ReportText.terminal(
                    outcome.report,
                    title:
                        "judgepanel score — \(job.rubric.id), \(job.itemCount) items, \(job.panel.judges.count) judges")
            )
            say(
                String(
                    format: "wall %.1f s · %d votes (%d ok, %d abstain, %d error) · %d HTTP calls · %d cached · $%.4f",
                    outcome.result.wallSeconds, facts.votes, facts.ok, facts.abstain, outcome.errors,
                    outcome.result.counters.httpCalls, outcome.result.counters.cached, facts.costUSD)
                    + (unknownCost > 0
                        ? " + \(unknownCost) calls of unknown cost (no or implausible usage reported)" : ""))
            if let generation {
                say(
                    "checklists: \(generation.generated.count) generated (\(generation.cachedReplies) replies cached, "
                        + "\(generation.httpCalls) HTTP calls), \(generation.reused.count) reused")
            }
            say(
                "wrote \(out)/votes.jsonl, verdicts.jsonl, report.json, report.md, report.html"
                    + (options.checklists.isEmpty ? "" : ", checklists.jsonl"))
            printStoppedJudges(
                outcome.result.counters,
                unsent: facts.quotaUnsent ?? [:])
            if outcome.errors > 0 {
                printErr("judgepanel: \(outcome.errors) calls failed after retries (recorded as error votes)")
            }
            var drifted: DriftReport?
            if let baseline {
                let report = try DriftJob.compare(base: baseline, new: out, analysis: drift)
                try DriftJob.write(report, to: out)
                for line in report.summaryLines { say(line) }
                say("wrote \(out)/drift.json, drift.md, drift.html")
                drifted = report
            }
            // Gates after every file (drift's too) is written: a failed gate exits 4 (before the failed calls' 1).
            try gateOptions.finish(report: outcome.reportJSON, command: "score") {
                ItemChecks.check(
                    try ItemChecks.expectations(itemsPath: items, loader: itemOptions.loader()),
                    verdicts: try ItemChecks.verdicts(
                        path: URL(fileURLWithPath: out).appendingPathComponent("verdicts.jsonl").path))
            }
            if let drifted { try DriftOptions.exit(drifted, failOnChange: false) }
            if outcome.errors > 0 { throw ExitCode(1) }
        }
    }
}

extension ScoreCommand {
    /// The policy flags to run with: with `--resume` of a run directory that recorded its policy (config.json's
    /// `policy`, and `batches.jsonl` for a batch run), that policy; a flag that names another policy is refused (exit 2).
    func recordedPolicy() throws -> (adaptive: Bool, cascade: Bool, batch: BatchFlags) {
        var flags = batchOptions
        guard resume else { return (adaptive, cascade, flags) }
        let dir = URL(fileURLWithPath: out)
        let configPath = RunConfig.path(dir: out)
        guard let config = try RunConfig.read(dir: out) else { return (adaptive, cascade, flags) }
        let recorded: CallPolicy
        if let policy = config.policy, policy != .null {
            guard let name = policy["name"]?.stringValue, let p = CallPolicy(rawValue: name) else {
                throw JudgePanelError.badInput("policy.name has an unreadable value", file: configPath)
            }
            recorded = p
        } else {
            recorded = .full
        }
        let asked: CallPolicy = adaptive ? .adaptive : (cascade ? .cascade : .full)
        func flag(_ p: CallPolicy) -> String {
            p == .full ? "the full panel (no --adaptive or --cascade)" : "--\(p.rawValue)"
        }
        if asked != .full && asked != recorded {
            throw JudgePanelError.usage(
                "\(out) was run with \(flag(recorded)); --resume continues it under that policy, not \(flag(asked)): "
                    + "drop the flag, or choose another --out for a new run")
        }
        if asked == .full && recorded != .full {
            printErr("judgepanel: resuming \(out) under the policy it recorded: \(flag(recorded))")
        }
        let batchRun = FileManager.default.fileExists(atPath: dir.appendingPathComponent("batches.jsonl").path)
        if batchRun && !flags.batch {
            printErr("judgepanel: resuming \(out) as the batch run it is (--batch)")
            flags.batch = true
        }
        return (recorded == .adaptive, recorded == .cascade, flags)
    }

    var checklistsPath: String { URL(fileURLWithPath: out).appendingPathComponent("checklists.jsonl").path }

    /// Takes the run directory's lock unless this command holds it already: the one place `score` locks `--out`
    /// (the ``ScoreJob`` run is given the hold and takes none of its own).
    func takeLock(_ lock: inout RunLock?) throws {
        if lock == nil { lock = try RunLock.acquire(dir: out, command: commandLine) }
    }

    /// What the lock file says this process is doing.
    var commandLine: String {
        "score" + (adaptive ? " --adaptive" : "") + (batchOptions.batch ? " --batch" : "") + (resume ? " --resume" : "")
    }

    /// TICK: for a `generate: true` rubric, a panel judge writes the checklist of every item that has none yet
    /// (from `--checklists`, or from this run directory's `checklists.jsonl` when resuming). The questions are
    /// saved to `--out`/checklists.jsonl (also when some items fail, which then stops the run with their ids).
    /// A dry run sends nothing: it counts the generation calls and estimates with placeholder questions.
    /// Returns the generation's outcome and the items it read (nil for a rubric that generates none), so that the run
    /// does not read them again.
    func prepareChecklists(
        _ options: inout RunOptions, rubric rubricValue: Rubric, panel panelValue: Panel, lock: inout RunLock?
    )
        async throws -> (generation: ChecklistGenerator.Outcome?, items: [Item]?)
    {
        guard rubricValue.kind == .checklist, let spec = rubricValue.checklist, spec.generate else { return (nil, nil) }
        let loaded = try itemOptions.loader().load(path: items)
        for item in loaded { try rubricValue.validate(item, file: items) }
        var existing = options.checklists
        if resume, FileManager.default.fileExists(atPath: checklistsPath) {
            for (id, qs) in try ChecklistStore.load(path: checklistsPath) where existing[id] == nil {
                existing[id] = qs
            }
        }
        let missing = loaded.filter { existing[$0.id] == nil }
        let generator = try ChecklistGenerator(rubric: rubricValue, panel: panelValue, options: options)
        if dryRun {
            if !missing.isEmpty {
                say(
                    "checklist generation: \(Set(missing.map(\.id)).count) calls to \(generator.judge.name) first "
                        + "(the estimate below assumes \(spec.maxQuestions) questions per generated checklist)")
                let placeholder = (1...max(1, spec.maxQuestions)).map {
                    "Does the response satisfy requirement \($0) of the instruction?"
                }
                for item in missing { existing[item.id] = placeholder }
            }
            options.checklists = existing
            return (nil, loaded)
        }
        if missing.isEmpty {
            options.checklists = existing
            return (nil, loaded)
        }
        try takeLock(&lock)
        if FileManager.default.fileExists(atPath: RunDirectory(path: out).journalPath) && !resume {
            throw JudgePanelError.usage(
                "\(out) already holds a run (journal.jsonl): pass --resume to finish it, or choose another --out")
        }
        if stderrIsTTY {
            printErr("writing checklists for \(Set(missing.map(\.id)).count) items with \(generator.judge.name)…")
        }
        let outcome = try await generator.generate(items: loaded, existing: existing)
        try RunDirectory(path: out).create()
        try ChecklistStore.save(outcome.checklists, order: loaded.map(\.id), to: checklistsPath)
        try outcome.requireComplete()
        options.checklists = outcome.checklists
        return (outcome, loaded)
    }
}

func printEstimate(_ e: ScoreJob.Estimate) {
    let rows = e.perJudge.map { r in
        [
            r.judge, String(r.calls), String(r.promptTokens), String(r.maxCompletionTokens),
            r.usd.map { String(format: "%.4f", $0) } ?? "n/a",
        ]
    }
    say(TextTable.plain(header: ["judge", "calls", "prompt tok (est)", "max completion tok", "max $"], rows: rows))
    say(
        "total: \(e.calls) calls (\(e.cachedCalls) already cached), ~\(e.promptTokens) prompt tokens, at most \(e.maxCompletionTokens) completion tokens"
            + (e.usd.map { String(format: ", at most $%.4f", $0) } ?? ", no prices in the panel file"))
}

extension AggregationMethod: ExpressibleByArgument {}

extension FlipPolicy: ExpressibleByArgument {}
