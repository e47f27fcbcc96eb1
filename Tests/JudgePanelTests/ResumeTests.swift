import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Lets the first `limit` requests through and holds every later one until `open()`: a run "interrupted after
/// N calls" then depends on counts, not on how fast a loaded machine happens to be.
final class RequestGate: Sendable {
    private let state: Mutex<(admitted: Int, open: Bool)>
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        state = Mutex((0, false))
    }

    func open() { state.withLock { $0.open = true } }

    func wrap(_ inner: @escaping FakeHandler) -> FakeHandler {
        { request in
            let held = self.state.withLock { s -> Bool in
                s.admitted += 1
                return !s.open && s.admitted > self.limit
            }
            if held {
                while !self.state.withLock({ $0.open }) { try? await Task.sleep(for: .milliseconds(10)) }
            }
            return await inner(request)
        }
    }
}

/// The vote a fake-server request is for, as "judge|item|order", read from the synthetic prompt
/// ("Question N?" and which of the alpha/beta answers is shown first).
func syntheticCallKey(_ request: FakeRequest) -> String? {
    let text = request.promptText
    guard let q = text.range(of: #"Question [0-9]+\?"#, options: .regularExpression),
        let a = text.range(of: "Answer alpha"), let b = text.range(of: "Answer beta")
    else { return nil }
    let n = text[q].dropFirst("Question ".count).dropLast()
    return "\(request.model)|s\(n)|\(a.lowerBound < b.lowerBound ? "AB" : "BA")"
}

func syntheticCallKey(_ vote: Vote) -> String { "\(vote.judge)|\(vote.item)|\(vote.order?.rawValue ?? "-")" }

func writeItems(_ items: [Item], to path: String) throws {
    let enc = JSONEncoder()
    let lines = try items.map { i -> String in
        let obj = ["id": i.id, "prompt": i.prompt, "response_a": i.responseA!, "response_b": i.responseB!]
        return String(decoding: try enc.encode(obj), as: UTF8.self)
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

/// Waits until the server has seen no new request for 300 ms (requests sent before a cancel or kill may
/// still be arriving), then returns the count.
func settledRequestCount(_ server: FakeProviderServer) async throws -> Int {
    var last = await server.requestCount()
    while true {
        try await Task.sleep(for: .milliseconds(300))
        let now = await server.requestCount()
        if now == last { return now }
        last = now
    }
}

func lineCount(_ path: String) -> Int {
    guard let data = FileManager.default.contents(atPath: path) else { return 0 }
    return data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
}

/// Every file under `dirs` that contains `needle` (as bytes).
func filesContaining(_ needle: String, under dirs: [String]) -> [String] {
    var hits: [String] = []
    let bytes = Data(needle.utf8)
    for dir in dirs {
        guard let e = FileManager.default.enumerator(atPath: dir) else { continue }
        for case let rel as String in e {
            let path = dir + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            if data.range(of: bytes) != nil { hits.append(path) }
        }
    }
    return hits
}

/// Starts the built `judgepanel` binary without waiting (so a test can SIGKILL it).
func launchJudgepanel(_ args: [String], env: [String: String] = [:]) throws -> Process {
    let p = try judgepanelProcess(args, env: env)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try launch(p)
    return p
}

@Suite("Resuming interrupted runs", .serialized)
struct ResumeTests {
    @Test("library: a cancelled run resumes without repeating journaled calls and ends as an uninterrupted run")
    func cancelAndResume() async throws {
        let (items, quality) = syntheticPairwise(150)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let gate = RequestGate(limit: 200)
        let slow = gate.wrap { request in .delayed(.milliseconds(4), await oracle(request)) }
        let server = try await startPanelFake(["j1": slow, "j2": slow])
        let panel = await fakePanel(server, judges: ["j1", "j2"], concurrency: 6)
        let rubric = try loadRubric("pairwise-mtbench")
        let job = try ScoreJob(
            itemsPath: "synthetic", items: items, rubric: rubric, panel: panel, options: panelTestOptions)
        let dir = try tempDir("resume")
        let out = dir.appendingPathComponent("run").path
        let journal = out + "/journal.jsonl"

        let task = Task { try await job.run(outDir: out) }
        // The gate holds every request after the 200th, so the run is mid-flight when the journal holds 200.
        let deadline = ContinuousClock.now + .seconds(300)
        while lineCount(journal) < 200, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        task.cancel()
        let first = await task.result
        gate.open()
        #expect(throws: CancellationError.self) { try first.get() }
        let phase1 = try await settledRequestCount(server)
        let done = try VoteJournal.completed(path: journal)
        #expect(done.count == 200, "\(done.count) journaled")
        #expect(!FileManager.default.fileExists(atPath: out + "/verdicts.jsonl"))

        // Resume: no journaled call is sent again; every other planned call is sent once.
        let resumed = try await job.run(outDir: out, resume: true)
        let phase2 = await server.recordedRequests().dropFirst(phase1).compactMap(syntheticCallKey)
        let journaled = Set(done.values.map(syntheticCallKey))
        #expect(journaled.count == done.count)
        let repeated = phase2.filter { journaled.contains($0) }
        #expect(repeated.isEmpty, "\(repeated.count) journaled calls repeated, e.g. \(repeated.prefix(3))")
        #expect(Set(phase2).count == phase2.count)
        #expect(phase2.count == 600 - done.count)
        #expect(resumed.reportJSON["run"]?["reused_from_journal"]?.intValue == done.count)

        // The same votes and verdicts as an uninterrupted run.
        let full = try await job.run(outDir: dir.appendingPathComponent("full").path)
        await server.stop()
        #expect(resumed.result.votes.count == 600)
        #expect(Set(resumed.result.votes.map(\.key)).count == 600)
        let expected = Dictionary(uniqueKeysWithValues: full.result.votes.map { ($0.key, $0.verdict) })
        #expect(resumed.result.votes.allSatisfy { $0.status == .ok && expected[$0.key] == $0.verdict })
        #expect(resumed.result.verdicts.map(\.verdict) == full.result.verdicts.map(\.verdict))
        let a = try String(contentsOfFile: out + "/verdicts.jsonl", encoding: .utf8)
        let b = try String(contentsOfFile: dir.appendingPathComponent("full/verdicts.jsonl").path, encoding: .utf8)
        #expect(a == b)
    }

    @Test("CLI: kill -9 mid-run, --resume repeats no journaled call and writes the uninterrupted verdicts")
    func killAndResume() async throws {
        let dir = try tempDir("kill")
        let (items, quality) = syntheticPairwise(120)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let gate = RequestGate(limit: 60)
        let server = try await startPanelFake([
            "oracle": gate.wrap { request in .delayed(.milliseconds(25), await oracle(request)) }
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, api_key_env: JP_TEST_KEY, concurrency: 4}
        aggregate: majority
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let secret = "sk-test-PLANTED-\(UUID().uuidString)"
        let out = dir.appendingPathComponent("run").path
        let journal = out + "/journal.jsonl"
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
        ]

        let p = try launchJudgepanel(args, env: ["JP_TEST_KEY": secret])
        let deadline = ContinuousClock.now + .seconds(300)
        while lineCount(journal) < 60, p.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(p.isRunning, "the run finished before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        gate.open()
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: out + "/verdicts.jsonl"))
        let phase1 = try await settledRequestCount(server)
        let done = try VoteJournal.completed(path: journal)
        #expect(done.count == 60, "\(done.count)")

        // Without --resume the run directory is refused.
        let refused = try await runJudgepanel(args, env: ["JP_TEST_KEY": secret])
        #expect(refused.code == 2, "\(refused.err)")
        #expect(await server.requestCount() == phase1)

        let r = try await runJudgepanel(args + ["--resume"], env: ["JP_TEST_KEY": secret])
        #expect(r.code == 0, "\(r.err)")
        let phase2 = await server.recordedRequests().dropFirst(phase1).compactMap(syntheticCallKey)
        let journaled = Set(done.values.map(syntheticCallKey))
        let repeated = phase2.filter { journaled.contains($0) }
        #expect(repeated.isEmpty, "\(repeated.count) journaled calls repeated")
        #expect(Set(phase2).count == phase2.count)
        #expect(phase2.count == 240 - done.count)

        // An uninterrupted run of the same inputs writes the same verdicts.
        let full = dir.appendingPathComponent("full").path
        var fullArgs = args
        fullArgs[fullArgs.firstIndex(of: out)!] = full
        let r2 = try await runJudgepanel(fullArgs, env: ["JP_TEST_KEY": secret])
        await server.stop()
        #expect(r2.code == 0, "\(r2.err)")
        let a = try String(contentsOfFile: out + "/verdicts.jsonl", encoding: .utf8)
        let b = try String(contentsOfFile: full + "/verdicts.jsonl", encoding: .utf8)
        #expect(a == b)
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 240 && Set(votes.map(\.key)).count == 240)

        // The planted key is nowhere: stdout, stderr, journal and every run file.
        for text in [r.out, r.err, refused.out, refused.err, r2.out, r2.err] { #expect(!text.contains(secret)) }
        #expect(FileManager.default.fileExists(atPath: journal))
        #expect(filesContaining(secret, under: [out, full]).isEmpty)
    }

    @Test("the planted API key never reaches the cache, the journal or any run file, even with faults")
    func keyNeverWritten() async throws {
        let dir = try tempDir("key")
        let (items, quality) = syntheticPairwise(20)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let plan = FaultPlan(slowModel: "none")
        let server = try await startPanelFake([
            "oracle": plan.wrap(oracle),
            "dead": { _ in .status(401, body: "{\"error\":{\"message\":\"invalid api key\"}}") },
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, api_key_env: JP_TEST_KEY, timeout: 2}
          - {name: dead, provider: openai, base_url: "\(base)", model: dead, api_key_env: JP_TEST_KEY}
        aggregate: majority
        swap: true
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let secret = "sk-test-PLANTED-\(UUID().uuidString)"
        let out = dir.appendingPathComponent("run").path
        let cache = dir.appendingPathComponent("cache").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
                "--cache-dir", cache,
            ],
            env: ["JP_TEST_KEY": secret])
        let seen = await server.recordedRequests().compactMap(\.apiKey)
        await server.stop()
        #expect(r.code == 1, "\(r.err)")  // the dead judge's 401s
        #expect(seen.contains(secret))
        #expect(plan.total > 0)
        #expect(!r.out.contains(secret) && !r.err.contains(secret))
        #expect(FileManager.default.fileExists(atPath: out + "/journal.jsonl"))
        #expect((FileManager.default.enumerator(atPath: cache)?.allObjects.count ?? 0) > 0)
        #expect(filesContaining(secret, under: [out, cache]).isEmpty)
        // Nor a recognisable part of it.
        #expect(filesContaining(String(secret.suffix(20)), under: [out, cache]).isEmpty)
    }
}
