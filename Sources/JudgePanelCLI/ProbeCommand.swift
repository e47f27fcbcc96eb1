import ArgumentParser
import Foundation
import JudgePanel

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure judge biases with seeded perturbations (position, verbosity, self-preference, ...).",
        discussion: """
            Probes: \(ProbeCatalog.names.joined(separator: ", ")) (or all). Each perturbing probe picks the \
            perturbed answer per item with the seeded RNG (A and B balanced) and judges the perturbed items in \
            both orders; position and self-preference are measured on the unperturbed baseline. Writes \
            report.json (key `probes`), report.md, votes.jsonl (variant = probe), verdicts.jsonl and \
            perturbations.jsonl to --out.
            """)

    @Argument(help: "Items file (JSONL).") var items: String
    @Option(help: "Rubric file (YAML).") var rubric: String
    @Option(help: "Panel file (YAML).") var panel: String
    @Option(help: "Comma-separated probes, or all.") var probes: String = "all"
    @Option(help: "Run directory.") var out: String = "runs/probe"
    @Option(help: "Seed for targets, perturbations and bootstraps.") var seed: UInt64 = 0
    @Option(help: "Bootstrap resamples (0: point figures only, no intervals).") var resamples: Int = 1000
    @Option(
        name: .customLong("family"),
        help: "A model's family for self-preference: --family model=family (repeatable).")
    var family: [String] = []
    @Option(help: "Override the panel's aggregation (majority | mean | median | weighted | dawid-skene).")
    var aggregate: AggregationMethod?
    @Option(help: "Override the flip policy (tie | abstain).") var flip: FlipPolicy?
    @OptionGroup var itemOptions: ItemOptions
    @OptionGroup var cacheOptions: CacheOptions

    func run() async throws {
        try await runMapped {
            let chosen = try ProbeCatalog.probes(named: probes)
            guard resamples >= 0 else {
                throw JudgePanelError.usage(
                    "--resamples must be ≥ 0 (0: point figures, no intervals; got \(resamples))")
            }
            let overrides = try FamilyMap.overrides(from: family)
            let panelConfig = try Panel.load(path: panel)
            let rubricConfig = try Rubric.load(path: rubric)
            let loaded = try itemOptions.loader().load(path: items)
            for item in loaded { try rubricConfig.validate(item, file: items) }
            if chosen.contains(where: { $0.name == "self-preference" }),
                !panelConfig.judges.contains(where: { $0.family != nil })
            {
                printErr("judgepanel: note: no judge has a 'family'; self-preference rows will be empty")
            }
            let options = RunOptions(cache: cacheOptions.cache, aggregate: aggregate, flip: flip)
            let runner = ProbeRunner(
                panel: panelConfig, rubric: rubricConfig, probes: chosen, options: options,
                probeOptions: ProbeOptions(seed: seed, resamples: resamples, familyOverrides: overrides))
            // Calls: per variant, each judge's samples × (2 orders for pairwise, 2 sides for two-answer checklists).
            let perItem = panelConfig.judges.map { j -> Int in
                let twice = rubricConfig.kind == .pairwise || (rubricConfig.kind == .checklist)
                return j.samples * (twice ? 2 : 1)
            }.reduce(0, +)
            let variants = 1 + chosen.filter(\.perturbs).count
            let lock = try RunLock.acquire(dir: out, command: "probe")
            defer { lock.release() }
            let counters = RunCounters(expected: perItem * loaded.count * variants)
            let progress = ProgressReporter(counters: counters)
            progress.start()
            let run: ProbeRun
            do {
                run = try await runner.run(items: loaded, counters: counters) { phase in
                    if !stderrIsTTY { printErr("judgepanel: probe: \(phase)") }
                }
            } catch {
                progress.stop()
                throw error
            }
            progress.stop()
            try run.write(to: out)
            say(
                "judgepanel probe — \(rubricConfig.id), \(loaded.count) items, \(panelConfig.judges.count) judges, seed \(seed)"
            )
            say(run.table)
            let errors = run.votes.filter { $0.status == .error }.count
            say("wrote \(out)/report.json, report.md, report.html, votes.jsonl, verdicts.jsonl, perturbations.jsonl")
            printStoppedJudges(counters.snapshot, votes: run.votes)
            if errors > 0 {
                printErr("judgepanel: \(errors) calls failed after retries (recorded as error votes)")
                throw ExitCode(1)
            }
        }
    }
}
