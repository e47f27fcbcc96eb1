import Foundation
import JudgePanelCore

/// What one HTTP response says about waiting: how long the provider asked the client to wait (and which
/// header or body field said so), and whether the account's quota is exhausted (a wait will not help).
///
/// Read from every non-2xx response by ``ProviderError/http(_:)``. Sources, most specific first:
/// - `retry-after-ms` (OpenAI; milliseconds) — https://platform.openai.com/docs/guides/rate-limits
/// - `Retry-After` as delay-seconds or as an HTTP-date (RFC 9110 §10.2.3; Anthropic documents it on 429s:
///   https://docs.anthropic.com/en/api/rate-limits#response-headers)
/// - Gemini: `error.details[]` entry `@type: type.googleapis.com/google.rpc.RetryInfo` with `retryDelay`, a
///   protobuf Duration in JSON (`"45s"`, `"1.5s"`) — the only place Gemini puts its wait
///   (https://ai.google.dev/gemini-api/docs/troubleshooting, https://cloud.google.com/apis/design/errors#error_details)
/// - the reset of an exhausted limit: OpenAI `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` (Go-style
///   durations `"1s"`, `"6m0s"`, `"1m30s"`, `"20ms"`), Anthropic `anthropic-ratelimit-{requests,tokens,input-tokens,
///   output-tokens}-reset` (RFC 3339 timestamps). A limit whose `…-remaining` is `0` decides; when none says `0`,
///   the latest reset is used. Reset headers count only on a 429 (every response carries them).
///
/// Absolute times (HTTP-date, RFC 3339) are measured from the response's own `Date` header when it has one, so a
/// skewed local clock does not stretch or shrink the wait.
///
/// Quota (never retried): OpenAI `error.code` or `error.type` `insufficient_quota`
/// (https://platform.openai.com/docs/guides/error-codes); Gemini `RESOURCE_EXHAUSTED` with a
/// `google.rpc.QuotaFailure` violation whose `quotaId` or `quotaMetric` names a per-day limit (those reset at
/// midnight Pacific time, whatever `retryDelay` says — https://ai.google.dev/gemini-api/docs/rate-limits);
/// Anthropic `error.type` `billing_error`, or the 400 `invalid_request_error` it sends when the credit balance or
/// a spend limit is exhausted (https://docs.anthropic.com/en/api/errors).
package struct RateLimitHint: Sendable, Hashable {
    /// Seconds to wait before the next request, when the response says.
    package var retryAfter: Double?
    /// The header or field the wait came from (`Retry-After`, `retry-after-ms`, `RetryInfo.retryDelay`, …).
    package var source: String?
    /// Set when the quota is exhausted: the provider's code for it (`insufficient_quota`, a per-day `quotaId`, …).
    package var quota: String?
}

