import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

// The code of the DocC article "Embedding judgepanel" (Sources/JudgePanel/JudgePanel.docc/EmbeddingJudgepanel.md)
// and of the README's library snippet, byte for byte: `DocSnippetTests.snippetsAreTestedAsPrinted` fails when a
// ```swift block there is not a whole function (or function body) here. Edit both together.

/// The article's harness functions, as printed (indented one level here).
struct EmbeddingArticleHarness {
    /// A panel file and a rubric file, loaded and checked (a bad value is an error naming the file and line).
    func loadPanelAndRubric(panelFile: String, rubricFile: String) throws -> (panel: Panel, rubric: Rubric) {
        let panel = try Panel.load(path: panelFile)
        let rubric = try Rubric.load(path: rubricFile)
        print("judges:", panel.judges.map(\.name), "rubric:", rubric.id, rubric.kind)
        return (panel, rubric)
    }

    /// The same panel and a pairwise rubric, built in code for one endpoint.
    func buildPanelAndRubric(endpoint: String) throws -> (panel: Panel, rubric: Rubric) {
        let models = [("qwen", "qwen2.5-7b-instruct"), ("llama", "llama-3.1-8b-instruct"), ("gemma", "gemma-2-9b-it")]
        let judges = models.map { name, model in
            JudgeConfig(name: name, provider: .openai, model: model, baseURLs: [endpoint], family: name, concurrency: 4)
        }
        let panel = Panel(judges: judges, aggregate: .majority, swap: true, flip: .tie)
        let rubric = Rubric(
            id: "better-answer", kind: .pairwise, allowTie: true,
            system: "You are an impartial judge. Compare the answers, then end with [[A]], [[B]] or [[C]] for a tie.",
            template: try Template(
                """
                [Question]
                {{prompt}}

                [The Start of Answer A]
                {{response_a}}
                [The End of Answer A]

                [The Start of Answer B]
                {{response_b}}
                [The End of Answer B]
                """),
            output: .pattern(#"\[\[(A|B|C)\]\]"#))
        return (panel, rubric)
    }

    /// Every judge on every item of a JSONL file; the votes and the panel's verdicts.
    func judgeItems(panel: Panel, rubric: Rubric, itemsFile: String) async throws -> RunResult {
        let items = try ItemLoader().load(path: itemsFile)
        let runner = PanelRunner(panel: panel, rubric: rubric)
        let run = try await runner.run(items: items)
        print("\(run.votes.count) votes from \(run.counters.httpCalls) HTTP calls in \(run.wallSeconds) s")
        return run
    }

    /// A runner that reuses answers cached under `cacheDirectory` and caches new ones there.
    func cachingRunner(panel: Panel, rubric: Rubric, cacheDirectory: String) -> PanelRunner {
        let cache = ResponseCache(directory: URL(fileURLWithPath: cacheDirectory))
        return PanelRunner(panel: panel, rubric: rubric, options: RunOptions(cache: cache))
    }

    /// The panel's verdict per item id, streamed as items finish.
    func streamVerdicts(panel: Panel, rubric: Rubric, items: [Item]) async throws -> [String: String] {
        let runner = PanelRunner(panel: panel, rubric: rubric)
        let stream = AsyncStream<Item> { continuation in
            for item in items { continuation.yield(item) }
            continuation.finish()
        }
        var verdicts: [String: String] = [:]
        for try await result in runner.judge(items: stream) {
            verdicts[result.item.id] = result.verdict.verdict?.rawValue ?? "abstained"
        }
        return verdicts
    }

    /// One line per item: the panel's verdict, its agreement, the judges that flipped between the two orders and the
    /// votes that did not count.
    func describe(_ run: RunResult) -> [String] {
        run.results.map { result in
            let verdict = result.verdict.verdict?.rawValue ?? "abstained"
            let agreement = result.verdict.agreement.map { String(format: "%.2f", $0) } ?? "-"
            let flipped = result.judgeVerdicts.filter { $0.value.flipped }.keys.sorted()
            let failed = result.votes.filter { $0.status != .ok }.map { "\($0.judge) \($0.reason?.rawValue ?? "")" }
            return "\(result.item.id): \(verdict) (agreement \(agreement); flipped: \(flipped); not counted: \(failed))"
        }
    }

    /// The run's votes and verdicts as `votes.jsonl` and `verdicts.jsonl` in `directory`.
    func save(_ run: RunResult, in directory: URL) throws {
        let votes = try run.votes.map(VotesFile.line).joined(separator: "\n") + "\n"
        let verdicts = try run.verdicts.map(VerdictsFile.line).joined(separator: "\n") + "\n"
        try votes.write(to: directory.appendingPathComponent("votes.jsonl"), atomically: true, encoding: .utf8)
        try verdicts.write(to: directory.appendingPathComponent("verdicts.jsonl"), atomically: true, encoding: .utf8)
    }

    /// The panel's verdicts from a votes file, with flipped judges abstaining and Dawid–Skene aggregation.
    func reconcile(items: [Item], votesFile: String) throws -> MetaAnalysis.Reconciled {
        let votes = try VotesFile.load(path: votesFile)
        let analysis = MetaAnalysis(options: MetaAnalysis.Options(flip: .abstain, aggregate: .dawidSkene))
        let reconciled = analysis.reconcile(items: items, votes: votes)
        for (judge, verdicts) in zip(reconciled.judges, reconciled.verdicts) {
            let accuracy = reconciled.estimatedAccuracy[judge].flatMap { $0 }
            print(judge, verdicts.map { $0.verdict?.rawValue ?? "-" }, "estimated accuracy:", accuracy ?? .nan)
        }
        return reconciled
    }

    /// The meta report of a run against the items' human labels, printed as a table.
    func measure(items: [Item], votes: [Vote]) -> MetaReport {
        let analysis = MetaAnalysis(options: MetaAnalysis.Options(resamples: 1000, seed: 7))
        let report = analysis.report(items: items, votes: votes)
        for judge in report.judges + [report.panel].compactMap({ $0 }) {
            let interval = judge.accuracyCI.map { "[\($0.lo), \($0.hi)]" } ?? ""
            print(judge.judge, judge.accuracy?.value ?? .nan, interval, judge.positionConsistency?.value ?? .nan)
        }
        print(ReportText.terminal(report, title: "judges against the human labels"))
        return report
    }
}

/// The README's library snippet, as printed (indented one level here).
struct ReadmeLibrarySnippet {
    /// Judges one pair with every judge of a panel file, in both orders.
    func judgeOnePair(panelFile: String, rubricFile: String) async throws -> ItemResult {
        let panel = try Panel.load(path: panelFile)
        let rubric = try Rubric.load(path: rubricFile)
        let runner = PanelRunner(panel: panel, rubric: rubric)
        let result = try await runner.judge(Item(id: "1", prompt: "2+2?", responseA: "4", responseB: "5"))
        print(result.verdict.verdict?.rawValue ?? "abstained", result.votes.count)
        return result
    }
}

/// The fenced blocks of one language in a Markdown file, without their fences.
func markdownBlocks(_ text: String, language: String) -> [[String]] {
    var blocks: [[String]] = []
    var current: [String]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if current == nil {
            if line == "```" + language { current = [] }
        } else if line == "```" {
            blocks.append(current!)
            current = nil
        } else {
            current!.append(line)
        }
    }
    return blocks
}

/// Where `block` (a ```swift block) fails to be tested as printed by `testFile`, or nil when it is: its leading
/// `import` lines are imports of the test file, and the rest is, line for line and byte for byte (indented by a
/// whole number of levels), either a whole function of the test file or the complete body of one.
func snippetMismatch(_ block: [String], testFile: [String]) -> String? {
    var code = block[...]
    while let first = code.first, first.hasPrefix("import ") || first.isEmpty {
        if first.hasPrefix("import "), !testFile.contains(first) {
            return "'\(first)' is not imported by the test file"
        }
        code = code.dropFirst()
    }
    let lines = Array(code)
    guard let head = lines.first else { return "the block has no code" }
    for level in 0...3 {
        let indent = String(repeating: " ", count: 4 * level)
        let wanted = lines.map { $0.isEmpty ? "" : indent + $0 }
        var start = 0
        while let s = testFile[start...].firstIndex(of: indent + head) {
            start = s + 1
            guard s + wanted.count <= testFile.count, Array(testFile[s..<(s + wanted.count)]) == wanted else {
                continue
            }
            let declaration = lines.first { !$0.hasPrefix("///") } ?? ""
            if declaration.hasPrefix("func "), lines.last == "}" { return nil }
            if level > 0, s > 0, s + wanted.count < testFile.count {
                let outer = String(repeating: " ", count: 4 * (level - 1))
                let opening = testFile[s - 1]
                if opening.hasPrefix(outer + "func ") || opening.contains(" func "), opening.hasSuffix("{"),
                    testFile[s + wanted.count] == outer + "}"
                {
                    return nil
                }
            }
        }
    }
    return "no function (or function body) of the test file is byte-identical to the block starting '\(head)'"
}

/// Human labels of the article's items as the fake judges' oracle: the labelled winner has quality 2, the loser 0,
/// both 1 on a tie.
func labelQuality(_ items: [Item]) -> [String: Double] {
    var quality: [String: Double] = [:]
    for item in items {
        let label = item.label?.preference
        quality[item.responseA!] = label == .a ? 2 : (label == .b ? 0 : 1)
        quality[item.responseB!] = label == .b ? 2 : (label == .a ? 0 : 1)
    }
    return quality
}

@Suite("Documentation snippets: compiled, run, and identical to the docs")
struct DocSnippetTests {
    static let articlePath = panelTestRoot.appendingPathComponent(
        "Sources/JudgePanel/JudgePanel.docc/EmbeddingJudgepanel.md"
    ).path
    static let readmePath = panelTestRoot.appendingPathComponent("README.md").path
    static let thisFile = #filePath

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The article's data blocks: its panel YAML (pointed at `baseURL`) and its items JSONL, written to `dir`.
    static func articleFiles(in dir: URL, baseURL: String) throws -> (panel: String, items: String) {
        let article = try text(articlePath)
        let yaml = try #require(markdownBlocks(article, language: "yaml").first).joined(separator: "\n") + "\n"
        let jsonl = try #require(markdownBlocks(article, language: "json").first).joined(separator: "\n") + "\n"
        #expect(yaml.contains("http://127.0.0.1:8000/v1"))
        let panel = dir.appendingPathComponent("panel.yaml").path
        let items = dir.appendingPathComponent("items.jsonl").path
        try yaml.replacingOccurrences(of: "http://127.0.0.1:8000/v1", with: baseURL)
            .write(toFile: panel, atomically: true, encoding: .utf8)
        try jsonl.write(toFile: items, atomically: true, encoding: .utf8)
        return (panel, items)
    }

