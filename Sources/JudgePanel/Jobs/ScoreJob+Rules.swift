import Foundation
import JudgePanelAggregation
import JudgePanelCore

/// The rules of `score` that do not depend on how it was asked for (CLI, server, code): which scheduled policy a
/// rubric and panel allow, and what a batch run's estimate costs.
extension ScoreJob {
    /// `--adaptive` and `--cascade` need a rubric and panel they can schedule: a cascade needs a pairwise rubric,
    /// `tiers:` in the panel and an aggregation that gives each item its deciding tier's verdict; adaptive on a
    /// rubric that is not pairwise needs the panel's `adaptive:` stopping rule and a pooling aggregation.
    ///
    /// - Parameters:
    ///   - aggregate: the aggregation asked for (`--aggregate`), nil for the panel's.
    ///   - panelFile: the panel file, named in the error.
    /// - Throws: ``/JudgePanelCore/JudgePanelError`` (bad input or usage, exit 2) saying what is missing.
    package static func checkPolicy(
        _ policy: CallPolicy, rubric r: Rubric, panel p: Panel, aggregate: AggregationMethod?, panelFile: String
    ) throws {
        let method = aggregate ?? p.aggregate
        switch policy {
        case .cascade:
            if p.tiers == nil || r.kind != .pairwise {
                throw JudgePanelError.badInput(
                    "--cascade needs a pairwise rubric and 'tiers:' in the panel file", file: panelFile)
            }
            if Aggregator(method: method).isJoint {
                throw JudgePanelError.usage(
                    "--cascade gives each item its deciding tier's verdict; dawid-skene pools every judge (use majority or weighted)"
                )
            }
        case .adaptive where r.kind != .pairwise:
            if p.scoreStopping == nil {
                throw JudgePanelError.badInput(
                    "--adaptive needs a pairwise rubric, or 'adaptive: {thresholds: [..], tolerance: X}' in the panel file for a \(r.kind.rawValue) one",
                    file: panelFile)
            }
            if !ScoreStopping.poolingMethods.contains(method) {
                throw JudgePanelError.usage(
                    "--adaptive on a \(r.kind.rawValue) rubric pools with mean, median or weighted, not \(method.rawValue)"
                )
            }
        default: break
        }
    }
}

extension ScoreJob.Estimate {
    /// With `--batch`: the judges sent through a batch API cost their price less `batch_discount`.
    package mutating func applyBatchDiscount(_ panel: Panel) {
        for (n, row) in perJudge.enumerated() {
            guard let judge = panel.judges.first(where: { $0.name == row.judge }), judge.provider.supportsBatch,
                let usd = row.usd
            else { continue }
            perJudge[n].usd = usd * (1 - judge.batchDiscount)
        }
        if usd != nil { usd = perJudge.compactMap(\.usd).reduce(0, +) }
    }
}
