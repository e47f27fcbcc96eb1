import Foundation
import JudgePanelTesting
import JudgeStats
import Synchronization
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

/// Starts the built binary with stdout/stderr captured to files (read them after it exits).
private func launchCaptured(_ args: [String], env: [String: String]) throws -> (process: Process, out: URL, err: URL) {
    let p = try judgepanelProcess(args, env: env)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("jp-out-\(UUID().uuidString)")
    let err = FileManager.default.temporaryDirectory.appendingPathComponent("jp-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    try launch(p)
    return (p, out, err)
}

private func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

private func waitExit(_ p: Process) async throws {
    while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
}

/// Lets requests through while open; while closed, holds every request that arrives (until opened).
private final class HoldGate: Sendable {
    private let closed = Mutex(false)
    func close() { closed.withLock { $0 = true } }
    func open() { closed.withLock { $0 = false } }
    func wrap(_ inner: @escaping FakeHandler) -> FakeHandler {
        { request in
            while self.closed.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(10)) }
            return await inner(request)
        }
    }
}

private func writePanel(_ path: String, base: String, judges: [(name: String, model: String)], extra: String = "")
    throws
{
    let lines = judges.map {
        "  - {name: \($0.name), provider: openai, base_url: \"\(base)\", model: \($0.model), api_key_env: JP_TEST_KEY, concurrency: 4}"
    }
    try ("version: 1\njudges:\n" + lines.joined(separator: "\n") + "\nswap: true\n" + extra).write(
        toFile: path, atomically: true, encoding: .utf8)
}

@Suite("Trustworthy runs: lock, fingerprints, rebuild, encode failures", .serialized)
struct TrustworthyRunTests {
    static let env = ["JP_TEST_KEY": "sk-test-lock"]

