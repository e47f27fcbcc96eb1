import Foundation
import JudgePanelTesting
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

private func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

private func writeBytes(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// The error `body` throws, as a JudgePanelError.
private func inputError(_ body: () throws -> Void) -> JudgePanelError? {
    do {
        try body()
        return nil
    } catch let e as JudgePanelError {
        return e
    } catch {
        return nil
    }
}

@Suite("Rubric patterns cannot hang a run; rate limits must be positive (issue 13, failure 4)")
struct PatternBudgetTests {
    @Test(
        "nested or overlapping repetitions are rejected",
        arguments: ["(a+)+$", "(a*)*", "(a|a)+", "(?:\\s*\\w+)*x", "(a|ab)*c", "^(\\w|\\d)+$", "((ab)*c)+", "(a{2,})+"])
    func rejected(pattern: String) {
        #expect(PatternSafety.problem(in: pattern) != nil)
    }

    @Test(
        "the shipped and usual patterns pass",
        arguments: [
            "\\[\\[(A|B|C)\\]\\]", "\\[\\[(\\d+(?:\\.\\d+)?)\\]\\]", "Rating: (\\d+)", "(?i)verdict:\\s*(A|B|tie)",
            "\\[\\[([1-5])\\]\\]", "(a++)+", "(?>a+)+", "(ab)+", "[(a+)+]x",
        ])
    func accepted(pattern: String) {
        #expect(PatternSafety.problem(in: pattern) == nil)
    }

    @Test("`rubrics check` and rubric loading refuse `(a+)+$`, naming file and line, exit 2")
    func rubricsCheckRefuses() async throws {
        let dir = try tempDir("pattern")
        let text = try String(
            contentsOf: panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let index = try #require(lines.firstIndex { $0.hasPrefix("  pattern:") })
        var edited = lines
        edited[index] = "  pattern: \"(a+)+$\""
        let path = try write(edited.joined(separator: "\n"), "evil.yaml", in: dir)
        let patternLine = index + 1
        let e = inputError { _ = try Rubric.load(path: path) }
        #expect(e?.file == path)
        #expect(e?.line == patternLine)
        #expect(e?.message.contains("nested quantifiers") == true)
        let r = try await runJudgepanel(["rubrics", "check", path])
        #expect(r.code == 2)
        #expect(r.err.contains("\(path):\(patternLine):"))
    }

    @Test("a slow pattern the static check allows stops at its time budget")
    func budget() throws {
        let pattern = ".*.*.*.*.*.*.*y"
        #expect(PatternSafety.problem(in: pattern) == nil)
        let regex = try BoundedRegex(pattern: pattern, budget: .milliseconds(50))
        guard case .overBudget = regex.matches(in: String(repeating: "x", count: 400)) else {
            Issue.record("expected the budget to stop the match")
            return
        }
        guard case .matches(let found) = regex.matches(in: "xxy") else {
            Issue.record("a short reply must match")
            return
        }
        #expect(found.count == 1)
    }

    @Test("end to end: a reply that overruns the pattern budget is an unparsed abstention, not a hang")
    func budgetEndToEnd() async throws {
        let server = try await startPanelFake(["slow": { _ in .text(String(repeating: "x", count: 600)) }])
        defer { Task { await server.stop() } }
        var rubric = try loadRubric("pairwise-mtbench")
        rubric.output = .pattern(".*.*.*.*.*.*.*y")
        let panel = await fakePanel(server, judges: ["slow"], swap: false)
        let items = [Item(id: "1", prompt: "Q?", responseA: "a", responseB: "b")]
        let result = try await PanelRunner(panel: panel, rubric: rubric, options: panelTestOptions).run(items: items)
        let vote = try #require(result.votes.first)
        #expect(vote.status == .abstain)
        #expect(vote.reason == .unparsed)
        #expect(vote.error?.contains("time budget") == true)
        #expect(await server.requestCount() == 1)
    }

    @Test("rpm/tpm of 0 or below are refused at load (file:line) and by the runner for panels built in code")
    func rateLimitsPositive() async throws {
        for (key, value) in [("rpm", "0"), ("tpm", "0"), ("rpm", "-3"), ("rpm", ".inf")] {
            let yaml = "version: 1\njudges:\n  - name: j\n    model: m\n    \(key): \(value)\n"
            let e = inputError { _ = try Panel.parse(yaml: yaml, file: "p.yaml", environment: [:]) }
            #expect(
                e?.description.hasPrefix("p.yaml:5: judge 'j': \(key) must be a number above 0") == true,
                "\(key): \(value) → \(String(describing: e))")
        }
        let server = try await startPanelFake(["j": { _ in .text("[[A]]") }])
        defer { Task { await server.stop() } }
        var panel = await fakePanel(server, judges: ["j"])
        panel.judges[0].rpm = 0
        let runner = PanelRunner(panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions)
        await #expect(throws: JudgePanelError.self) {
            _ = try await runner.run(items: [Item(id: "1", prompt: "Q?", responseA: "a", responseB: "b")])
        }
        #expect(await server.requestCount() == 0)
    }
}

