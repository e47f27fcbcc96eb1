import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// `judgepanel batches DIR [status|cancel]`: the batches a run directory's ledger names, as the providers see them
/// now, and cancelling the ones still running. The judges (provider, base URL, key variable) come from the run's
/// `config.json`, so the panel file is not needed.
///
/// ```swift
/// for row in try await BatchControl.status(dir: "runs/batch") { print(row.label, row.state) }
/// ```
package enum BatchControl {
    /// One batch of a run.
    package struct Row: Sendable {
        /// The chunk label (`b{n}-{judge}`), also in the batch's metadata where the provider keeps it.
        package var label: String
        package var judge: String
        /// The provider's batch id (nil: the batch was never created, or its creation was not journaled).
        package var batchID: String?
        package var requests: Int
        /// The provider's state now (or what the ledger knows when the batch cannot be asked).
        package var state: String
        /// The provider's request counts, in its own words.
        package var counts: String
        /// Whether this run already read its results.
        package var collected: Bool
    }

    /// Every batch of the run in `dir`, asked of its provider (`refresh: false` reports only the ledger).
    package static func status(
        dir: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: (any HTTPTransport)? = nil,
        refresh: Bool = true
    ) async throws -> [Row] {
        let (judges, chunks) = try load(dir: dir)
        var rows: [Row] = []
        try await RunTransport.with(transport, judges: Array(judges.values), environment: environment) { transport in
            for chunk in chunks {
                var row = Row(
                    label: chunk.label, judge: chunk.judge, batchID: chunk.batchID, requests: chunk.requests,
                    state: chunk.finalState
                        ?? (chunk.batchID == nil
                            ? (chunk.creatingAt == nil ? "not created" : "create sent, id not journaled") : "unknown"),
                    counts: "", collected: chunk.collected)
                if refresh, let id = chunk.batchID, let judge = judges[chunk.judge] {
                    let s = try await BatchBackends.make(judge: judge, environment: environment, transport: transport)
                        .retrieve(id)
                    row.state = s.state
                    row.counts = s.countsText
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// Asks the provider to cancel every batch of the run that has not ended; returns the rows after the request.
    /// A resumed run then collects what the batches finished and records the rest as `canceled`.
    package static func cancel(
        dir: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: (any HTTPTransport)? = nil
    ) async throws -> [Row] {
        let (judges, chunks) = try load(dir: dir)
        var rows: [Row] = []
        try await RunTransport.with(transport, judges: Array(judges.values), environment: environment) { transport in
            for chunk in chunks {
                var row = Row(
                    label: chunk.label, judge: chunk.judge, batchID: chunk.batchID, requests: chunk.requests,
                    state: chunk.finalState ?? "not created", counts: "", collected: chunk.collected)
                if let id = chunk.batchID, let judge = judges[chunk.judge] {
                    let backend = try BatchBackends.make(judge: judge, environment: environment, transport: transport)
                    var s = try await backend.retrieve(id)
                    if !s.ended && s.phase != .cancelling {
                        s = try await backend.cancel(id)
                    }
                    row.state = s.state
                    row.counts = s.countsText
                }
                rows.append(row)
            }
        }
        return rows
    }

    package static func load(dir: String) throws -> ([String: JudgeConfig], [BatchChunk]) {
        let run = RunDirectory(path: dir)
        let (_, chunks) = try BatchLedger.read(dir: run)
        let configPath = run.url.appendingPathComponent("config.json").path
        guard let config = try RunConfig.read(dir: dir) else {
            throw JudgePanelError.badInput("missing config.json", file: configPath)
        }
        var judges: [String: JudgeConfig] = [:]
        for j in config.panel?.judges ?? [] {
            guard !j.name.isEmpty, let kind = j.provider.flatMap(ProviderKind.init(rawValue:)) else { continue }
            judges[j.name] = JudgeConfig(
                name: j.name, provider: kind, model: j.model ?? "", baseURLs: j.baseURLs ?? [], apiKeyEnv: j.apiKeyEnv)
        }
        return (judges, chunks)
    }
}
