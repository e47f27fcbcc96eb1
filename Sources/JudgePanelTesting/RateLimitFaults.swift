import Foundation
import JudgePanel

/// How a 429 tells the client to wait, one shape per provider's documentation (for ``FakeReply/rateLimitedAs(_:)``).
///
/// ```swift
/// let server = FakeProviderServer(reply: .rateLimitedAs(.retryAfterDate(Date().addingTimeInterval(2))))
/// ```
public enum FakeRateLimit: Sendable, Hashable {
    /// `Retry-After` as an HTTP-date (IMF-fixdate), with the server's `Date` header beside it
    /// (RFC 9110 §10.2.3 and §6.6.1: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after).
    case retryAfterDate(Date)
    /// OpenAI's `retry-after-ms` alone (milliseconds; the header OpenAI's own SDKs read first:
    /// https://platform.openai.com/docs/guides/rate-limits).
    case retryAfterMilliseconds(Int)
    /// OpenAI's rate-limit headers with no `Retry-After`: `x-ratelimit-limit-/remaining-/reset-requests` and
    /// `…-tokens`, resets as Go durations such as `"1s"`, `"6m0s"`, `"20ms"`
    /// (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers).
    case openAIResetHeaders(resetRequests: String, resetTokens: String, remainingRequests: Int, remainingTokens: Int)
    /// Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}` headers,
    /// resets as RFC 3339 timestamps; the limit named `exhausted` (`requests`, `tokens`, `input-tokens` or
    /// `output-tokens`) has `remaining: 0` and resets after `seconds`, the others have room and reset sooner.
    /// With `retryAfter`, the `retry-after` header Anthropic documents on 429s is sent too (whole seconds)
    /// (https://docs.anthropic.com/en/api/rate-limits#response-headers).
    case anthropicReset(exhausted: String, seconds: Double, retryAfter: Bool)
    /// Gemini's 429 `RESOURCE_EXHAUSTED`, whose wait is only in the body: a `google.rpc.RetryInfo` detail with
    /// `retryDelay` as a protobuf Duration (`"0.2s"`), beside a per-minute `QuotaFailure` and a `Help` link; no
    /// `Retry-After` header (https://ai.google.dev/gemini-api/docs/troubleshooting,
    /// https://cloud.google.com/apis/design/errors#error_details).
    case geminiRetryDelay(String)
}

