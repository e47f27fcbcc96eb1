import Foundation
import JudgePanelCore

/// One change a server asked for in a 400 (or 403) answer, applied once per judge for the rest of the run.
package enum WireFix: Sendable, Hashable {
    /// Leave the parameter out.
    case drop(String)
    /// Send the same value under another name (`max_tokens` → `max_completion_tokens`).
    case rename(from: String, to: String)
    /// Ask again without log-probabilities.
    case noLogprobs

    /// Reads a provider error: OpenAI's documented shapes
    /// (https://platform.openai.com/docs/guides/error-codes — `{"error": {"message": "Unsupported parameter:
    /// 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "param":
    /// "max_tokens", "code": "unsupported_parameter"}}`, `Unsupported value: 'temperature' …`), the
    /// `Unrecognized request argument supplied: x` of OpenAI-compatible servers, and logprob refusals
    /// (OpenAI 403 "You are not allowed to request logprobs from this model"; Gemini 400 "Logprobs is not
    /// enabled for models/…").
    package static func detect(_ error: ProviderError) -> WireFix? {
        guard let status = error.status, status == 400 || status == 403 || status == 422 else { return nil }
        let text = error.message
        let lower = text.lowercased()
        if lower.contains("logprob"),
            lower.contains("not allowed") || lower.contains("not enabled") || lower.contains("not supported")
                || lower.contains("unsupported")
        {
            return .noLogprobs
        }
        if let param = capture(#"Unsupported parameter: '([A-Za-z_\.]+)'"#, in: text) {
            if let to = capture(#"Use '([A-Za-z_\.]+)' instead"#, in: text) { return .rename(from: param, to: to) }
            return .drop(param)
        }
        if let param = capture(#"Unsupported value: '([A-Za-z_\.]+)'"#, in: text) { return .drop(param) }
        if let param = capture(#"Unrecognized request argument supplied: ([A-Za-z_\.]+)"#, in: text) {
            return .drop(param)
        }
        return nil
    }

    package static func capture(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
            let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
            let r = Range(m.range(at: 1), in: text)
        else { return nil }
        return String(text[r])
    }

    /// The parameter (in panel-file words) the fix touches.
    package var parameter: String {
        switch self {
        case .drop(let p): return p
        case .rename(let from, _): return from
        case .noLogprobs: return "logprobs"
        }
    }
}

package enum ContextOverflow {
    /// Whether a provider error says the prompt does not fit the model's context: vLLM / OpenAI
    /// ("This model's maximum context length is 4096 tokens. However, you requested …", code
    /// `context_length_exceeded`), llama.cpp ("the request exceeds the available context size"), Anthropic
    /// ("prompt is too long: … tokens > … maximum"), Gemini ("The input token count … exceeds the maximum").
    package static func matches(_ error: ProviderError) -> Bool {
        guard let status = error.status, (400..<500).contains(status), status != 429 else { return false }
        let lower = error.message.lowercased()
        return lower.contains("maximum context length") || lower.contains("context_length_exceeded")
            || lower.contains("exceeds the available context size") || lower.contains("exceed_context_size")
            || lower.contains("prompt is too long") || lower.contains("input token count")
            || (lower.contains("context") && lower.contains("exceed"))
    }
}
