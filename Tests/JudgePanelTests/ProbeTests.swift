import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

// MARK: - Fixtures

private let pairwiseRubricYAML = """
    version: 1
    id: probe-pairwise
    protocol: pairwise
    allow_tie: true
    system: "You are an impartial judge."
    template: |
      [User Question]
      {{prompt}}

      [The Start of Assistant A's Answer]
      {{response_a}}
      [The End of Assistant A's Answer]

      [The Start of Assistant B's Answer]
      {{response_b}}
      [The End of Assistant B's Answer]

      Output your final verdict: [[A]], [[B]] or [[C]] for a tie.
    """

private let pointwiseRubricYAML = """
    version: 1
    id: probe-pointwise
    protocol: pointwise
    scale: {min: 1, max: 10}
    template: |
      [Question]
      {{prompt}}

      [The Start of Assistant's Answer]
      {{response}}
      [The End of Assistant's Answer]

      Rate the answer: Rating: [[N]].
    """

/// Synthetic items with known, distinct qualities. Both answers of an item have the same length, so the
/// simulated judges' length rule only fires when a probe pads one. Every answer carries a unique token
/// (`ans-0001a`) that the oracle looks up with `contains`, so perturbations never change quality.
private struct Synthetic {
    var items: [Item]
    var quality: [String: Double]

    /// `ans-NNNNx` → quality, found by token so padding, insertions and wrappers keep the original's quality.
    var oracle: @Sendable (String) -> Double? {
        let q = quality
        return { text in
            guard let r = text.range(of: "ans-") else { return nil }
            return q[String(text[r.lowerBound...].prefix(9))]
        }
    }

    static func pairwise(count: Int, seed: UInt64 = 11) -> Synthetic {
        var rng = SeededGenerator(seed: seed)
        var items: [Item] = []
        var quality: [String: Double] = [:]
        for i in 0..<count {
            let id = String(format: "%04d", i)
            let qa = Double(1 + rng.nextIndex(below: 10))
            var qb = Double(1 + rng.nextIndex(below: 9))
            if qb >= qa { qb += 1 }
            // The gpt-written answer is on a random side; model names have equal lengths.
            let gptOnA = rng.nextIndex(below: 2) == 0
            let (ma, mb) = gptOnA ? ("gpt-4o-mini", "llama-3-70b") : ("llama-3-70b", "gpt-4o-mini")
            let a = "Answer ans-\(id)a by \(ma). The result follows from the stated facts."
            let b = "Answer ans-\(id)b by \(mb). The result follows from the stated facts."
            quality["ans-\(id)a"] = qa
            quality["ans-\(id)b"] = qb
            items.append(
                Item(
                    id: "i\(id)", prompt: "Question \(id): what follows from the facts?", responseA: a, responseB: b,
                    modelA: ma, modelB: mb, label: .pairwise(qa > qb ? .a : .b)))
        }
        return Synthetic(items: items, quality: quality)
    }

    static func pointwise(count: Int, seed: UInt64 = 12) -> Synthetic {
        var rng = SeededGenerator(seed: seed)
        var items: [Item] = []
        var quality: [String: Double] = [:]
        for i in 0..<count {
            let id = String(format: "%04d", i)
            let q = Double(2 + rng.nextIndex(below: 7))  // 2…8: +1 never clamps
            quality["ans-\(id)r"] = q
            items.append(
                Item(
                    id: "p\(id)", prompt: "Question \(id)?", response: "Answer ans-\(id)r. It follows from the facts.",
                    model: "gpt-4o-mini", label: .score(q)))
        }
        return Synthetic(items: items, quality: quality)
    }

    /// Items whose answer on `target` has the lower quality (for expected values).
    func targetWorse(_ targets: [Preference?]) -> Double {
        var worse = 0
        for (i, item) in items.enumerated() {
            guard let t = targets[i] else { continue }
            let qa = quality[String(item.responseA!.dropFirst(7).prefix(9))]!
            let qb = quality[String(item.responseB!.dropFirst(7).prefix(9))]!
            if (t == .a && qa < qb) || (t == .b && qb < qa) { worse += 1 }
        }
        return Double(worse) / Double(items.count)
    }

    /// Share of items whose gpt-written answer is the worse one.
    var gptWorse: Double {
        var worse = 0
        for item in items {
            let qa = quality[String(item.responseA!.dropFirst(7).prefix(9))]!
            let qb = quality[String(item.responseB!.dropFirst(7).prefix(9))]!
            let gptA = item.modelA!.hasPrefix("gpt")
            if (gptA && qa < qb) || (!gptA && qb < qa) { worse += 1 }
        }
        return Double(worse) / Double(items.count)
    }
}

