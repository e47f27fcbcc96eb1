import Foundation
import JudgePanel

/// Progress on stderr: a live bar on a TTY, a plain line every 10 s otherwise.
final class ProgressReporter: @unchecked Sendable {
    let counters: RunCounters
    private var task: Task<Void, Never>?
    private let started = Date()

    init(counters: RunCounters) {
        self.counters = counters
    }

    func start() {
        let tty = stderrIsTTY
        task = Task { [counters, started] in
            var last = Date.distantPast
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(tty ? 250 : 1000))
                let now = Date()
                if !tty && now.timeIntervalSince(last) < 10 { continue }
                last = now
                let line = Self.line(counters: counters, elapsed: now.timeIntervalSince(started))
                FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
        }
    }

    static func line(counters: RunCounters, elapsed: Double) -> String {
        let snapshot = counters.snapshot
        let s = snapshot.totals
        let total = max(counters.expected, s.votes)
        let rate = elapsed > 0 ? Double(s.votes) / elapsed : 0
        let eta = rate > 0 ? Double(total - s.votes) / rate : 0
        let width = 24
        let filled = total > 0 ? Int(Double(width) * Double(s.votes) / Double(total)) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, width - filled))
        return String(
            format: "[%@] %d/%d votes · %.1f/s · ETA %.0fs · %d retries · %d errors · $%.4f", bar, s.votes, total, rate,
            eta,
            snapshot.retries, s.errors, s.costUSD)
    }

    func stop() {
        task?.cancel()
        task = nil
        if stderrIsTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
