import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats

/// The repository root (for fixtures and the built binary).
let panelTestRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A fake server whose reply depends on the requested model: one simulated judge per model name.
func startPanelFake(_ judges: [String: FakeHandler]) async throws -> FakeProviderServer {
    let server = FakeProviderServer { request in
        guard let h = judges[request.model] else { return .status(404, body: "{\"error\":{\"message\":\"no model\"}}") }
        return await h(request)
    }
    try await server.start()
    return server
}

/// A panel of OpenAI-compatible judges pointing at the fake server.
func fakePanel(
    _ server: FakeProviderServer, judges: [String], swap: Bool = true, flip: FlipPolicy = .tie,
    aggregate: AggregationMethod = .majority, concurrency: Int = 8
) async -> Panel {
    let base = await server.baseURL.absoluteString + "/v1"
    return Panel(
        judges: judges.map {
            JudgeConfig(
                name: $0, provider: .openai, model: $0, baseURLs: [base], concurrency: concurrency, timeoutSeconds: 10,
                retries: 3)
        }, aggregate: aggregate, swap: swap, flip: flip)
}

/// Options for tests: no cache, fast retries, no environment.
let panelTestOptions = RunOptions(
    cache: nil, retry: RetryPolicy(baseDelay: 0.005, maxDelay: 0.05, maxRetryAfter: 0.2), environment: [:])

/// Synthetic pairwise items whose true winner is encoded in the answers' quality.
func syntheticPairwise(_ n: Int, seed: Int = 1) -> (items: [Item], quality: [String: Double]) {
    var items: [Item] = []
    var quality: [String: Double] = [:]
    for i in 0..<n {
        let a = "Answer alpha \(i): a careful explanation number \(i)."
        let b = "Answer beta \(i): a different take, item \(i)."
        let qa = Double((i * 7 + seed) % 10)
        let qb = Double((i * 3 + seed * 5) % 10)
        quality[a] = qa
        quality[b] = qb
        let label: Preference = qa > qb ? .a : (qb > qa ? .b : .tie)
        items.append(Item(id: "s\(i)", prompt: "Question \(i)?", responseA: a, responseB: b, label: .pairwise(label)))
    }
    return (items, quality)
}

/// The fake server with an `oracle` judge that follows the human labels of fixtures/pandalm-50.jsonl and a `first`
/// judge that always picks the first slot; returns the server and its `/v1` base URL.
func startPandaLMFake() async throws -> (server: FakeProviderServer, base: String) {
    let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
    var quality: [String: Double] = [:]
    for item in try ItemLoader().load(path: items) {
        let l = item.label?.preference
        quality[item.responseA!] = l == .a ? 2 : (l == .b ? 0 : 1)
        quality[item.responseB!] = l == .b ? 2 : (l == .a ? 0 : 1)
    }
    let server = try await startPanelFake([
        "oracle": SimulatedJudge.oracle(quality: qualityOracle(quality)).handler,
        "first": SimulatedJudge.alwaysFirst.handler,
    ])
    return (server, await server.baseURL.absoluteString + "/v1")
}

/// Looks up an answer's quality by the original text it contains (perturbations keep it).
func qualityOracle(_ table: [String: Double]) -> @Sendable (String) -> Double? {
    let entries = table.sorted { $0.key.count > $1.key.count }
    return { text in entries.first { text.contains($0.key) }?.value }
}

func loadRubric(_ name: String) throws -> Rubric {
    try Rubric.load(path: panelTestRoot.appendingPathComponent("rubrics/\(name).yaml").path)
}
