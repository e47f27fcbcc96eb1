// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (names mirror the keys of the Python reference scripts and provider JSON that generated or define them)

// `PanelBench json`, part 2 (issue 16): the JSON paths after the hand-written parser was removed.
//
// Provider bodies: the engine's path (`OpenAIProvider.parse` etc.: `JSONDecoder` into the providers' lenient reply
// structs) against Foundation's `JSONSerialization` + the same reads on `[String: Any]`, against a plain `Codable`
// decode (`JSONDecoder`) of structs that declare just the fields the provider reads (no leniency), and against
// reading a whole `JSONValue` tree (`JSONValue(jsonData:)`). Every variant builds the same `CompletionResponse` and
// is checked equal to the engine's before timing.
//
// Big files: a votes.jsonl of `--votes-lines` lines (default 100 000) read by `VotesFile.load` against the same
// lines decoded with `JSONDecoder().decode(Vote.self, …)` and with `JSONSerialization` (parse only, no `Vote`
// built: a lower bound for that route).
import Foundation
import JudgePanel

// MARK: Bodies (shapes from the providers' API references; sizes typical of a judge's reply)

/// OpenAI chat completion (https://platform.openai.com/docs/api-reference/chat/object).
let openAIReply =
    #"{"id":"chatcmpl-9a8b7c6d5e4f","object":"chat.completion","created":1732350000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Response A answers the question directly and correctly, citing the relevant formula; Response B is vaguer and contains a small arithmetic slip (\"12 × 4 = 46\").\n\nVerdict: [[A]]","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":642,"completion_tokens":58,"total_tokens":700,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_0ba0d124f1"}"#

/// The same with `logprobs: true, top_logprobs: 5` on a 24-token answer (a logprob-weighted judge).
let openAILogprobReply: String = {
    let tokens = [
        "Response", " A", " is", " more", " accurate", ":", " it", " gives", " the", " right", " formula", ",",
        " while", " B", " slips", " on", " the", " arithmetic", ".", "\n\n", "Verdict", ":", " [[", "A",
    ]
    let entries = tokens.map { $0.replacingOccurrences(of: "\n", with: "\\n") }.enumerated().map { i, t -> String in
        let tops = (0..<5).map { k in
            #"{"token":"\#(k == 0 ? t : " alt\(k)")","logprob":\#(-0.0123 * Double(k + 1) - Double(i) * 0.001),"bytes":[32,65]}"#
        }.joined(separator: ",")
        return #"{"token":"\#(t)","logprob":\#(-0.0123 - Double(i) * 0.001),"bytes":[32,65],"top_logprobs":[\#(tops)]}"#
    }.joined(separator: ",")
    return
        #"{"id":"chatcmpl-AbCdEf123","object":"chat.completion","created":1732350000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Response A is more accurate: it gives the right formula, while B slips on the arithmetic.\n\nVerdict: [[A]]","refusal":null},"logprobs":{"content":[\#(entries)],"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":642,"completion_tokens":24,"total_tokens":666,"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_0ba0d124f1"}"#
}()

/// Anthropic message (https://docs.anthropic.com/en/api/messages).
let anthropicReply =
    #"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Both responses address the question, but Response A explains the mechanism step by step and gets the final number right, while Response B skips the derivation and states an incorrect total (\"46\").\n\n[[A]]"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":655,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":61,"service_tier":"standard"}}"#

/// Gemini generateContent (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse).
let geminiReply =
    #"{"candidates":[{"content":{"parts":[{"text":"Response A is correct and complete; Response B contains an arithmetic error (12 × 4 = 46) and omits the units.\n\n[[A]]"}],"role":"model"},"finishReason":"STOP","avgLogprobs":-0.1873,"index":0}],"usageMetadata":{"promptTokenCount":648,"candidatesTokenCount":39,"totalTokenCount":687,"promptTokensDetails":[{"modality":"TEXT","tokenCount":648}]},"modelVersion":"gemini-2.0-flash","responseId":"x0ZBZ5HkB9yJ7dcP2pGwiAk"}"#

