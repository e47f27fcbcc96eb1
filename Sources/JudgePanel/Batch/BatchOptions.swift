import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// How `score --batch` uses the providers' batch APIs (OpenAI Batch, Anthropic Message Batches).
///
/// ```swift
/// var job = try ScoreJob(itemsPath: "items.jsonl", rubricPath: "rubric.yaml", panelPath: "panel.yaml")
/// job.batch = BatchOptions(fallback: .live)
/// let outcome = try await job.run(outDir: "runs/batch")
/// ```
package struct BatchOptions: Sendable {
    /// What becomes of a request the batch service failed, expired or canceled.
    package enum Fallback: String, Sendable, CaseIterable {
        /// An error vote naming the reason (`batch_failed`, `expired`, `canceled`).
        case none
        /// Asked again as an ordinary live call.
        case live
    }

    /// What becomes of failed, expired or canceled batch requests.
    package var fallback: Fallback
    /// Seconds before the first status poll; each further poll waits 1.5 times longer, up to `maxPollInterval`.
    package var pollInterval: Double
    /// The longest wait between polls, in seconds.
    package var maxPollInterval: Double
    /// At most this many requests per batch (capped by the provider's documented limit).
    package var maxRequestsPerBatch: Int?
    /// Receives progress lines (batch states and request counts); nil prints nothing.
    package var progress: (@Sendable (String) -> Void)?
    /// Gemini: a batch whose input is larger than this many bytes is uploaded as a JSONL file through the Files API
    /// instead of sent as inline requests; nil uses the documented inline limit (20 MB for the whole create request).
    package var geminiInlineBytes: Int?

    package init(
        fallback: Fallback = .none, pollInterval: Double = 10, maxPollInterval: Double = 300,
        maxRequestsPerBatch: Int? = nil,
        progress: (@Sendable (String) -> Void)? = nil
    ) {
        self.fallback = fallback
        self.pollInterval = pollInterval
        self.maxPollInterval = maxPollInterval
        self.maxRequestsPerBatch = maxRequestsPerBatch
        self.progress = progress
    }
}

extension VoteReason {
    /// The batch service failed the request (or the whole batch failed validation).
    package static let batchFailed = VoteReason("batch_failed")
    /// The batch expired before the request ran.
    package static let expired = VoteReason("expired")
    /// The batch was canceled before the request ran.
    package static let canceled = VoteReason("canceled")

    /// The reasons a batch gives; a journaled vote with one of them is the batch's final word unless
    /// `--batch-fallback live` asks again.
    static let batchReasons: Set<VoteReason> = [.batchFailed, .expired, .canceled]
}

/// Removes anything that looks like an API key from a provider's error text, and shortens it.
enum BatchScrub {
    private static let made = NSLock()
    nonisolated(unsafe) private static var cache: [[String]: SecretScrubber] = [:]

    /// `keys` and the process's registered secrets (made once per set of keys).
    static func scrubber(_ keys: [String]) -> SecretScrubber {
        made.lock()
        defer { made.unlock() }
        if let s = cache[keys], SecretScrubber.registered.count == registeredCount[keys] { return s }
        let s = SecretScrubber(secrets: keys).withRegistered()
        cache[keys] = s
        registeredCount[keys] = SecretScrubber.registered.count
        return s
    }
    nonisolated(unsafe) private static var registeredCount: [[String]: Int] = [:]

    package static func scrub(_ text: String, keys: [String]) -> String {
        var s = scrubber(keys).scrub(text).replacingOccurrences(of: "\n", with: " ")
        for key in keys where key.count >= 4 { s = s.replacingOccurrences(of: key, with: "[redacted]") }
        if let re = try? NSRegularExpression(pattern: #"(sk-ant-|sk-|AIza|Bearer )[A-Za-z0-9_\-\.]{6,}"#) {
            s = re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "[redacted]")
        }
        return s.count > 300 ? String(s.prefix(300)) + "…" : s
    }
}