@Suite("Items read in linear time with bounded lines, strict UTF-8 and exact ids (issue 13, failures 5 and 7)")
struct LineInputTests {
    @Test("lines straddling small chunks come back whole: CRLF, blank lines, no final newline")
    func chunkBoundaries() throws {
        let dir = try tempDir("lines")
        let text = "first line\r\n\nsecond é line that is longer than a chunk\nthird"
        let path = try write(text, "t.txt", in: dir)
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            let reader = try LineReader(path: path, chunkSize: chunk)
            var got: [String] = []
            while let (n, line) = try reader.next() { got.append("\(n):\(line)") }
            #expect(
                got == ["1:first line", "2:", "3:second é line that is longer than a chunk", "4:third"],
                "chunk \(chunk)")
        }
    }

    @Test("a line over the limit is an error naming file and line")
    func maxLine() throws {
        let dir = try tempDir("maxline")
        let long = "{\"id\": \"2\", \"prompt\": \"" + String(repeating: "x", count: 5000) + "\", \"response\": \"r\"}"
        let path = try write(
            "{\"id\": \"1\", \"prompt\": \"p\", \"response\": \"r\"}\n" + long + "\n", "items.jsonl", in: dir)
        var loader = ItemLoader()
        loader.maxLineBytes = 1000
        let e = inputError { _ = try loader.load(path: path) }
        #expect(e?.file == path)
        #expect(e?.line == 2)
        #expect(e?.message.contains("longer than the limit of 1000 bytes") == true)
        loader.maxLineBytes = 10_000
        #expect(try loader.load(path: path).count == 2)
    }

    @Test("invalid UTF-8 is an error naming the line (not U+FFFD sent to the judge)")
    func invalidUTF8() throws {
        let dir = try tempDir("utf8")
        let good = Array("{\"id\": \"1\", \"prompt\": \"p\", \"response\": \"r\"}\n".utf8)
        let bad = Array("{\"id\": \"2\", \"prompt\": \"caf".utf8) + [0xE9] + Array("\", \"response\": \"r\"}\n".utf8)
        let path = try writeBytes(good + bad, "items.jsonl", in: dir)
        let e = inputError { _ = try ItemLoader().load(path: path) }
        #expect(e?.line == 2)
        #expect(e?.message.contains("UTF-8") == true)
        let reader = try LineReader(path: path)
        _ = try reader.next()
        let e2 = inputError { _ = try reader.next() }
        #expect(e2?.line == 2)
        #expect(e2?.message.contains("invalid UTF-8 at byte 27") == true)
    }

    @Test("two distinct 23-digit numeric ids stay distinct, in items and in votes")
    func longNumericIDs() throws {
        let dir = try tempDir("ids")
        let items = """
            {"id": 12345678901234567890123, "prompt": "p", "response": "r"}
            {"id": 12345678901234567890124, "prompt": "p", "response": "r"}
            {"id": 7, "prompt": "p", "response": "r"}
            {"id": 1.50, "prompt": "p", "response": "r"}
            """
        let loaded = try ItemLoader().load(path: try write(items, "items.jsonl", in: dir))
        #expect(loaded.map(\.id) == ["12345678901234567890123", "12345678901234567890124", "7", "1.5"])
        let votes = """
            {"item": 12345678901234567890123, "judge": "j", "score": 1}
            {"item": 12345678901234567890124, "judge": "j", "score": 2}
            {"item": 7, "judge": "j", "score": 3}
            {"item": 1.50, "judge": "j", "score": 4}
            """
        let read = try VotesFile.load(path: try write(votes, "votes.jsonl", in: dir))
        #expect(read.map(\.item) == loaded.map(\.id))
    }

    @Test("a directory as the items file: a clear error, exit 2")
    func directory() async throws {
        let dir = try tempDir("dir")
        let e = inputError { _ = try ItemLoader().load(path: dir.path) }
        #expect(e?.message == "is a directory, not a file")
        let r = try await runJudgepanel(
            [
                "score", dir.path, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", "panels/local.yaml",
                "--dry-run",
            ])
        #expect(r.code == 2)
        #expect(r.err.contains("\(dir.path): is a directory"))
        #expect(!r.err.contains("NSCocoaErrorDomain"))
    }

    @Test("--max-line-bytes on the CLI")
    func maxLineFlag() async throws {
        let dir = try tempDir("maxflag")
        let items = try write(
            "{\"id\": \"1\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\", \"label\": \"A\"}\n",
            "items.jsonl", in: dir)
        let votes = try write("{\"item\": \"1\", \"judge\": \"j\", \"verdict\": \"A\"}\n", "votes.jsonl", in: dir)
        let r = try await runJudgepanel(["meta", items, "--votes", votes, "--max-line-bytes", "20"])
        #expect(r.code == 2)
        #expect(r.err.contains("\(items):1: line longer than the limit of 20 bytes"))
        let ok = try await runJudgepanel(["meta", items, "--votes", votes, "--json"])
        #expect(ok.code == 0)
        let zero = try await runJudgepanel(["meta", items, "--votes", votes, "--max-line-bytes", "0"])
        #expect(zero.code == 2)
    }
}

