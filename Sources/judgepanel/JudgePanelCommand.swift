import ArgumentParser
import Foundation
import JudgePanel

@main
struct JudgePanelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judgepanel",
        abstract: "LLM-as-a-judge panels: score generations, meta-evaluate judges against human labels, probe biases.",
        version: "0.1.0",
        subcommands: [
            ScoreCommand.self, MetaCommand.self, ProbeCommand.self, ReportCommand.self, ImportCommand.self,
            AggregateCommand.self, RankCommand.self, RubricsCommand.self, CalibrateCommand.self, ChecklistCommand.self,
            PlanCommand.self,
            MergeCommand.self,
            BatchesCommand.self,
        ]
    )

    /// Parses and runs, mapping usage errors to exit code 2 (DESIGN.md) instead of argument-parser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((TerminalText.sanitize(fullMessage(for: error)) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
