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

/// Arrival times of requests at the fake server, by request index (recorded by the handler as each request arrives).
final class ArrivalLog: Sendable {
    private let times = Mutex<[Int: ContinuousClock.Instant]>([:])

    func wrap(_ inner: @escaping FakeHandler) -> FakeHandler {
        { request in
            self.times.withLock { $0[request.index] = .now }
            return await inner(request)
        }
    }

    subscript(index: Int) -> ContinuousClock.Instant? { times.withLock { $0[index] } }
    var all: [Int: ContinuousClock.Instant] { times.withLock { $0 } }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// One judge of `kind` against `server` (the base URL each wire expects).
func judgeConfig(_ name: String, kind: ProviderKind, server: FakeProviderServer, concurrency: Int = 4, retries: Int = 3)
    async -> JudgeConfig
{
    let root = await server.baseURL.absoluteString
    let base = kind == .openai || kind == .llamacpp ? root + "/v1" : root
    return JudgeConfig(
        name: name, provider: kind, model: name, baseURLs: [base], concurrency: concurrency, timeoutSeconds: 10,
        retries: retries)
}

let rateLimitOptions = RunOptions(
    cache: nil, retry: RetryPolicy(baseDelay: 0.005, maxDelay: 0.05, maxRetryAfter: 5), environment: [:])

@Suite("Rate-limit hints as providers send them")
struct RateLimitHintTests {
    static let date = "Sun, 29 Nov 2026 20:00:00 GMT"

    func hint(_ headers: [String: String] = [:], body: String = "") -> RateLimitHint {
        hint(429, headers, body: body)
    }

    func hint(_ status: Int, _ headers: [String: String], body: String = "") -> RateLimitHint {
        RateLimitHints.parse(status: status, headers: headers, body: Data(body.utf8))
    }

    @Test("Retry-After as delay-seconds")
    func retryAfterSeconds() {
        #expect(hint(["retry-after": "7"]).retryAfter == 7)
        #expect(hint(["retry-after": " 0.5 "]).retryAfter == 0.5)
        #expect(hint(["retry-after": "7"]).source == "Retry-After")
        #expect(hint(["retry-after": "soon"]).retryAfter == nil)
    }

    @Test("Retry-After as an HTTP-date, in all three RFC 9110 forms, measured from the response's Date")
    func retryAfterDate() {
        for form in ["Sun, 29 Nov 2026 20:01:30 GMT", "Sunday, 29-Nov-26 20:01:30 GMT", "Sun Nov 29 20:01:30 2026"] {
            #expect(hint(["date": Self.date, "retry-after": form]).retryAfter == 90, "\(form)")
        }
        // A date in the past means: now.
        #expect(hint(["date": Self.date, "retry-after": "Sun, 29 Nov 2026 19:59:00 GMT"]).retryAfter == 0)
        // Without a Date header, from the local clock.
        let soon = WireRendererProbe.imf(Date().addingTimeInterval(100))
        let local = hint(["retry-after": soon]).retryAfter ?? -1
        #expect(local > 95 && local <= 100)
    }

    @Test("retry-after-ms wins over Retry-After (OpenAI)")
    func retryAfterMS() {
        let h = hint(["retry-after-ms": "1500", "retry-after": "9"])
        #expect(h.retryAfter == 1.5)
        #expect(h.source == "retry-after-ms")
    }

    @Test("Go durations as OpenAI's x-ratelimit-reset-* send them")
    func goDurations() {
        let cases: [(String, Double?)] = [
            ("1s", 1), ("6m0s", 360), ("1m30s", 90), ("20ms", 0.02), ("1.5s", 1.5), ("1h2m3s", 3723), ("0", 0),
            ("250us", 0.00025), ("", nil), ("12", nil), ("1x", nil), ("s", nil),
        ]
        for (text, expected) in cases {
            let got = RateLimitHints.goDuration(text)
            if let expected {
                #expect(got.map { abs($0 - expected) < 1e-12 } == true, "\(text) → \(String(describing: got))")
            } else {
                #expect(got == nil, "\(text)")
            }
        }
    }

