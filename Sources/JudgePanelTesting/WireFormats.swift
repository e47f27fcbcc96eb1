import Foundation
import JudgePanel

// MARK: - JSON value

/// The fake server speaks JSON through JudgePanel's `JSONValue`; `compactData()` writes integral numbers
/// as integers (`"prompt_tokens": 12`, as real providers write them).
extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(Double(value)) }

    func encoded() -> Data { (try? compactData()) ?? Data("null".utf8) }
}

// MARK: - Rendering

/// The bytes (or the lack of them) that answer one request.
enum RenderedReply: Sendable {
    case response(status: Int, headers: [String: String], body: Data)
    case drop
}

/// Renders replies in each provider's wire format.
enum WireRenderer {
    static let jsonHeaders = ["Content-Type": "application/json"]

    /// Token estimate used when a reply gives no count: characters / 4, rounded up.
    static func estimateTokens(_ text: String) -> Int {
        (text.count + 3) / 4
    }

    static func render(_ reply: FakeReply, for request: FakeRequest) -> RenderedReply {
        switch reply {
        case .text(let text, let promptTokens, let completionTokens, let logprobs):
            let body = completion(
                for: request,
                text: text,
                promptTokens: promptTokens ?? estimateTokens(request.promptText),
                completionTokens: completionTokens ?? estimateTokens(text),
                logprobs: logprobs
            )
            return .response(status: 200, headers: jsonHeaders, body: body.encoded())

        case .status(let code, let body, let headers):
            var allHeaders = jsonHeaders
            allHeaders.merge(headers) { _, new in new }
            if !body.isEmpty {
                return .response(status: code, headers: allHeaders, body: Data(body.utf8))
            }
            if (200..<300).contains(code) {
                return render(.text(""), for: request)
            }
            let json = error(wire: request.wire, status: code, message: defaultMessage(for: code), retryAfter: nil)
            return .response(status: code, headers: allHeaders, body: json.encoded())

        case .rateLimited(let seconds):
            var headers = jsonHeaders
            // Gemini carries its wait only in the body's RetryInfo (https://ai.google.dev/gemini-api/docs/troubleshooting).
            if request.wire != .gemini { headers["Retry-After"] = formatSeconds(seconds) }
            if request.wire == .openai {
                headers["retry-after-ms"] = String(Int((seconds * 1000).rounded()))
            }
            let json = error(wire: request.wire, status: 429, message: defaultMessage(for: 429), retryAfter: seconds)
            return .response(status: 429, headers: headers, body: json.encoded())

        case .rateLimitedAs(let shape):
            return rateLimit(shape, for: request)

        case .quotaExhausted:
            return quotaExhausted(for: request)

        case .invalidKey(let echo):
            return invalidKey(echo: echo, for: request)

        case .delayed(_, let inner):
            // The server sleeps before rendering; rendering alone ignores the delay.
            return render(inner, for: request)

        case .dropConnection:
            return .drop

        case .truncatedJSON:
            let full = completion(
                for: request,
                text: "The first answer is better. [[A]]",
                promptTokens: estimateTokens(request.promptText),
                completionTokens: 9,
                logprobs: nil
            ).encoded()
            return .response(status: 200, headers: jsonHeaders, body: full.prefix(full.count / 2))

        case .stopped(let text, let stop):
            let body = completion(
                for: request, text: text, promptTokens: estimateTokens(request.promptText),
                completionTokens: estimateTokens(text), logprobs: nil, stop: stop)
            return .response(status: 200, headers: jsonHeaders, body: body.encoded())

        case .garbage:
            var bytes = Data("<html>\u{1}garbage: not JSON at all ".utf8)
            bytes.append(contentsOf: [0xFF, 0xFE, 0x00, 0xC3])
            return .response(status: 200, headers: jsonHeaders, body: bytes)
        }
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds == seconds.rounded(), abs(seconds) < 1e9 { return String(Int(seconds)) }
        return String(seconds)
    }

    // MARK: Completions

