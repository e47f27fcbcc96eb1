import ArgumentParser
import Foundation
import JudgePanel

struct RubricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rubrics", abstract: "List, show or check rubric files.")

    @Argument(help: "list | show ID | check FILE") var action: String = "list"
    @Argument(help: "Rubric id (show) or file (check).") var target: String?
    @Option(help: "Rubric directory.") var dir: String = "rubrics"

    func run() async throws {
        try await runMapped {
            switch action {
            case "list":
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
                    $0.hasSuffix(".yaml")
                }.sorted()
                var rows: [[String]] = []
                for f in files {
                    let r = try Rubric.load(path: "\(dir)/\(f)")
                    rows.append([r.id, r.kind.rawValue, r.description])
                }
                say(TextTable.plain(header: ["id", "protocol", "description"], rows: rows))
            case "show":
                guard let target else { throw JudgePanelError.usage("rubrics show ID") }
                let path = "\(dir)/\(target).yaml"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw JudgePanelError.usage("no rubric '\(target)' in \(dir)")
                }
                _ = try Rubric.load(path: path)
                say(text)
            case "check":
                guard let target else { throw JudgePanelError.usage("rubrics check FILE") }
                let r = try Rubric.load(path: target)
                say(
                    "\(target): ok (\(r.id), \(r.kind.rawValue), needs \(r.requiredFields.sorted().joined(separator: ", ")))"
                )
            default:
                throw JudgePanelError.usage("rubrics: unknown action '\(action)' (list | show ID | check FILE)")
            }
        }
    }
}
