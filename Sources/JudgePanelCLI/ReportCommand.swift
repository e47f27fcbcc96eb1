import ArgumentParser
import Foundation
import JudgePanel

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Regenerate report.json, report.md and report.html from a run directory's votes (no model calls).")

    @Argument(help: "Run directory.") var dir: String
    @Option(help: "Items file (default: the one recorded in config.json).") var items: String?
    @Flag(help: "Accepted for compatibility: report.html is always written.") var html = false

    func run() async throws {
        try await runMapped {
            let done = try RunReports.regenerate(dir: dir, itemsPath: items)
            say("wrote " + done.files.map { "\(dir)/\($0)" }.joined(separator: ", "))
        }
    }
}