    /// A panel file's text: one judge `j` asking model `m` of `server`.
    static func onePanel(_ server: FakeProviderServer) async -> String {
        let base = await server.baseURL.absoluteString + "/v1"
        return "version: 1\njudges:\n  - {name: j, provider: openai, model: m, base_url: \"\(base)\"}\n"
    }

    /// The items of the article's JSONL block.
    static func articleItems() throws -> [Item] {
        let lines = try #require(markdownBlocks(try text(articlePath), language: "json").first)
        return try lines.enumerated().map { try ItemLoader().parse(line: $1, file: articlePath, number: $0 + 1) }
    }

    /// The fake endpoint behind the article's panel: two judges that follow the human labels, one that always
    /// picks the first slot.
    static func articleServer(items: [Item]) async throws -> FakeProviderServer {
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(labelQuality(items))).handler
        return try await startPanelFake([
            "qwen2.5-7b-instruct": oracle, "gemma-2-9b-it": oracle,
            "llama-3.1-8b-instruct": SimulatedJudge.alwaysFirst.handler,
        ])
    }

    @Test("every ```swift block of the article and the README is a function (or body) of this file, byte for byte")
    func snippetsAreTestedAsPrinted() throws {
        let testFile = try Self.text(Self.thisFile).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        let article = markdownBlocks(try Self.text(Self.articlePath), language: "swift")
        let readme = markdownBlocks(try Self.text(Self.readmePath), language: "swift")
        #expect(article.count == 9)
        #expect(readme.count == 1)
        for (name, blocks) in [("EmbeddingJudgepanel.md", article), ("README.md", readme)] {
            for (index, block) in blocks.enumerated() {
                let problem = snippetMismatch(block, testFile: testFile)
                #expect(problem == nil, "\(name), swift block \(index + 1): \(problem ?? "")")
            }
        }
        // The check itself can fail: a changed line, a missing import, a partial body are each caught.
        let first = article[0]
        let renamed = first.map { $0.replacingOccurrences(of: "rubricFile", with: "rubric") }
        #expect(snippetMismatch(renamed, testFile: testFile) != nil)
        #expect(snippetMismatch(["import Yams"] + first.filter { !$0.hasPrefix("import") }, testFile: testFile) != nil)
        #expect(snippetMismatch(Array(first.dropLast(2)), testFile: testFile) != nil)
    }

