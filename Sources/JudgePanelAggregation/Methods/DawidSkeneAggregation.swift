import Foundation
import JudgeStats
import JudgePanelCore

extension Aggregator {
    /// Dawid–Skene over the judges' reconciled verdicts (pairwise: A/B/tie; pointwise: rounded scores):
    /// the panel verdict is the posterior's most likely class and `confidence` its posterior probability.
    /// Returns the verdicts and each judge's estimated accuracy. Callers go through
    /// ``Aggregator/aggregate(items:judges:verdicts:kind:)``.
    package static func dawidSkene(
        items: [String], judges: [String], verdicts: [[JudgeVerdict]], kind: JudgingProtocol, base: [Verdict]
    ) -> (verdicts: [Verdict], judgeAccuracy: [String: Double?]) {
        var classes: [String] = []
        var classIndex: [String: Int] = [:]
        func label(_ v: JudgeVerdict) -> String? {
            if let p = v.verdict { return p.rawValue }
            if let s = v.score { return String(Int(s.rounded())) }
            return nil
        }
        var data: [(item: Int, worker: Int, label: Int)] = []
        for (i, row) in verdicts.enumerated() {
            for (j, v) in row.enumerated() {
                guard let l = label(v) else { continue }
                let c = classIndex[l] ?? {
                    classes.append(l)
                    classIndex[l] = classes.count - 1
                    return classes.count - 1
                }()
                data.append((i, j, c))
            }
        }
        let fit = DawidSkene.fit(votes: data, nItems: items.count, nWorkers: judges.count, nClasses: classes.count)
        var out = base
        for i in out.indices {
            guard i < fit.labels.count, let c = fit.labels[i] else {
                out[i].verdict = nil
                out[i].score = nil
                out[i].confidence = nil
                continue
            }
            let l = classes[c]
            if let p = Preference(rawValue: l) {
                out[i].verdict = p
            } else {
                out[i].score = Double(l)
            }
            out[i].confidence = fit.posteriors[i][c]
            let answering = verdicts[i].compactMap(label)
            out[i].agreement = answering.isEmpty ? nil : Double(answering.filter { $0 == l }.count) / Double(answering.count)
        }
        var acc: [String: Double?] = [:]
        for (j, name) in judges.enumerated() { acc[name] = j < fit.workerAccuracy.count ? fit.workerAccuracy[j] : nil }
        return (out, acc)
    }
}