extension WireRenderer {
    static func imfFixdate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }

    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// A 429 whose wait is given the way `shape` says (rendered in the request's wire format).
    static func rateLimit(_ shape: FakeRateLimit, for request: FakeRequest) -> RenderedReply {
        var headers = jsonHeaders
        let now = Date()
        headers["Date"] = imfFixdate(now)
        var body = error(wire: request.wire, status: 429, message: defaultMessage(for: 429), retryAfter: nil)
        switch shape {
        case .retryAfterDate(let date):
            headers["Retry-After"] = imfFixdate(date)
        case .retryAfterMilliseconds(let ms):
            headers["retry-after-ms"] = String(ms)
        case .openAIResetHeaders(let resetRequests, let resetTokens, let remainingRequests, let remainingTokens):
            headers["x-ratelimit-limit-requests"] = "60"
            headers["x-ratelimit-limit-tokens"] = "150000"
            headers["x-ratelimit-remaining-requests"] = String(remainingRequests)
            headers["x-ratelimit-remaining-tokens"] = String(remainingTokens)
            headers["x-ratelimit-reset-requests"] = resetRequests
            headers["x-ratelimit-reset-tokens"] = resetTokens
        case .anthropicReset(let exhausted, let seconds, let retryAfter):
            for limit in ["requests", "tokens", "input-tokens", "output-tokens"] {
                let isExhausted = limit == exhausted
                headers["anthropic-ratelimit-\(limit)-limit"] = limit == "requests" ? "50" : "40000"
                headers["anthropic-ratelimit-\(limit)-remaining"] =
                    isExhausted ? "0" : (limit == "requests" ? "12" : "9000")
                let reset = now.addingTimeInterval(isExhausted ? seconds : seconds / 4)
                headers["anthropic-ratelimit-\(limit)-reset"] = rfc3339(reset)
            }
            if retryAfter { headers["retry-after"] = String(Int(seconds.rounded(.up))) }
        case .geminiRetryDelay(let delay):
            body = geminiResourceExhausted(
                message: "You exceeded your current quota, please check your plan and billing details.",
                quotaID: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", retryDelay: delay)
        }
        return .response(status: 429, headers: headers, body: body.encoded())
    }

    /// Gemini's 429 body: `RESOURCE_EXHAUSTED` with `QuotaFailure`, `Help` and (when given) `RetryInfo` details,
    /// as the Gemini API sends them (https://ai.google.dev/gemini-api/docs/troubleshooting,
    /// https://ai.google.dev/gemini-api/docs/rate-limits).
    static func geminiResourceExhausted(message: String, quotaID: String, retryDelay: String?) -> JSONValue {
        var details: [JSONValue] = [
            .object([
                "@type": .string("type.googleapis.com/google.rpc.QuotaFailure"),
                "violations": .array([
                    .object([
                        "quotaMetric": .string("generativelanguage.googleapis.com/generate_content_free_tier_requests"),
                        "quotaId": .string(quotaID),
                        "quotaDimensions": .object(["location": .string("global"), "model": .string("fake-model")]),
                        "quotaValue": .string("50"),
                    ])
                ]),
            ]),
            .object([
                "@type": .string("type.googleapis.com/google.rpc.Help"),
                "links": .array([
                    .object([
                        "description": .string("Learn more about Gemini API quotas"),
                        "url": .string("https://ai.google.dev/gemini-api/docs/rate-limits"),
                    ])
                ]),
            ]),
        ]
        if let retryDelay {
            details.append(
                .object([
                    "@type": .string("type.googleapis.com/google.rpc.RetryInfo"), "retryDelay": .string(retryDelay),
                ]))
        }
        return .object([
            "error": .object([
                "code": .int(429), "message": .string(message), "status": .string("RESOURCE_EXHAUSTED"),
                "details": .array(details),
            ])
        ])
    }

    /// The provider's "quota exhausted" answer: OpenAI 429 `insufficient_quota`
    /// (https://platform.openai.com/docs/guides/error-codes#api-errors); Gemini 429 `RESOURCE_EXHAUSTED` with a
    /// per-day `QuotaFailure` (and the short `RetryInfo` it still carries); Anthropic 402 `billing_error`
    /// (https://docs.anthropic.com/en/api/errors); Ollama has no quota and answers a plain 429.
    static func quotaExhausted(for request: FakeRequest) -> RenderedReply {
        switch request.wire {
        case .openai:
            let body: JSONValue = .object([
                "error": .object([
                    "message": .string(
                        "You exceeded your current quota, please check your plan and billing details. For more "
                            + "information on this error, read the docs: "
                            + "https://platform.openai.com/docs/guides/error-codes/api-errors."),
                    "type": .string("insufficient_quota"), "param": .null, "code": .string("insufficient_quota"),
                ])
            ])
            return .response(status: 429, headers: jsonHeaders, body: body.encoded())
        case .gemini:
            let body = geminiResourceExhausted(
                message: "You exceeded your current quota, please check your plan and billing details.",
                quotaID: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", retryDelay: "0.2s")
            return .response(status: 429, headers: jsonHeaders, body: body.encoded())
        case .anthropic:
            let body: JSONValue = .object([
                "type": .string("error"),
                "error": .object([
                    "type": .string("billing_error"),
                    "message": .string("Your credit balance is too low to access the Anthropic API."),
                ]),
            ])
            return .response(status: 402, headers: jsonHeaders, body: body.encoded())
        case .ollama:
            let body = error(wire: .ollama, status: 429, message: defaultMessage(for: 429), retryAfter: nil)
            return .response(status: 429, headers: jsonHeaders, body: body.encoded())
        }
    }

    /// A 401 whose message echoes the key the way OpenAI does ("Incorrect API key provided: sk-proj-****MxYA. …",
    /// https://platform.openai.com/docs/guides/error-codes#api-errors), in the request's wire format; `echo` is the
    /// masked key the message shows. The same echo is sent in a response header, as a proxy in front of a provider
    /// may do.
    static func invalidKey(echo: String, for request: FakeRequest) -> RenderedReply {
        let message =
            "Incorrect API key provided: \(echo). You can find your API key at https://platform.openai.com/account/api-keys."
        var headers = jsonHeaders
        headers["X-Echoed-Key"] = echo
        let body = error(wire: request.wire, status: 401, message: message, retryAfter: nil)
        return .response(status: 401, headers: headers, body: body.encoded())
    }
}