/// A long free-text critique (a reasoning-style judge, ~6 KB of prose).
let openAILongReply: String = {
    let prose = String(
        repeating:
            "Response A walks through the derivation carefully, checks each intermediate value and states its assumptions; Response B jumps to a conclusion. ",
        count: 40)
    return
        #"{"id":"chatcmpl-long","object":"chat.completion","created":1732350000,"model":"o4-mini","choices":[{"index":0,"message":{"role":"assistant","content":"\#(prose)\n\nVerdict: [[A]]","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1642,"completion_tokens":1398,"total_tokens":3040,"completion_tokens_details":{"reasoning_tokens":256}}}"#
}()

// MARK: Codable mirrors (only the fields the providers read)

struct OpenAICompletionBody: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            let content: String?
            let refusal: String?
        }
        struct Logprobs: Decodable { let content: [Token]? }
        struct Token: Decodable {
            let token: String
            let logprob: Double
            let top_logprobs: [Alternative]?
        }
        struct Alternative: Decodable {
            let token: String
            let logprob: Double
        }
        let message: Message
        let finish_reason: String?
        let logprobs: Logprobs?
        let truncated: Bool?
    }
    struct Usage: Decodable {
        struct Details: Decodable { let reasoning_tokens: Int? }
        let prompt_tokens: Int
        let completion_tokens: Int?
        let completion_tokens_details: Details?
    }
    struct Failure: Decodable { let message: String? }
    let choices: [Choice]?
    let usage: Usage?
    let error: Failure?
    let truncated: Bool?

    func response() throws -> CompletionResponse {
        if let error { throw ProviderError(kind: .server, message: "provider error: \(error.message ?? "")") }
        guard let choice = choices?.first else { throw ProviderError.badResponse("no choices[0].message") }
        let refusal = choice.message.refusal.flatMap { $0.isEmpty ? nil : $0 }
        let usage = self.usage.map {
            TokenUsage(
                promptTokens: $0.prompt_tokens, completionTokens: $0.completion_tokens ?? 0,
                reasoningTokens: $0.completion_tokens_details?.reasoning_tokens)
        }
        let logprobs = choice.logprobs?.content.map { tokens in
            tokens.map { t in
                TokenLogprob(
                    token: t.token, logprob: t.logprob,
                    top: (t.top_logprobs ?? []).map { .init(token: $0.token, logprob: $0.logprob) })
            }
        }
        let truncated = truncated == true || choice.truncated == true
        return CompletionResponse(
            text: choice.message.content ?? "", usage: usage, logprobs: logprobs,
            finishReason: refusal != nil ? "refusal" : choice.finish_reason, refusal: refusal,
            promptTruncated: truncated ? true : nil)
    }
}

struct AnthropicMessageBody: Decodable {
    struct Block: Decodable {
        let type: String
        let text: String?
    }
    struct Usage: Decodable {
        let input_tokens: Int
        let output_tokens: Int?
        let cache_creation_input_tokens: Int?
        let cache_read_input_tokens: Int?
    }
    let content: [Block]?
    let usage: Usage?
    let stop_reason: String?

    func response() throws -> CompletionResponse {
        guard let content else { throw ProviderError.badResponse("no content[] in Anthropic reply") }
        let text = content.filter { $0.type == "text" }.compactMap(\.text).joined()
        let usage = self.usage.map {
            TokenUsage(
                promptTokens: $0.input_tokens + ($0.cache_creation_input_tokens ?? 0)
                    + ($0.cache_read_input_tokens ?? 0),
                completionTokens: $0.output_tokens ?? 0)
        }
        let finish = stop_reason.map { r -> String in
            switch r {
            case "end_turn", "stop_sequence", "tool_use": return "stop"
            case "max_tokens": return "length"
            default: return r
            }
        }
        return CompletionResponse(text: text, usage: usage, logprobs: nil, finishReason: finish)
    }
}

struct GeminiGenerateBody: Decodable {
    struct Candidate: Decodable {
        struct Content: Decodable {
            struct Part: Decodable {
                let text: String?
                let thought: Bool?
            }
            let parts: [Part]?
        }
        let content: Content?
        let finishReason: String?
    }
    struct Usage: Decodable {
        let promptTokenCount: Int?
        let candidatesTokenCount: Int?
        let thoughtsTokenCount: Int?
    }
    let candidates: [Candidate]?
    let usageMetadata: Usage?