    @Test("OpenAI reset headers: the exhausted limit's reset, only on a 429")
    func openAIReset() {
        let headers = [
            "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30s",
            "x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "20ms",
        ]
        #expect(hint(headers).retryAfter == 90)
        #expect(hint(headers).source == "x-ratelimit-reset-requests")
        var tokens = headers
        tokens["x-ratelimit-remaining-requests"] = "3"
        tokens["x-ratelimit-remaining-tokens"] = "0"
        #expect(abs((hint(tokens).retryAfter ?? 0) - 0.02) < 1e-12)
        // No limit says 0: the later reset.
        var neither = headers
        neither["x-ratelimit-remaining-requests"] = "3"
        #expect(hint(neither).retryAfter == 90)
        // Every response carries them; they are not a wait on a 500.
        #expect(hint(500, headers).retryAfter == nil)
        // An explicit Retry-After wins.
        var both = headers
        both["retry-after"] = "2"
        #expect(hint(both).retryAfter == 2)
    }

    @Test("Anthropic anthropic-ratelimit-*-reset RFC 3339 timestamps")
    func anthropicReset() {
        var headers = ["date": Self.date]
        for (limit, reset, remaining) in [
            ("requests", "2026-11-29T20:00:05Z", "10"), ("tokens", "2026-11-29T20:00:30Z", "0"),
            ("input-tokens", "2026-11-29T20:00:30.500Z", "0"), ("output-tokens", "2026-11-29T20:00:02Z", "100"),
        ] {
            headers["anthropic-ratelimit-\(limit)-reset"] = reset
            headers["anthropic-ratelimit-\(limit)-remaining"] = remaining
        }
        #expect(hint(headers).retryAfter == 30.5)
        #expect(hint(headers).source == "anthropic-ratelimit-input-tokens-reset")
        headers["retry-after"] = "12"
        #expect(hint(headers).retryAfter == 12)
    }

    @Test("Gemini: the wait only in the body's google.rpc.RetryInfo")
    func geminiRetryInfo() {
        for (delay, expected) in [("45s", 45.0), ("1.5s", 1.5), ("0.200s", 0.2)] {
            let body = """
                {"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED","details":[
                {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"\(delay)"}]}}
                """
            let h = hint(body: body)
            #expect(h.retryAfter == expected)
            #expect(h.source == "RetryInfo.retryDelay")
            #expect(h.quota == nil)
        }
        #expect(RateLimitHints.protobufDuration("45") == nil)
    }

    @Test("quota 429s are not rate limits: OpenAI insufficient_quota, Gemini per-day, Anthropic billing")
    func quotaClassification() {
        let openAI =
            #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#
        let geminiDay = """
            {"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"43s"}]}}
            """
        let anthropic =
            #"{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low."}}"#
        for (status, body) in [(429, openAI), (429, geminiDay), (402, anthropic)] {
            let e = ProviderError.http(HTTPResponse(status: status, body: Data(body.utf8)))
            #expect(e.kind == .quota, "\(body)")
            #expect(e.reason == .quota)
            #expect(!e.isRetryable)
        }
        // A plain rate limit stays a (retryable) rate limit.
        let plain = #"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#
        let e = ProviderError.http(HTTPResponse(status: 429, headers: ["retry-after": "1"], body: Data(plain.utf8)))
        #expect(e.kind == .rateLimited && e.isRetryable && e.retryAfter == 1)
    }
}

/// Formats dates the way the fake server does.
enum WireRendererProbe {
    static func imf(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }
}

@Suite("Rate limits, lanes and quotas against the fake server", .serialized)
struct RateLimitRunTests {
    /// Runs one judge over `items` pairwise items (both orders) against a server answering with `handler`.
    func run(
        kind: ProviderKind, items: Int = 1, concurrency: Int = 4, options: RunOptions = rateLimitOptions,
        _ handler: @escaping FakeHandler
    ) async throws -> (result: RunResult, requests: Int, log: ArrivalLog) {
        let log = ArrivalLog()
        let server = FakeProviderServer(handler: log.wrap(handler))
        try await server.start()
        let judge = await judgeConfig("j", kind: kind, server: server, concurrency: concurrency)
        let panel = Panel(judges: [judge], aggregate: .majority, swap: true, flip: .tie)
        let (list, _) = syntheticPairwise(items)
        do {
            let result = try await PanelRunner(
                panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: options
            )
            .run(items: list)
            let requests = await server.requestCount()
            await server.stop()
            return (result, requests, log)
        } catch {
            await server.stop()
            throw error
        }
    }

