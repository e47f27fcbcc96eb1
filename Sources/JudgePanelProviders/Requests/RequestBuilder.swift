import Foundation
import JudgePanelCore
import Yams

/// Builds the request a judge sends: the panel's settings, the model rule table and what the judge's server
/// asked for during this run (``JudgeAdjustments``).
package enum RequestBuilder {
    package static func request(
        config: JudgeConfig, messages: [ChatMessage], jsonSchema: JSONValue?, sample: Int,
        adjustments: JudgeAdjustments? = nil, maxTokensFloor: Int? = nil
    ) -> CompletionRequest {
        let traits = config.traits
        // `cond ? schema : nil` infers `nil` as JSONValue.null (ExpressibleByNilLiteral): a null schema is none.
        var schema = jsonSchema
        if schema?.isNull == true { schema = .none }
        var request = CompletionRequest(
            model: config.model, messages: messages, temperature: config.temperature,
            maxTokens: config.maxTokens.map { max($0, maxTokensFloor ?? 0) }, seed: config.seed.map { $0 + sample },
            jsonSchema: schema, topLogprobs: config.topLogprobs)
        // A sampling default the model rejects is left out (an explicit one was refused at load time).
        if let t = request.temperature, t != 1, traits.rejectsSampling.contains("temperature") {
            request.temperature = nil
        }
        // llama.cpp's server computes no probabilities at temperature 0 and reports 1.0 for the greedy token;
        // a negative temperature is the same greedy decoding with the probabilities of a plain softmax of the
        // logits (https://github.com/ggml-org/llama.cpp/tree/master/tools/server README, `/completion`:
        // "If temperature is negative, tokens are sampled greedily but the probabilities are calculated").
        if config.provider == .llamacpp, let n = request.topLogprobs {
            if request.temperature == 0 { request.temperature = -1 }
            // A short top-k list often holds one verdict label only, which renormalises to P = 1.0: read at least
            // 20 alternatives at the verdict position (llama.cpp's `n_probs` has no small cap).
            request.topLogprobs = max(n, 20)
        }
        var wire = WireSettings(
            reasoningEffort: config.reasoningEffort, thinkingBudget: config.thinkingBudget,
            geminiThinkingBudget: config.geminiThinkingBudget, headers: config.headers, extraBody: config.extraBody,
            omit: config.omit, tokenLimitField: traits.usesMaxCompletionTokens ? "max_completion_tokens" : "max_tokens",
            numCtx: nil, azureAPIVersion: config.azureAPIVersion)
        for field in config.omit {
            switch field {
            case "temperature": request.temperature = nil
            case "max_tokens", "max_completion_tokens": request.maxTokens = nil
            case "seed": request.seed = nil
            case "logprobs", "top_logprobs": request.topLogprobs = nil
            default: break
            }
        }
        if config.provider == .ollama { wire.numCtx = config.ctxSize }  // nil: sized from each request's prompt
        request.wire = wire
        return adjustments?.apply(request) ?? request
    }
}

/// Ollama's context window for a request.
enum OllamaContext {
    /// Ollama's documented default context when `num_ctx` is not sent
    /// (https://github.com/ollama/ollama/blob/main/docs/faq.md "How can I specify the context window size?").
    static let defaultNumCtx = 2048

    /// Generous prompt-token estimate: 1 token per 3 UTF-8 bytes plus 8 per message (chat-template tokens).
    static func generousPromptTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + ($1.content.utf8.count + 2) / 3 + 8 }
    }

    /// A conservative lower bound of the prompt's tokens (1 per 6 UTF-8 bytes): a server that reports fewer
    /// evaluated prompt tokens than this cut the prompt.
    static func minimumPromptTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + $1.content.utf8.count / 6 }
    }

    /// `num_ctx`: the judge's `ctx_size`, or the prompt estimate plus the output limit, rounded up to a multiple
    /// of 1024 and never below Ollama's default.
    package static func numCtx(for request: CompletionRequest, configured: Int?) -> Int {
        if let configured { return configured }
        let needed = generousPromptTokens(request.messages) + (request.maxTokens ?? 512)
        return max(defaultNumCtx, (needed + 1023) / 1024 * 1024)
    }
}
