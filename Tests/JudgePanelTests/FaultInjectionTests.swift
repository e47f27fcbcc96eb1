import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Synchronization
import Testing

/// FNV-1a over UTF-8: a stable hash for choosing which requests to fault.
func faultHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in text.utf8 {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
    }
    return h
}

/// Wraps a judge handler with deterministic faults, chosen by a hash of model + prompt and the attempt number
/// (how many times this exact request has been seen), and counts what it injected.
final class FaultPlan: Sendable {
    enum Kind: String, CaseIterable, Sendable {
        case rateLimited, status500, status503, drop, truncated, garbage, delayed
    }

    private let attempts = Mutex<[String: Int]>([:])
    private let injected = Mutex<[Kind: Int]>([:])
    /// The model whose judge has the short timeout; only its requests get `.delayed` past it.
    let slowModel: String

    init(slowModel: String) {
        self.slowModel = slowModel
    }

    /// The fault for this request's `attempt` (0-based), or nil to answer normally.
    func fault(model: String, prompt: String, attempt: Int) -> Kind? {
        let h = faultHash(model + "|" + prompt)
        let bucket = h % 1000
        // ~20 % faulted on the first attempt, ~4 % again on the second; never a third time (retries: 3).
        guard (attempt == 0 && bucket < 200) || (attempt == 1 && bucket < 40) else { return nil }
        if attempt == 0, model == slowModel, bucket < 6 { return .delayed }  // a handful: each costs one 1 s timeout
        // Drops are rarer (historically: FoundationNetworking only noticed one on a reused connection at the request
        // timeout; the transport now reports one at once as a retryable connection error).
        let plain: [Kind] = [
            .rateLimited, .status500, .status503, .truncated, .garbage, .rateLimited, .status500, .status503,
            .truncated,
            .garbage, .drop,
        ]
        return plain[Int((h / 1000 &+ UInt64(attempt) &* 7) % UInt64(plain.count))]
    }

    func wrap(_ inner: @escaping FakeHandler) -> FakeHandler {
        { request in
            let key = request.model + "|" + request.promptText
            let attempt = self.attempts.withLock { seen -> Int in
                defer { seen[key, default: 0] += 1 }
                return seen[key] ?? 0
            }
            guard let kind = self.fault(model: request.model, prompt: request.promptText, attempt: attempt) else {
                return await inner(request)
            }
            self.injected.withLock { $0[kind, default: 0] += 1 }
            switch kind {
            case .rateLimited: return .rateLimited(retryAfterSeconds: 0.05)
            case .status500: return .status(500, body: "{\"error\":{\"message\":\"internal\"}}")
            case .status503: return .status(503, body: "{\"error\":{\"message\":\"overloaded\"}}")
            case .drop: return .dropConnection
            case .truncated: return .truncatedJSON
            case .garbage: return .garbage
            case .delayed: return .delayed(.seconds(6), await inner(request))
            }
        }
    }

    var counts: [Kind: Int] { injected.withLock { $0 } }
    var total: Int { counts.values.reduce(0, +) }
}

@Suite("Fault injection: retries keep every vote, exactly once", .serialized)
struct FaultInjectionTests {
    static let retry = RetryPolicy(baseDelay: 0.005, maxDelay: 0.05, maxRetryAfter: 0.2)

    func panel(
        _ server: FakeProviderServer, judges: [(name: String, timeout: Double, retries: Int)], concurrency: Int = 16
    ) async -> Panel {
        let base = await server.baseURL.absoluteString + "/v1"
        return Panel(
            judges: judges.map {
                JudgeConfig(
                    name: $0.name, provider: .openai, model: $0.name, baseURLs: [base], concurrency: concurrency,
                    timeoutSeconds: $0.timeout, retries: $0.retries)
            }, aggregate: .majority, swap: true, flip: .tie)
    }