    @Test(
        "two --resume runs on one directory: the second is refused with exit 2 naming the holder; each call reaches the server once"
    )
    func concurrentResumeIsRefused() async throws {
        let dir = try tempDir("lock")
        let (items, quality) = syntheticPairwise(60)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let gate = RequestGate(limit: 30)
        let hold = HoldGate()
        let server = try await startPanelFake([
            "oracle": hold.wrap(gate.wrap { request in .delayed(.milliseconds(5), await oracle(request)) })
        ])
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try writePanel(panelPath, base: await server.baseURL.absoluteString + "/v1", judges: [("oracle", "oracle")])
        let out = dir.appendingPathComponent("run").path
        let journal = out + "/journal.jsonl"
        let args = [
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
            "--no-cache",
        ]

        // A run killed with SIGKILL leaves its lock file naming a dead process.
        let first = try launchJudgepanel(args, env: Self.env)
        let deadline = ContinuousClock.now + .seconds(300)
        while lineCount(journal) < 30, first.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(first.isRunning)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(RunLock.holder(dir: out)?.pid == first.processIdentifier)
        hold.close()  // the held requests of the killed run stay held; so do the next run's
        gate.open()
        let phase1 = try await settledRequestCount(server)
        let done = try VoteJournal.completed(path: journal)
        #expect(done.count == 30)

        // Resume A takes over the stale lock and is held mid-run by the server; resume B starts meanwhile.
        let a = try launchCaptured(args + ["--resume"], env: Self.env)
        while RunLock.holder(dir: out)?.pid != a.process.processIdentifier, a.process.isRunning,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(a.process.isRunning)
        let b = try launchCaptured(args + ["--resume"], env: Self.env)
        try await waitExit(b.process)
        // A plain run (no --resume) and `report` are refused the same way.
        let plain = try await runJudgepanel(args, env: Self.env)
        let report = try await runJudgepanel(["report", out])
        hold.open()
        try await waitExit(a.process)
        let phase2 = await server.recordedRequests().dropFirst(phase1).compactMap(syntheticCallKey)
        await server.stop()

        #expect(a.process.terminationStatus == 0, "\(text(a.err))")
        #expect(b.process.terminationStatus == 2, "\(text(b.err))")
        #expect(plain.code == 2 && report.code == 2)
        let bErr = text(b.err)
        #expect(bErr.contains("pid \(a.process.processIdentifier)") && bErr.contains("since"), "\(bErr)")
        #expect(report.err.contains("pid \(a.process.processIdentifier)"), "\(report.err)")
        #expect(
            text(a.err).contains("stale lock") && text(a.err).contains("\(first.processIdentifier)"), "\(text(a.err))")
        // Each call once: none of the journaled calls again, none of the rest twice.
        let journaled = Set(done.values.map(syntheticCallKey))
        #expect(phase2.filter { journaled.contains($0) }.isEmpty)
        #expect(Set(phase2).count == phase2.count)
        #expect(phase2.count == 120 - done.count)
        // The journal is whole: every line parses (no truncated tail tolerated), one vote per call.
        let all = try VotesFile.load(path: journal)
        #expect(all.count == 120 && Set(all.map(\.key)).count == 120)
        #expect(try VotesFile.load(path: out + "/votes.jsonl").count == 120)
        // Released: the lock file is empty, a later writer is not refused.
        #expect(RunLock.holder(dir: out) == nil)
        #expect(try await runJudgepanel(["report", out]).code == 0)
    }

    @Test("library: the lock is re-entrant in a process and refuses a second process's writer")
    func lockInProcess() throws {
        let dir = try tempDir("lock-lib").path
        let a = try RunLock.acquire(dir: dir, command: "test")
        let b = try RunLock.acquire(dir: dir, command: "nested")
        #expect(RunLock.holder(dir: dir)?.pid == getpid())
        b.release()
        #expect(RunLock.holder(dir: dir)?.command == "test")
        a.release()
        #expect(RunLock.holder(dir: dir) == nil)
    }

    @Test("--resume re-asks exactly the calls whose inputs changed; a changed panel or rubric needs --resume-changed")
    func resumeFingerprints() async throws {
        let dir = try tempDir("fp")
        var (items, quality) = syntheticPairwise(10)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let server = try await startPanelFake(["m1": oracle, "m1-new": oracle, "m2": oracle])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try writePanel(panelPath, base: base, judges: [("j1", "m1"), ("j2", "m2")])
        let rubricPath = dir.appendingPathComponent("rubric.yaml").path
        let rubricText = try String(
            contentsOfFile: panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path, encoding: .utf8)
        try rubricText.write(toFile: rubricPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let args = ["score", itemsPath, "--rubric", rubricPath, "--panel", panelPath, "--out", out, "--no-cache"]
        func run(_ extra: [String]) async throws -> (code: Int32, out: String, err: String, calls: [String]) {
            let before = await server.requestCount()
            let r = try await runJudgepanel(args + extra, env: Self.env)
            let calls = await server.recordedRequests().dropFirst(before).compactMap(syntheticCallKey)
            return (r.code, r.out, r.err, calls)
        }

        let full = try await run([])
        #expect(full.code == 0 && full.calls.count == 40, "\(full.err)")
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.allSatisfy { $0.fingerprint?.count == 64 })
        #expect(Set(votes.compactMap(\.fingerprint)).count == 40)

        // Nothing changed: everything reused.
        let same = try await run(["--resume"])
        #expect(same.code == 0 && same.calls.isEmpty, "\(same.err)")
        #expect(same.out.contains("40 journaled votes reused, 0 re-asked"), "\(same.out)")

        // Swap A and B of two items: both orders of both judges for those items (8 calls), nothing else.
        for i in [2, 5] { (items[i].responseA, items[i].responseB) = (items[i].responseB, items[i].responseA) }
        try writeItems(items, to: itemsPath)
        let swapped = try await run(["--resume"])
        #expect(swapped.code == 0, "\(swapped.err)")
        #expect(
            Set(swapped.calls)
                == Set(
                    ["m1", "m2"].flatMap { m in ["s2", "s5"].flatMap { s in ["AB", "BA"].map { "\(m)|\(s)|\($0)" } } }))
        #expect(swapped.calls.count == 8)
        #expect(swapped.out.contains("32 journaled votes reused, 8 re-asked"), "\(swapped.out)")

        // Edit one item's prompt: its 4 calls.
        items[7].prompt = "Question 7? Please be brief."
        try writeItems(items, to: itemsPath)
        let edited = try await run(["--resume"])
        #expect(
            edited.code == 0 && edited.calls.count == 4 && edited.calls.allSatisfy { $0.contains("|s7|") },
            "\(edited.calls)")

        // A different model for j1: refused without --resume-changed (nothing sent), then only j1's 20 calls.
        try writePanel(panelPath, base: base, judges: [("j1", "m1-new"), ("j2", "m2")])
        let refused = try await run(["--resume"])
        #expect(refused.code == 2 && refused.calls.isEmpty)
        #expect(
            refused.err.contains("judge 'j1'") && refused.err.contains("model")
                && refused.err.contains("--resume-changed"), "\(refused.err)")
        let changed = try await run(["--resume", "--resume-changed"])
        #expect(changed.code == 0, "\(changed.err)")
        #expect(changed.calls.count == 20 && changed.calls.allSatisfy { $0.hasPrefix("m1-new|") })
        #expect(changed.out.contains("20 journaled votes reused, 20 re-asked"), "\(changed.out)")
        let config = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/config.json")))
        #expect(config["panel"]?["judges"]?[0]?["model"]?.stringValue == "m1-new")

        // The rubric's system prompt: refused (says "system"), then every call again.
        try rubricText.replacingOccurrences(of: "Please act as an impartial judge", with: "Act as a strict judge")
            .write(toFile: rubricPath, atomically: true, encoding: .utf8)
        let refusedRubric = try await run(["--resume"])
        #expect(
            refusedRubric.code == 2 && refusedRubric.calls.isEmpty && refusedRubric.err.contains("system"),
            "\(refusedRubric.err)")
        let rubricChanged = try await run(["--resume", "--resume-changed"])
        #expect(rubricChanged.code == 0 && rubricChanged.calls.count == 40, "\(rubricChanged.err)")

        // A journal from an older version (no fingerprints): refused, then re-asked with --resume-changed.
        let journal = out + "/journal.jsonl"
        let stripped = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map {
            line -> String in
            guard case .object(var o) = try JSONValue.parse(String(line)) else { return String(line) }
            o["fingerprint"] = nil
            return JSONValue.object(o).compactString
        }
        try (stripped.joined(separator: "\n") + "\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let legacy = try await run(["--resume"])
        #expect(legacy.code == 2 && legacy.calls.isEmpty && legacy.err.contains("fingerprint"), "\(legacy.err)")
        let legacyChanged = try await run(["--resume", "--resume-changed"])
        #expect(legacyChanged.code == 0 && legacyChanged.calls.count == 40, "\(legacyChanged.err)")
        await server.stop()
    }

    @Test("report DIR rebuilds a --map/--label-map, weighted run byte for byte: the original run's files")
    func reportRebuildsOriginal() async throws {
        let dir = try tempDir("rebuild")
        // A dataset in another schema: instruction/output_1/output_2/pref with 1/2/0 labels.
        let (items, quality) = syntheticPairwise(24)
        let lines = items.enumerated().map { n, i -> String in
            let pref = ["1", "2", "0"][n % 3]
            let o: JSONValue = [
                "qid": .string(i.id), "instruction": .string(i.prompt ?? ""), "output_1": .string(i.responseA!),
                "output_2": .string(i.responseB!), "pref": .string(pref),
                "meta": ["topic": .string(n % 2 == 0 ? "x" : "y")],
            ]
            return o.compactString
        }
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: itemsPath, atomically: true, encoding: .utf8)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let betaLover: FakeHandler = { request in
            let t = request.promptText
            let betaFirst =
                (t.range(of: "Answer beta")?.lowerBound ?? t.endIndex)
                < (t.range(of: "Answer alpha")?.lowerBound ?? t.endIndex)
            return .text("Clearly [[\(betaFirst ? "A" : "B")]]")
        }
        let server = try await startPanelFake([
            "oracle": oracle, "beta": betaLover, "beta2": betaLover,
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        // The oracle outweighs two judges that always prefer the dataset's B ("beta") answer: weighted and
        // majority verdicts differ.
        try """
        version: 1
        judges:
          - {name: oracle, provider: openai, base_url: "\(base)", model: oracle, api_key_env: JP_TEST_KEY, weight: 5}
          - {name: b1, provider: openai, base_url: "\(base)", model: beta, api_key_env: JP_TEST_KEY, weight: 1}
          - {name: b2, provider: openai, base_url: "\(base)", model: beta2, api_key_env: JP_TEST_KEY, weight: 1}
        aggregate: weighted
        swap: true
        flip: abstain
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath, "--out", out,
                "--no-cache",
                "--map", "id=qid", "--map", "prompt=instruction", "--map", "response_a=output_1", "--map",
                "response_b=output_2",
                "--map", "label=pref", "--label-map", "1=A,2=B,0=tie", "--seed", "7",
            ], env: Self.env)
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        let files = ["verdicts.jsonl", "report.json", "report.md", "report.html"]
        var originals: [String: Data] = [:]
        for f in files { originals[f] = try Data(contentsOf: URL(fileURLWithPath: out + "/" + f)) }
        let report = try JSONValue.parse(originals["report.json"]!)
        #expect(report["aggregate"]?.stringValue == "weighted" && report["seed"]?.intValue == 7)
        // The weights decide: the panel follows the oracle where the B judges outvote it by count.
        let verdicts = try String(decoding: originals["verdicts.jsonl"]!, as: UTF8.self).split(separator: "\n").map {
            try JSONValue.parse(String($0))
        }
        #expect(verdicts.contains { $0["verdict"]?.stringValue == "A" })
        for f in files { try FileManager.default.removeItem(atPath: out + "/" + f) }

        let rebuilt = try await runJudgepanel(["report", out])
        #expect(rebuilt.code == 0, "\(rebuilt.err)")
        for f in files {
            let again = try Data(contentsOf: URL(fileURLWithPath: out + "/" + f))
            #expect(again == originals[f], "\(f) differs from the original run's")
        }
        // A changed items file is refused (the hash recorded in config.json).
        try (lines.dropLast().joined(separator: "\n") + "\n").write(
            toFile: itemsPath, atomically: true, encoding: .utf8)
        let stale = try await runJudgepanel(["report", out])
        #expect(stale.code == 2 && stale.err.contains("changed"), "\(stale.code) \(stale.err)")
        // No directory: refused, and not created.
        let missing = dir.appendingPathComponent("no-such-run").path
        let none = try await runJudgepanel(["report", missing])
        #expect(none.code == 2 && !FileManager.default.fileExists(atPath: missing), "\(none.err)")
    }

    @Test("a record that cannot be encoded is an error naming it, never {}")
    func encodeFailuresNameTheRecord() async throws {
        var vote = Vote(item: "it-7", judge: "judge-x", protocol: .pointwise, score: .nan)
        #expect(throws: JudgePanelError.self) { try VotesFile.line(vote) }
        do {
            _ = try VotesFile.line(vote)
        } catch let e as JudgePanelError {
            #expect(
                e.message.contains("it-7") && e.message.contains("judge-x") && e.message.contains("score"),
                "\(e.message)")
        }
        vote.score = 3
        #expect(try VotesFile.line(vote).contains("\"score\":3"))
        vote.probs = ["A": .infinity]
        #expect(throws: JudgePanelError.self) { try VotesFile.line(vote) }

        // The journal refuses the record (and keeps its earlier lines); verdicts.jsonl is not written at all.
        let dir = try tempDir("encode")
        let journal = try VoteJournal(path: dir.appendingPathComponent("journal.jsonl").path)
        vote.probs = nil
        try await journal.append(vote)
        vote.score = .nan
        await #expect(throws: JudgePanelError.self) { try await journal.append(vote) }
        await journal.close()
        #expect(try VotesFile.load(path: dir.appendingPathComponent("journal.jsonl").path).count == 1)
        let run = RunDirectory(path: dir.path)
        do {
            try run.writeVerdicts([Verdict(item: "ok"), Verdict(item: "bad-9", score: .nan)])
            Issue.record("expected an error")
        } catch let e as JudgePanelError {
            #expect(e.message.contains("bad-9"), "\(e.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("verdicts.jsonl").path))
        // An infinite log-probability (a server sending 1e999) gives no probabilities rather than NaN ones.
        let tokens = [
            TokenLogprob(
                token: "A", logprob: .infinity,
                top: [.init(token: "A", logprob: .infinity), .init(token: "B", logprob: -1)])
        ]
        #expect(Probabilities.pairwise(tokens, allowTie: true) == nil)
    }

    @Test("the one-pass report over a votes file equals the in-memory report over the same votes (grouped or not)")
    func digestEqualsInMemory() throws {
        let (items, _) = syntheticPairwise(40)
        // Errors, abstentions with reasons, costs, usage, probabilities, a vote on an unknown item and a probe variant.
        let votes = MetaScaleTests.pairwiseVotes(items)
        var options = MetaAnalysis.Options(flip: .abstain, aggregate: .weighted, resamples: 200, seed: 5)
        options.protocolKind = .pairwise
        options.judgeOrder = ["j1", "j2", "j3"]
        options.weights = ["j1": 2, "j2": 1, "j3": 1]
        let analysis = MetaAnalysis(options: options)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let dir = try tempDir("digest")
        for (name, list) in [
            ("grouped", votes),
            ("shuffled", votes.enumerated().sorted { ($0.offset * 37) % 101 < ($1.offset * 37) % 101 }.map(\.element)),
        ] {
            let path = dir.appendingPathComponent("\(name).jsonl").path
            try (list.map { try VotesFile.line($0) }.joined(separator: "\n") + "\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            // Expected: the in-memory analysis of the same votes in the same order (sums of costs follow the order).
            let expected = analysis.report(items: items, votes: list)
            let expectedPanel = analysis.reconcile(items: items, votes: list.filter { $0.variant == nil }).panel
            #expect(expected.judges.first?.positionConsistency?.value != nil && expected.judges.first?.costUSD != nil)
            let got = try analysis.analyse(items: items, votesPath: path)
            #expect(try enc.encode(got.report) == enc.encode(expected), "\(name)")
            #expect(got.reconciled.panel == expectedPanel, "\(name)")
            // With a sink (how verdicts.jsonl is written), each whole verdict goes to it in item order and only the
            // columns the report reads are kept; the report is the same.
            var streamed: [Verdict] = []
            let lean = try analysis.analyse(items: items, votesPath: path, verdicts: { streamed.append($0) })
            #expect(streamed == expectedPanel, "\(name)")
            #expect(lean.reconciled.panel.map(\.verdict) == expectedPanel.map(\.verdict))
            #expect(lean.reconciled.panel.map(\.score) == expectedPanel.map(\.score))
            #expect(lean.reconciled.panel.allSatisfy { $0.judges.isEmpty && $0.flips.isEmpty })
            #expect(try enc.encode(lean.report) == enc.encode(expected), "\(name)")
            #expect(got.votes == votes.count && got.errors == votes.filter { $0.status == .error }.count)
        }
    }
}