    @Test("the article's harness, end to end: YAML panel, JSONL items, votes, verdicts, reconcile, meta report")
    func articleHarness() async throws {
        let dir = try tempDir("doc-article")
        let probeItems = try Self.articleItems()
        let server = try await Self.articleServer(items: probeItems)
        let files = try Self.articleFiles(in: dir, baseURL: await server.baseURL.absoluteString + "/v1")
        let harness = EmbeddingArticleHarness()
        let rubricFile = panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path

        let (panel, rubric) = try harness.loadPanelAndRubric(panelFile: files.panel, rubricFile: rubricFile)
        #expect(panel.judges.map(\.name) == ["qwen", "llama", "gemma"])
        let run = try await harness.judgeItems(panel: panel, rubric: rubric, itemsFile: files.items)
        #expect(await server.requestCount() == 4 * 3 * 2)
        #expect(run.votes.count == 24)
        #expect(run.verdicts.map(\.verdict) == [.a, .b, .b, .tie])

        #expect(
            harness.describe(run) == [
                #"capital: A (agreement 0.67; flipped: ["llama"]; not counted: [])"#,
                #"prime: B (agreement 0.67; flipped: ["llama"]; not counted: [])"#,
                #"spider: B (agreement 0.67; flipped: ["llama"]; not counted: [])"#,
                #"colour: tie (agreement 1.00; flipped: ["llama"]; not counted: [])"#,
            ])

