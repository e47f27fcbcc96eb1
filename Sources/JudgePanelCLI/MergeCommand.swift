import ArgumentParser
import Foundation
import JudgePanel

struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract:
            "Merge the run directories of `score --shard I/N` into one run, byte-identical to a single run's reports.")

    @Argument(help: "The shard run directories (all N of them, any order).") var dirs: [String]
    @Option(help: "Merged run directory.") var out: String
    @Option(help: "Items file (default: the one recorded in the shards' config.json; its content must be the same).")
    var items: String?

    func run() async throws {
        try await runMapped {
            let outcome = try MergeJob(shardDirs: dirs, itemsPath: items).run(outDir: out)
            print(
                ReportText.terminal(
                    outcome.report, title: "judgepanel merge — \(outcome.shards) shards, \(outcome.items) items"))
            print("merged \(outcome.shards) shards: \(outcome.items) items, \(outcome.votes) votes")
            print(
                "wrote \(out)/votes.jsonl, verdicts.jsonl, report.json, report.md, report.html, config.json, merge.json"
            )
            if outcome.errors > 0 {
                printErr("judgepanel: \(outcome.errors) calls failed in the shards (recorded as error votes)")
                throw ExitCode(1)
            }
        }
    }
}
