import Foundation
import JudgePanelCore
import JudgeStats

extension Aggregator {
    /// Dawid–Skene over the judges' reconciled verdicts (pairwise: A/B/tie; pointwise: rounded scores):
    /// the panel verdict is the posterior's most likely class and `confidence` its posterior probability.
    /// Returns the verdicts and each judge's estimated accuracy. Callers go through
    /// ``Aggregator/aggregate(items:judges:verdicts:kind:)``.
    package static func dawidSkene(
        items: [String], judges: [String], verdicts: [[JudgeVerdict]], kind: JudgingProtocol, base: [Verdict]
    ) -> (verdicts: [Verdict], judgeAccuracy: [String: Double?]) {
        let fit = jointFit(itemCount: items.count, judges: judges) { i, j in verdicts[i][j] }
        var out = base
        for i in out.indices { fit.apply(to: &out[i], item: i, row: verdicts[i]) }
        return (out, fit.judgeAccuracy(judges))
    }

    /// A Dawid–Skene fit over every item's reconciled verdicts (`verdict(item, judge)`), each verdict a class
    /// (its preference, else its rounded score), interned in order of first appearance.
    static func jointFit(itemCount: Int, judges: [String], verdict: (Int, Int) -> JudgeVerdict) -> JointFit {
        var classes: [String] = []
        var classIndex: [String: Int] = [:]
        var data: [(item: Int, worker: Int, label: Int)] = []
        for i in 0..<itemCount {
            for j in judges.indices {
                guard let l = JointFit.label(verdict(i, j)) else { continue }
                let c =
                    classIndex[l]
                    ?? {
                        classes.append(l)
                        classIndex[l] = classes.count - 1
                        return classes.count - 1
                    }()
                data.append((i, j, c))
            }
        }
        let fit = DawidSkene.fit(votes: data, nItems: itemCount, nWorkers: judges.count, nClasses: classes.count)
        return JointFit(classes: classes, fit: fit)
    }

    /// What Dawid–Skene decided: the classes and the fitted model.
    struct JointFit {
        package var classes: [String]
        package var fit: DawidSkeneResult

        /// A verdict's class name: its preference, else its rounded score.
        package static func label(_ v: JudgeVerdict) -> String? {
            if let p = v.verdict { return p.rawValue }
            if let s = v.score { return String(Int(s.rounded())) }
            return nil
        }

        /// Replaces item `i`'s per-item verdict with the fit's (`row`: the judges' verdicts on the item).
        package func apply(to v: inout Verdict, item i: Int, row: [JudgeVerdict]) {
            guard i < fit.labels.count, let c = fit.labels[i] else {
                v.verdict = nil
                v.score = nil
                v.confidence = nil
                return
            }
            let l = classes[c]
            if let p = Preference(rawValue: l) {
                v.verdict = p
            } else {
                v.score = Double(l)
            }
            v.confidence = fit.posteriors[i][c]
            let answering = row.compactMap(Self.label)
            v.agreement = answering.isEmpty ? nil : Double(answering.filter { $0 == l }.count) / Double(answering.count)
        }

        /// Each judge's estimated accuracy (nil where it could not be estimated).
        package func judgeAccuracy(_ judges: [String]) -> [String: Double?] {
            var acc: [String: Double?] = [:]
            for (j, name) in judges.enumerated() {
                acc[name] = j < fit.workerAccuracy.count ? fit.workerAccuracy[j] : nil
            }
            return acc
        }
    }
}