    func response() throws -> CompletionResponse {
        let usage = usageMetadata.map {
            TokenUsage(
                promptTokens: $0.promptTokenCount ?? 0,
                completionTokens: ($0.candidatesTokenCount ?? 0) + ($0.thoughtsTokenCount ?? 0),
                reasoningTokens: $0.thoughtsTokenCount)
        }
        guard let candidate = candidates?.first else {
            throw ProviderError.badResponse("no candidates in Gemini reply")
        }
        let texts = (candidate.content?.parts ?? []).filter { $0.thought != true }.compactMap(\.text)
        let finish = candidate.finishReason.map {
            $0 == "STOP" ? "stop" : $0 == "MAX_TOKENS" ? "length" : $0.lowercased()
        }
        return CompletionResponse(text: texts.joined(), usage: usage, logprobs: nil, finishReason: finish)
    }
}

// MARK: JSONValue readers other than the engine's

/// `JSONValue` decoded through the `try?` cascade `JSONValue.init(from:)` had before (every failed attempt builds
/// and throws a `DecodingError`): the baseline for the probing order it has now.
struct CascadeJSONValue: Decodable {
    let value: JSONValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            value = .number(d)
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let a = try? c.decode([CascadeJSONValue].self) {
            value = .array(a.map(\.value))
        } else {
            value = .object(try c.decode([String: CascadeJSONValue].self).mapValues(\.value))
        }
    }
}

/// `JSONSerialization`'s output as a `JSONValue` (booleans told from numbers by their Objective-C type, `c`).
func valueFromSerialization(_ x: Any) -> JSONValue {
    if let s = x as? String { return .string(s) }
    if let o = x as? [String: Any] { return .object(o.mapValues(valueFromSerialization)) }
    if let n = x as? NSNumber {
        return String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
    }
    if let a = x as? [Any] { return .array(a.map(valueFromSerialization)) }
    return .null
}

/// The load average over 1, 5 and 15 minutes, as /proc/loadavg gives it.
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(
        separator: " ")
}

// MARK: JSONSerialization + [String: Any] reads

func anyInt(_ v: Any?) -> Int? { (v as? NSNumber)?.intValue }