package enum RateLimitHints {
    /// Reads the hints of one response. `now` is the local time the response arrived (used when it has no `Date`).
    package static func parse(status: Int, headers: [String: String], body: Data, now: Date = Date()) -> RateLimitHint {
        var hint = RateLimitHint()
        let reference = headers["date"].flatMap(httpDate) ?? now
        if let ms = headers["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms >= 0 {
            hint.retryAfter = ms / 1000
            hint.source = "retry-after-ms"
        } else if let value = headers["retry-after"], let seconds = retryAfter(value, reference: reference) {
            hint.retryAfter = seconds
            hint.source = "Retry-After"
        }
        // A body that is not JSON (an HTML error page from a proxy) carries no hints; it is still quoted in the error.
        let error = body.isEmpty ? nil : (try? JSONDecoder().decode(ErrorBody.self, from: body))?.error
        if let error {
            readGoogleDetails(error, into: &hint)
            readQuotaCodes(error, into: &hint)
        }
        if hint.retryAfter == nil, status == 429, let (seconds, source) = resetWait(headers, reference: reference) {
            hint.retryAfter = seconds
            hint.source = source
        }
        return hint
    }

    /// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date turned into seconds from `reference`
    /// (never negative). Decimal seconds are accepted too (some proxies send them).
    package static func retryAfter(_ value: String, reference: Date) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        guard let date = httpDate(text) else { return nil }
        return max(0, date.timeIntervalSince(reference))
    }

    /// An HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept: IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`).
    package static func httpDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = format
            if let d = f.date(from: trimmed.replacingOccurrences(of: "  ", with: " ")) { return d }
        }
        return nil
    }

    /// An RFC 3339 timestamp (`2026-11-29T20:15:03Z`, fractional seconds and offsets allowed).
    package static func rfc3339(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let d = plain.date(from: t) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: t)
    }

    /// A Go `time.Duration` string as OpenAI sends it: a sequence of decimal numbers with units
    /// `h`, `m`, `s`, `ms`, `us`/`µs`, `ns` (`"1s"`, `"6m0s"`, `"1m30s"`, `"20ms"`, `"1.5s"`); `"0"` is zero.
    package static func goDuration(_ text: String) -> Double? {
        let s = Array(text.trimmingCharacters(in: .whitespaces).unicodeScalars)
        if s.count == 1, s[0] == "0" { return 0 }
        var i = 0
        var total = 0.0
        var parts = 0
        while i < s.count {
            var number = ""
            while i < s.count, CharacterSet.decimalDigits.contains(s[i]) || s[i] == "." {
                number.unicodeScalars.append(s[i])
                i += 1
            }
            var unit = ""
            while i < s.count, !(CharacterSet.decimalDigits.contains(s[i]) || s[i] == ".") {
                unit.unicodeScalars.append(s[i])
                i += 1
            }
            guard let value = Double(number) else { return nil }
            let scale: Double
            switch unit {
            case "h": scale = 3600
            case "m": scale = 60
            case "s": scale = 1
            case "ms": scale = 1e-3
            case "us", "µs", "μs": scale = 1e-6
            case "ns": scale = 1e-9
            default: return nil
            }
            total += value * scale
            parts += 1
        }
        return parts > 0 ? total : nil
    }

    /// A protobuf `Duration` in its JSON form: seconds with up to nine fractional digits and an `s` suffix
    /// (`"45s"`, `"1.5s"`, `"0.200s"`).
    package static func protobufDuration(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.hasSuffix("s"), let v = Double(t.dropLast()), v.isFinite, v >= 0 else { return nil }
        return v
    }

    /// `google.rpc.RetryInfo` and `google.rpc.QuotaFailure` details of a Google error object.
    private static func readGoogleDetails(_ error: ErrorBody.Failure, into hint: inout RateLimitHint) {
        for detail in error.details ?? [] {
            let type = detail.type ?? ""
            if type.hasSuffix("google.rpc.RetryInfo"), hint.retryAfter == nil,
                let delay = detail.retryDelay.flatMap(protobufDuration)
            {
                hint.retryAfter = delay
                hint.source = "RetryInfo.retryDelay"
            }
            if type.hasSuffix("google.rpc.QuotaFailure") {
                for violation in detail.violations ?? [] {
                    let id = violation.quotaId ?? ""
                    let metric = violation.quotaMetric ?? ""
                    if (id + " " + metric).range(of: "perday", options: .caseInsensitive) != nil
                        || (id + " " + metric).range(of: "per_day", options: .caseInsensitive) != nil
                    {
                        hint.quota = id.isEmpty ? metric : id
                    }
                }
            }
        }
    }

    /// OpenAI's `insufficient_quota` and Anthropic's billing errors.
    private static func readQuotaCodes(_ error: ErrorBody.Failure, into hint: inout RateLimitHint) {
        let code = error.code ?? ""
        let type = error.type ?? ""
        if code == "insufficient_quota" || type == "insufficient_quota" {
            hint.quota = "insufficient_quota"
        } else if type == "billing_error" {
            hint.quota = "billing_error"
        } else if type == "invalid_request_error", let message = error.message {
            let lowered = message.lowercased()
            if lowered.contains("credit balance is too low")
                || lowered.contains("reached your specified")
                    && lowered.contains("api usage limits")
            {
                hint.quota = "usage_limit"
            }
        }
    }

    /// The wait until an exhausted limit resets, from OpenAI's or Anthropic's reset headers.
    private static func resetWait(_ headers: [String: String], reference: Date) -> (Double, String)? {
        var exhausted: [(Double, String)] = []
        var all: [(Double, String)] = []
        for limit in ["requests", "tokens"] {
            let name = "x-ratelimit-reset-\(limit)"
            guard let value = headers[name], let seconds = goDuration(value) else { continue }
            all.append((seconds, name))
            if headers["x-ratelimit-remaining-\(limit)"]?.trimmingCharacters(in: .whitespaces) == "0" {
                exhausted.append((seconds, name))
            }
        }
        for limit in ["requests", "tokens", "input-tokens", "output-tokens"] {
            let name = "anthropic-ratelimit-\(limit)-reset"
            guard let value = headers[name], let date = rfc3339(value) else { continue }
            let seconds = max(0, date.timeIntervalSince(reference))
            all.append((seconds, name))
            if headers["anthropic-ratelimit-\(limit)-remaining"]?.trimmingCharacters(in: .whitespaces) == "0" {
                exhausted.append((seconds, name))
            }
        }
        return (exhausted.isEmpty ? all : exhausted).max { $0.0 < $1.0 }
    }
}

