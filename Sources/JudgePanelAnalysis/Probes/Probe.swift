import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// A bias probe: a seeded perturbation of items and a metric over the judges' verdicts.
///
/// A probe either perturbs items (``perturb(_:target:slot:rubric:rng:)`` returns an item; the panel judges
/// the perturbed items and ``measure(_:)`` compares them with the unperturbed baseline) or measures the
/// baseline alone (`position`, `self-preference`: ``perturbs`` is false).
///
/// ```swift
/// let probes = try ProbeCatalog.probes(named: "position,verbosity,injection")
/// let run = try await ProbeRunner(panel: panel, rubric: rubric, probes: probes).run(items: items)
/// print(run.table)
/// ```
package protocol BiasProbe: Sendable {
    /// The probe's name in reports and in votes' `variant` (e.g. `verbosity`).
    var name: String { get }
    /// One line saying what the probe perturbs and how its bias is signed.
    var summary: String { get }
    /// Whether the probe judges perturbed items (false: it measures the baseline only).
    var perturbs: Bool { get }
    /// The perturbed item in the dataset's orientation. `target` is the perturbed answer (`.a`/`.b`; nil for a
    /// single `response`), `slot` the label of the slot the target is *shown* in (`.a` = first), which texts
    /// that name a slot ("Answer A") use. Draw every random choice from `rng`: it is seeded per item and probe
    /// and handed in identically for both presentation orders, so the two orders differ only in slot labels.
    /// nil leaves the item out of this probe.
    func perturb(_ item: Item, target: Preference?, slot: Preference?, rubric: Rubric, rng: inout SeededGenerator)
        -> Item?
    /// The probe's rows: one per judge (panel order) and one for the panel (`judge == "panel"`).
    func measure(_ data: ProbeData) -> [ProbeResult]
}

extension BiasProbe {
    package var perturbs: Bool { true }

    package func perturb(
        _ item: Item, target: Preference?, slot: Preference?, rubric: Rubric, rng: inout SeededGenerator
    )
        -> Item?
    { nil }

    /// Default metric: verdict changes against the baseline (``ProbeMetrics/shift(_:probe:)``).
    package func measure(_ data: ProbeData) -> [ProbeResult] { ProbeMetrics.shift(data, probe: name) }
}

/// One row of `probes` in report.json (keys as DESIGN.md: nulls for undefined values, never NaN).
package struct ProbeResult: Sendable, Hashable, Codable {
    package var probe: String
    /// A judge's name, or `panel`.
    package var judge: String
    /// Items the metric was computed over.
    package var n: Int
    /// Share of items whose reconciled verdict (or score) changed under the perturbation.
    package var flipRate: Double?
    package var flipRateCI: [Double]?
    /// Share moved toward the perturbed answer minus share moved away (position: first-slot rate − 0.5;
    /// self-preference: own-family choice rate minus the human rate on the same items).
    package var bias: Double?
    package var biasCI: [Double]?
    /// Pointwise rubrics: mean perturbed score − baseline score (self-preference: own-family minus other
    /// items' mean score, net of human scores where present).
    package var scoreShift: Double?

    package init(
        probe: String, judge: String, n: Int, flipRate: Double? = nil, flipRateCI: [Double]? = nil, bias: Double? = nil,
        biasCI: [Double]? = nil, scoreShift: Double? = nil
    ) {
        self.probe = probe
        self.judge = judge
        self.n = n
        self.flipRate = flipRate.flatMap { $0.isFinite ? $0 : nil }
        self.flipRateCI = flipRateCI.flatMap { $0.allSatisfy(\.isFinite) ? $0 : nil }
        self.bias = bias.flatMap { $0.isFinite ? $0 : nil }
        self.biasCI = biasCI.flatMap { $0.allSatisfy(\.isFinite) ? $0 : nil }
        self.scoreShift = scoreShift.flatMap { $0.isFinite ? $0 : nil }
    }

    package enum CodingKeys: String, CodingKey {
        case probe, judge, n
        case flipRate = "flip_rate"
        case flipRateCI = "flip_rate_ci"
        case bias
        case biasCI = "bias_ci"
        case scoreShift = "score_shift"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(probe, forKey: .probe)
        try c.encode(judge, forKey: .judge)
        try c.encode(n, forKey: .n)
        try c.encode(flipRate, forKey: .flipRate)
        try c.encode(flipRateCI, forKey: .flipRateCI)
        try c.encode(bias, forKey: .bias)
        try c.encode(biasCI, forKey: .biasCI)
        try c.encode(scoreShift, forKey: .scoreShift)
    }

    var isPanel: Bool { judge == ProbeData.panelName }
}