func openAIFromSerialization(_ data: Data) throws -> CompletionResponse {
    guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ProviderError.badResponse("not an object")
    }
    if let e = o["error"] as? [String: Any] {
        throw ProviderError(kind: .server, message: "provider error: \(e["message"] ?? "")")
    }
    guard let choice = (o["choices"] as? [Any])?.first as? [String: Any],
        let message = choice["message"] as? [String: Any]
    else {
        throw ProviderError.badResponse("no choices[0].message")
    }
    let refusal = (message["refusal"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    var usage: TokenUsage?
    if let u = o["usage"] as? [String: Any], let p = anyInt(u["prompt_tokens"]) {
        usage = TokenUsage(
            promptTokens: p, completionTokens: anyInt(u["completion_tokens"]) ?? 0,
            reasoningTokens: anyInt((u["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"]))
    }
    var logprobs: [TokenLogprob]?
    if let content = (choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] {
        logprobs = content.compactMap { t in
            guard let token = t["token"] as? String, let lp = (t["logprob"] as? NSNumber)?.doubleValue else {
                return nil
            }
            let top = (t["top_logprobs"] as? [[String: Any]] ?? []).compactMap { a -> TokenLogprob.Alternative? in
                guard let tok = a["token"] as? String, let l = (a["logprob"] as? NSNumber)?.doubleValue else {
                    return nil
                }
                return .init(token: tok, logprob: l)
            }
            return TokenLogprob(token: token, logprob: lp, top: top)
        }
    }
    let truncated = (o["truncated"] as? Bool) == true || (choice["truncated"] as? Bool) == true
    return CompletionResponse(
        text: message["content"] as? String ?? "", usage: usage, logprobs: logprobs,
        finishReason: refusal != nil ? "refusal" : choice["finish_reason"] as? String, refusal: refusal,
        promptTruncated: truncated ? true : nil)
}

func anthropicFromSerialization(_ data: Data) throws -> CompletionResponse {
    guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let blocks = o["content"] as? [[String: Any]]
    else {
        throw ProviderError.badResponse("no content[] in Anthropic reply")
    }
    let text = blocks.filter { $0["type"] as? String == "text" }.compactMap { $0["text"] as? String }.joined()
    var usage: TokenUsage?
    if let u = o["usage"] as? [String: Any], let input = anyInt(u["input_tokens"]) {
        usage = TokenUsage(
            promptTokens: input + (anyInt(u["cache_creation_input_tokens"]) ?? 0)
                + (anyInt(u["cache_read_input_tokens"]) ?? 0),
            completionTokens: anyInt(u["output_tokens"]) ?? 0)
    }
    let finish = (o["stop_reason"] as? String).map { r -> String in
        switch r {
        case "end_turn", "stop_sequence", "tool_use": return "stop"
        case "max_tokens": return "length"
        default: return r
        }
    }
    return CompletionResponse(text: text, usage: usage, logprobs: nil, finishReason: finish)
}

func geminiFromSerialization(_ data: Data) throws -> CompletionResponse {
    guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ProviderError.badResponse("not an object")
    }
    var usage: TokenUsage?
    if let u = o["usageMetadata"] as? [String: Any] {
        let thoughts = anyInt(u["thoughtsTokenCount"])
        usage = TokenUsage(
            promptTokens: anyInt(u["promptTokenCount"]) ?? 0,
            completionTokens: (anyInt(u["candidatesTokenCount"]) ?? 0) + (thoughts ?? 0), reasoningTokens: thoughts)
    }
    guard let candidate = (o["candidates"] as? [Any])?.first as? [String: Any] else {
        throw ProviderError.badResponse("no candidates")
    }
    let parts = (candidate["content"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
    let texts = parts.filter { $0["thought"] as? Bool != true }.compactMap { $0["text"] as? String }
    let finish = (candidate["finishReason"] as? String).map {
        $0 == "STOP" ? "stop" : $0 == "MAX_TOKENS" ? "length" : $0.lowercased()
    }
    return CompletionResponse(text: texts.joined(), usage: usage, logprobs: nil, finishReason: finish)
}

// MARK: Runs

/// Equal responses, log-probabilities within 1e-12 (Foundation's number parsing may differ in the last bit).
func same(_ a: CompletionResponse, _ b: CompletionResponse) -> Bool {
    guard a.text == b.text, a.usage == b.usage, a.finishReason == b.finishReason, a.refusal == b.refusal,
        a.promptTruncated == b.promptTruncated, (a.logprobs == nil) == (b.logprobs == nil)
    else { return false }
    let x = a.logprobs ?? []
    let y = b.logprobs ?? []
    return x.count == y.count
        && zip(x, y).allSatisfy { p, q in
            p.token == q.token && abs(p.logprob - q.logprob) < 1e-12 && p.top.count == q.top.count
                && zip(p.top, q.top).allSatisfy { $0.token == $1.token && abs($0.logprob - $1.logprob) < 1e-12 }
        }
}

/// Provider bodies: µs per body for the engine's path, JSONSerialization and Codable; prints one row each.
func benchProviderBodies(iterations n: Int) throws {
    let decoder = JSONDecoder()
    let cases:
        [(
            String, Data, (Data) throws -> CompletionResponse, (Data) throws -> CompletionResponse,
            (Data) throws -> CompletionResponse
        )] = [
            (
                "OpenAI chat completion", Data(openAIReply.utf8), OpenAIProvider.parse, openAIFromSerialization,
                { try decoder.decode(OpenAICompletionBody.self, from: $0).response() }
            ),
            (
                "OpenAI, top-5 logprobs", Data(openAILogprobReply.utf8), OpenAIProvider.parse, openAIFromSerialization,
                { try decoder.decode(OpenAICompletionBody.self, from: $0).response() }
            ),
            (
                "OpenAI, 6 KB critique", Data(openAILongReply.utf8), OpenAIProvider.parse, openAIFromSerialization,
                { try decoder.decode(OpenAICompletionBody.self, from: $0).response() }
            ),
            (
                "Anthropic message", Data(anthropicReply.utf8), AnthropicProvider.parse, anthropicFromSerialization,
                { try decoder.decode(AnthropicMessageBody.self, from: $0).response() }
            ),
            (
                "Gemini generateContent", Data(geminiReply.utf8), GeminiProvider.parse, geminiFromSerialization,
                { try decoder.decode(GeminiGenerateBody.self, from: $0).response() }
            ),
        ]
    print("provider bodies → CompletionResponse, µs per body (\(n) iterations, after a warm-up):")
    print(
        "| body | bytes | engine (lenient reply structs) | JSONSerialization | plain Codable | JSONSerialization / engine | plain Codable / engine |"
    )
    print("|---|---|---|---|---|---|---|")
    var sink = 0
    for (name, body, engine, serialization, codable) in cases {
        let expected = try engine(body)
        for (variant, decode) in [("JSONSerialization", serialization), ("Codable", codable)] {
            guard same(try decode(body), expected) else {
                print("MISMATCH on \(name): \(variant) does not build the engine's response")
                exit(1)
            }
        }
        let e = try microseconds(n) { sink &+= try engine(body).text.utf8.count }
        let s = try microseconds(n) { sink &+= try serialization(body).text.utf8.count }
        let c = try microseconds(n) { sink &+= try codable(body).text.utf8.count }
        print(
            String(
                format: "| %@ | %d | %.1f µs | %.1f µs | %.1f µs | %.1f× | %.1f× |", name, body.count, e, s, c, s / e,
                c / e))
    }
    if sink == 42 { print("") }
}

/// A votes file of `lines` lines, read three ways; prints seconds and lines per second.
func benchVotesFile(lines: Int) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("panelbench-votes-\(getpid()).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    let verdicts = ["A", "B", "tie"]
    var chunk = ""
    for i in 0..<lines {
        var v = Vote(
            item: "item-\(i / 8)", judge: "judge-\(i % 4)", protocol: .pairwise, order: i % 2 == 0 ? .ab : .ba,
            verdict: i % 3 == 0 ? .a : i % 3 == 1 ? .b : .tie, status: .ok,
            raw: "Response \(verdicts[i % 3]) is better because it answers the question. [[\(verdicts[i % 3])]]")
        v.latencyMS = Double(100 + i % 900)
        v.usage = TokenUsage(promptTokens: 600 + i % 100, completionTokens: 40 + i % 20)
        v.fingerprint = String(repeating: "ab", count: 32)
        v.attempts = 1
        chunk += try VotesFile.line(v) + "\n"
        if chunk.utf8.count > 1 << 20 {
            try out.write(contentsOf: Data(chunk.utf8))
            chunk = ""
        }
    }
    try out.write(contentsOf: Data(chunk.utf8))
    try out.close()
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    func timed(_ body: () throws -> Int) rethrows -> (Double, Int) {
        let start = ContinuousClock.now
        let count = try body()
        return (seconds(ContinuousClock.now - start), count)
    }
    let (engine, n1) = try timed { try VotesFile.load(path: path).count }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let decoder = JSONDecoder()
    let (codable, n2) = try timed {
        var n = 0
        for line in data.split(separator: 10) where !line.isEmpty {
            _ = try decoder.decode(Vote.self, from: Data(line))
            n += 1
        }
        return n
    }
    let (serialization, n3) = try timed {
        var n = 0
        for line in data.split(separator: 10) where !line.isEmpty {
            _ = try JSONSerialization.jsonObject(with: Data(line))
            n += 1
        }
        return n
    }
    guard n1 == lines, n2 == lines, n3 == lines else {
        print("MISMATCH: \(n1) / \(n2) / \(n3) of \(lines) lines")
        exit(1)
    }
    print("votes.jsonl, \(lines) lines, \(size / 1_048_576) MiB:")
    print("| reader | seconds | lines/s | vs engine |")
    print("|---|---|---|---|")
    for (name, s) in [
        ("VotesFile.load (line reader + JSONDecoder)", engine),
        ("JSONDecoder().decode(Vote.self) per line (file in memory)", codable),
        ("JSONSerialization per line, parse only, no Vote (file in memory)", serialization),
    ] {
        print(String(format: "| %@ | %.2f s | %.0f | %.1f× |", name, s, Double(lines) / s, s / engine))
    }
}