/// The fields of an error body the hints read, leniently (``ReplyFields``): `error` of the body object, or of its
/// first element where the body is an array (Vertex AI wraps the error object in one; the Gemini API does not).
/// Shapes: OpenAI https://platform.openai.com/docs/guides/error-codes (`error.code`, `error.type`), Anthropic
/// https://docs.anthropic.com/en/api/errors (`error.type`, `error.message`), Google
/// https://cloud.google.com/apis/design/errors#error_details (`error.details[]` with `@type`).
struct ErrorBody: Decodable {
    let error: Failure?

    private enum CodingKeys: String, CodingKey { case error }

    init(from decoder: any Decoder) throws {
        let f = ReplyFields<CodingKeys>(decoder)
        if f.isObject {
            error = try f.present(Failure.self, .error)
        } else if var elements = try? decoder.unkeyedContainer(), !elements.isAtEnd {
            error = try elements.decode(Element.self).error
        } else {
            error = nil
        }
    }

    /// The first element of an array body: its `error` when it is an object.
    private struct Element: Decodable {
        let error: Failure?

        init(from decoder: any Decoder) throws {
            error = try ReplyFields<CodingKeys>(decoder).present(Failure.self, .error)
        }
    }

    struct Failure: Decodable {
        let code: String?
        let type: String?
        let message: String?
        let details: [Detail]?

        private enum CodingKeys: String, CodingKey { case code, type, message, details }

        init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            code = try f.string(.code)
            type = try f.string(.type)
            message = try f.string(.message)
            details = try f.array(Detail.self, .details)
        }
    }

    struct Detail: Decodable {
        let type: String?
        let retryDelay: String?
        let violations: [Violation]?

        private enum CodingKeys: String, CodingKey {
            case type = "@type"
            case retryDelay, violations
        }

        init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            type = try f.string(.type)
            retryDelay = try f.string(.retryDelay)
            violations = try f.array(Violation.self, .violations)
        }
    }

    struct Violation: Decodable {
        let quotaId: String?
        let quotaMetric: String?

        private enum CodingKeys: String, CodingKey { case quotaId, quotaMetric }

        init(from decoder: any Decoder) throws {
            let f = ReplyFields<CodingKeys>(decoder)
            quotaId = try f.string(.quotaId)
            quotaMetric = try f.string(.quotaMetric)
        }
    }
}
