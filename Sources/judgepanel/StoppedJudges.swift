import JudgePanel

/// Says on stderr which judges stopped during a run (an exhausted quota), how many of their calls were not sent, and
/// why (the provider's message, already scrubbed of keys).
func printStoppedJudges(_ counters: RunCounters.Snapshot, votes: [Vote]) {
    for (judge, reason) in counters.stoppedJudges.sorted(by: { $0.key < $1.key }) {
        let unsent = votes.filter { $0.judge == judge && $0.reason == .quota && $0.attempts == 0 }.count
        printErr(
            "judgepanel: judge '\(judge)' stopped, its quota is exhausted (\(unsent) calls not sent, recorded as error "
                + "votes with reason quota): \(reason)")
    }
}