@Suite("Values accepted then misbehaving are refused at load (issue 13, failure 7)")
struct ValueValidationTests {
    @Test(
        "bad judge values: file:line and the key",
        arguments: [
            ("timeout: -5", "timeout must be"), ("timeout: 0", "timeout must be"),
            ("base_url: http://127.0.0.1:99999/v1", "port 99999"), ("temperature: 1e400", "temperature must be"),
            ("temperature: .nan", "temperature must be"), ("max_tokens: -5", "max_tokens must be"),
            ("weight: .nan", "weight must be"), ("weight: -1", "weight must be"), ("retries: -1", "retries must be"),
            ("concurrency: 0", "concurrency must be"), ("rpm: 0", "rpm must be"), ("tpm: -1", "tpm must be"),
            ("price: {input_per_mtok: -1, output_per_mtok: 1}", "input_per_mtok must be"),
            ("price: {input_per_mtok: 1, output_per_mtok: .inf}", "output_per_mtok must be"),
            ("top_logprobs: 50", "top log-probabilities"), ("samples: 0", "samples must be"),
        ])
    func badJudgeValue(line: String, message: String) {
        let yaml = "version: 1\njudges:\n  - name: j\n    model: m\n    \(line)\n"
        let e = inputError { _ = try Panel.parse(yaml: yaml, file: "panel.yaml", environment: [:]) }
        #expect(e?.file == "panel.yaml")
        #expect(e?.line == 5, "\(line): \(String(describing: e))")
        #expect(e?.message.contains(message) == true, "\(line): \(String(describing: e))")
    }

    @Test("sound values still load")
    func goodValues() throws {
        let yaml = """
            version: 1
            judges:
              - {name: j, model: m, base_url: "http://127.0.0.1:8081/v1", timeout: 0.5, temperature: 0.7, max_tokens: 1,
                 weight: 0, retries: 0, concurrency: 1, rpm: 0.5, tpm: 1000, price: {input_per_mtok: 0, output_per_mtok: 0.6}}
            """
        let p = try Panel.parse(yaml: yaml, file: "panel.yaml", environment: [:])
        #expect(p.judges[0].timeoutSeconds == 0.5)
    }

