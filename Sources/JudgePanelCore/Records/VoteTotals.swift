/// Votes by status with their tokens and cost: the one set of counts a live run (`RunCounters`), a run's votes file
/// (the run facts) and a judge's vote statistics (the meta report) share. Files and reports keep their own keys
/// (`abstain`, `error`, `cost_usd`, …); they are mapped where the counts are written.
public struct VoteTotals: Sendable, Hashable {
    /// Votes recorded.
    public var votes = 0
    /// Votes with a usable answer.
    public var ok = 0
    /// Votes without a usable answer (written `abstain`).
    public var abstentions = 0
    /// Votes that failed (written `error`).
    public var errors = 0
    /// Prompt tokens used.
    public var promptTokens = 0
    /// Completion tokens used.
    public var completionTokens = 0
    /// Dollars spent (written `cost_usd`), summed in the order the votes were added.
    public var costUSD = 0.0

    /// Counts at zero.
    public init() {}

    /// Counts one vote from its status, tokens and cost.
    @inlinable
    public mutating func add(
        status: VoteStatus, promptTokens prompt: Int = 0, completionTokens completion: Int = 0,
        costUSD cost: Double = 0
    ) {
        votes += 1
        switch status {
        case .ok: ok += 1
        case .abstain: abstentions += 1
        case .error: errors += 1
        }
        promptTokens += prompt
        completionTokens += completion
        costUSD += cost
    }

    /// Counts one vote.
    public mutating func add(_ v: Vote) {
        add(
            status: v.status, promptTokens: v.usage?.promptTokens ?? 0,
            completionTokens: v.usage?.completionTokens ?? 0, costUSD: v.costUSD ?? 0)
    }
}