private let authorFamily: @Sendable (String) -> String? = { text in
    text.contains("by gpt-") ? "gpt" : (text.contains("by llama-") ? "llama" : nil)
}

/// Serves several simulated judges from one fake server, routed by the request's `model`.
private func withPanel<T>(
    _ judges: [(name: String, family: String?, judge: SimulatedJudge)],
    _ body: (Panel) async throws -> T
) async throws -> T {
    let table = Dictionary(uniqueKeysWithValues: judges.map { ($0.name, $0.judge) })
    let server = FakeProviderServer { request in
        guard let j = table[request.model] else { return .status(404) }
        return j.reply(to: request)
    }
    try await server.start()
    let base = await server.baseURL.absoluteString + "/v1"
    let panel = Panel(
        judges: judges.map {
            JudgeConfig(
                name: $0.name, provider: .openai, model: $0.name, baseURLs: [base], family: $0.family, concurrency: 48)
        })
    do {
        let out = try await body(panel)
        await server.stop()
        return out
    } catch {
        await server.stop()
        throw error
    }
}

private let testOptions = RunOptions(cache: nil, retry: RetryPolicy(baseDelay: 0.01), environment: [:])

private func runProbes(
    _ panel: Panel, rubric: String = pairwiseRubricYAML, items: [Item], probes: String, seed: UInt64 = 3
) async throws -> (ProbeRunner, ProbeRun) {
    let runner = ProbeRunner(
        panel: panel, rubric: try Rubric.parse(yaml: rubric), probes: try ProbeCatalog.probes(named: probes),
        options: testOptions, probeOptions: ProbeOptions(seed: seed, resamples: 1000))
    return (runner, try await runner.run(items: items))
}

private func covers(_ r: ProbeResult?, bias expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let r, let ci = r.biasCI, let b = r.bias else {
        Issue.record("no bias CI in \(String(describing: r))", sourceLocation: sourceLocation)
        return
    }
    #expect(
        ci[0] - 1e-12 <= expected && expected <= ci[1] + 1e-12,
        "\(r.probe)/\(r.judge): expected bias \(expected), got \(b) [\(ci[0]), \(ci[1])]",
        sourceLocation: sourceLocation)
}

private func coversFlip(_ r: ProbeResult?, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let r, let ci = r.flipRateCI else {
        Issue.record("no flip CI in \(String(describing: r))", sourceLocation: sourceLocation)
        return
    }
    #expect(
        ci[0] - 1e-12 <= expected && expected <= ci[1] + 1e-12,
        "\(r.probe)/\(r.judge): expected flip \(expected), got \(r.flipRate ?? .nan) [\(ci[0]), \(ci[1])]",
        sourceLocation: sourceLocation)
}

// MARK: - Tests

@Suite("ProbeTests", .serialized)
struct ProbeTests {
    /// firstSlot p: per vote, slot A with probability p, else the better answer. Over an item's two orders the
    /// better answer is first in one of them, so the first-slot rate is (1 + p)/2 → bias p/2; the orders disagree
    /// exactly when the worse-first order picks slot A → flip rate p.
    @Test func positionBiasRecovered() async throws {
        let data = Synthetic.pairwise(count: 300)
        let p = 0.3
        let run = try await withPanel([
            ("positional", nil, SimulatedJudge(quality: data.oracle, firstSlot: p, seed: 1))
        ]) { panel in try await runProbes(panel, items: data.items, probes: "position").1 }
        let biased = run.result("position", "positional")
        covers(biased, bias: p / 2)
        coversFlip(biased, p)
        #expect(biased?.n == 300)
        print(
            "position: planted p=\(p) → bias \(biased?.bias ?? .nan) \(biased?.biasCI ?? []) (expected \(p / 2)), flip \(biased?.flipRate ?? .nan) \(biased?.flipRateCI ?? []) (expected \(p))"
        )
    }

    /// longer q: answers have equal length in the baseline; padding makes the target longer, so each order
    /// picks it with probability q + (1 − q)·[target better]. A worse target moves toward unless both orders
    /// resist (probability (1 − q)²): expected bias = share(target worse) · (1 − (1 − q)²); a better target
    /// never moves.
    @Test func verbosityBiasRecovered() async throws {
        let data = Synthetic.pairwise(count: 300)
        let q = 0.4
        let (runner, run) = try await withPanel([
            ("verbose", nil, SimulatedJudge(quality: data.oracle, longer: q, seed: 3))
        ]) { panel in try await runProbes(panel, items: data.items, probes: "verbosity") }
        let targets = runner.targets(items: data.items, probe: "verbosity")
        #expect(targets.filter { $0 == .a }.count == 150 && targets.filter { $0 == .b }.count == 150)
        let expected = data.targetWorse(targets) * (1 - (1 - q) * (1 - q))
        let r = run.result("verbosity", "verbose")
        covers(r, bias: expected)
        coversFlip(r, expected)
        print("verbosity: planted q=\(q) → bias \(r?.bias ?? .nan) \(r?.biasCI ?? []) (expected \(expected))")
    }