    @Test("rubric checklist values are checked")
    func rubricValues() throws {
        let base = try String(
            contentsOf: panelTestRoot.appendingPathComponent("rubrics/checklist-generated.yaml"), encoding: .utf8)
        for (from, to, line, message) in [
            ("tie_margin: 0.1", "tie_margin: .nan", 20, "tie_margin must be"),
            ("min_questions: 2", "min_questions: 0", 18, "min_questions must be"),
            ("max_questions: 10", "max_questions: 1", 19, "max_questions must be"),
        ] {
            #expect(base.contains(from))
            let e = inputError {
                _ = try Rubric.parse(yaml: base.replacingOccurrences(of: from, with: to), file: "r.yaml")
            }
            #expect(e?.file == "r.yaml")
            #expect(e?.line == line, "\(String(describing: e))")
            #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        }
    }

    @Test("a scale level outside the scale is refused at its line")
    func scaleLevels() throws {
        let base = try String(
            contentsOf: panelTestRoot.appendingPathComponent("rubrics/prometheus-1to5.yaml"), encoding: .utf8)
        #expect(base.contains("\n    1: The response fails"))
        let e = inputError {
            _ = try Rubric.parse(
                yaml: base.replacingOccurrences(of: "\n    1: The response fails", with: "\n    9: The response fails"),
                file: "r.yaml")
        }
        #expect(
            e?.description.hasPrefix("r.yaml:9: scale level 9 is outside 1...5") == true, "\(String(describing: e))")
    }

    @Test("--label-map with one key mapped two ways is an error; a repeat of the same mapping is not")
    func labelMapConflict() async throws {
        #expect(throws: JudgePanelError.usage("--label-map maps '1' twice, to 'A' and to 'B'")) {
            _ = try ItemMapping(mapOptions: [], labelMapOptions: ["1=A,1=B"])
        }
        #expect(try ItemMapping(mapOptions: [], labelMapOptions: ["1=A", "1=A,2=B"]).labelMap == ["1": "A", "2": "B"])
        let r = try await runJudgepanel([
            "meta", "fixtures/pandalm-50.jsonl", "--votes", "fixtures/pandalm-50.votes.jsonl", "--label-map", "1=A,1=B",
        ])
        #expect(r.code == 2)
        #expect(r.err.contains("--label-map maps '1' twice"))
    }

    @Test(
        "out-of-range flags exit 2",
        arguments: [
            ["meta", "fixtures/pandalm-50.jsonl", "--votes", "fixtures/pandalm-50.votes.jsonl", "--resamples=-1"],
            // meta, rank and probe take --resamples 0 (point figures without intervals); below that they refuse.
            ["rank", "fixtures/pandalm-50.jsonl", "--votes", "fixtures/pandalm-50.votes.jsonl", "--resamples=-1"],
        ])
    func badFlags(args: [String]) async throws {
        let r = try await runJudgepanel(args)
        #expect(r.code == 2, "\(args): \(r.err)")
        #expect(r.err.contains("--resamples must be ≥ 0"), "\(r.err)")
    }

    @Test("meta --resamples 0: the same point figures as with a bootstrap, every interval null, the convention says so")
    func metaWithoutBootstrap() async throws {
        let base = ["meta", "fixtures/pandalm-50.jsonl", "--votes", "fixtures/pandalm-50.votes.jsonl", "--json"]
        let none = try await runJudgepanel(base + ["--resamples", "0"])
        let some = try await runJudgepanel(base + ["--resamples", "50"])
        #expect(none.code == 0, "\(none.err)")
        #expect(some.code == 0, "\(some.err)")
        func object(_ s: String) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
        }
        let a = try object(none.out)
        let b = try object(some.out)
        let ja = try #require(a["judges"] as? [[String: Any]])
        let jb = try #require(b["judges"] as? [[String: Any]])
        #expect(ja.count == jb.count && !ja.isEmpty)
        for (x, y) in zip(ja, jb) {
            #expect((x["accuracy"] as? Double) == (y["accuracy"] as? Double))
            #expect((x["accuracy"] as? Double) != nil)
            #expect(x["accuracy_ci"] == nil || x["accuracy_ci"] is NSNull, "\(x["accuracy_ci"] ?? "")")
            #expect(y["accuracy_ci"] is [Any])
        }
        let conv = try #require(a["conventions"] as? [String: Any])
        #expect((conv["bootstrap_unit"] as? String)?.contains("--resamples 0") == true)
    }

    @Test("panel and rubric files: invalid UTF-8 names the line, a directory is named as one")
    func yamlFiles() throws {
        let dir = try tempDir("yaml-utf8")
        let path = try writeBytes(
            Array("version: 1\njudges:\n  - name: j".utf8) + [0xFF] + Array("\n    model: m\n".utf8), "panel.yaml",
            in: dir)
        let e = inputError { _ = try Panel.load(path: path, environment: [:]) }
        #expect(e?.description == "\(path):3: invalid UTF-8")
        let d = inputError { _ = try Rubric.load(path: dir.path) }
        #expect(d?.description == "\(dir.path): is a directory, not a file")
    }

    @Test(
        "a panel value error reaches the CLI as exit 2 with file:line",
        arguments: [
            ("timeout: -5", "timeout must be"), ("rpm: 0", "rpm must be"),
            ("temperature: 1e400", "temperature must be"),
        ])
    func cliPanelValue(line: String, message: String) async throws {
        let dir = try tempDir("panelvalue")
        let panel = try write("version: 1\njudges:\n  - name: j\n    model: m\n    \(line)\n", "panel.yaml", in: dir)
        let r = try await runJudgepanel(
            [
                "score", "fixtures/pandalm-50.jsonl", "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panel,
                "--dry-run",
            ])
        #expect(r.code == 2)
        #expect(r.err.contains("\(panel):5: judge 'j': \(message)"), "\(r.err)")
    }
}