    @Test(
        "2 000 calls with ~20 % faulted (429, 5xx, drops, timeouts, truncated, garbage): all ok, verdicts as unfaulted")
    func faultedRunMatchesOracle() async throws {
        let (items, quality) = syntheticPairwise(500)
        let rubric = try loadRubric("pairwise-mtbench")
        let judges: [String: FakeHandler] = [
            "j1": SimulatedJudge.oracle(quality: qualityOracle(quality), seed: 1).handler,
            "j2": SimulatedJudge.oracle(quality: qualityOracle(quality), seed: 2).handler,
        ]
        // j1's 3 s timeout turns the 6 s `.delayed` faults into timeouts (generous, so a loaded CI machine does not time
        // out real replies). j2 needs no short timeout: the transport reports a dropped connection at once.
        let spec: [(name: String, timeout: Double, retries: Int)] = [("j1", 3, 5), ("j2", 30, 5)]
        var options = panelTestOptions
        options.retry = Self.retry

        // The unfaulted oracle run.
        let clean = try await startPanelFake(judges)
        let oracle = try await PanelRunner(
            panel: await panel(clean, judges: spec.map { ($0.name, 30, 3) }, concurrency: 32), rubric: rubric,
            options: options
        ).run(items: items)
        await clean.stop()

        // The faulted run.
        let plan = FaultPlan(slowModel: "j1")
        let faulty = try await startPanelFake(judges.mapValues { plan.wrap($0) })
        let faultedPanel = await panel(faulty, judges: spec, concurrency: 32)
        let counters = RunCounters()
        // The run makes its own transport (the default one), and shuts it down when it ends.
        let result = try await PanelRunner(panel: faultedPanel, rubric: rubric, options: options)
            .run(items: items, counters: counters)
        let requests = await faulty.requestCount()
        await faulty.stop()

        let planned = items.enumerated().flatMap { i, item in
            Call.plan(itemIndex: i, item: item, rubric: rubric, panel: faultedPanel).map {
                $0.key(itemID: item.id, judgeName: faultedPanel.judges[$0.judge].name)
            }
        }
        #expect(planned.count == 2000)
        let votes = result.votes
        let keys = votes.map(\.key)
        #expect(votes.count == planned.count)
        #expect(Set(keys).count == keys.count, "duplicate votes")
        #expect(Set(keys) == Set(planned))
        let notOK = votes.filter { $0.status != .ok }
        #expect(notOK.isEmpty, "\(notOK.prefix(3).map { "\($0.key): \($0.status) \($0.error ?? "")" })")

        // Every kind of fault was injected, about 20 % of calls in all.
        let counts = plan.counts
        for kind in FaultPlan.Kind.allCases { #expect((counts[kind] ?? 0) > 0, "no \(kind) injected") }
        #expect(plan.total >= 350 && plan.total <= 600, "\(counts)")
        #expect(oracle.votes.allSatisfy { $0.status == .ok })

        // Retries are counted exactly: every request beyond one per call was a retry (at least one per injected
        // fault; more only if a loaded machine pushes a clean reply past its judge's timeout), and the votes'
        // attempts add up to the requests the server saw.
        // A dropped connection is re-sent by the retry layer, never by the transport: every request the server saw counts
        // in the run's HTTP calls, its retries and the votes' attempts (issue 13.9).
        let snap = counters.snapshot
        #expect(requests >= planned.count + plan.total, "\(counts)")
        #expect(snap.retries == requests - planned.count, "\(snap.retries) retries, \(requests) requests")
        #expect(snap.httpCalls == requests)
        #expect(votes.map { $0.attempts ?? 0 }.reduce(0, +) == requests)
        // Faults hit a request at most twice; a third try happens only when a loaded machine pushes a clean reply
        // past its timeout, and no vote may use more than its judge's retries + 1 tries.
        #expect(votes.allSatisfy { ($0.attempts ?? 0) >= 1 && ($0.attempts ?? 0) <= 6 })
        let beyondFaults = votes.filter { ($0.attempts ?? 0) > 3 }.count
        #expect(beyondFaults <= 20, "\(beyondFaults) votes needed more than three tries")

        // Verdicts equal the unfaulted run's, vote by vote and item by item.
        let oracleVotes = Dictionary(uniqueKeysWithValues: oracle.votes.map { ($0.key, $0.verdict) })
        let mismatched = votes.filter { oracleVotes[$0.key] != $0.verdict }
        #expect(mismatched.isEmpty, "\(mismatched.count) votes differ")
        #expect(result.verdicts.map(\.verdict) == oracle.verdicts.map(\.verdict))
        #expect(result.verdicts.map(\.item) == oracle.verdicts.map(\.item))
    }

    @Test("a permanently failing judge yields error votes with reasons and exact attempts")
    func permanentFailureLibrary() async throws {
        let (items, quality) = syntheticPairwise(5)
        let server = try await startPanelFake([
            "ok": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "dead": { _ in .status(500, body: "{\"error\":{\"message\":\"backend exploded\"}}") },
            "bad": { _ in .status(400, body: "{\"error\":{\"message\":\"invalid model parameter\"}}") },
        ])
        var options = panelTestOptions
        options.retry = Self.retry
        let p = await panel(server, judges: [("ok", 10, 3), ("dead", 10, 2), ("bad", 10, 3)], concurrency: 4)
        let counters = RunCounters()
        let result = try await PanelRunner(panel: p, rubric: try loadRubric("pairwise-mtbench"), options: options)
            .run(items: items, counters: counters)
        let requests = await server.recordedRequests()
        await server.stop()
        let votes = result.votes
        #expect(votes.count == 5 * 2 * 3)
        #expect(votes.filter { $0.judge == "ok" }.allSatisfy { $0.status == .ok })
        let dead = votes.filter { $0.judge == "dead" }
        #expect(dead.count == 10)
        for v in dead {
            #expect(v.status == .error)
            #expect(
                v.error?.contains("HTTP 500") == true && v.error?.contains("backend exploded") == true,
                "\(v.error ?? "nil")")
            #expect(v.attempts == 3)  // retries: 2 → three tries
        }
        let bad = votes.filter { $0.judge == "bad" }
        for v in bad {
            #expect(v.status == .error)
            #expect(v.error?.contains("HTTP 400") == true, "\(v.error ?? "nil")")
            #expect(v.attempts == 1)  // a 4xx is not retried
        }
        #expect(requests.filter { $0.model == "dead" }.count == 30)
        #expect(requests.filter { $0.model == "bad" }.count == 10)
        #expect(counters.snapshot.retries == 20)
        #expect(counters.snapshot.totals.errors == 20)
    }

