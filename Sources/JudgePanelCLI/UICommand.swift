import ArgumentParser
import Foundation
import JudgePanel
import JudgePanelUI

/// `judgepanel ui RUN`: the local web app over a run directory (Explore every vote, Label blind).
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "A local web app over a run: Explore every item's votes, Label items blind.",
        discussion: """
            Serves on 127.0.0.1 (another address only with --host) and prints the URL with a random token; a request \
            without the token gets 403. Labels are appended (and synced) to RUN/labels.jsonl, or --labels-out.
            """)

    @Argument(help: "Run directory (votes.jsonl, verdicts.jsonl, config.json).") var run: String
    @OptionGroup var server: UIServerOptions

    func run() async throws {
        try await runMapped {
            let index = try server.index(run: run)
            let queue = index.items.indices.map { LabelSession.Entry(item: $0, selectedBy: "census", pSelect: 1) }
            try await server.serve(index: index, queue: queue, view: "explore")
        }
    }
}

/// The options `ui` and `label` share.
struct UIServerOptions: ParsableArguments {
    @Option(help: "Port (0: any free port).") var port: Int = 0
    @Option(help: "Address to bind (default 127.0.0.1; anything else exposes the run to that network).") var host:
        String?
    @Option(help: "Annotator name recorded with each label (default: your login name).") var annotator: String?
    @Option(name: .customLong("labels-out"), help: "Labels file (default RUN/labels.jsonl).") var labelsOut: String?
    @Option(help: "Items file (default: the one recorded in RUN/config.json).") var items: String?
    @Option(name: .customLong("order-seed"), help: "Seed of the per-item shown order of the candidates.") var orderSeed:
        UInt64 = 0

    var annotatorName: String {
        if let annotator, !annotator.isEmpty { return annotator }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "anonymous"
    }

    func index(run: String) throws -> RunIndex {
        try RunIndex(dir: run, itemsPath: items, labelsPath: labelsOut ?? run + "/labels.jsonl")
    }

    func serve(index: RunIndex, queue: [LabelSession.Entry], view: String) async throws {
        guard (0...65535).contains(port) else { throw JudgePanelError.usage("--port must be 0…65535") }
        let session = try LabelSession(
            index: index, annotator: annotatorName, labelsPath: index.labelsPath, queue: queue, seed: orderSeed)
        let server = UIServer(
            index: index, session: session, options: .init(host: host ?? "127.0.0.1", port: port, view: view))
        try await server.run { url in
            // Unbuffered, so a script reading the pipe sees the URL at once.
            let lines = [
                "judgepanel ui: \(index.items.count) items, \(index.votes.count) votes; labels -> \(index.labelsPath)",
                url,
            ]
            FileHandle.standardOutput.write(Data(lines.map { TerminalText.sanitize($0) + "\n" }.joined().utf8))
        }
    }
}
