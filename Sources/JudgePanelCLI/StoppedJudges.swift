import JudgePanel

/// Says on stderr which judges stopped during a run (an exhausted quota), how many of their calls were not sent, and
/// why (the provider's message, already scrubbed of keys).
func printStoppedJudges(_ counters: RunCounters.Snapshot, votes: [Vote]) {
    var unsent: [String: Int] = [:]
    for v in votes where v.reason == .quota && v.attempts == 0 { unsent[v.judge, default: 0] += 1 }
    printStoppedJudges(counters, unsent: unsent)
}

/// The same, from per-judge counts of calls not sent.
func printStoppedJudges(_ counters: RunCounters.Snapshot, unsent: [String: Int]) {
    for (judge, reason) in counters.stoppedJudges.sorted(by: { $0.key < $1.key }) {
        let unsent = unsent[judge] ?? 0
        printErr(
            "judgepanel: judge '\(judge)' stopped, its quota is exhausted (\(unsent) calls not sent, recorded as error "
                + "votes with reason quota): \(reason)")
    }
}