    /// The HTTP-date fault is made when the request arrives (a date fixed earlier would already have passed).
    static let waits: [(String, ProviderKind, FakeReply?, Double)] = [
        ("Retry-After HTTP-date", .openai, nil, 0),
        ("retry-after-ms (OpenAI)", .openai, .rateLimitedAs(.retryAfterMilliseconds(400)), 0.38),
        (
            "x-ratelimit-reset-requests (OpenAI)", .openai,
            .rateLimitedAs(
                .openAIResetHeaders(
                    resetRequests: "400ms", resetTokens: "20ms", remainingRequests: 0, remainingTokens: 900)),
            0.38
        ),
        (
            "anthropic-ratelimit-tokens-reset", .anthropic,
            .rateLimitedAs(.anthropicReset(exhausted: "tokens", seconds: 1, retryAfter: false)), 0.9
        ),
        ("Gemini RetryInfo.retryDelay (body only)", .gemini, .rateLimitedAs(.geminiRetryDelay("0.4s")), 0.38),
        ("Gemini .rateLimited renders body-only retryDelay", .gemini, .rateLimited(retryAfterSeconds: 0.4), 0.38),
    ]

    @Test("the retried request waits as long as the provider asked", arguments: 0..<waits.count)
    func waitsAsAsked(_ index: Int) async throws {
        let (name, kind, fault, minimumGap) = Self.waits[index]
        // The HTTP-date has whole-second resolution: a Retry-After 1.5 s ahead is one or two seconds after the fake's
        // Date header, whatever the fraction of the second the request arrives in.
        let expectedGap = minimumGap == 0 ? 0.9 : minimumGap
        let (result, requests, log) = try await run(kind: kind, concurrency: 1) { request in
            request.index == 0
                ? fault ?? .rateLimitedAs(.retryAfterDate(Date().addingTimeInterval(1.5))) : .text("[[A]]")
        }
        #expect(requests == 3, "\(name)")
        let first = try #require(result.votes.first { $0.attempts == 2 }, "\(name)")
        #expect(first.status == .ok)
        let gap = seconds(try #require(log[1]) - (try #require(log[0])))
        #expect(gap >= expectedGap, "\(name): retried after \(gap) s")
        #expect(gap < expectedGap + 3, "\(name): retried after \(gap) s")
    }

    @Test("one 429 holds the judge's whole lane: no other call of that judge is sent until the wait has passed")
    func laneWaits() async throws {
        // Concurrency 8: eight calls are in flight at once; the first gets 429 with Retry-After 1 s at once, the others
        // answer after 0.3 s. Their slots' next calls must not be sent before the first call's wait is over.
        let t429 = Mutex<ContinuousClock.Instant?>(nil)
        let (result, requests, log) = try await run(kind: .openai, items: 8, concurrency: 8) { request in
            if request.index == 0 {
                t429.withLock { $0 = .now }
                return .rateLimited(retryAfterSeconds: 1)
            }
            return .delayed(.milliseconds(300), .text("[[A]]"))
        }
        #expect(result.votes.count == 16)
        #expect(result.votes.allSatisfy { $0.status == .ok })
        #expect(requests == 17)
        let told = try #require(t429.withLock { $0 })
        let arrivals = log.all
        let firstWave = arrivals.filter { $0.key < 8 }
        let later = arrivals.filter { $0.key >= 8 }
        #expect(firstWave.count == 8)
        #expect(later.count == 9)
        for (index, time) in later {
            let after = seconds(time - told)
            #expect(after >= 0.95, "request \(index) sent \(after) s after the 429 (the lane should wait 1 s)")
        }
    }

    @Test("a wait longer than the call's budget is reported as the error, not slept through; the lane holds the rest")
    func waitBeyondBudget() async throws {
        let started = ContinuousClock.now
        let (result, requests, _) = try await run(kind: .openai, items: 2, concurrency: 1) { _ in
            .rateLimited(retryAfterSeconds: 86400)
        }
        #expect(seconds(ContinuousClock.now - started) < 20)
        // The first call is told to wait a day; the judge's other calls are not sent at all.
        #expect(requests == 1)
        #expect(result.votes.count == 4)
        #expect(result.votes.allSatisfy { $0.status == .error && $0.reason == .rateLimited })
        let told = result.votes.filter { $0.attempts == 1 }
        #expect(told.count == 1)
        #expect(
            told.first?.error?.contains("provider asked to wait 86400 s (retry-after-ms), more than the 5 s left")
                == true,
            "\(told.first?.error ?? "nil")")
        let held = result.votes.filter { $0.attempts == 0 }
        #expect(held.count == 3)
        #expect(
            held.allSatisfy { ($0.error ?? "").contains("not sent: judge 'j' is held") },
            "\(held.map { $0.error ?? "" })")
    }

