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
    @Flag(help: "Finish an interrupted run in --out without repeating finished calls (a journaled vote is reused only while its call's inputs are unchanged).") var resume = false
    @Flag(name: .customLong("resume-changed"), help: "With --resume: accept a changed panel or rubric and re-ask only the calls whose inputs changed.")
    var resumeChanged = false
    @Flag(name: .customLong("dry-run"), help: "Print calls, estimated tokens and dollars; send nothing.") var dryRun = false
    @Option(help: "Override the panel's aggregation (majority | mean | median | weighted | dawid-skene).")
    var aggregate: AggregationMethod?
    @Option(help: "Override the flip policy (tie | abstain).") var flip: FlipPolicy?
    @Option(help: "Pre-written checklists per item (JSONL {item, questions}).") var checklists: String?
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
    @Flag(help: "Adaptive panel: stop calling judges once the majority is decided; compared with the full panel in report.json (adaptive).")
    var adaptive = false
    @OptionGroup var batchOptions: BatchFlags
    @OptionGroup var itemOptions: ItemOptions
    @OptionGroup var cacheOptions: CacheOptions

    func run() async throws {
        try await runMapped {
            if resumeChanged && !resume { throw JudgePanelError.usage("--resume-changed needs --resume") }
            var options = RunOptions(cache: cacheOptions.cache, aggregate: aggregate, flip: flip)
            if let checklists { options.checklists = try ChecklistStore.load(path: checklists) }
            var lock: RunLock?
            defer { lock?.release() }
            let generation = try await prepareChecklists(&options, lock: &lock)
            var job = try ScoreJob(
                itemsPath: items, rubricPath: rubric, panelPath: panel, loader: try itemOptions.loader(), options: options,
                analysis: MetaAnalysis.Options(seed: seed))
            job.batch = try batchOptions.options(adaptive: adaptive)
            if dryRun {
                var estimate = job.estimate()
                if job.batch != nil { estimate.applyBatchDiscount(job.panel) }
                printEstimate(estimate)
                return
            }
            if lock == nil { lock = try RunLock.acquire(dir: out, command: commandLine) }
            let counters = RunCounters(expected: job.plannedCalls)
            let progress = ProgressReporter(counters: counters)
            progress.start()
            if !options.checklists.isEmpty {
                try RunDirectory(path: out).create()
                try ChecklistStore.save(options.checklists, order: job.items.map(\.id), to: checklistsPath)
            }
            let outcome: ScoreJob.Outcome
            do {
                outcome = adaptive
                    ? try await job.runAdaptive(outDir: out, resume: resume, resumeChanged: resumeChanged, counters: counters).outcome
                    : try await job.run(outDir: out, resume: resume, resumeChanged: resumeChanged, counters: counters)
            } catch {
                progress.stop()
                throw error
            }
            progress.stop()
            let run = outcome.result
            if resume { print(outcome.resume.text) }
            if let a = outcome.report.adaptive { print(a.text) }
            print(ReportText.terminal(outcome.report, title: "judgepanel score — \(job.rubric.id), \(job.items.count) items, \(job.panel.judges.count) judges"))
            print(
                String(
                    format: "wall %.1f s · %d votes (%d ok, %d abstain, %d error) · %d HTTP calls · %d cached · $%.4f",
                    run.wallSeconds, run.votes.count, run.votes.filter(\.isOK).count,
                    run.votes.filter { $0.status == .abstain }.count, outcome.errors, run.counters.httpCalls,
                    run.counters.cached, run.votes.compactMap(\.costUSD).reduce(0, +)))
            if let generation {
                print(
                    "checklists: \(generation.generated.count) generated (\(generation.cachedReplies) replies cached, "
                        + "\(generation.httpCalls) HTTP calls), \(generation.reused.count) reused")
            }
            print("wrote \(out)/votes.jsonl, verdicts.jsonl, report.json, report.md" + (options.checklists.isEmpty ? "" : ", checklists.jsonl"))
            if outcome.errors > 0 {
                printErr("judgepanel: \(outcome.errors) calls failed after retries (recorded as error votes)")
                throw ExitCode(1)
            }
        }
    }
}

extension ScoreCommand {
    var checklistsPath: String { URL(fileURLWithPath: out).appendingPathComponent("checklists.jsonl").path }