    @Test("the CLI exits 1 naming the count of failed calls; votes.jsonl holds the reasons")
    func permanentFailureCLI() async throws {
        let dir = try tempDir("fail")
        let (items, quality) = syntheticPairwise(6)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let server = try await startPanelFake([
            "ok": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
            "dead": { _ in .status(503, body: "{\"error\":{\"message\":\"down for maintenance\"}}") },
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelYAML = """
            version: 1
            judges:
              - {name: ok, provider: openai, base_url: "\(base)", model: ok}
              - {name: dead, provider: openai, base_url: "\(base)", model: dead, retries: 1}
            aggregate: majority
            swap: true
            """
        try panelYAML.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                dir.appendingPathComponent("panel.yaml").path,
                "--out", out, "--no-cache",
            ])
        let deadRequests = await server.recordedRequests().filter { $0.model == "dead" }.count
        await server.stop()
        #expect(r.code == 1, "\(r.err)")
        #expect(r.err.contains("12 calls failed after retries"), "\(r.err)")
        #expect(deadRequests == 12 * 2)
        let votes = try VotesFile.load(path: out + "/votes.jsonl")
        #expect(votes.count == 24)
        let errors = votes.filter { $0.status == .error }
        #expect(errors.count == 12)
        #expect(errors.allSatisfy { $0.judge == "dead" && ($0.error ?? "").contains("HTTP 503") && $0.attempts == 2 })
        #expect(FileManager.default.fileExists(atPath: out + "/verdicts.jsonl"))
    }
}