/// What a probe's metric sees: per item, the baseline and (for perturbing probes) the perturbed outcome.
package struct ProbeData: Sendable {
    package static let panelName = "panel"

    package var kind: JudgingProtocol
    package var items: [Item]
    /// Judge names in panel order.
    package var judges: [String]
    /// Judge name → family (from the panel file), for self-preference.
    package var judgeFamilies: [String: String]
    /// Model name → family, resolved from the judges' families and `--family` overrides.
    package var families: FamilyMap
    package var baseline: [ItemOutcome]
    /// Perturbed outcomes, aligned with `items`; nil where the probe left an item out (or does not perturb).
    package var perturbed: [ItemOutcome?]
    /// The perturbed answer per item (nil: a single response, or not perturbed).
    package var targets: [Preference?]
    package var seed: UInt64
    package var resamples: Int
    package var level: Double

    package init(
        kind: JudgingProtocol, items: [Item], judges: [String], judgeFamilies: [String: String] = [:],
        families: FamilyMap = FamilyMap(), baseline: [ItemOutcome], perturbed: [ItemOutcome?], targets: [Preference?],
        seed: UInt64 = 0, resamples: Int = 1000, level: Double = 0.95
    ) {
        self.kind = kind
        self.items = items
        self.judges = judges
        self.judgeFamilies = judgeFamilies
        self.families = families
        self.baseline = baseline
        self.perturbed = perturbed
        self.targets = targets
        self.seed = seed
        self.resamples = resamples
        self.level = level
    }

    /// Judges followed by `panel`.
    package var rows: [String] { judges + [Self.panelName] }

    /// A seed for one bootstrap, derived from the run's seed, the probe and the row.
    func bootstrapSeed(_ probe: String, _ row: String, _ metric: String) -> UInt64 {
        ProbeHash.fnv(seed, probe, row, metric)
    }
}

/// One item judged by the panel: reconciled verdicts over both orders, and the same per order alone.
package struct ItemOutcome: Sendable, Hashable {
    /// Each judge's reconciled verdict (both orders, all samples).
    package var judges: [String: JudgeVerdict]
    /// The panel's verdict.
    package var panel: Verdict
    /// Pairwise: each judge's verdict from one presentation order alone (samples by majority).
    package var judgesByOrder: [Order: [String: Preference]]
    /// Pairwise: the panel's verdict aggregated from the judges' single-order verdicts.
    package var panelByOrder: [Order: Preference]
    /// Pairwise: per judge, its non-tie votes' first-slot choices (true = chose the answer shown first).
    package var firstSlotVotes: [String: [Bool]]
    /// Pairwise: per judge, the orders it was asked in (a vote that is not a failed call, abstentions included).
    package var askedOrders: [String: Set<Order>]

    package init(
        judges: [String: JudgeVerdict], panel: Verdict, judgesByOrder: [Order: [String: Preference]] = [:],
        panelByOrder: [Order: Preference] = [:], firstSlotVotes: [String: [Bool]] = [:],
        askedOrders: [String: Set<Order>] = [:]
    ) {
        self.judges = judges
        self.panel = panel
        self.judgesByOrder = judgesByOrder
        self.panelByOrder = panelByOrder
        self.firstSlotVotes = firstSlotVotes
        self.askedOrders = askedOrders
    }

    /// The reconciled verdict of a judge, or the panel's for ``ProbeData/panelName``.
    package func verdict(_ row: String) -> Preference? {
        row == ProbeData.panelName ? panel.verdict : judges[row]?.verdict
    }

    /// The reconciled score of a judge, or the panel's.
    package func score(_ row: String) -> Double? {
        row == ProbeData.panelName ? panel.score : judges[row]?.score
    }
}

/// Maps model names to judge families, for self-preference.
///
/// A model's family is an explicit override (`--family model=family`, model matched case-insensitively),
/// else the judge family whose name occurs in the model name, case-insensitively (the longest such name).
///
/// ```swift
/// let map = FamilyMap(families: ["gpt", "claude"], overrides: ["o3-mini": "gpt"])
/// map.family(of: "GPT-4o")   // "gpt"
/// ```
package struct FamilyMap: Sendable, Hashable {
    package var families: [String]
    package var overrides: [String: String]

    package init(families: [String] = [], overrides: [String: String] = [:]) {
        self.families = Array(Set(families.filter { !$0.isEmpty })).sorted()
        var o: [String: String] = [:]
        for (k, v) in overrides { o[k.lowercased()] = v }
        self.overrides = o
    }

    /// Parses `model=family` options.
    package static func overrides(from options: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for opt in options {
            let parts = opt.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw JudgePanelError.usage("--family expects model=family (got '\(opt)')")
            }
            out[parts[0]] = parts[1]
        }
        return out
    }

    package func family(of model: String?) -> String? {
        guard let model, !model.isEmpty else { return nil }
        let lower = model.lowercased()
        if let f = overrides[lower] { return f }
        var best: String?
        for f in families where lower.contains(f.lowercased()) {
            if best == nil || f.count > best!.count { best = f }
        }
        return best
    }
}

/// FNV-1a 64 over strings joined by a separator, mixed with a seed: stable seeds per item and probe.
package enum ProbeHash {
    package static func fnv(_ seed: UInt64, _ parts: String...) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01b3
        for shift in stride(from: 0, to: 64, by: 8) {
            hash = (hash ^ ((seed >> UInt64(shift)) & 0xff)) &* prime
        }
        for part in parts {
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* prime }
            hash = (hash ^ 0x1f) &* prime
        }
        return hash
    }
}