    @Test(
        "a quota 429 stops that judge (its other calls unsent, reason quota); the others go on",
        arguments: [
            ProviderKind.openai, .gemini, .anthropic,
        ])
    func quotaStopsJudge(_ kind: ProviderKind) async throws {
        let log = ArrivalLog()
        let (items, quality) = syntheticPairwise(5)
        let oracle = SimulatedJudge.oracle(quality: qualityOracle(quality)).handler
        let server = FakeProviderServer(
            handler: log.wrap { request in
                request.model == "broke" ? .quotaExhausted : await oracle(request)
            })
        try await server.start()
        let broke = await judgeConfig("broke", kind: kind, server: server, concurrency: 1)
        let fine = await judgeConfig("fine", kind: .openai, server: server)
        let panel = Panel(judges: [broke, fine], aggregate: .majority, swap: true, flip: .tie)
        let counters = RunCounters()
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: rateLimitOptions
        )
        .run(items: items, counters: counters)
        let recorded = await server.recordedRequests()
        await server.stop()
        #expect(recorded.filter { $0.model == "broke" }.count == 1, "a quota answer is neither retried nor repeated")
        let brokeVotes = result.votes.filter { $0.judge == "broke" }
        #expect(brokeVotes.count == 10)
        #expect(brokeVotes.allSatisfy { $0.status == .error && $0.reason == .quota })
        #expect(brokeVotes.filter { $0.attempts == 0 && ($0.error ?? "").contains("not sent") }.count == 9)
        #expect(result.votes.filter { $0.judge == "fine" }.allSatisfy { $0.status == .ok })
        #expect(counters.snapshot.stoppedJudges["broke"]?.contains("quota") == true)
        #expect(counters.snapshot.stoppedJudges["fine"] == nil)
    }

    @Test("a request the transport re-sent after a reused connection closed counts in HTTP calls and attempts")
    func resendIsCounted() async throws {
        // Concurrency 1, one item in both orders: the second call reuses the first call's connection, which the server
        // drops before answering; the transport re-sends at once on a fresh connection.
        let counters = RunCounters()
        let server = FakeProviderServer(
            handler: FakeProviderServer.sequence([.text("[[A]]"), .dropConnection], then: .text("[[B]]")))
        try await server.start()
        let judge = await judgeConfig("j", kind: .openai, server: server, concurrency: 1)
        let panel = Panel(judges: [judge], aggregate: .majority, swap: true, flip: .tie)
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: rateLimitOptions
        )
        .run(items: syntheticPairwise(1).items, counters: counters)
        let requests = await server.requestCount()
        await server.stop()
        #expect(requests == 3)
        #expect(counters.snapshot.httpCalls == requests)
        #expect(result.votes.map { $0.attempts ?? 0 }.reduce(0, +) == requests)
        #expect(result.votes.map { $0.attempts ?? 0 }.sorted() == [1, 2])
        #expect(counters.snapshot.retries == 1)
    }
}

