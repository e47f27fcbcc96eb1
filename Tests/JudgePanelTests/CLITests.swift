import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Synchronization
import Testing

/// A `Process` for the built `judgepanel` binary (next to the test bundle, `.build/debug`, or `$JUDGEPANEL_BIN`).
func judgepanelProcess(_ args: [String], cwd: URL = panelTestRoot, env: [String: String] = [:]) throws -> Process {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [
        here.appendingPathComponent("judgepanel").path,
        panelTestRoot.appendingPathComponent(".build/debug/judgepanel").path,
    ]
    if let p = ProcessInfo.processInfo.environment["JUDGEPANEL_BIN"] { candidates.insert(p, at: 0) }
    guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw JudgePanelError.io("judgepanel binary not built")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = args
    p.currentDirectoryURL = cwd
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    return p
}

/// Child processes start one at a time: concurrent `Process.run()` calls from parallel tests have crashed
/// corelibs Foundation (a bad pointer in `memcpy` under `Process.run`); only the launch is serialized.
private let processLaunch = Mutex(())

/// Starts `p` under the launch lock.
func launch(_ p: Process) throws {
    try processLaunch.withLock { _ in try p.run() }
}

/// Runs the built `judgepanel` binary.
func runJudgepanel(_ args: [String], cwd: URL = panelTestRoot, env: [String: String] = [:]) async throws -> (
    code: Int32, out: String, err: String
) {
    let p = try judgepanelProcess(args, cwd: cwd, env: env)
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("jp-out-\(UUID().uuidString)")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("jp-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: outFile)
    p.standardError = try FileHandle(forWritingTo: errFile)
    try launch(p)
    while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
    return (p.terminationStatus, out, err)
}

func tempDir(_ tag: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("End-to-end runs of the built CLI")
struct CLITests {
    @Test("score against the fake server writes the four files with the DESIGN.md keys")
    func scoreEndToEnd() async throws {
        let dir = try tempDir("e2e")
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        let (server, base) = try await startPandaLMFake()
        let panelYAML = """
            version: 1
            judges:
              - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, api_key_env: JP_TEST_KEY, price: {input_per_mtok: 1, output_per_mtok: 2}}
              - {name: first, provider: openai, base_url: "\(base)", model: first, concurrency: 4}
            aggregate: majority
            swap: true
            flip: tie
            """
        try panelYAML.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let secret = "sk-test-PLANTED-\(UUID().uuidString)"
        let r = try await runJudgepanel(
            [
                "score", items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                dir.appendingPathComponent("panel.yaml").path,
                "--out", out, "--cache-dir", dir.appendingPathComponent("cache").path,
            ],
            env: ["JP_TEST_KEY": secret])
        let seenKeys = await server.recordedRequests().compactMap { $0.headers["authorization"] }
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("oracle") && r.out.contains("panel") && r.out.contains("accuracy"))
        #expect(seenKeys.contains("Bearer \(secret)"))
        for f in ["votes.jsonl", "verdicts.jsonl", "report.json", "report.md", "config.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f)")
        }
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 50 * 2 * 2)
        let firstLine = try #require(
            String(contentsOfFile: out + "/votes.jsonl", encoding: .utf8).split(separator: "\n").first)
        let vote = try JSONValue.parse(String(firstLine))
        for key in [
            "item", "judge", "protocol", "order", "sample", "verdict", "status", "raw", "usage", "cost_usd",
            "latency_ms", "cached",
        ] {
            #expect(vote[key] != nil, "votes.jsonl lacks \(key)")
        }
        let verdictLine = try #require(
            String(contentsOfFile: out + "/verdicts.jsonl", encoding: .utf8).split(separator: "\n").first)
        let verdict = try JSONValue.parse(String(verdictLine))
        for key in ["item", "verdict", "judges", "agreement", "flips", "abstained"] {
            #expect(verdict[key] != nil, "verdicts.jsonl lacks \(key)")
        }
        let report = try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8))
        #expect(report["n_items"]?.intValue == 50)
        #expect(report["label_kind"]?.stringValue == "pairwise")
        let judges = try #require(report["judges"]?.arrayValue)
        let oracle = try #require(judges.first { $0["judge"]?.stringValue == "oracle" })
        // The contains-based oracle cannot place one fixture answer (an empty string is contained in every text).
        #expect((oracle["accuracy"]?.doubleValue ?? 0) >= 0.96)
        #expect(oracle["position_consistency"]?.doubleValue == 1)
        let first = try #require(judges.first { $0["judge"]?.stringValue == "first" })
        #expect(first["position_consistency"]?.doubleValue == 0)
        #expect(first["first_slot_rate"]?.doubleValue == 1)
        for key in [
            "vote_accuracy", "accuracy_ci", "coverage", "accuracy_answered", "cohen_kappa", "agreement_with_ties",
            "agreement_without_ties", "parse_rate",
        ] {
            #expect(oracle[key] != nil, "report lacks \(key)")
        }
        #expect(report["panel"]?["accuracy"] != nil)
        #expect(report["human"]?["n_annotators"]?.intValue == 3)
        #expect(report["inter_judge"]?["cohen_kappa"]?["oracle|first"] != nil)
        // The planted key appears nowhere in the run's output.
        for f in ["votes.jsonl", "verdicts.jsonl", "report.json", "report.md", "config.json"] {
            #expect(!(try String(contentsOfFile: out + "/" + f, encoding: .utf8)).contains(secret))
        }
        #expect(!r.out.contains(secret) && !r.err.contains(secret))
        let cacheFiles =
            FileManager.default.enumerator(atPath: dir.appendingPathComponent("cache").path)?.allObjects.count ?? 0
        #expect(cacheFiles > 0)

        // A second run of identical inputs is served from the cache: zero calls.
        let again = try await startPanelFake([:])
        await again.stop()
        let r2 = try await runJudgepanel(
            [
                "score", items, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                dir.appendingPathComponent("panel.yaml").path,
                "--out", out + "2", "--cache-dir", dir.appendingPathComponent("cache").path,
            ])
        #expect(r2.code == 0, "\(r2.err)")
        #expect(r2.out.contains("0 HTTP calls · 200 cached"))
    }

    @Test(
        "malformed inputs exit 2 naming file:line, and write nothing",
        arguments: [
            (
                "{\"id\": \"1\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n{oops\n",
                "items.jsonl:2: invalid JSON"
            ),
            ("{\"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n", "items.jsonl:1: missing \"id\""),
            (
                "{\"id\": \"1\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n{\"id\": \"1\", \"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n",
                "items.jsonl:2: duplicate id"
            ),
            ("{\"id\": \"1\", \"prompt\": \"p\", \"response\": \"a\"}\n", "items.jsonl:1: item '1' lacks 'response_a'"),
        ])
    func malformed(items: String, message: String) async throws {
        let dir = try tempDir("bad")
        try items.write(to: dir.appendingPathComponent("items.jsonl"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", dir.appendingPathComponent("items.jsonl").path, "--rubric", "rubrics/pairwise-mtbench.yaml",
                "--panel",
                "panels/local.yaml", "--out", out,
            ])
        #expect(r.code == 2)
        #expect(r.err.contains(message), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test(
        "bad rubric and panel files exit 2 naming file:line",
        arguments: [
            (
                "rubric", "version: 1\nid: x\nprotocol: ranking\ntemplate: \"{{response}}\"\n",
                "rubric.yaml:3: unknown protocol 'ranking'"
            ),
            (
                "rubric",
                "version: 1\nid: x\nprotocol: pairwise\ntemplate: |\n  {{response_a}} {{response_b}} {{nope}}\n",
                "rubric.yaml:5: template variable '{{nope}}' does not exist"
            ),
            (
                "panel", "version: 1\njudges:\n  - name: a\n    provider: nope\n    model: m\n",
                "panel.yaml:4: unknown provider 'nope'"
            ),
        ])
    func badConfig(kind: String, yaml: String, message: String) async throws {
        let dir = try tempDir("badcfg")
        try yaml.write(to: dir.appendingPathComponent("\(kind).yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let rubric = kind == "rubric" ? dir.appendingPathComponent("rubric.yaml").path : "rubrics/pairwise-mtbench.yaml"
        let panel = kind == "panel" ? dir.appendingPathComponent("panel.yaml").path : "panels/local.yaml"
        let r = try await runJudgepanel([
            "score", "fixtures/pandalm-50.jsonl", "--rubric", rubric, "--panel", panel, "--out", out,
        ])
        #expect(r.code == 2)
        #expect(r.err.contains(message), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("meta on recorded votes makes no call and prints the report JSON")
    func metaOffline() async throws {
        let r = try await runJudgepanel([
            "meta", "fixtures/pandalm-50.jsonl", "--votes", "fixtures/pandalm-50.votes.jsonl", "--json",
        ])
        #expect(r.code == 0, "\(r.err)")
        let report = try JSONValue.parse(r.out)
        #expect(report["n_items"]?.intValue == 50)
        #expect(report["judges"]?.arrayValue?.count == 2)
        #expect(report["human"]?["pairwise_cohen_kappa"]?["annotator1|annotator2"] != nil)
    }
}
