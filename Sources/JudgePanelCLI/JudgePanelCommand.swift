import ArgumentParser
import Foundation
import JudgePanel
import Logging

@main
struct JudgePanelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judgepanel",
        abstract: "LLM-as-a-judge panels: score generations, meta-evaluate judges against human labels, probe biases.",
        discussion: """
            Global option, before or after the subcommand: --log-level trace|debug|info|notice|warning|error|critical \
            (default notice) sets which diagnostics reach standard error.
            """,
        version: "0.1.0",
        subcommands: [
            ScoreCommand.self, MetaCommand.self, ProbeCommand.self, ReportCommand.self, ImportCommand.self,
            AggregateCommand.self, RankCommand.self, RubricsCommand.self, CalibrateCommand.self, ChecklistCommand.self,
            PlanCommand.self,
            MergeCommand.self,
            BatchesCommand.self,
            ServeCommand.self,
            UICommand.self, LabelCommand.self,
            DriftCommand.self,
        ]
    )

    /// Parses and runs, mapping usage errors to exit code 2 (DESIGN.md) instead of argument-parser's 64.
    /// `--log-level` is taken out first (it is global: before or after the subcommand) and bootstraps the one
    /// log handler; SIGINT/SIGTERM/SIGHUP cancel the command's task (see ``SignalCancellation``).
    static func main() async {
        do {
            let (level, arguments): (Logger.Level, [String])
            do {
                (level, arguments) = try LogLevelOption.extract(from: Array(CommandLine.arguments.dropFirst()))
            } catch let e as JudgePanelError {
                printErr("judgepanel: error: \(e.description)")
                Foundation.exit(2)
            }
            LogLevelOption.bootstrap(level)
            let work = Task.detached {
                var command = try parseAsRoot(arguments)
                if var async = command as? any AsyncParsableCommand {
                    try await async.run()
                } else {
                    try command.run()
                }
            }
            let signals = SignalCancellation { work.cancel() }
            let result = await work.result
            signals.cancel()
            try result.get()
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
