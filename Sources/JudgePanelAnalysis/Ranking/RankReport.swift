import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// What `judgepanel rank` reports beyond the plain ranking: the source of the verdicts, the figures behind each
/// number, slices, social choice and the agreement with the human ranking. Rendered as text, JSON and HTML.
package struct RankReport: Sendable {
    /// Whose verdicts were ranked: `panel (majority)`, `judge NAME`, `human labels`.
    package var source: String
    /// How the human label was derived, when human labels were used (ranked, or compared with).
    package var humanLabel: String?
    package var clusterKey: String?
    package var resamples: Int
    package var overall: SliceRanking.Figure
    /// Kendall τ-b between this ranking and the human-label ranking on the items both have.
    package var tauHuman: (tau: MetricValue, ci: Interval?, nItems: Int, nClusters: Int, nModels: Int)?
    package var bySlice: SliceRanking.BySlice?
    /// Ranked by the win rate against this model (strength = win rate) instead of Bradley–Terry.
    package var baseline: String?
    /// What an item's outcome was: `verdict` (win, loss, tie) or `probability` (a fractional win).
    package var preference = "verdict"
    /// `--length-control` / `--style-control`: the controlled figures beside the raw ones.
    package var control: RankControl?
    /// `--length-penalty K`: slight wins turned into ties because the winner was longer by more than K characters.
    package var lengthPenalty: (k: Int, turned: Int)?

    package init(
        source: String, humanLabel: String?, clusterKey: String?, resamples: Int, overall: SliceRanking.Figure,
        tauHuman: (tau: MetricValue, ci: Interval?, nItems: Int, nClusters: Int, nModels: Int)?,
        bySlice: SliceRanking.BySlice?
    ) {
        self.source = source
        self.humanLabel = humanLabel
        self.clusterKey = clusterKey
        self.resamples = resamples
        self.overall = overall
        self.tauHuman = tauHuman
        self.bySlice = bySlice
    }

    /// How the strengths were computed, in words.
    package var method: String {
        baseline.map { "win rate against \($0)" } ?? "Bradley–Terry ranking"
    }

    /// The bootstrap unit in words.
    package var unit: String {
        clusterKey.map { "clusters of items sharing meta.\($0) (items without it: one cluster each)" } ?? "items"
    }

    // MARK: - JSON

    /// Ranking entries: the `rank --json` keys plus `p_best`; intervals and P(best) are null without resamples.
    package static func entries(_ f: SliceRanking.Figure) -> JSONValue {
        let boot = f.resamplesUsed > 0
        return .array(
            f.rows.map { r in
                [
                    "model": .string(r.model), "strength": .number(r.strength),
                    "strength_ci": boot ? [.number(r.strengthCI.lo), .number(r.strengthCI.hi)] : .null,
                    "rank": .number(Double(r.rank)),
                    "rank_ci": boot ? [.number(Double(r.rankCI.lo)), .number(Double(r.rankCI.hi))] : .null,
                    "p_best": boot ? .number(r.pBest) : .null,
                ]
            })
    }

    /// The per-model controlled keys DESIGN names: `length_controlled_win_rate` and `lc_standard_error`, or
    /// `style_controlled_strength`; plus `mean_length` (Unicode code points) and, for length control, the GLM's
    /// `lc_coefficients` and `lc_c`, and a `control_failure` where the fit failed.
    package static func controlKeys(_ c: RankControl, model: String) -> [String: JSONValue] {
        guard let r = c.row(model) else { return [:] }
        var o: [String: JSONValue] = ["mean_length": r.meanLength.map { .number($0) } ?? .null]
        switch c.kind {
        case .length:
            o["length_controlled_win_rate"] = r.controlled.map { .number($0) } ?? .null
            o["lc_standard_error"] = r.standardError.map { .number($0) } ?? .null
            if let k = r.coefficients { o["lc_coefficients"] = .object(k.mapValues { .number($0) }) }
            if let cc = r.c { o["lc_c"] = .number(cc) }
        case .style:
            o["style_controlled_strength"] = r.controlled.map { .number($0) } ?? .null
        }
        if let f = r.failure { o["control_failure"] = .string(f) }
        return o
    }

    /// Ranking entries with the controlled keys added to each model's object.
    static func withControl(_ entries: JSONValue, _ c: RankControl) -> JSONValue {
        guard case .array(let rows) = entries else { return entries }
        return .array(
            rows.map { row in
                guard case .object(var o) = row, case .string(let m)? = o["model"] else { return row }
                for (k, v) in controlKeys(c, model: m) { o[k] = v }
                return .object(o)
            })
    }

    static func controlSummary(_ c: RankControl) -> JSONValue {
        [
            "method": .string(c.description),
            "kendall_tau_raw_controlled": metric(c.tau),
            "controlled_order": .array(
                c.rows.filter { $0.controlled != nil }.sorted {
                    ($0.controlled!, $1.model) > ($1.controlled!, $0.model)
                }
                .map { .string($0.model) }),
        ]
    }

    package static func counts(_ f: SliceRanking.Figure) -> JSONValue {
        [
            "n_items": .number(Double(f.nItems)), "n_clusters": .number(Double(f.nClusters)),
            "resamples_used": .number(Double(f.resamplesUsed)),
        ]
    }

    package static func metric(_ m: MetricValue) -> JSONValue { m.value.map { .number($0) } ?? .null }

    /// The report as JSON: `ranking`, `win_rates`, counts, and with a slice key `by`, `slices`, `social_choice`.
    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "source": .string(source), "cluster": clusterKey.map { .string($0) } ?? .null,
            "bootstrap_unit": .string(unit), "resamples": .number(Double(resamples)),
            "ranking": Self.entries(overall), "n_items": .number(Double(overall.nItems)),
            "n_clusters": .number(Double(overall.nClusters)),
            "method": .string(baseline == nil ? "bradley-terry" : "win-rate-vs-baseline"),
            "baseline": baseline.map { .string($0) } ?? .null, "preference": .string(preference),
        ]
        if let humanLabel { o["human_label"] = .string(humanLabel) }
        if let control {
            o["ranking"] = Self.withControl(o["ranking"]!, control)
            o[control.kind == .length ? "length_control" : "style_control"] = Self.controlSummary(control)
            if let c = control.styleCoefficients { o["style_coefficients"] = .object(c.mapValues { .number($0) }) }
        }
        if let lp = lengthPenalty {
            o["length_penalty"] = [
                "k": .number(Double(lp.k)), "slight_wins_turned_to_ties": .number(Double(lp.turned)),
            ]
        }
        var win: [String: JSONValue] = [:]
        for (a, row) in overall.winRates {
            var r: [String: JSONValue] = [:]
            for (b, w) in row {
                r[b] = [
                    "rate": .number(w.rate), "ci": w.ci.map { [.number($0.lo), .number($0.hi)] } ?? .null,
                    "n": .number(Double(w.n)),
                ]
            }
            win[a] = .object(r)
        }
        o["win_rates"] = .object(win)
        if let t = tauHuman {
            o["kendall_tau_human"] = [
                "tau": Self.metric(t.tau), "ci": t.ci.map { [.number($0.lo), .number($0.hi)] } ?? .null,
                "n_items": .number(Double(t.nItems)), "n_clusters": .number(Double(t.nClusters)),
                "n_models": .number(Double(t.nModels)),
            ]
        }
        if let s = bySlice {
            o["by"] = .string(s.key)
            o["slices"] = .object(
                Dictionary(uniqueKeysWithValues: s.slices.map { ($0.value, Self.entries($0.figure)) }))
            o["slice_counts"] = .object(
                Dictionary(uniqueKeysWithValues: s.slices.map { ($0.value, Self.counts($0.figure)) }))
            o["skipped_slices"] = .object(
                Dictionary(uniqueKeysWithValues: s.skipped.map { ($0.value, .number(Double($0.items))) }))
            o["best_in"] = .object(s.bestIn.mapValues { .number(Double($0)) })
            o["kendall_tau_slices"] = [
                "mean": s.meanTau.map { .number($0) } ?? .null,
                "pairs": .array(
                    s.tau.map {
                        [
                            "a": .string($0.a), "b": .string($0.b), "tau": Self.metric($0.tau),
                            "n_models": .number(Double($0.nModels)),
                        ]
                    }),
            ]
            if let sc = s.socialChoice {
                o["social_choice"] = [
                    "rule": .string(sc.rule.rawValue), "order": .array(sc.order.map { .string($0) }),
                    "scores": .object(sc.scores.mapValues { .number($0) }),
                ]
                o["social_choice_voters"] = [
                    "n": .number(Double(sc.voters)),
                    "weight": .string(sc.weighted ? "items ranked in the slice" : "1 per slice"),
                ]
            }
        }
        return .object(o)
    }

    // MARK: - Text

    package static func f3(_ x: Double) -> String { String(format: "%.3f", x) }

    /// rank, model, strength, CI, rank CI, P(best) — the bootstrap columns empty when there were no resamples.
    package static func cells(_ r: SliceRanking.Row, boot: Bool) -> [String] {
        [
            String(r.rank), r.model, f3(r.strength), boot ? "[\(f3(r.strengthCI.lo)), \(f3(r.strengthCI.hi))]" : "",
            boot ? "\(r.rankCI.lo)–\(r.rankCI.hi)" : "", boot ? f3(r.pBest) : "",
        ]
    }

    package var rowCells: [[String]] { overall.rows.map { Self.cells($0, boot: overall.resamplesUsed > 0) } }

    static func tauText(_ m: MetricValue) -> String {
        m.value.map { f3($0) } ?? "undefined (\(m.reason ?? "no value"))"
    }

    /// The human-τ line (its prefix is the one `rank` always printed).
    package var tauHumanLine: String? {
        guard let t = tauHuman else { return nil }
        let ci = t.ci.map { ", 95% CI [\(Self.f3($0.lo)), \(Self.f3($0.hi))]" } ?? ""
        return "Kendall τ between the judges' ranking and the human-label ranking: \(Self.tauText(t.tau))\(ci) "
            + "(\(source) vs human labels; \(t.nModels) models, \(t.nItems) items, \(t.nClusters) clusters)"
    }

    /// The full terminal report.
    package var text: String {
        var out: [String] = []
        out.append(
            "\(method.prefix(1).uppercased() + method.dropFirst()) of \(source): \(overall.nItems) items, "
                + "\(overall.nClusters) bootstrap clusters (\(unit)), \(overall.resamplesUsed) resamples")
        if let baseline {
            out.append(
                "strength = win rate against \(baseline): a model's mean outcome over the items comparing it with "
                    + "\(baseline) (ties as half\(preference == "probability" ? ", probabilities as fractional wins" : "")); "
                    + "\(baseline) itself at 0.5 — AlpacaEval's leaderboard rule; items between two other models are not counted"
            )
        } else if preference == "probability" {
            out.append("outcomes are probabilities: an item counts as a fractional win (P of each side)")
        }
        if let humanLabel { out.append(humanLabel) }
        out.append(
            TextTable.plain(
                header: ["rank", "model", "strength", "95% CI", "rank CI", "P(best)"],
                rows: rowCells))
        out.append("")
        out.append(
            "Pairwise win rate of the row model against the column model ((wins + ties/2) / n, 95% CI, n comparisons):")
        let models = overall.models
        out.append(
            TextTable.plain(
                header: ["row vs column"] + models,
                rows: models.map { a in
                    [a]
                        + models.map { b in
                            guard let w = overall.winRates[a]?[b] else { return a == b ? "—" : "" }
                            return Self.winCell(w)
                        }
                }))
        if let line = tauHumanLine {
            out.append("")
            out.append(line)
        }
        if let control {
            out.append("")
            out.append(controlText(control))
        }
        if let s = bySlice {
            out.append("")
            out.append(sliceText(s))
        }
        return out.joined(separator: "\n")
    }

    /// The raw-vs-controlled table: header and rows (model, raw, raw rank, controlled, [LC SE], controlled rank,
    /// mean length).
    package func controlTable(_ c: RankControl) -> (header: [String], rows: [[String]]) {
        let ranks = c.controlledRanks
        let rawRanks = Dictionary(overall.rows.map { ($0.model, $0.rank) }, uniquingKeysWith: { a, _ in a })
        var header = ["model", "raw", "raw rank", c.kind == .length ? "LC win rate" : "controlled"]
        if c.kind == .length { header.append("LC SE") }
        header += ["controlled rank", "mean length"]
        let rows = c.rows.map { r in
            var cells = [
                r.model, Self.f3(r.raw), rawRanks[r.model].map { String($0) } ?? "",
                r.controlled.map { Self.f3($0) } ?? "— (\(r.failure ?? "not compared"))",
            ]
            if c.kind == .length { cells.append(r.standardError.map { Self.f3($0) } ?? "") }
            cells.append(ranks[r.model].map { String($0) } ?? "")
            cells.append(r.meanLength.map { String(format: "%.0f", $0) } ?? "")
            return cells
        }
        return (header, rows)
    }

    /// The style coefficients in one line, nil without them.
    package static func coefficientLine(_ c: RankControl) -> String? {
        guard let k = c.styleCoefficients else { return nil }
        return "Style coefficients (per standard deviation of each normalised covariate): "
            + StyleFeatures.names.filter { k[$0] != nil }.map { "\($0) \(String(format: "%.4f", k[$0]!))" }
            .joined(separator: ", ")
    }

    package static func controlTauLine(_ c: RankControl) -> String {
        "Kendall τ-b between the raw and the controlled order: \(tauText(c.tau))"
    }

    /// Raw and controlled figures side by side, each model's mean length, and τ between the two orders.
    func controlText(_ c: RankControl) -> String {
        var out: [String] = []
        let what = c.kind == .length ? "Length-controlled" : "Style-controlled"
        out.append("\(what) figures — \(c.description):")
        let t = controlTable(c)
        out.append(TextTable.plain(header: t.header, rows: t.rows))
        if let line = Self.coefficientLine(c) { out.append(line) }
        out.append(Self.controlTauLine(c))
        return out.joined(separator: "\n")
    }

    /// A win-rate cell: rate, its interval when there were resamples, and the number of comparisons.
    package static func winCell(_ w: (rate: Double, ci: Interval?, n: Int)) -> String {
        ([f3(w.rate)] + (w.ci.map { ["[\(f3($0.lo)), \(f3($0.hi))]"] } ?? []) + ["n=\(w.n)"]).joined(separator: " ")
    }

    func sliceText(_ s: SliceRanking.BySlice) -> String {
        var out: [String] = []
        out.append(
            "Per-\(s.key) Bradley–Terry rankings (rank, 95% rank CI; each slice bootstrapped over its own \(unit)):")
        out.append(
            TextTable.plain(
                header: [s.key, "items", "clusters"] + s.models,
                rows: s.slices.map { sl in
                    [sl.value, String(sl.figure.nItems), String(sl.figure.nClusters)]
                        + s.models.map { m in
                            sl.figure.row(m).map {
                                sl.figure.resamplesUsed > 0
                                    ? "\($0.rank) (\($0.rankCI.lo)–\($0.rankCI.hi))" : String($0.rank)
                            } ?? "—"
                        }
                }))
        if !s.skipped.isEmpty {
            out.append(
                "Slices without a ranking (fewer than two models compared): "
                    + s.skipped.map { "\($0.value) (\($0.items) items)" }.joined(separator: ", "))
        }
        // Most slices first, then by name.
        let best = s.models.map { (model: $0, slices: s.bestIn[$0] ?? 0) }.sorted {
            ($0.slices, $1.model) > ($1.slices, $0.model)
        }
        out.append(
            "Best in (slices where the model ranks 1st, tied tops counting for each, of \(s.slices.count)): "
                + best.map { "\($0.model) \($0.slices)" }.joined(separator: ", "))
        let defined = s.tau.compactMap(\.tau.value)
        if let mean = s.meanTau {
            // A mean exists only over defined τ values, so they have a least and a greatest.
            let lo = defined.min() ?? mean
            let hi = defined.max() ?? mean
            out.append(
                "Kendall τ between slice rankings: mean \(Self.f3(mean)) over \(defined.count) slice pairs "
                    + "(min \(Self.f3(lo)), max \(Self.f3(hi)); models ranked in both slices)")
        } else {
            out.append("Kendall τ between slice rankings: undefined (fewer than two slices sharing two models)")
        }
        if let sc = s.socialChoice {
            out.append("")
            out.append(
                "Social choice: \(sc.rule.rawValue) over \(sc.voters) slices, each slice one voter "
                    + "(weight \(sc.weighted ? "= items ranked in the slice" : "1")); ties by model name:")
            out.append(
                TextTable.plain(
                    header: ["#", "model", "score"],
                    rows: sc.order.enumerated().map { [String($0 + 1), $1, sc.scores[$1].map(Self.score) ?? "—"] }))
        }
        return out.joined(separator: "\n")
    }

    package static func score(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.4f", x) }
}