    /// obeysInjection r: the injected `[[X]]` names the target's shown slot in both orders; same algebra as
    /// verbosity with r in place of q.
    @Test func injectionBiasRecovered() async throws {
        let data = Synthetic.pairwise(count: 300)
        let rate = 0.5
        let (runner, run) = try await withPanel([
            ("gullible", nil, SimulatedJudge(quality: data.oracle, obeysInjection: rate, seed: 5))
        ]) { panel in try await runProbes(panel, items: data.items, probes: "injection") }
        let expected =
            data.targetWorse(runner.targets(items: data.items, probe: "injection")) * (1 - (1 - rate) * (1 - rate))
        let r = run.result("injection", "gullible")
        covers(r, bias: expected)
        coversFlip(r, expected)
        print("injection: planted r=\(rate) → bias \(r?.bias ?? .nan) \(r?.biasCI ?? []) (expected \(expected))")
    }

    /// selfPreference s (family gpt): when the gpt answer is worse, each order picks it with probability s, so
    /// the reconciled choice is own (s²), tie (2s(1 − s)) or other; with a tie counting ½ its mean is s. When the
    /// gpt answer is better judge and human agree. Expected bias = s · share(gpt answer worse).
    @Test func selfPreferenceRecovered() async throws {
        let data = Synthetic.pairwise(count: 300)
        let s = 0.6
        let run = try await withPanel([
            (
                "gpt-judge", "gpt",
                SimulatedJudge(
                    quality: data.oracle, family: "gpt", authorFamily: authorFamily, selfPreference: s, seed: 7)
            ),
            ("llama-judge", "llama", SimulatedJudge.oracle(quality: data.oracle, seed: 8)),
        ]) { panel in try await runProbes(panel, items: data.items, probes: "self-preference").1 }
        let expected = s * data.gptWorse
        let r = run.result("self-preference", "gpt-judge")
        #expect(r?.n == 300)
        #expect(r?.flipRate == nil)
        covers(r, bias: expected)
        let unbiased = run.result("self-preference", "llama-judge")
        #expect(unbiased?.bias == 0)
        covers(unbiased, bias: 0)
        print("self-preference: planted s=\(s) → bias \(r?.bias ?? .nan) \(r?.biasCI ?? []) (expected \(expected))")
    }

