import ArgumentParser
import Foundation
import JudgePanel

/// `score --batch` and its companions.
struct BatchFlags: ParsableArguments {
    @Flag(
        help:
            "Send openai, anthropic and gemini judges' calls through the providers' batch APIs (half price, results within 24 h); batch ids are journaled so --resume never resubmits."
    )
    var batch = false
    @Option(
        name: .customLong("batch-fallback"),
        help:
            "What becomes of failed, expired or canceled batch requests: none (error votes) | live (asked again live).")
    var fallback: BatchOptions.Fallback = .none
    @Option(
        name: .customLong("batch-poll"),
        help: "Seconds before the first batch status poll (then 1.5× longer each time, up to 300).")
    var poll: Double = 10
    @Option(
        name: .customLong("batch-size"),
        help: "At most this many requests per batch (the provider's limit applies anyway).")
    var size: Int?

    /// The largest batch any supported provider takes (Anthropic: 100 000 requests).
    static let maxBatchSize = 100_000

    func options(adaptive: Bool) throws -> BatchOptions? {
        guard batch else {
            if fallback != .none || size != nil {
                throw JudgePanelError.usage("--batch-fallback and --batch-size need --batch")
            }
            return nil
        }
        if adaptive {
            throw JudgePanelError.usage(
                "--batch and --adaptive cannot be combined (adaptive calls depend on earlier answers)")
        }
        guard poll > 0, poll.isFinite, poll <= 86_400, size.map({ (1...Self.maxBatchSize).contains($0) }) ?? true else {
            throw JudgePanelError.usage(
                "--batch-poll must be from 0 to 86400 seconds and --batch-size from 1 to \(Self.maxBatchSize) (the largest provider limit)"
            )
        }
        return BatchOptions(
            fallback: fallback, pollInterval: poll, maxPollInterval: max(poll, 300), maxRequestsPerBatch: size,
            progress: { printErr("judgepanel: " + $0) })
    }
}

extension BatchOptions.Fallback: ExpressibleByArgument {}

struct BatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches",
        abstract: "Show (status) or cancel the provider batches of a `score --batch` run directory.")

    enum Action: String, ExpressibleByArgument, CaseIterable { case status, cancel }

    @Argument(help: "Run directory.") var dir: String
    @Argument(help: "status | cancel") var action: Action = .status

    func run() async throws {
        try await runMapped {
            let rows =
                action == .status ? try await BatchControl.status(dir: dir) : try await BatchControl.cancel(dir: dir)
            print(
                TextTable.plain(
                    header: ["batch", "judge", "id", "requests", "state", "counts", "collected"],
                    rows: rows.map { r in
                        [
                            r.label, r.judge, r.batchID ?? "-", String(r.requests), r.state, r.counts,
                            r.collected ? "yes" : "no",
                        ]
                    }))
            if action == .cancel {
                print(
                    "cancel requested for every batch that had not ended; `score --resume` collects what they finished")
            }
        }
    }
}