@Suite("Control characters from files and models never reach the terminal raw (issue 13, failure 10)")
struct TerminalEscapeTests {
    static let hostile = "x\u{1B}]0;OWNED\u{07}\u{1B}[2J"

    @Test("sanitize shows controls as escapes and keeps newlines, tabs and ordinary text")
    func sanitize() {
        #expect(TerminalText.sanitize(Self.hostile) == "x\\e]0;OWNED\\a\\e[2J")
        #expect(TerminalText.sanitize("a\tb\nc é ✓") == "a\tb\nc é ✓")
        #expect(TerminalText.sanitize("over\rwrite\u{7F}\u{9B}\u{202E}") == "over\\rwrite\\x7F\\u009B\\u202E")
    }

    @Test("an item id with escapes in an error message is printed escaped")
    func errorMessage() async throws {
        let dir = try tempDir("esc-id")
        let id = "x\\u001b]0;OWNED\\u0007\\u001b[2J"
        let line = "{\"id\": \"\(id)\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n"
        let items = try write(line + line, "items.jsonl", in: dir)
        let r = try await runJudgepanel(
            ["score", items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", "panels/local.yaml", "--dry-run"])
        #expect(r.code == 2)
        #expect(r.err.contains("duplicate id 'x\\e]0;OWNED\\a\\e[2J'"))
        #expect(!r.err.contains("\u{1B}") && !r.err.contains("\u{07}"))
    }

    @Test("judge, model and item names with escapes: the score summary and report.md carry none raw")
    func scoreSummary() async throws {
        let dir = try tempDir("esc-score")
        let server = try await startPanelFake(["m\u{1B}[2J": { _ in .text("[[A]]") }])
        defer { Task { await server.stop() } }
        let base = await server.baseURL.absoluteString + "/v1"
        let panel = try write(
            """
            version: 1
            judges:
              - {name: "x\\e]0;OWNED\\a\\e[2J", provider: openai, base_url: "\(base)", model: "m\\e[2J", retries: 0}
            """, "panel.yaml", in: dir)
        let items = try write(
            "{\"id\": \"i\\u001b[2J\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\", \"label\": \"A\"}\n",
            "items.jsonl", in: dir)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            ["score", items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panel, "--out", out, "--no-cache"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("x\\e]0;OWNED\\a\\e[2J"))
        for text in [r.out, r.err, try String(contentsOfFile: out + "/report.md", encoding: .utf8)] {
            #expect(!text.contains("\u{1B}") && !text.contains("\u{07}"))
        }
        let dry = try await runJudgepanel([
            "score", items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panel, "--dry-run", "--no-cache",
        ])
        #expect(dry.code == 0)
        #expect(dry.out.contains("x\\e]0;OWNED\\a\\e[2J"))
        #expect(!dry.out.contains("\u{1B}"))
    }
}