@Suite("The fake server's rate-limit, quota and key-echo faults follow each provider's documents")
struct FakeRateLimitFaultTests {
    /// A minimal valid request per wire: path, body and the headers the wire requires.
    static let requests: [FakeWire: (String, String, [String: String])] = [
        .openai: ("/v1/chat/completions", #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#, [:]),
        .anthropic: (
            "/v1/messages", #"{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#,
            ["anthropic-version": "2023-06-01", "x-api-key": "k"]
        ),
        .gemini: ("/v1beta/models/m:generateContent", #"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#, [:]),
        .ollama: ("/api/chat", #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false}"#, [:]),
    ]

    func send(_ reply: FakeReply, wire: FakeWire) async throws -> (HTTPResponse, JSONValue) {
        let server = FakeProviderServer(reply: reply)
        try await server.start()
        let (path, body, extra) = try #require(Self.requests[wire])
        var headers = ["content-type": "application/json"]
        headers.merge(extra) { _, new in new }
        let url = URL(string: await server.baseURL.absoluteString + path)!
        let response = try await withTransport(maxConnectionsPerHost: 2) {
            try await $0.send(HTTPRequest(url: url, headers: headers, body: Data(body.utf8), timeout: 10))
        }
        await server.stop()
        return (response, try JSONValue.parse(response.body))
    }

    @Test("wait shapes: HTTP-date, retry-after-ms, OpenAI and Anthropic reset headers, Gemini body-only retryDelay")
    func waitShapes() async throws {
        let date = Date().addingTimeInterval(30)
        let (dated, _) = try await send(.rateLimitedAs(.retryAfterDate(date)), wire: .openai)
        #expect(dated.status == 429)
        let parsed = try #require(dated.headers["retry-after"].flatMap(RateLimitHints.httpDate))
        #expect(abs(parsed.timeIntervalSince(date)) < 1)
        #expect(dated.headers["date"].flatMap(RateLimitHints.httpDate) != nil)

        let (ms, _) = try await send(.rateLimitedAs(.retryAfterMilliseconds(1500)), wire: .openai)
        #expect(ms.headers["retry-after-ms"] == "1500")
        #expect(ms.headers["retry-after"] == nil)

        let (openAI, openAIBody) = try await send(
            .rateLimitedAs(
                .openAIResetHeaders(
                    resetRequests: "1m30s", resetTokens: "6m0s", remainingRequests: 0, remainingTokens: 10)),
            wire: .openai)
        #expect(openAI.headers["x-ratelimit-reset-requests"] == "1m30s")
        #expect(openAI.headers["x-ratelimit-reset-tokens"] == "6m0s")
        #expect(openAI.headers["x-ratelimit-remaining-requests"] == "0")
        #expect(openAI.headers["x-ratelimit-limit-tokens"] != nil)
        #expect(openAI.headers["retry-after"] == nil)
        #expect(openAIBody["error"]?["code"]?.stringValue == "rate_limit_exceeded")

        let (anthropic, anthropicBody) = try await send(
            .rateLimitedAs(.anthropicReset(exhausted: "output-tokens", seconds: 20, retryAfter: true)), wire: .anthropic
        )
        #expect(anthropic.headers["retry-after"] == "20")
        #expect(anthropic.headers["anthropic-ratelimit-output-tokens-remaining"] == "0")
        for limit in ["requests", "tokens", "input-tokens", "output-tokens"] {
            #expect(
                anthropic.headers["anthropic-ratelimit-\(limit)-reset"].flatMap(RateLimitHints.rfc3339) != nil,
                "\(limit)")
        }
        #expect(anthropicBody["error"]?["type"]?.stringValue == "rate_limit_error")

        let (gemini, geminiBody) = try await send(.rateLimitedAs(.geminiRetryDelay("0.2s")), wire: .gemini)
        #expect(gemini.status == 429)
        #expect(gemini.headers["retry-after"] == nil)
        #expect(geminiBody["error"]?["status"]?.stringValue == "RESOURCE_EXHAUSTED")
        let details = geminiBody["error"]?["details"]?.arrayValue ?? []
        #expect(details.contains { $0["retryDelay"]?.stringValue == "0.2s" })
        #expect(details.contains { ($0["@type"]?.stringValue ?? "").hasSuffix("google.rpc.QuotaFailure") })
    }

    @Test("quota answers: OpenAI 429 insufficient_quota, Gemini per-day QuotaFailure, Anthropic 402 billing_error")
    func quotaShapes() async throws {
        let (openAI, openAIBody) = try await send(.quotaExhausted, wire: .openai)
        #expect(openAI.status == 429)
        #expect(openAIBody["error"]?["code"]?.stringValue == "insufficient_quota")
        #expect(openAIBody["error"]?["type"]?.stringValue == "insufficient_quota")
        let (gemini, geminiBody) = try await send(.quotaExhausted, wire: .gemini)
        #expect(gemini.status == 429 && gemini.headers["retry-after"] == nil)
        let violations = geminiBody["error"]?["details"]?.arrayValue?.compactMap { $0["violations"]?.arrayValue }
            .joined()
        #expect(violations?.contains { ($0["quotaId"]?.stringValue ?? "").contains("PerDay") } == true)
        let (anthropic, anthropicBody) = try await send(.quotaExhausted, wire: .anthropic)
        #expect(anthropic.status == 402)
        #expect(anthropicBody["error"]?["type"]?.stringValue == "billing_error")
        for wire in [FakeWire.openai, .gemini, .anthropic] {
            let (response, _) = try await send(.quotaExhausted, wire: wire)
            #expect(ProviderError.http(response).kind == .quota, "\(wire)")
        }
    }

    @Test("a 401 that echoes a masked key, in the body and a header", arguments: FakeWire.allCases)
    func invalidKeyEcho(_ wire: FakeWire) async throws {
        let (response, _) = try await send(.invalidKey(echo: "sk-proj-****MxYA"), wire: wire)
        #expect(response.status == 401)
        #expect(String(decoding: response.body, as: UTF8.self).contains("Incorrect API key provided: sk-proj-****MxYA"))
        #expect(response.headers["x-echoed-key"] == "sk-proj-****MxYA")
        let e = ProviderError.http(response)
        #expect(e.kind == .client && !e.message.contains("MxYA"))
    }
}
