import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// The probes' metrics, with seeded percentile bootstrap CIs over items.
package enum ProbeMetrics {
    /// Mean of per-item values with its bootstrap CI; nil values when there are no items.
    static func meanCI(_ xs: [Double], _ data: ProbeData, seed: UInt64) -> (Double?, [Double]?) {
        guard !xs.isEmpty else { return (nil, nil) }
        let m = xs.reduce(0, +) / Double(xs.count)
        let ci = bootstrapMeanCI(xs, resamples: data.resamples, seed: seed, level: data.level).map { [$0.lo, $0.hi] }
        return (m, ci)
    }

    /// Where a pairwise verdict stands from the target's side: +1 chose it, 0 tie, −1 chose the other.
    package static func side(_ v: Preference, _ target: Preference) -> Int {
        v == .tie ? 0 : (v == target ? 1 : -1)
    }

    /// A perturbation's effect against the baseline, per judge and for the panel.
    ///
    /// Pairwise (or checklist on two answers): over items with a baseline and a perturbed verdict,
    /// `flip_rate` = share whose verdict changed; `bias` = share that moved toward the perturbed answer
    /// (B→tie, tie→A, B→A when A is the target) minus the share that moved away. Pointwise: `flip_rate` =
    /// share whose score changed, `bias` = share up − share down, `score_shift` = mean(perturbed − baseline).
    package static func shift(_ data: ProbeData, probe: String) -> [ProbeResult] {
        data.rows.map { row in
            var changed: [Double] = []
            var moved: [Double] = []
            var deltas: [Double] = []
            var usesScores = false
            for i in data.items.indices {
                guard let p = data.perturbed[i] else { continue }
                let b = data.baseline[i]
                if let t = data.targets[i], let vb = b.verdict(row), let vp = p.verdict(row) {
                    changed.append(vb == vp ? 0 : 1)
                    let d = side(vp, t) - side(vb, t)
                    moved.append(Double(d.signum()))
                } else if data.targets[i] == nil, let sb = b.score(row), let sp = p.score(row) {
                    usesScores = true
                    let d = sp - sb
                    changed.append(abs(d) > 1e-9 ? 1 : 0)
                    moved.append(abs(d) > 1e-9 ? (d > 0 ? 1 : -1) : 0)
                    deltas.append(d)
                }
            }
            let (flip, flipCI) = meanCI(changed, data, seed: data.bootstrapSeed(probe, row, "flip"))
            let (bias, biasCI) = meanCI(moved, data, seed: data.bootstrapSeed(probe, row, "bias"))
            let shift = usesScores && !deltas.isEmpty ? deltas.reduce(0, +) / Double(deltas.count) : nil
            return ProbeResult(
                probe: probe, judge: row, n: changed.count, flipRate: flip, flipRateCI: flipCI, bias: bias,
                biasCI: biasCI,
                scoreShift: shift)
        }
    }

    /// Position bias from the baseline's two orders. `flip_rate` = 1 − `position_consistency`: the share of items
    /// asked in both orders whose two single-order verdicts (samples by majority; the panel's from its judges'
    /// single-order verdicts) are not both present and equal — an order without a usable answer is a flip, as in
    /// `meta`; `bias` = first-slot rate − 0.5 over non-tie votes (the panel: its single-order verdicts). CIs
    /// resample items.
    package static func position(_ data: ProbeData, probe: String) -> [ProbeResult] {
        guard data.kind == .pairwise else {
            return data.rows.map { ProbeResult(probe: probe, judge: $0, n: 0) }
        }
        return data.rows.map { row in
            var consistent: [Double] = []
            // Per item: (first-slot choices, non-tie votes), pooled as a ratio.
            var firsts: [Double] = []
            var clusters: [Int] = []
            for (i, o) in data.baseline.enumerated() {
                let ab = row == ProbeData.panelName ? o.panelByOrder[.ab] : o.judgesByOrder[.ab]?[row]
                let ba = row == ProbeData.panelName ? o.panelByOrder[.ba] : o.judgesByOrder[.ba]?[row]
                let askedBoth =
                    row == ProbeData.panelName
                    ? o.askedOrders.values.contains { $0.isSuperset(of: [.ab, .ba]) }
                    : o.askedOrders[row]?.isSuperset(of: [.ab, .ba]) == true
                guard askedBoth || (ab != nil && ba != nil) else { continue }
                consistent.append(ab != nil && ab == ba ? 1 : 0)
                guard let ab, let ba else { continue }
                let votes: [Bool]
                if row == ProbeData.panelName {
                    votes = [ab].filter { $0 != .tie }.map { $0 == .a } + [ba].filter { $0 != .tie }.map { $0 == .b }
                } else {
                    votes = o.firstSlotVotes[row] ?? []
                }
                for v in votes {
                    firsts.append(v ? 1 : 0)
                    clusters.append(i)
                }
            }
            let flip = consistent.isEmpty ? nil : 1 - consistent.reduce(0, +) / Double(consistent.count)
            let flipCI = bootstrapMeanCI(
                consistent, resamples: data.resamples, seed: data.bootstrapSeed(probe, row, "flip"), level: data.level
            ).map { [1 - $0.hi, 1 - $0.lo] }
            let bias = firsts.isEmpty ? nil : firsts.reduce(0, +) / Double(firsts.count) - 0.5
            let biasCI = bootstrapMeanCI(
                firsts, resamples: data.resamples, seed: data.bootstrapSeed(probe, row, "bias"), level: data.level,
                clusters: clusters
            ).map { [$0.lo - 0.5, $0.hi - 0.5] }
            return ProbeResult(
                probe: probe, judge: row, n: consistent.count, flipRate: flip, flipRateCI: flipCI, bias: bias,
                biasCI: biasCI)
        }
    }

    /// Self-preference from the baseline.
    ///
    /// Pairwise: over items where exactly one answer's author (`model_a`/`model_b`) is of the judge's family (the
    /// panel: of any panel judge's family), per item `u` = 1 if the judge chose that answer, ½ for a tie, 0
    /// otherwise, and `h` the same for the human label (½ when unlabelled); `bias` = mean(u − h).
    /// Pointwise: over items with a `model`, `score_shift` = mean residual on own-family items − mean residual on
    /// the others, the residual being judge score − human score where labelled, else the judge score.
    package static func selfPreference(_ data: ProbeData, probe: String) -> [ProbeResult] {
        let panelFamilies = Set(data.judges.compactMap { data.judgeFamilies[$0]?.lowercased() })
        return data.rows.map { row in
            let own: Set<String> =
                row == ProbeData.panelName
                ? panelFamilies : Set([data.judgeFamilies[row]?.lowercased()].compactMap { $0 })
            guard !own.isEmpty else { return ProbeResult(probe: probe, judge: row, n: 0) }
            func isOwn(_ model: String?) -> Bool? {
                guard let f = data.families.family(of: model) else { return model == nil ? nil : false }
                return own.contains(f.lowercased())
            }
            if data.kind == .pointwise || (data.kind == .checklist && data.items.allSatisfy { $0.response != nil }) {
                var ownRes: [Double] = []
                var otherRes: [Double] = []
                for (i, item) in data.items.enumerated() {
                    guard let o = isOwn(item.model), let s = data.baseline[i].score(row) else { continue }
                    let r = s - (item.label?.score ?? 0)
                    if o { ownRes.append(r) } else { otherRes.append(r) }
                }
                let n = ownRes.count + otherRes.count
                guard !ownRes.isEmpty, !otherRes.isEmpty else { return ProbeResult(probe: probe, judge: row, n: n) }
                let shift = ownRes.reduce(0, +) / Double(ownRes.count) - otherRes.reduce(0, +) / Double(otherRes.count)
                return ProbeResult(probe: probe, judge: row, n: n, scoreShift: shift)
            }
            var diffs: [Double] = []
            for (i, item) in data.items.enumerated() {
                guard let oa = isOwn(item.modelA ?? item.meta["model_a"]?.stringValue),
                    let ob = isOwn(item.modelB ?? item.meta["model_b"]?.stringValue), oa != ob,
                    let v = data.baseline[i].verdict(row)
                else { continue }
                let ownSide: Preference = oa ? .a : .b
                func rate(_ p: Preference) -> Double { p == .tie ? 0.5 : (p == ownSide ? 1 : 0) }
                let h = item.label?.preference.map(rate) ?? 0.5
                diffs.append(rate(v) - h)
            }
            let (bias, biasCI) = meanCI(diffs, data, seed: data.bootstrapSeed(probe, row, "bias"))
            return ProbeResult(probe: probe, judge: row, n: diffs.count, bias: bias, biasCI: biasCI)
        }
    }
}