    static func completion(
        for request: FakeRequest,
        text: String,
        promptTokens: Int,
        completionTokens: Int,
        logprobs: [FakeTokenLogprob]?,
        stop: FakeStop? = nil
    ) -> JSONValue {
        let model = request.model
        let now = Date()
        let json = request.json ?? .object([:])
        switch request.wire {
        case .openai:
            // https://platform.openai.com/docs/api-reference/chat/object: a refusal is `message.refusal` with null
            // content; `finish_reason` is stop | length | content_filter | tool_calls.
            var message: [String: JSONValue] = ["role": "assistant", "content": .string(text), "refusal": .null]
            var finish = "stop"
            switch stop {
            case .length: finish = "length"
            case .refusal:
                message["content"] = .null
                message["refusal"] = .string(text)
            case .contentFilter, .recitation, .promptBlocked: finish = "content_filter"
            case nil: break
            }
            var choice: [String: JSONValue] = [
                "index": .int(0),
                "message": .object(message),
                "finish_reason": .string(finish),
                "logprobs": .null,
            ]
            // Reasoning models count their reasoning in `completion_tokens` and report the part in
            // `completion_tokens_details.reasoning_tokens` (https://platform.openai.com/docs/guides/reasoning).
            let reasoning = FakeAPIRules.isOpenAIReasoning(model) ? FakeAPIRules.reasoningTokens : 0
            let completionTokens = completionTokens + reasoning
            if let logprobs {
                let content = logprobs.map { entry -> JSONValue in
                    .object([
                        "token": .string(entry.token),
                        "logprob": .number(entry.logprob),
                        "bytes": bytes(entry.token),
                        "top_logprobs": .array(
                            entry.top.map {
                                .object([
                                    "token": .string($0.token), "logprob": .number($0.logprob),
                                    "bytes": bytes($0.token),
                                ])
                            }
                        ),
                    ])
                }
                choice["logprobs"] = .object(["content": .array(content), "refusal": .null])
            }
            return .object([
                "id": .string("chatcmpl-fake\(request.index)"),
                "object": .string("chat.completion"),
                "created": .int(Int(now.timeIntervalSince1970)),
                "model": .string(model),
                "system_fingerprint": .string("fp_fake"),
                "choices": .array([.object(choice)]),
                "usage": .object([
                    "prompt_tokens": .int(promptTokens),
                    "completion_tokens": .int(completionTokens),
                    "total_tokens": .int(promptTokens + completionTokens),
                    "completion_tokens_details": .object(["reasoning_tokens": .int(reasoning)]),
                ]),
            ])

        case .anthropic:
            // https://docs.anthropic.com/en/api/messages: content blocks; a forced tool (`tool_choice` tool/any) is
            // always answered with a `tool_use` block whose `input` follows the schema (stop_reason `tool_use`);
            // extended thinking adds a `thinking` block first and counts it in `output_tokens`;
            // https://docs.anthropic.com/en/api/handling-stop-reasons: end_turn, max_tokens, tool_use, refusal.
            var blocks: [JSONValue] = []
            let thinking = json["thinking"]?["type"]?.stringValue == "enabled"
            if thinking {
                blocks.append(["type": "thinking", "thinking": "Comparing the answers.", "signature": "fake-signature"])
            }
            let choice = json["tool_choice"]?["type"]?.stringValue
            let toolName = json["tools"]?[0]?["name"]?.stringValue
            let parsed = try? JSONValue(jsonData: Data(text.utf8))
            var stopReason = "end_turn"
            if let toolName, stop == nil,
                choice == "tool" || choice == "any" || (choice == "auto" && parsed?.objectValue != nil)
            {
                let input: JSONValue = parsed?.objectValue != nil ? parsed! : ["text": .string(text)]
                blocks.append([
                    "type": "tool_use", "id": .string("toolu_fake\(request.index)"), "name": .string(toolName),
                    "input": input,
                ])
                stopReason = "tool_use"
            } else if !text.isEmpty {
                blocks.append(["type": "text", "text": .string(text)])
            }
            switch stop {
            case .length: stopReason = "max_tokens"
            case .refusal, .contentFilter, .recitation, .promptBlocked: stopReason = "refusal"
            case nil: break
            }
            return .object([
                "id": .string("msg_fake\(request.index)"),
                "type": .string("message"),
                "role": .string("assistant"),
                "model": .string(model),
                "content": .array(blocks),
                "stop_reason": .string(stopReason),
                "stop_sequence": .null,
                "usage": .object([
                    "input_tokens": .int(promptTokens),
                    "output_tokens": .int(completionTokens + (thinking ? FakeAPIRules.reasoningTokens : 0)),
                ]),
            ])

        case .gemini:
            // https://ai.google.dev/api/generate-content#FinishReason and #PromptFeedback: a blocked prompt has
            // `promptFeedback.blockReason` and no candidates; a candidate stopped for safety or recitation has no
            // content; thoughts are counted in `usageMetadata.thoughtsTokenCount`, apart from candidatesTokenCount.
            let thinkingBudget = json["generationConfig"]?["thinkingConfig"]?["thinkingBudget"]?.intValue ?? 0
            let thoughts = thinkingBudget > 0 ? FakeAPIRules.reasoningTokens : 0
            if stop == .promptBlocked {
                return .object([
                    "promptFeedback": ["blockReason": "SAFETY", "safetyRatings": []],
                    "usageMetadata": ["promptTokenCount": .int(promptTokens), "totalTokenCount": .int(promptTokens)],
                    "modelVersion": .string(model),
                ])
            }
            var candidate: [String: JSONValue] = [
                "content": .object([
                    "role": .string("model"),
                    "parts": .array([.object(["text": .string(text)])]),
                ]),
                "finishReason": .string("STOP"),
                "index": .int(0),
            ]
            switch stop {
            case .length: candidate["finishReason"] = "MAX_TOKENS"
            case .refusal, .contentFilter:
                candidate["finishReason"] = "SAFETY"
                candidate["content"] = nil
            case .recitation:
                candidate["finishReason"] = "RECITATION"
                candidate["content"] = nil
            case .promptBlocked, nil: break
            }
            if let logprobs {
                let chosen = logprobs.map {
                    JSONValue.object(["token": .string($0.token), "logProbability": .number($0.logprob)])
                }
                let top = logprobs.map { entry in
                    JSONValue.object([
                        "candidates": .array(
                            entry.top.map {
                                .object(["token": .string($0.token), "logProbability": .number($0.logprob)])
                            }
                        )
                    ])
                }
                let sum = logprobs.reduce(0) { $0 + $1.logprob }
                candidate["logprobsResult"] = .object([
                    "topCandidates": .array(top),
                    "chosenCandidates": .array(chosen),
                    "logProbabilitySum": .number(sum),
                ])
                candidate["avgLogprobs"] = .number(logprobs.isEmpty ? 0 : sum / Double(logprobs.count))
            }
            return .object([
                "candidates": .array([.object(candidate)]),
                "usageMetadata": .object(
                    [
                        "promptTokenCount": .int(promptTokens),
                        "candidatesTokenCount": .int(completionTokens),
                        "totalTokenCount": .int(promptTokens + completionTokens + thoughts),
                    ].merging(thoughts > 0 ? ["thoughtsTokenCount": .int(thoughts)] : [:]) { a, _ in a }),
                "modelVersion": .string(model),
                "responseId": .string("fake\(request.index)"),
            ])

        case .ollama:
            // https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion: `prompt_eval_count`
            // is the number of prompt tokens evaluated. A prompt longer than the context (`options.num_ctx`, default
            // 2048 per https://github.com/ollama/ollama/blob/main/docs/faq.md) is cut to fit and the model answers
            // anyway: the count then stops at the window.
            let window = json["options"]?["num_ctx"]?.intValue ?? Self.ollamaDefaultNumCtx
            let promptTokens = min(promptTokens, window)
            var object: [String: JSONValue] = [
                "model": .string(model),
                "created_at": .string(ISO8601DateFormatter().string(from: now)),
                "message": .object(["role": .string("assistant"), "content": .string(text)]),
                "done": .bool(true),
                "done_reason": .string(stop == .length ? "length" : "stop"),
                "total_duration": .int(1_000_000),
                "load_duration": .int(1_000),
                "prompt_eval_count": .int(promptTokens),
                "prompt_eval_duration": .int(100_000),
                "eval_count": .int(completionTokens),
                "eval_duration": .int(800_000),
            ]
            if let logprobs {
                object["logprobs"] = .array(
                    logprobs.map { entry in
                        .object([
                            "token": .string(entry.token),
                            "logprob": .number(entry.logprob),
                            "bytes": bytes(entry.token),
                            "top_logprobs": .array(
                                entry.top.map {
                                    .object([
                                        "token": .string($0.token), "logprob": .number($0.logprob),
                                        "bytes": bytes($0.token),
                                    ])
                                }
                            ),
                        ])
                    }
                )
            }
            return .object(object)
        }
    }

