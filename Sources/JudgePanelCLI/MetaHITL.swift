import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

extension MetaCommand {
    /// `meta ITEMS --votes VOTES --labels LABELS --hitl`: FairEval's human-in-the-loop calibration curve (the panel's
    /// and each judge's accuracy against the items' reference labels with the labelled items' verdicts replaced by
    /// the human label, against the share labelled) and the annotators' agreement (among themselves and with the
    /// panel). The items file's labels are the reference; the labels file is the human in the loop.
    func runHITL() throws {
        guard let votes else { throw JudgePanelError.usage("--hitl needs --votes VOTES (recorded votes)") }
        guard !labels.isEmpty else { throw JudgePanelError.usage("--hitl needs --labels LABELS.jsonl") }
        let loaded = try itemOptions.loader().load(path: items)
        var recorded = try VotesFile.load(path: votes)
        if let keep = judges.map({
            Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }) {
            recorded = recorded.filter { keep.contains($0.judge) }
        }
        guard recorded.allSatisfy({ $0.protocol == .pairwise }) else {
            throw JudgePanelError.usage("--hitl is for pairwise votes (FairEval's win / tie / lose)")
        }
        let set = try LabelsFile.read(paths: labels, pairwise: true)
        let method = aggregate ?? .majority
        let curve = HITLCurve.compute(
            items: loaded, votes: recorded, labels: set.records, flip: flip, aggregate: method)
        // The panel's verdicts (no human replaced) for each annotator's agreement with the panel.
        let table = Reconcile.table(items: loaded, votes: recorded, kind: .pairwise, flip: flip)
        let panel = Aggregator(method: method).aggregate(
            items: loaded.map(\.id), judges: table.judges,
            verdicts: loaded.indices.map { i in table.judges.indices.map { table.verdicts[$0][i] } }, kind: .pairwise)
        var byID: [String: Preference?] = [:]
        for v in panel.verdicts { byID[v.item] = v.verdict }
        let agreement = AnnotatorAgreement.compute(items: loaded, labels: set, panel: byID)
        if json {
            let e = JSONEncoder.reportEncoder
            let value: JSONValue = [
                "hitl": try JSONValue(jsonData: e.encode(curve)),
                "annotators": try JSONValue(jsonData: e.encode(agreement)),
            ]
            say(String(decoding: try e.encode(value), as: UTF8.self))
            return
        }
        say(curve.text(every: max(1, curve.points.count / 40)))
        say("")
        if let h = agreement.human {
            say(
                "annotators: \(h.nAnnotators), items labelled by two or more: \(h.nItems); Fleiss κ \(h.fleissKappa?.description ?? "—"), Krippendorff α \(h.krippendorffAlpha?.description ?? "—")"
            )
            for (pair, k) in h.pairwiseCohenKappa.sorted(by: { $0.key < $1.key }) { say("  Cohen κ \(pair): \(k)") }
        } else {
            say("annotators: fewer than two, no inter-annotator agreement")
        }
        for w in agreement.withPanel {
            say("  \(w.annotator) vs panel: n \(w.n), agreement \(w.agreement), Cohen κ \(w.cohenKappa)")
        }
    }
}
