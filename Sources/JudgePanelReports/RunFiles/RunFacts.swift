import Foundation
import JudgePanelCore

/// The facts of a finished `score` (or `merge`) run: what was read, when it ran, and what its calls did. Recorded
/// under `run` in config.json and copied under `run` into report.json (README, "The run directory").
///
/// Keys are snake_case as in the file; optional members are left out of the file when they do not apply. Keys this
/// build does not know are kept in ``extra`` and written back as they were.
package struct RunFacts: Codable, Sendable, Equatable {
    /// The items file the run read.
    package var itemsFile = ""
    /// The rubric's id.
    package var rubric = ""
    /// The judging protocol (`pairwise`, `pointwise`, …).
    package var `protocol` = ""
    /// The panel file ("" for a panel built in code).
    package var panel = ""
    /// The judges' names, in the panel's order.
    package var judges: [String] = []
    /// ISO 8601 start time.
    package var started = ""
    /// Wall time in seconds (rounded to the millisecond).
    package var wallSeconds = 0.0
    package var votes = 0
    package var reusedFromJournal = 0
    package var reasked = 0
    package var droppedFromJournal = 0
    package var httpCalls = 0
    package var cached = 0
    package var ok = 0
    package var abstain = 0
    package var error = 0
    package var promptTokens = 0
    package var completionTokens = 0
    package var costUSD = 0.0
    /// Calls of priced judges whose cost is unknown; nil (absent) when none.
    package var costUnknownCalls: Int?
    /// {judge: {model version: votes}}, as the providers reported; nil when none reported.
    package var modelVersions: [String: [String: Int]]?
    /// {judge: {system_fingerprint: votes}} (OpenAI); nil when none reported.
    package var systemFingerprints: [String: [String: Int]]?
    /// The runner's adjustments and log-probability notes; nil when none.
    package var notes: [String]?
    /// Why the response cache could not be written; nil when it could.
    package var cacheUnwritable: String?
    /// Judges stopped by an exhausted quota: why, in the provider's (scrubbed) words.
    package var stoppedJudges: [String: String]?
    /// Per stopped judge, the calls not sent.
    package var quotaUnsent: [String: Int]?
    /// Keys this build does not know, kept as they were.
    package var extra: [String: JSONValue] = [:]

    package init() {}

    static let known: Set<String> = [
        "items_file", "rubric", "protocol", "panel", "judges", "started", "wall_s", "votes", "reused_from_journal",
        "reasked", "dropped_from_journal", "http_calls", "cached", "ok", "abstain", "error", "prompt_tokens",
        "completion_tokens", "cost_usd", "cost_unknown_calls", "model_versions", "system_fingerprints", "notes",
        "cache_unwritable", "stopped_judges", "quota_unsent",
    ]

    /// Reads the facts; a key missing from an older (or hand-made) file reads as its default.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: RunFileKey.self)
        itemsFile = try c.field("items_file") ?? ""
        rubric = try c.field("rubric") ?? ""
        `protocol` = try c.field("protocol") ?? ""
        panel = try c.field("panel") ?? ""
        judges = try c.field("judges") ?? []
        started = try c.field("started") ?? ""
        wallSeconds = try c.field("wall_s") ?? 0
        votes = try c.field("votes") ?? 0
        reusedFromJournal = try c.field("reused_from_journal") ?? 0
        reasked = try c.field("reasked") ?? 0
        droppedFromJournal = try c.field("dropped_from_journal") ?? 0
        httpCalls = try c.field("http_calls") ?? 0
        cached = try c.field("cached") ?? 0
        ok = try c.field("ok") ?? 0
        abstain = try c.field("abstain") ?? 0
        error = try c.field("error") ?? 0
        promptTokens = try c.field("prompt_tokens") ?? 0
        completionTokens = try c.field("completion_tokens") ?? 0
        costUSD = try c.field("cost_usd") ?? 0
        costUnknownCalls = try c.field("cost_unknown_calls")
        modelVersions = try c.field("model_versions")
        systemFingerprints = try c.field("system_fingerprints")
        notes = try c.field("notes")
        cacheUnwritable = try c.field("cache_unwritable")
        stoppedJudges = try c.field("stopped_judges")
        quotaUnsent = try c.field("quota_unsent")
        extra = try c.extra(known: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RunFileKey.self)
        try c.put(itemsFile, "items_file")
        try c.put(rubric, "rubric")
        try c.put(`protocol`, "protocol")
        try c.put(panel, "panel")
        try c.put(judges, "judges")
        try c.put(started, "started")
        try c.put(wallSeconds, "wall_s")
        try c.put(votes, "votes")
        try c.put(reusedFromJournal, "reused_from_journal")
        try c.put(reasked, "reasked")
        try c.put(droppedFromJournal, "dropped_from_journal")
        try c.put(httpCalls, "http_calls")
        try c.put(cached, "cached")
        try c.put(ok, "ok")
        try c.put(abstain, "abstain")
        try c.put(error, "error")
        try c.put(promptTokens, "prompt_tokens")
        try c.put(completionTokens, "completion_tokens")
        try c.put(costUSD, "cost_usd")
        try c.put(costUnknownCalls, "cost_unknown_calls")
        try c.put(modelVersions, "model_versions")
        try c.put(systemFingerprints, "system_fingerprints")
        try c.put(notes, "notes")
        try c.put(cacheUnwritable, "cache_unwritable")
        try c.put(stoppedJudges, "stopped_judges")
        try c.put(quotaUnsent, "quota_unsent")
        try c.put(extra: extra)
    }

    /// The facts as written (under `run` in config.json and report.json).
    package var json: JSONValue {
        get throws { try RunFiles.json(self, what: "the run facts") }
    }
}

extension RunFacts {
    /// Sets the vote counts (`votes`, `ok`, `abstain`, `error`, `prompt_tokens`, `completion_tokens`, `cost_usd`)
    /// from one set of totals — a single run's and a merge's alike.
    package mutating func record(_ t: VoteTotals) {
        votes = t.votes
        ok = t.ok
        abstain = t.abstentions
        error = t.errors
        promptTokens = t.promptTokens
        completionTokens = t.completionTokens
        costUSD = t.costUSD
    }
}
