import Foundation
import JudgePanel
import Testing

// Live wire checks against the real APIs: three pairwise items per provider with a cheap model, each suite
// enabled only when its key is set (skipped otherwise; never run in CI without keys):
//
//     OPENAI_API_KEY=… ANTHROPIC_API_KEY=… GEMINI_API_KEY=… swift test --filter Live
//
// Models can be changed with JUDGEPANEL_LIVE_<PROVIDER>_MODEL. Ollama runs when JUDGEPANEL_LIVE_OLLAMA_MODEL
// names a pulled model (server at OLLAMA_HOST or 127.0.0.1:11434).

private let env = ProcessInfo.processInfo.environment

private let liveItems = [
    Item(
        id: "capital", prompt: "What is the capital of France?", responseA: "The capital of France is Paris.",
        responseB: "The capital of France is Berlin.", label: .pairwise(.a)),
    Item(
        id: "arithmetic", prompt: "What is 17 + 25?", responseA: "17 + 25 = 32.", responseB: "17 + 25 = 42.",
        label: .pairwise(.b)),
    Item(
        id: "boiling", prompt: "At what temperature does water boil at sea level, in Celsius?",
        responseA: "Water boils at 100 °C at sea level.", responseB: "Water boils at 50 °C at sea level.",
        label: .pairwise(.a)),
]

/// Runs the judges on the three items and checks what a correct wire gives: every vote once, no error vote,
/// token usage read, every non-ok vote with a reason, and most verdicts right.
private func liveCheck(_ judges: [JudgeConfig]) async throws {
    let rubric = try loadRubric("pairwise-mtbench")
    let options = RunOptions(cache: nil, environment: env)
    let result = try await PanelRunner(panel: Panel(judges: judges), rubric: rubric, options: options).run(
        items: liveItems)
    #expect(result.votes.count == liveItems.count * 2 * judges.count)
    for v in result.votes {
        #expect(v.status != .error, "\(v.judge) \(v.item): \(v.error ?? "")")
        #expect(v.isOK || v.reason != nil, "\(v.judge) \(v.item)")
        #expect((v.usage?.promptTokens ?? 0) > 0, "\(v.judge) \(v.item): no usage")
    }
    for j in judges {
        let right = result.votes.filter { v in
            v.judge == j.name && v.verdict == liveItems.first { $0.id == v.item }?.label?.preference
        }
        #expect(right.count >= 4, "\(j.name): \(right.count) of 6 votes right")
    }
    for note in result.adjustments { print("live: \(note)") }
}

private func live(
    _ name: String, _ provider: ProviderKind, _ model: String, _ configure: (inout JudgeConfig) -> Void = { _ in }
)
    -> JudgeConfig
{
    var c = JudgeConfig(
        name: name, provider: provider, model: model, baseURLs: JudgeConfig.defaultBaseURL(provider).map { [$0] } ?? [],
        concurrency: 2, timeoutSeconds: 120, retries: 3)
    configure(&c)
    return c
}

@Suite("Live OpenAI", .enabled(if: env["OPENAI_API_KEY"] != nil), .serialized)
struct LiveOpenAITests {
    @Test func chatModelAndReasoningModel() async throws {
        try await liveCheck([
            live("openai-chat", .openai, env["JUDGEPANEL_LIVE_OPENAI_MODEL"] ?? "gpt-4o-mini") { $0.topLogprobs = 5 },
            live("openai-reasoning", .openai, env["JUDGEPANEL_LIVE_OPENAI_REASONING_MODEL"] ?? "gpt-5-nano") {
                $0.maxTokens = 4096
                $0.reasoningEffort = "low"
            },
        ])
    }
}

@Suite("Live Anthropic", .enabled(if: env["ANTHROPIC_API_KEY"] != nil), .serialized)
struct LiveAnthropicTests {
    @Test func plainAndStructured() async throws {
        let model = env["JUDGEPANEL_LIVE_ANTHROPIC_MODEL"] ?? "claude-haiku-4-5"
        try await liveCheck([
            live("claude-text", .anthropic, model),
            live("claude-tool", .anthropic, model) { $0.structuredOutput = true },
        ])
    }
}

@Suite("Live Gemini", .enabled(if: env["GEMINI_API_KEY"] != nil || env["GOOGLE_API_KEY"] != nil), .serialized)
struct LiveGeminiTests {
    @Test func flashLite() async throws {
        try await liveCheck([
            live("gemini", .gemini, env["JUDGEPANEL_LIVE_GEMINI_MODEL"] ?? "gemini-2.5-flash-lite") {
                $0.geminiThinkingBudget = 0
            }
        ])
    }
}

@Suite("Live Ollama", .enabled(if: env["JUDGEPANEL_LIVE_OLLAMA_MODEL"] != nil), .serialized)
struct LiveOllamaTests {
    @Test func localModel() async throws {
        let host = env["OLLAMA_HOST"].map { $0.hasPrefix("http") ? $0 : "http://" + $0 } ?? "http://127.0.0.1:11434"
        try await liveCheck([
            live("ollama", .ollama, env["JUDGEPANEL_LIVE_OLLAMA_MODEL"] ?? "") { $0.baseURLs = [host] }
        ])
    }
}
