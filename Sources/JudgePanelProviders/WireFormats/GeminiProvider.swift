import Foundation
import JudgePanelCore

/// Google's Gemini API `generateContent` (`POST {base}/v1beta/models/{model}:generateContent`), key in
/// `x-goog-api-key` (never in the URL).
///
/// System messages are joined into `systemInstruction`; `assistant` turns become role `model`. Sampling goes to
/// `generationConfig` (`temperature`, `maxOutputTokens`, `seed`). Log-probabilities are asked for with
/// `responseLogprobs: true` and `logprobs: N` (N clamped to the documented 0…20) and read back from
/// `logprobsResult.chosenCandidates` / `topCandidates`.
///
/// Structured output sends `responseMimeType: application/json` and `responseSchema`, which takes Gemini's
/// OpenAPI-3.0 subset rather than full JSON Schema. ``geminiSchema(_:)`` converts: local `$ref`s into
/// `$defs`/`definitions` are inlined, `allOf` merged, `oneOf` read as `anyOf`, `type: [T, "null"]` and
/// `{type: null}` branches become `nullable`, `const` becomes a one-value `enum`, non-string enums become
/// `minimum`/`maximum` bounds, `exclusiveMinimum`/`exclusiveMaximum` become inclusive bounds, types are
/// upper-cased, and keywords Gemini rejects (`additionalProperties`, `$schema`, `$id`, `examples`,
/// `patternProperties`, `uniqueItems`, `not`, …) are dropped. Because Gemini orders output keys alphabetically
/// unless told otherwise, `propertyOrdering` is filled in from `required` (the schema author's order), then
/// the remaining properties alphabetically.
///
/// A prompt blocked by the safety filters (`promptFeedback.blockReason`) and a candidate stopped for a content
/// reason (`SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`, `BLOCKLIST`, `SPII`) come back as replies with finish
/// reason `content_filter` and the reason in ``CompletionResponse/refusal`` (the vote records it; no re-ask).
/// Finish reasons are normalised: `STOP` → `stop`, `MAX_TOKENS` → `length`, others lower-cased. Completion
/// tokens include `thoughtsTokenCount` (thinking models bill thoughts as output; also reported as
/// ``TokenUsage/reasoningTokens``); thought parts are not part of the text. `thinking_budget` goes to
/// `generationConfig.thinkingConfig.thinkingBudget`.
///
/// ```swift
/// let p = GeminiProvider(baseURL: URL(string: "https://generativelanguage.googleapis.com")!, apiKey: key,
///                        transport: try AsyncHTTPClientTransport())
/// let reply = try await p.complete(
///     CompletionRequest(model: "gemini-2.5-flash", messages: [.user("Which answer is better?")], topLogprobs: 5),
///     timeout: 60)
/// print(reply.text, reply.logprobs?.first?.top ?? [])
/// ```
package struct GeminiProvider: JudgeProvider {
    /// The API root, e.g. `https://generativelanguage.googleapis.com` (a trailing `/v1beta` or `/v1` is kept).
    package let baseURL: URL
    package let apiKey: String?
    package let transport: any HTTPTransport

    /// The most alternatives per token the API returns.
    static let maxTopLogprobs = 20

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
    }

    /// `{base}/v1beta/models/{model}:generateContent`; a model already prefixed `models/` or `tunedModels/` is kept.
    package func endpoint(model: String) -> URL {
        var root = baseURL.absoluteString
        while root.hasSuffix("/") { root.removeLast() }
        if !(root.hasSuffix("/v1beta") || root.hasSuffix("/v1")) { root += "/v1beta" }
        let name = model.hasPrefix("models/") || model.hasPrefix("tunedModels/") ? model : "models/" + model
        let escaped = name.addingPercentEncoding(withAllowedCharacters: Self.pathAllowed) ?? name
        return URL(string: "\(root)/\(escaped):generateContent") ?? baseURL
    }

    private static let pathAllowed: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.remove(charactersIn: "?#:")
        return set
    }()

    package func body(_ request: CompletionRequest) -> JSONValue {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        let contents: [JSONValue] = request.messages.filter { $0.role != .system }.map {
            ["role": .string($0.role == .assistant ? "model" : "user"), "parts": ImageWire.geminiParts($0)]
        }
        var body: [String: JSONValue] = ["contents": .array(contents)]
        if !system.isEmpty { body["systemInstruction"] = ["parts": [["text": .string(system)]]] }
        var config: [String: JSONValue] = [:]
        if let t = request.temperature { config["temperature"] = .number(t) }
        if let m = request.maxTokens { config["maxOutputTokens"] = .number(Double(m)) }
        if let s = request.seed { config["seed"] = .number(Double(s)) }
        if let schema = request.jsonSchema {
            config["responseMimeType"] = "application/json"
            config["responseSchema"] = Self.geminiSchema(schema)
        }
        if let n = request.topLogprobs {
            config["responseLogprobs"] = true
            config["logprobs"] = .number(Double(min(max(n, 0), Self.maxTopLogprobs)))
        }
        if let budget = request.wire.geminiThinkingBudget {
            // https://ai.google.dev/gemini-api/docs/thinking#set-budget: generationConfig.thinkingConfig.thinkingBudget
            config["thinkingConfig"] = ["thinkingBudget": .number(Double(budget))]
        }
        if !config.isEmpty { body["generationConfig"] = .object(config) }
        return request.wire.finish(.object(body))
    }

    package func headers() -> [String: String] {
        var headers = ["content-type": "application/json"]
        if let apiKey, !apiKey.isEmpty { headers["x-goog-api-key"] = apiKey }
        return headers
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> CompletionResponse {
        let response = try await transport.send(
            HTTPRequest(
                url: endpoint(model: request.model), headers: request.wire.finish(headers: headers()),
                body: body(request).data, timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        return try Self.parse(response.body)
    }

    /// Reads a `generateContent` body (also a batch result's `response`).
    package static func parse(_ data: Data) throws -> CompletionResponse {
        let reply = try ReplyDecoding.decode(Reply.self, from: data)
        if let err = reply.error, !err.isNull {
            throw ProviderError(kind: .server, message: "provider error: \(err["message"]?.textValue ?? err.textValue)")
        }
        // Proto3 JSON omits zero values, so absent counts and log-probabilities read as 0.
        var usage: TokenUsage?
        if let u = reply.usageMetadata, u.isObject {
            let thoughts = u.thoughtsTokenCount
            let completion = (u.candidatesTokenCount ?? 0) + (thoughts ?? 0)
            usage = TokenUsage(
                promptTokens: u.promptTokenCount ?? 0, completionTokens: completion, reasoningTokens: thoughts)
        }
        // A blocked prompt has `promptFeedback.blockReason` and no candidates
        // (https://ai.google.dev/api/generate-content#PromptFeedback): a content-filter outcome, not a fault.
        if let reason = reply.promptFeedback?.blockReason {
            let detail = reply.promptFeedback?.blockReasonMessage.map { " (\($0))" } ?? ""
            var blocked = CompletionResponse(
                text: "", usage: usage, finishReason: "content_filter",
                refusal: "Gemini blocked the prompt: blockReason \(reason)\(detail)")
            blocked.modelVersion = reply.modelVersion.flatMap { $0.isEmpty ? nil : $0 }
            return blocked
        }
        // `modelVersion`: "the model version used to generate the response"
        // (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse).
        let version = reply.modelVersion.flatMap { $0.isEmpty ? nil : $0 }
        guard let candidate = reply.candidates?.first else {
            throw ProviderError.badResponse("no candidates in Gemini reply")
        }
        let rawFinish = candidate.finishReason
        let parts = candidate.content?.parts ?? []
        let texts = parts.filter { $0.thought != true }.compactMap(\.text)
        if texts.isEmpty, candidate.content == nil, rawFinish == nil {
            throw ProviderError.badResponse("candidates[0] has no content")
        }
        var logprobs: [TokenLogprob]?
        if let result = candidate.logprobsResult, let chosen = result.chosenCandidates {
            let tops = result.topCandidates ?? []
            logprobs = chosen.enumerated().map { i, c in
                let top = (tops.indices.contains(i) ? tops[i].candidates ?? [] : []).map {
                    TokenLogprob.Alternative(token: $0.token ?? "", logprob: $0.logProbability ?? 0)
                }
                return TokenLogprob(token: c.token ?? "", logprob: c.logProbability ?? 0, top: top)
            }
        }
        // https://ai.google.dev/api/generate-content#FinishReason: SAFETY, RECITATION, BLOCKLIST,
        // PROHIBITED_CONTENT, SPII, IMAGE_SAFETY stop the candidate for content reasons.
        let finish = rawFinish.map { reason -> String in
            switch reason {
            case "STOP": return "stop"
            case "MAX_TOKENS": return "length"
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
                return "content_filter"
            default: return reason.lowercased()
            }
        }
        let filtered =
            finish == "content_filter" ? "Gemini stopped the candidate: finishReason \(rawFinish ?? "")" : nil
        var out = CompletionResponse(
            text: texts.joined(), usage: usage, logprobs: logprobs, finishReason: finish, refusal: filtered)
        out.modelVersion = version
        return out
    }

    /// The fields of a `generateContent` reply the client reads
    /// (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse), read leniently (``ReplyFields``).
    package struct Reply: Decodable {
        /// `error`, whatever its shape; `null` when the body says null.
        let error: JSONValue?
        let usageMetadata: Usage?
        let promptFeedback: PromptFeedback?
        /// `candidates`, when it is an array.
        let candidates: [Candidate]?
        let modelVersion: String?

        private enum CodingKeys: String, CodingKey {
            case error, usageMetadata, promptFeedback, candidates, modelVersion
        }

        package init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            error = try f.present(JSONValue.self, .error)
            usageMetadata = try f.present(Usage.self, .usageMetadata)
            promptFeedback = try f.present(PromptFeedback.self, .promptFeedback)
            candidates = try f.array(Candidate.self, .candidates)
            modelVersion = try f.string(.modelVersion)
        }

        struct Usage: Decodable {
            /// Whether `usageMetadata` is an object (only then is usage reported).
            let isObject: Bool
            let promptTokenCount: Int?
            let candidatesTokenCount: Int?
            let thoughtsTokenCount: Int?

            private enum CodingKeys: String, CodingKey {
                case promptTokenCount, candidatesTokenCount, thoughtsTokenCount
            }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                isObject = f.isObject
                promptTokenCount = try f.int(.promptTokenCount)
                candidatesTokenCount = try f.int(.candidatesTokenCount)
                thoughtsTokenCount = try f.int(.thoughtsTokenCount)
            }
        }

        struct PromptFeedback: Decodable {
            let blockReason: String?
            let blockReasonMessage: String?

            private enum CodingKeys: String, CodingKey { case blockReason, blockReasonMessage }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                blockReason = try f.string(.blockReason)
                blockReasonMessage = try f.string(.blockReasonMessage)
            }
        }

        struct Candidate: Decodable {
            /// `content`, present whatever its shape.
            let content: Content?
            let finishReason: String?
            let logprobsResult: LogprobsResult?

            private enum CodingKeys: String, CodingKey { case content, finishReason, logprobsResult }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                content = try f.present(Content.self, .content)
                finishReason = try f.string(.finishReason)
                logprobsResult = try f.present(LogprobsResult.self, .logprobsResult)
            }
        }

        struct Content: Decodable {
            let parts: [Part]?

            private enum CodingKeys: String, CodingKey { case parts }

            init(from decoder: any Decoder) throws {
                parts = try ReplyFields<CodingKeys>(decoder).array(Part.self, .parts)
            }
        }

        /// A part: `text`, and `thought: true` on a thinking model's thought summary (not part of the answer).
        struct Part: Decodable {
            let text: String?
            let thought: Bool?

            private enum CodingKeys: String, CodingKey { case text, thought }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                text = try f.string(.text)
                thought = try f.bool(.thought)
            }
        }

        struct LogprobsResult: Decodable {
            let chosenCandidates: [LogprobCandidate]?
            let topCandidates: [TopCandidates]?

            private enum CodingKeys: String, CodingKey { case chosenCandidates, topCandidates }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                chosenCandidates = try f.array(LogprobCandidate.self, .chosenCandidates)
                topCandidates = try f.array(TopCandidates.self, .topCandidates)
            }
        }

        struct TopCandidates: Decodable {
            let candidates: [LogprobCandidate]?

            private enum CodingKeys: String, CodingKey { case candidates }

            init(from decoder: any Decoder) throws {
                candidates = try ReplyFields<CodingKeys>(decoder).array(LogprobCandidate.self, .candidates)
            }
        }

        struct LogprobCandidate: Decodable {
            let token: String?
            let logProbability: Double?

            private enum CodingKeys: String, CodingKey { case token, logProbability }

            init(from decoder: any Decoder) throws {
                let f = ReplyFields<CodingKeys>(decoder)
                token = try f.string(.token)
                logProbability = try f.double(.logProbability)
            }
        }
    }

    // MARK: - Schema dialect

    /// Keywords Gemini's `responseSchema` (OpenAPI-3.0 subset) accepts.
    static let schemaKeys: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
        "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
        "propertyOrdering", "default", "items", "minimum", "maximum",
    ]

    /// Converts a JSON Schema to Gemini's `responseSchema` dialect (see the type's documentation).
    ///
    /// ```swift
    /// let s = GeminiProvider.geminiSchema(["type": "object", "additionalProperties": false,
    ///                                      "properties": ["score": ["type": "integer"]], "required": ["score"]])
    /// // {"type": "OBJECT", "properties": {"score": {"type": "INTEGER"}}, "required": ["score"], "propertyOrdering": ["score"]}
    /// ```
    package static func geminiSchema(_ schema: JSONValue) -> JSONValue {
        var defs: [String: JSONValue] = [:]
        for key in ["definitions", "$defs"] {
            for (name, value) in schema[key]?.objectValue ?? [:] { defs[name] = value }
        }
        return convert(schema, defs: defs, depth: 0)
    }

    private static func resolve(_ node: [String: JSONValue], defs: [String: JSONValue], depth: Int) -> [String:
        JSONValue]
    {
        var o = node
        var hops = 0
        while let ref = o["$ref"]?.stringValue, hops < 8 {
            hops += 1
            o["$ref"] = nil
            let prefixes = ["#/$defs/", "#/definitions/"]
            guard let prefix = prefixes.first(where: { ref.hasPrefix($0) }),
                let target = defs[String(ref.dropFirst(prefix.count))]?.objectValue
            else { break }
            var merged = target
            for (k, v) in o { merged[k] = v }  // siblings of $ref (e.g. description) win
            o = merged
        }
        o["$ref"] = nil
        if let all = o.removeValue(forKey: "allOf")?.arrayValue {
            for sub in all {
                for (k, v) in resolve(sub.objectValue ?? [:], defs: defs, depth: depth) {
                    switch (k, o[k], v) {
                    case ("properties", .object(let a)?, .object(let b)):
                        o[k] = .object(a.merging(b) { x, _ in x })
                    case ("required", .array(let a)?, .array(let b)):
                        o[k] = .array(a + b.filter { !a.contains($0) })
                    default:
                        if o[k] == nil { o[k] = v }
                    }
                }
            }
        }
        return o
    }

    private static func isNullSchema(_ v: JSONValue) -> Bool {
        v["type"]?.stringValue == "null"
    }

    private static func convert(_ node: JSONValue, defs: [String: JSONValue], depth: Int) -> JSONValue {
        guard let object = node.objectValue else { return .object([:]) }
        if depth > 24 { return .object([:]) }  // recursive $ref: stop expanding
        var o = resolve(object, defs: defs, depth: depth)
        var nullable = o["nullable"]?.boolValue ?? false

        // type: [T, "null"] / "null"
        var extraBranches: [JSONValue] = []
        if case .array(let types)? = o["type"] {
            let names = types.compactMap(\.stringValue)
            if names.contains("null") { nullable = true }
            let rest = names.filter { $0 != "null" }
            o["type"] = rest.count == 1 ? .string(rest[0]) : nil
            if rest.count > 1 { extraBranches = rest.map { ["type": .string($0)] } }
        } else if o["type"]?.stringValue == "null" {
            nullable = true
            o["type"] = nil
        }

        // anyOf / oneOf, with null branches folded into `nullable`
        var branches =
            (o.removeValue(forKey: "anyOf")?.arrayValue ?? []) + (o.removeValue(forKey: "oneOf")?.arrayValue ?? [])
        branches += extraBranches
        if !branches.isEmpty {
            if branches.contains(where: isNullSchema) { nullable = true }
            let kept = branches.filter { !isNullSchema($0) }
            if kept.count == 1, o["type"] == nil, o["properties"] == nil, o["items"] == nil {
                // a single non-null branch: fold it into this node and convert again
                for (k, v) in resolve(kept[0].objectValue ?? [:], defs: defs, depth: depth) where o[k] == nil {
                    o[k] = v
                }
                if nullable { o["nullable"] = true }
                return convert(.object(o), defs: defs, depth: depth + 1)
            } else if !kept.isEmpty {
                o["anyOf"] = .array(kept.map { convert($0, defs: defs, depth: depth + 1) })
            }
        }
        return finish(o, nullable: nullable, defs: defs, depth: depth)
    }

    private static func finish(_ input: [String: JSONValue], nullable: Bool, defs: [String: JSONValue], depth: Int)
        -> JSONValue
    {
        var o = input
        var nullable = nullable

        // const → enum
        if let c = o.removeValue(forKey: "const"), o["enum"] == nil { o["enum"] = [c] }
        // enum: strings stay; numbers become bounds; null folds into nullable
        if let values = o["enum"]?.arrayValue {
            if values.contains(.null) { nullable = true }
            let present = values.filter { !$0.isNull }
            if present.allSatisfy({ $0.stringValue != nil }) {
                o["enum"] = present.isEmpty ? nil : .array(present)
                if o["type"] == nil, !present.isEmpty { o["type"] = "string" }
            } else {
                o["enum"] = nil
                let numbers = present.compactMap(\.doubleValue)
                if numbers.count == present.count, let lo = numbers.min(), let hi = numbers.max() {
                    if o["type"] == nil {
                        o["type"] = numbers.allSatisfy({ $0 == $0.rounded() }) ? "integer" : "number"
                    }
                    if o["minimum"] == nil { o["minimum"] = .number(lo) }
                    if o["maximum"] == nil { o["maximum"] = .number(hi) }
                } else if present.allSatisfy({ $0.boolValue != nil }), o["type"] == nil {
                    o["type"] = "boolean"
                }
            }
        }
        // exclusive bounds (draft 6+ numeric form) → inclusive bounds
        if let lo = o["exclusiveMinimum"]?.doubleValue, o["minimum"] == nil { o["minimum"] = .number(lo) }
        if let hi = o["exclusiveMaximum"]?.doubleValue, o["maximum"] == nil { o["maximum"] = .number(hi) }

        // children
        if let props = o["properties"]?.objectValue {
            var converted: [String: JSONValue] = [:]
            for (name, sub) in props { converted[name] = convert(sub, defs: defs, depth: depth + 1) }
            o["properties"] = .object(converted)
            let required = (o["required"]?.arrayValue ?? []).compactMap(\.stringValue).filter { props[$0] != nil }
            o["required"] = required.isEmpty ? nil : .array(required.map { .string($0) })
            if o["propertyOrdering"] == nil, props.count > 1 {
                var seen = Set<String>()
                let ordered = (required + props.keys.sorted()).filter { seen.insert($0).inserted }
                o["propertyOrdering"] = .array(ordered.map { .string($0) })
            }
            if o["type"] == nil { o["type"] = "object" }
        } else {
            o["required"] = nil
        }
        if let items = o["items"] {
            let first = items.arrayValue?.first ?? items  // tuple form: first element's schema
            o["items"] = convert(first, defs: defs, depth: depth + 1)
            if o["type"] == nil { o["type"] = "array" }
        } else if let prefix = o["prefixItems"]?.arrayValue?.first {
            o["items"] = convert(prefix, defs: defs, depth: depth + 1)
            if o["type"] == nil { o["type"] = "array" }
        }

        // format: the Gemini API accepts only `enum` and `date-time` on strings
        if let f = o["format"]?.stringValue, !(f == "enum" || f == "date-time") { o["format"] = nil }
        if let t = o["type"]?.stringValue { o["type"] = .string(t.uppercased()) }
        if nullable { o["nullable"] = true } else { o["nullable"] = nil }
        return .object(o.filter { schemaKeys.contains($0.key) })
    }
}
