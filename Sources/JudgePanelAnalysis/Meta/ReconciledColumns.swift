import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// ``MetaAnalysis/Reconciled`` as columns: each judge's reconciled verdicts and the panel's verdict and score per
/// item (``VerdictColumn``: a byte an item, plus score columns only where there are scores). Every metric of the
/// report is computed from these; ``MetaAnalysis/Reconciled`` converts to and from them at the public boundary.
package struct ReconciledColumns: Sendable {
    /// The judges, in report order.
    package var judges: [String]
    /// The protocol the votes were cast under.
    package var kind: JudgingProtocol
    /// [judge] → verdict per item.
    package var verdicts: [VerdictColumn]
    /// The panel's verdict and score per item.
    package var panel: VerdictColumn
    /// Each judge's accuracy as estimated by Dawid–Skene (empty for the per-item methods).
    package var estimatedAccuracy: [String: Double?]

    package init(
        judges: [String], kind: JudgingProtocol, verdicts: [VerdictColumn], panel: VerdictColumn,
        estimatedAccuracy: [String: Double?]
    ) {
        self.judges = judges
        self.kind = kind
        self.verdicts = verdicts
        self.panel = panel
        self.estimatedAccuracy = estimatedAccuracy
    }

    /// The columns of reconciled verdicts.
    package init(_ rec: MetaAnalysis.Reconciled) {
        judges = rec.judges
        kind = rec.kind
        verdicts = rec.verdicts.map { VerdictColumn($0) }
        panel = VerdictColumn(rec.panel.lazy.map { JudgeVerdict(verdict: $0.verdict, score: $0.score) })
        estimatedAccuracy = rec.estimatedAccuracy
    }

    /// The public form with each panel verdict holding only its item, verdict and score (``Verdict/trimmed``).
    package func trimmed(ids: [String]) -> MetaAnalysis.Reconciled {
        MetaAnalysis.Reconciled(
            judges: judges, kind: kind, verdicts: verdicts.map { Array($0) },
            panel: zip(ids, panel).map { Verdict(item: $0, verdict: $1.verdict, score: $1.score) },
            estimatedAccuracy: estimatedAccuracy)
    }
}

extension MetaAnalysis {
    /// The panel over every judge's reconciled verdict columns (``Aggregator`` item by item, or jointly for
    /// Dawid–Skene), handing each whole panel verdict to `sink` in item order and keeping only its verdict and score.
    func reconcileColumns(
        ids: [String], judges: [String], kind: JudgingProtocol, verdicts: [VerdictColumn],
        sink: ((Verdict) throws -> Void)?
    ) rethrows -> ReconciledColumns {
        let (panel, accuracy) = try Aggregator(method: options.aggregate, weights: options.weights).aggregate(
            itemCount: ids.count, id: { ids[$0] }, judges: judges, columns: verdicts, kind: kind, sink: sink)
        return ReconciledColumns(
            judges: judges, kind: kind, verdicts: verdicts, panel: panel, estimatedAccuracy: accuracy)
    }
}