    /// Ollama's context window when a request sends no `options.num_ctx`.
    static let ollamaDefaultNumCtx = 2048

    static func bytes(_ token: String) -> JSONValue {
        .array(token.utf8.map { .int(Int($0)) })
    }

    // MARK: Errors

    /// The provider's error body for `status`.
    static func error(wire: FakeWire?, status: Int, message: String, retryAfter: Double?) -> JSONValue {
        switch wire {
        case .openai, nil:
            let (type, code): (String, JSONValue) =
                switch status {
                case 401: ("invalid_request_error", .string("invalid_api_key"))
                case 404: ("invalid_request_error", .string("model_not_found"))
                case 429: ("requests", .string("rate_limit_exceeded"))
                case 400..<500: ("invalid_request_error", .null)
                default: ("server_error", .null)
                }
            return .object([
                "error": .object([
                    "message": .string(message), "type": .string(type), "param": .null, "code": code,
                ])
            ])

        case .anthropic:
            let type =
                switch status {
                case 400: "invalid_request_error"
                case 401: "authentication_error"
                case 403: "permission_error"
                case 404: "not_found_error"
                case 413: "request_too_large"
                case 429: "rate_limit_error"
                case 529: "overloaded_error"
                case 400..<500: "invalid_request_error"
                default: "api_error"
                }
            return .object([
                "type": .string("error"),
                "error": .object(["type": .string(type), "message": .string(message)]),
            ])

        case .gemini:
            let statusName =
                switch status {
                case 400: "INVALID_ARGUMENT"
                case 401: "UNAUTHENTICATED"
                case 403: "PERMISSION_DENIED"
                case 404: "NOT_FOUND"
                case 409: "ABORTED"
                case 429: "RESOURCE_EXHAUSTED"
                case 499: "CANCELLED"
                case 501: "UNIMPLEMENTED"
                case 503: "UNAVAILABLE"
                case 504: "DEADLINE_EXCEEDED"
                case 400..<500: "FAILED_PRECONDITION"
                default: "INTERNAL"
                }
            var error: [String: JSONValue] = [
                "code": .int(status), "message": .string(message), "status": .string(statusName),
            ]
            if let retryAfter {
                error["details"] = .array([
                    .object([
                        "@type": .string("type.googleapis.com/google.rpc.RetryInfo"),
                        "retryDelay": .string("\(formatSeconds(retryAfter))s"),
                    ])
                ])
            }
            return .object(["error": .object(error)])

        case .ollama:
            return .object(["error": .string(message)])
        }
    }

    static func defaultMessage(for status: Int) -> String {
        switch status {
        case 400: "Bad request (fake provider)."
        case 401: "Invalid API key (fake provider)."
        case 403: "Permission denied (fake provider)."
        case 404: "Not found (fake provider)."
        case 408: "Request timeout (fake provider)."
        case 413: "Request too large (fake provider)."
        case 429: "Rate limit reached; please retry later (fake provider)."
        case 500: "Internal server error (fake provider)."
        case 502: "Bad gateway (fake provider)."
        case 503: "Service unavailable (fake provider)."
        case 504: "Gateway timeout (fake provider)."
        case 529: "Overloaded (fake provider)."
        default: "HTTP \(status) (fake provider)."
        }
    }

    static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 413: "Payload Too Large"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 529: "Overloaded"
        default: "Status \(status)"
        }
    }
}