    /// TICK: for a `generate: true` rubric, a panel judge writes the checklist of every item that has none yet
    /// (from `--checklists`, or from this run directory's `checklists.jsonl` when resuming). The questions are
    /// saved to `--out`/checklists.jsonl (also when some items fail, which then stops the run with their ids).
    /// A dry run sends nothing: it counts the generation calls and estimates with placeholder questions.
    /// What the lock file says this process is doing.
    var commandLine: String {
        "score" + (adaptive ? " --adaptive" : "") + (batchOptions.batch ? " --batch" : "") + (resume ? " --resume" : "")
    }

    func prepareChecklists(_ options: inout RunOptions, lock: inout RunLock?) async throws -> ChecklistGenerator.Outcome? {
        let rubricValue = try Rubric.load(path: rubric)
        guard rubricValue.kind == .checklist, let spec = rubricValue.checklist, spec.generate else { return nil }
        let loaded = try itemOptions.loader().load(path: items)
        for item in loaded { try rubricValue.validate(item, file: items) }
        var existing = options.checklists
        if resume, FileManager.default.fileExists(atPath: checklistsPath) {
            for (id, qs) in try ChecklistStore.load(path: checklistsPath) where existing[id] == nil { existing[id] = qs }
        }
        let missing = loaded.filter { existing[$0.id] == nil }
        let panelValue = try Panel.load(path: panel, environment: options.environment)
        let generator = try ChecklistGenerator(rubric: rubricValue, panel: panelValue, options: options)
        if dryRun {
            if !missing.isEmpty {
                print(
                    "checklist generation: \(Set(missing.map(\.id)).count) calls to \(generator.judge.name) first "
                        + "(the estimate below assumes \(spec.maxQuestions) questions per generated checklist)")
                let placeholder = (1...max(1, spec.maxQuestions)).map { "Does the response satisfy requirement \($0) of the instruction?" }
                for item in missing { existing[item.id] = placeholder }
            }
            options.checklists = existing
            return nil
        }
        if missing.isEmpty {
            options.checklists = existing
            return nil
        }
        lock = try RunLock.acquire(dir: out, command: commandLine)
        if FileManager.default.fileExists(atPath: RunDirectory(path: out).journalPath) && !resume {
            throw JudgePanelError.usage("\(out) already holds a run (journal.jsonl): pass --resume to finish it, or choose another --out")
        }
        if stderrIsTTY { printErr("writing checklists for \(Set(missing.map(\.id)).count) items with \(generator.judge.name)…") }
        let outcome = try await generator.generate(items: loaded, existing: existing)
        try RunDirectory(path: out).create()
        try ChecklistStore.save(outcome.checklists, order: loaded.map(\.id), to: checklistsPath)
        try outcome.requireComplete()
        options.checklists = outcome.checklists
        return outcome
    }
}

extension ScoreJob.Estimate {
    /// With `--batch`: the judges sent through a batch API cost their price less `batch_discount`.
    mutating func applyBatchDiscount(_ panel: Panel) {
        for (n, row) in perJudge.enumerated() {
            guard let judge = panel.judges.first(where: { $0.name == row.judge }), judge.provider.supportsBatch, let usd = row.usd else { continue }
            perJudge[n].usd = usd * (1 - judge.batchDiscount)
        }
        if usd != nil { usd = perJudge.compactMap(\.usd).reduce(0, +) }
    }
}

func printEstimate(_ e: ScoreJob.Estimate) {
    let rows = e.perJudge.map { r in
        [r.judge, String(r.calls), String(r.promptTokens), String(r.maxCompletionTokens), r.usd.map { String(format: "%.4f", $0) } ?? "n/a"]
    }
    print(ReportText.table(header: ["judge", "calls", "prompt tok (est)", "max completion tok", "max $"], rows: rows))
    print(
        "total: \(e.calls) calls (\(e.cachedCalls) already cached), ~\(e.promptTokens) prompt tokens, at most \(e.maxCompletionTokens) completion tokens"
            + (e.usd.map { String(format: ", at most $%.4f", $0) } ?? ", no prices in the panel file"))
}

extension AggregationMethod: ExpressibleByArgument {}
extension FlipPolicy: ExpressibleByArgument {}