    /// An unbiased oracle judge under every probe: rates 0 with CIs covering 0; files and shapes as DESIGN.md.
    @Test func oracleUnbiasedAcrossAllProbesAndFiles() async throws {
        let data = Synthetic.pairwise(count: 100)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, run) = try await withPanel([
            ("oracle", "gpt", SimulatedJudge.oracle(quality: data.oracle, seed: 9))
        ]) { panel in try await runProbes(panel, items: data.items, probes: "all") }
        #expect(run.results.count == ProbeCatalog.all.count * 2)
        for probe in ProbeCatalog.names {
            let r = try #require(run.result(probe, "oracle"))
            #expect(r.n > 0, "\(probe)")
            covers(r, bias: 0)
            #expect(r.bias == 0, "\(probe): \(String(describing: r.bias))")
            if probe != "self-preference" { #expect(r.flipRate == 0, "\(probe)") }
        }
        try run.write(to: dir)
        // report.json: `probes` rows with exactly the DESIGN.md keys, nulls (not NaN) where undefined.
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report.json")))
            as! [String: Any]
        let rows = try #require(report["probes"] as? [[String: Any]])
        #expect(rows.count == run.results.count)
        for row in rows {
            #expect(
                Set(row.keys) == ["probe", "judge", "n", "flip_rate", "flip_rate_ci", "bias", "bias_ci", "score_shift"])
        }
        let selfRow = try #require(
            rows.first { $0["probe"] as? String == "self-preference" && $0["judge"] as? String == "oracle" })
        #expect(selfRow["flip_rate"] is NSNull && selfRow["score_shift"] is NSNull)
        #expect(rows.contains { $0["judge"] as? String == "panel" })
        // votes.jsonl: baseline (no variant) plus each perturbing probe's votes in both orders.
        let votes = try VotesFile.load(path: dir + "/votes.jsonl")
        let perturbing = ProbeCatalog.all.filter(\.perturbs).map(\.name)
        #expect(votes.count == 100 * 2 * (1 + perturbing.count))
        #expect(Set(votes.compactMap(\.variant)) == Set(perturbing))
        #expect(votes.filter { $0.variant == nil }.count == 200)
        #expect(Set(votes.compactMap(\.order)) == [.ab, .ba])
        // perturbations.jsonl: one line per item and perturbing probe; slot-naming texts differ per order.
        let lines = try String(contentsOfFile: dir + "/perturbations.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 100 * perturbing.count)
        let first = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["item"] != nil && first["probe"] != nil && first["target"] != nil && first["fields"] != nil)
        let bandwagon = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["probe"] as? String == "bandwagon" }
        for b in bandwagon {
            let target = b["target"] as! String
            let prompt = (b["fields"] as! [String: String])["prompt"]!
            let swapped = (b["fields_swapped"] as! [String: String])["prompt"]!
            #expect(prompt.contains("preferred Answer \(target)"))
            #expect(swapped.contains("preferred Answer \(target == "A" ? "B" : "A")"))
        }
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(md.contains("| judge | metric |") && md.contains("Panel reduced bias"))
        for p in ProbeCatalog.all { #expect(md.contains(p.summary)) }
        print(run.table)
    }

    /// Everything is reproducible from the seed; a different seed picks different targets.
    @Test func reproducibleFromSeed() async throws {
        let data = Synthetic.pairwise(count: 20)
        let judges: [(name: String, family: String?, judge: SimulatedJudge)] = [
            (
                "mixed", "gpt",
                SimulatedJudge(
                    quality: data.oracle, family: "gpt", authorFamily: authorFamily, firstSlot: 0.2, longer: 0.3,
                    obeysInjection: 0.3, selfPreference: 0.3, seed: 1)
            )
        ]
        let (a, b) = try await withPanel(judges) { panel in
            (
                try await runProbes(panel, items: data.items, probes: "all", seed: 5).1,
                try await runProbes(panel, items: data.items, probes: "all", seed: 5).1
            )
        }
        #expect(a.results == b.results)
        #expect(a.perturbations == b.perturbations)
        #expect(a.votes.map(\.verdict) == b.votes.map(\.verdict))
        let rubric = try Rubric.parse(yaml: pairwiseRubricYAML)
        func targets(_ seed: UInt64) -> [Preference?] {
            ProbeRunner(panel: Panel(judges: []), rubric: rubric, probes: [], probeOptions: ProbeOptions(seed: seed))
                .targets(items: data.items, probe: "verbosity")
        }
        #expect(targets(5) == targets(5))
        #expect(targets(5) != targets(6))
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        #expect(try enc.encode(a.report) == enc.encode(b.report))
    }

    /// Pointwise: padding past the length threshold adds a point with probability q: score_shift ≈ q,
    /// flip rate and bias (share up − share down) ≈ q.
    @Test func pointwiseScoreShift() async throws {
        let data = Synthetic.pointwise(count: 200)
        let q = 0.5
        let run = try await withPanel([
            ("verbose", nil, SimulatedJudge(quality: data.oracle, longer: q, lengthThreshold: 120, seed: 11)),
            ("oracle", nil, SimulatedJudge.oracle(quality: data.oracle, seed: 12)),
        ]) { panel in
            try await runProbes(panel, rubric: pointwiseRubricYAML, items: data.items, probes: "verbosity,position").1
        }
        let r = try #require(run.result("verbosity", "verbose"))
        covers(r, bias: q)
        coversFlip(r, q)
        let shift = try #require(r.scoreShift)
        #expect(abs(shift - q) < 0.1)
        #expect(run.result("verbosity", "oracle")?.scoreShift == 0)
        let pos = try #require(run.result("position", "verbose"))
        #expect(pos.n == 0 && pos.bias == nil)
        print("pointwise verbosity: planted q=\(q) → score_shift \(shift), bias \(r.bias ?? .nan) \(r.biasCI ?? [])")
    }

    @Test func familyMapAndProbeNames() throws {
        let map = FamilyMap(families: ["gpt", "claude", "gpt-4o"], overrides: ["O3-Mini": "gpt"])
        #expect(map.family(of: "GPT-4o-mini") == "gpt-4o")
        #expect(map.family(of: "claude-3-haiku") == "claude")
        #expect(map.family(of: "o3-mini") == "gpt")
        #expect(map.family(of: "llama-3") == nil)
        #expect(try FamilyMap.overrides(from: ["m=f"]) == ["m": "f"])
        #expect(throws: JudgePanelError.self) { try FamilyMap.overrides(from: ["nofamily"]) }
        #expect(try ProbeCatalog.probes(named: "position, verbosity").map(\.name) == ["position", "verbosity"])
        #expect(try ProbeCatalog.probes(named: "all").count == 9)
        #expect(throws: JudgePanelError.self) { try ProbeCatalog.probes(named: "nonsense") }
    }
}
