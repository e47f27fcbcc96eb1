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

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in for `llama-server` (python3): takes `--port`, answers `GET /health` and every chat completion with
/// "[[A]]" in the OpenAI format llama.cpp's server uses, appends its pid to `pid` beside itself, and on SIGTERM appends
/// it to `sigterm` and exits. With `FAIL` beside it, it prints "model load failed" and exits 3 at once.
private func fakeLlamaServer(in dir: URL, failing: Bool = false) throws -> String {
    let path = dir.appendingPathComponent("fake-llama-server").path
    try #"""
    #!/usr/bin/env python3
    import json, os, signal, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    if os.path.exists(os.path.join(here, "FAIL")):
        print("model load failed", flush=True)
        sys.exit(3)
    port = int(sys.argv[sys.argv.index("--port") + 1])
    with open(os.path.join(here, "pid"), "a") as f:
        f.write(f"{os.getpid()}\n")
    def term(signo, frame):
        with open(os.path.join(here, "sigterm"), "a") as f:
            f.write(f"{os.getpid()}\n")
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args):
            pass
        def send(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_GET(self):
            if self.path == "/health":
                self.send(200, {"status": "ok"})
            else:
                self.send(404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send(200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": "[[A]]"}}],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}})
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever(poll_interval=0.05)
    """#.write(toFile: path, atomically: true, encoding: .utf8)
    guard chmod(path, 0o755) == 0 else { throw JudgePanelError.io("chmod failed", file: path) }
    if failing { FileManager.default.createFile(atPath: dir.appendingPathComponent("FAIL").path, contents: nil) }
    return path
}

/// The pids a fake server appended to `name` beside it.
private func pids(_ dir: URL, _ name: String) -> [Int32] {
    let text = (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { Int32($0) }
}

/// Whether a process with this id exists (a zombie counts: it has not been reaped).
private func exists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

private func settings(_ dir: URL, server: String) throws -> LlamaCppSettings {
    let gguf = dir.appendingPathComponent("model.gguf").path
    try Data("GGUF".utf8).write(to: URL(fileURLWithPath: gguf))
    return LlamaCppSettings(gguf: gguf, server: server)
}

@Suite("llama-server under swift-subprocess: start, stop, cancellation, signals", .serialized)
struct LlamaServerLifecycleTests {
    @Test("start waits for /health; stop sends SIGTERM and returns only once the process is gone")
    func startAndStop() async throws {
        let dir = try tempDir("llama")
        let server = try await LlamaServer.start(settings: try settings(dir, server: try fakeLlamaServer(in: dir)))
        let pid = server.processID
        #expect(pids(dir, "pid") == [pid])
        #expect(exists(pid))
        #expect(LlamaServer.runningProcessIDs.contains(pid))
        let health = try await OneShotTransport().send(
            HTTPRequest(url: URL(string: "http://127.0.0.1:\(server.port)/health")!, method: "GET", timeout: 5))
        #expect(health.status == 200)
        await server.stop()
        #expect(!exists(pid), "the server process is still there (or unreaped) after stop()")
        #expect(pids(dir, "sigterm") == [pid], "the server was not asked to stop with SIGTERM")
        #expect(!LlamaServer.runningProcessIDs.contains(pid))
        #expect(!FileManager.default.fileExists(atPath: server.logPath))
        await server.stop()  // idempotent
    }

    @Test("a server that dies during start-up: the error names the exit and quotes its log")
    func diesDuringStartUp() async throws {
        let dir = try tempDir("llama-fail")
        let before = LlamaServer.runningProcessIDs
        do {
            _ = try await LlamaServer.start(
                settings: try settings(dir, server: try fakeLlamaServer(in: dir, failing: true)), judgeName: "tiny")
            Issue.record("expected the start to fail")
        } catch let e as JudgePanelError {
            #expect(e.message.contains("llama-server for 'tiny' exited during start-up"), "\(e.message)")
            #expect(e.message.contains("model load failed"), "\(e.message)")
        }
        #expect(LlamaServer.runningProcessIDs == before)
    }

    @Test("cancelling the task that runs the panel tears its server down before the run returns")
    func cancellationStopsTheServer() async throws {
        let dir = try tempDir("llama-cancel")
        let judge = JudgeConfig(
            name: "local", provider: .llamacpp, model: "fake", concurrency: 1,
            llamacpp: try settings(dir, server: try fakeLlamaServer(in: dir)))
        let runner = PanelRunner(
            panel: Panel(judges: [judge], swap: false), rubric: try Rubric.load(path: "rubrics/pairwise-mtbench.yaml"),
            options: RunOptions(cache: nil))
        let (items, _) = syntheticPairwise(2)
        let task = Task {
            try await runner.withRuntimes(counters: RunCounters()) { _, _ in
                try await Task.sleep(for: .seconds(600))
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while pids(dir, "pid").isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let pid = try #require(pids(dir, "pid").first)
        // Wait for the server to be ready (the runner is inside `body` then), so the cancel hits a running panel.
        while !(LlamaServer.runningProcessIDs.contains(pid)), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!exists(pid))
        #expect(pids(dir, "sigterm") == [pid])
        // The same runner still judges afterwards (it starts a new server and stops it at the end).
        let result = try await runner.run(items: Array(items.prefix(1)))
        #expect(result.results[0].votes.first?.verdict == .a)
        #expect(pids(dir, "pid").count == 2 && pids(dir, "pid").allSatisfy { !exists($0) })
    }

    @Test(
        "CLI: SIGINT mid-run stops the llama-server child, exits 130 with whole journal lines, and --resume completes")
    func sigintStopsChildAndKeepsJournal() async throws {
        let dir = try tempDir("llama-sigint")
        let (items, quality) = syntheticPairwise(24)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let fake = try fakeLlamaServer(in: dir)
        let gguf = dir.appendingPathComponent("model.gguf").path
        try Data("GGUF".utf8).write(to: URL(fileURLWithPath: gguf))
        // A remote judge that stops answering after 20 calls keeps the run going until the signal.
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let gate = RequestGate(limit: 20)
        let remote = try await startPanelFake(["oracle": gate.wrap { await oracle($0) }])
        let base = await remote.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, concurrency: 4}
          - {name: local, provider: llamacpp, gguf: "\(gguf)", server: "\(fake)", model: fake, concurrency: 2}
        aggregate: majority
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let journal = out + "/journal.jsonl"
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
        ]
        let p = try judgepanelProcess(args, env: ["OPENAI_API_KEY": "sk-test-unused-000000"])
        let errFile = dir.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: errFile)
        try launch(p)
        let deadline = ContinuousClock.now + .seconds(120)
        while lineCount(journal) < 20 || pids(dir, "pid").isEmpty, p.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(p.isRunning, "the run ended before the signal")
        let child = try #require(pids(dir, "pid").first)
        #expect(exists(child))
        kill(p.processIdentifier, SIGINT)
        while p.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        gate.open()
        let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(p.terminationStatus): \(err)")
        #expect(err.contains("judgepanel: cancelled (SIGINT)"), "\(err)")
        #expect(!exists(child), "llama-server \(child) outlived judgepanel")
        #expect(pids(dir, "sigterm") == [child])
        // Whole lines only, and no call recorded as failed because of the interruption.
        let raw = try String(contentsOfFile: journal, encoding: .utf8)
        #expect(raw.hasSuffix("\n"))
        let done = try VoteJournal.completed(path: journal)
        #expect(done.count == raw.split(separator: "\n").count)
        #expect(done.values.allSatisfy { $0.status != .error }, "\(done.values.compactMap(\.error))")

        let resumed = try await runJudgepanel(args + ["--resume"], env: ["OPENAI_API_KEY": "sk-test-unused-000000"])
        await remote.stop()
        #expect(resumed.code == 0, "\(resumed.err)")
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 24 * 2 * 2 && Set(votes.map(\.key)).count == votes.count)
        #expect(pids(dir, "pid").allSatisfy { !exists($0) })
    }
}