        try harness.save(run, in: dir)
        let votesFile = dir.appendingPathComponent("votes.jsonl").path
        #expect(try VotesFile.load(path: votesFile) == run.votes)
        let verdictLines = try Self.text(dir.appendingPathComponent("verdicts.jsonl").path).split(separator: "\n")
        #expect(verdictLines.count == 4)

        let items = try ItemLoader().load(path: files.items)
        let reconciled = try harness.reconcile(items: items, votesFile: votesFile)
        #expect(reconciled.judges == ["qwen", "llama", "gemma"])
        // llama flipped everywhere: it abstains under `abstain`.
        #expect(reconciled.verdicts[1].allSatisfy { $0.abstained })
        #expect(reconciled.verdicts[0].map(\.verdict) == [.a, .b, .b, .tie])
        #expect(reconciled.panel.map(\.verdict) == [.a, .b, .b, .tie])

        let report = harness.measure(items: items, votes: run.votes)
        let byName = Dictionary(uniqueKeysWithValues: report.judges.map { ($0.judge, $0) })
        #expect(byName["qwen"]?.accuracy?.value == 1)
        #expect(byName["gemma"]?.accuracy?.value == 1)
        #expect(byName["llama"]?.accuracy?.value == 0.25)  // right only on the tie-labelled item
        #expect(byName["llama"]?.positionConsistency?.value == 0)
        #expect(byName["qwen"]?.positionConsistency?.value == 1)
        #expect(report.panel?.accuracy?.value == 1)
        #expect(report.nItems == 4)
        await server.stop()
    }

    @Test("the article's panel and rubric built in code, streamed with judge(items:)")
    func articleCodeBuiltPanelStreams() async throws {
        let items = try Self.articleItems()
        let server = try await Self.articleServer(items: items)
        let harness = EmbeddingArticleHarness()
        let (panel, rubric) = try harness.buildPanelAndRubric(endpoint: await server.baseURL.absoluteString + "/v1")
        let verdicts = try await harness.streamVerdicts(panel: panel, rubric: rubric, items: items)
        #expect(verdicts == ["capital": "A", "prime": "B", "spider": "B", "colour": "tie"])
        let requests = await server.recordedRequests()
        #expect(requests.count == 24)
        // The code-built template is what was sent.
        #expect(requests.allSatisfy { $0.promptText.contains("[The Start of Answer A]") })
        await server.stop()
    }

    @Test("the article's caching runner: the second run is answered from the cache directory it was given")
    func articleCachingRunner() async throws {
        let dir = try tempDir("doc-cache")
        let server = try await startPanelFake(["m": SimulatedJudge.alwaysFirst.handler])
        let panel = await fakePanel(server, judges: ["m"])
        let rubric = try loadRubric("pairwise-mtbench")
        let items = (0..<3).map { Item(id: "i\($0)", prompt: "q\($0)", responseA: "a\($0)", responseB: "b\($0)") }
        let cacheDirectory = dir.appendingPathComponent("cache").path
        let harness = EmbeddingArticleHarness()
        let first = try await harness.cachingRunner(panel: panel, rubric: rubric, cacheDirectory: cacheDirectory)
            .run(items: items)
        #expect(await server.requestCount() == 6)
        #expect(first.counters.cached == 0)
        let second = try await harness.cachingRunner(panel: panel, rubric: rubric, cacheDirectory: cacheDirectory)
            .run(items: items)
        #expect(await server.requestCount() == 6)  // nothing asked again
        #expect(second.counters.cached == 6)
        #expect(second.votes.map(\.verdict) == first.votes.map(\.verdict))
        await server.stop()
    }

    @Test("the README's snippet, as printed, against the fake server")
    func readmeSnippet() async throws {
        let server = try await startPanelFake(["m": { _ in .text("B is wrong. [[A]]") }])
        let dir = try tempDir("doc-readme")
        let panelFile = dir.appendingPathComponent("panel.yaml").path
        try await Self.onePanel(server).write(toFile: panelFile, atomically: true, encoding: .utf8)
        let rubricFile = panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path
        let result = try await ReadmeLibrarySnippet().judgeOnePair(panelFile: panelFile, rubricFile: rubricFile)
        await server.stop()
        // "[[A]]" in both orders: A first, then B first — a flip, reconciled to a tie under flip: tie.
        #expect(result.votes.map(\.verdict) == [.a, .b])
        #expect(result.verdict.verdict == .tie)
        #expect(result.verdict.flips == ["j"])
    }

    /// Set by ``defaultRunHasNoSideEffects`` for the child process it starts.
    static let childPanel = ProcessInfo.processInfo.environment["JP_DOC_CHILD_PANEL"]

    @Test(
        "child process of defaultRunHasNoSideEffects: the README snippet's default PanelRunner",
        .enabled(if: childPanel != nil, "runs only in the child process that defaultRunHasNoSideEffects starts"))
    func defaultRunChild() async throws {
        let rubricFile = panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path
        let panelFile = try #require(Self.childPanel)
        let result = try await ReadmeLibrarySnippet().judgeOnePair(panelFile: panelFile, rubricFile: rubricFile)
        #expect(result.votes.count == 2)
        #expect(result.votes.allSatisfy { $0.status == .ok })
    }

    @Test("a default PanelRunner run writes nothing: HOME, XDG_CACHE_HOME, JUDGEPANEL_HOME and TMPDIR stay empty")
    func defaultRunHasNoSideEffects() async throws {
        #expect(RunOptions().cache == nil)
        let dir = try tempDir("doc-side-effects")
        let watched = ["HOME", "XDG_CACHE_HOME", "JUDGEPANEL_HOME", "TMPDIR"].map {
            ($0, dir.appendingPathComponent($0))
        }
        for (_, url) in watched { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        let given = dir.appendingPathComponent("given")
        try FileManager.default.createDirectory(at: given, withIntermediateDirectories: true)
        let server = try await startPanelFake(["m": { _ in .text("[[B]]") }])
        let panelFile = given.appendingPathComponent("panel.yaml").path
        try await Self.onePanel(server).write(toFile: panelFile, atomically: true, encoding: .utf8)

        // A child process, so that HOME and the rest change for it alone (parallel tests read them too).
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = ["--testing-library", "swift-testing", "--filter", "DocSnippetTests/defaultRunChild"]
        child.currentDirectoryURL = given
        var environment = ProcessInfo.processInfo.environment
        for (name, url) in watched { environment[name] = url.path }
        environment["JP_DOC_CHILD_PANEL"] = panelFile
        child.environment = environment
        let output = given.appendingPathComponent("child.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        child.standardOutput = handle
        child.standardError = handle
        try launch(child)
        while child.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try handle.close()
        let log = try Self.text(output.path)
        #expect(child.terminationStatus == 0, "child failed:\n\(log)")
        #expect(log.contains("Test run with 1 test"), "the child ran no test:\n\(log)")
        #expect(await server.requestCount() == 2)  // the child's run reached the server: it really ran
        await server.stop()
        for (name, url) in watched {
            let left = FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String] ?? []
            #expect(left.isEmpty, "the default run wrote under \(name): \(left)")
        }
    }
}
