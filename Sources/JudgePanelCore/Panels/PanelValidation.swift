import Foundation

/// Range checks for the numbers and URLs of a panel's judges, run at load so that a value that would be
/// accepted and then misbehave (`timeout: -5`, `rpm: 0` waiting forever, `temperature: 1e400` sent as
/// `null`, a port 99999) is bad input naming the file and line of the key.
package enum PanelValidation {
    /// One problem: the YAML key it comes from and what is wrong.
    package struct Problem: Equatable {
        package let key: String
        package let message: String
    }

    /// Everything wrong with `config`'s values, in key order (empty when it is usable).
    package static func problems(_ config: JudgeConfig) -> [Problem] {
        var out: [Problem] = []
        func check(_ ok: Bool, _ key: String, _ message: @autoclosure () -> String) {
            if !ok { out.append(Problem(key: key, message: message())) }
        }
        for u in config.baseURLs {
            if let url = URLComponents(string: u), let port = url.port {
                check(
                    (1...65535).contains(port), config.baseURLs.count > 1 ? "base_urls" : "base_url",
                    "base_url '\(u)' has port \(port), outside 1...65535")
            }
        }
        if let t = config.temperature {
            check(t.isFinite && t >= 0 && t <= 2, "temperature", "temperature must be a number from 0 to 2 (got \(t))")
        }
        if let m = config.maxTokens { check(m >= 1, "max_tokens", "max_tokens must be at least 1 (got \(m))") }
        // Memory and open connections follow these: bounded at load, not discovered as an allocation failure later.
        check(
            (1...maxConcurrency).contains(config.concurrency), "concurrency",
            "concurrency must be from 1 to \(maxConcurrency) (got \(config.concurrency))")
        if let r = config.rpm { check(r.isFinite && r > 0, "rpm", "rpm must be a number above 0 (got \(r))") }
        if let t = config.tpm { check(t.isFinite && t > 0, "tpm", "tpm must be a number above 0 (got \(t))") }
        if let p = config.price {
            check(
                p.inputPerMTok.isFinite && p.inputPerMTok >= 0, "price",
                "price input_per_mtok must be a number ≥ 0 (got \(p.inputPerMTok))")
            check(
                p.outputPerMTok.isFinite && p.outputPerMTok >= 0, "price",
                "price output_per_mtok must be a number ≥ 0 (got \(p.outputPerMTok))")
        }
        check(
            config.weight.isFinite && config.weight >= 0, "weight", "weight must be a number ≥ 0 (got \(config.weight))"
        )
        check(
            config.timeoutSeconds.isFinite && config.timeoutSeconds > 0, "timeout",
            "timeout must be a number of seconds above 0 (got \(config.timeoutSeconds))")
        if let n = config.topLogprobs {
            check((0...20).contains(n), "logprobs", "top log-probabilities must be from 0 to 20 (got \(n))")
        }
        check(
            (1...maxSamples).contains(config.samples), "samples",
            "samples must be from 1 to \(maxSamples) (got \(config.samples))")
        check(
            (0...maxRetries).contains(config.retries), "retries",
            "retries must be from 0 to \(maxRetries) (got \(config.retries))")
        if let l = config.llamacpp {
            check(l.parallel >= 1, "parallel", "parallel must be at least 1 (got \(l.parallel))")
            check(l.contextSize >= 1, "ctx_size", "ctx_size must be at least 1 (got \(l.contextSize))")
            if let t = l.threads { check(t >= 1, "threads", "threads must be at least 1 (got \(t))") }
        }
        return out
    }

    /// The most samples per call a judge may ask for (each is a call, and the plan holds one entry per call).
    static let maxSamples = 1_000
    /// The most concurrent calls per judge (each holds a connection and its buffers).
    static let maxConcurrency = 4_096
    /// The most retries per call.
    static let maxRetries = 100

    /// Throws the first problem of `config`, at the line of its key in the judge's mapping `j`.
    package static func check(_ config: JudgeConfig, in j: YAMLMap) throws {
        guard let p = problems(config).first else { return }
        // `top_logprobs` and `logprobs` feed one setting; name whichever the file has.
        let key = p.key == "logprobs" && j.node("logprobs") == nil ? "top_logprobs" : p.key
        throw j.error(j.node(key) != nil ? key : "name", "judge '\(config.name)': \(p.message)")
    }
}
