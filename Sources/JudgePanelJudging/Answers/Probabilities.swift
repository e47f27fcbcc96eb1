import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// Reads verdict probabilities from token log-probabilities: P(A)/P(B)/P(tie) for pairwise answers
/// and the expected score (G-Eval) for pointwise ones.
package enum Probabilities {
    /// Pairwise probabilities in the *shown* order, from the last token whose alternatives name a verdict.
    package static func pairwise(_ tokens: [TokenLogprob], allowTie: Bool) -> [Preference: Double]? {
        for t in tokens.reversed() {
            var mass: [Preference: Double] = [:]
            let alternatives = t.top.isEmpty ? [TokenLogprob.Alternative(token: t.token, logprob: t.logprob)] : t.top
            guard let chosen = choice(t.token), chosen != .tie || allowTie else { continue }
            for a in alternatives {
                guard let p = choice(a.token), p != .tie || allowTie else { continue }
                mass[p, default: 0] += exp(a.logprob)
            }
            if mass[chosen] == nil { mass[chosen] = exp(t.logprob) }
            let total = mass.values.reduce(0, +)
            // an infinite logprob (a server's 1e999) gives no probabilities, not NaN
            guard total > 0, total.isFinite else { continue }
            return mass.mapValues { $0 / total }
        }
        return nil
    }

    /// The probability-weighted score over the scale, from the last token that is a score on it.
    package static func expectedScore(_ tokens: [TokenLogprob], scale: Scale) -> Double? {
        for t in tokens.reversed() {
            guard let chosen = Int(t.token.trimmingCharacters(in: .whitespaces)), chosen >= scale.min,
                chosen <= scale.max
            else { continue }
            var mass: [Int: Double] = [:]
            for a in t.top {
                if let v = Int(a.token.trimmingCharacters(in: .whitespaces)), v >= scale.min, v <= scale.max {
                    mass[v, default: 0] += exp(a.logprob)
                }
            }
            if mass[chosen] == nil { mass[chosen] = exp(t.logprob) }
            let total = mass.values.reduce(0, +)
            // an infinite logprob (a server's 1e999) gives no probabilities, not NaN
            guard total > 0, total.isFinite else { continue }
            return mass.reduce(0) { $0 + Double($1.key) * $1.value } / total
        }
        return nil
    }

    /// Whether a pairwise reading is degenerate: one label holds at least 0.999 of the mass. That is what a
    /// server gives when it reports post-sampling probabilities of greedy decoding (llama.cpp at temperature 0
    /// reports 1.0 for the chosen token), or when the short top-k list holds only one verdict label, so the
    /// renormalised "probability" equals the argmax.
    package static func isDegenerate(_ probs: [String: Double]) -> Bool {
        (probs.values.max() ?? 0) >= 0.999
    }

    package static func choice(_ token: String) -> Preference? {
        let t = token.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "[]\"")))
        switch t {
        case "A": return .a
        case "B": return .b
        case "C", "tie": return .tie
        default: return nil
        }
    }
}
