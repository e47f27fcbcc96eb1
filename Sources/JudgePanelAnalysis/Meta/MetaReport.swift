import Foundation
import JudgeStats
import JudgePanelCore
import JudgePanelJudging
import JudgePanelAggregation

/// A confidence interval `[lo, hi]`, encoded as a two-element array.
public struct Interval: Sendable, Hashable, Codable {
    public var lo: Double
    public var hi: Double

    public init(lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
    }

    package init?(_ pair: (lo: Double, hi: Double)?) {
        guard let pair, pair.lo.isFinite, pair.hi.isFinite else { return nil }
        self.init(lo: pair.lo, hi: pair.hi)
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        lo = try c.decode(Double.self)
        hi = try c.decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(lo)
        try c.encode(hi)
    }
}

/// Agreement of one judge (or the panel) with the human labels: one entry of `judges` in the meta report.
///
/// Keys follow DESIGN.md; a metric that does not apply is absent, one that applies but is undefined
/// is null, with its reason under `notes`.
public struct JudgeMetrics: Sendable, Hashable, Codable {
    public var judge: String
    public var n: Int
    public var calls: Int?
    public var errors: Int?
    public var abstentions: Int?
    public var voteAccuracy: MetricValue?
    public var accuracy: MetricValue?
    public var accuracyCI: Interval?
    public var coverage: MetricValue?
    public var accuracyAnswered: MetricValue?
    /// Share of the items asked in both orders whose two orders answered and agree (a one-sided abstention is
    /// inconsistent; LLMBar's "equal").
    public var positionConsistency: MetricValue?
    /// The same over the items answered in both orders.
    public var positionConsistencyAnswered: MetricValue?
    /// Items asked in both orders (the denominator of `position_consistency`).
    public var positionAsked: Int?
    /// Items asked in both orders where neither order gave a usable answer (inconsistent in
    /// `position_consistency`; LLMBar counts them as equal).
    public var positionBothAbstained: Int?
    public var firstSlotRate: MetricValue?
    /// Share of the judge's votes whose `reason` is `refusal` (live calls, or recorded votes that note reasons).
    public var refusalRate: MetricValue?
    /// Share of the judge's votes whose `reason` is `length` (cut at the output-token limit).
    public var lengthRate: MetricValue?
    /// Pairwise, both orders asked: `accuracy` with a flip counted as a tie (`--flip tie`).
    public var accuracyFlipTie: MetricValue?
    /// Pairwise, both orders asked: `accuracy` with a flip counted as an abstention (`--flip abstain`).
    public var accuracyFlipAbstain: MetricValue?
    /// Pairwise, both orders asked: JudgeBench's two-order score — per item, +1 for each order's verdict equal
    /// to the label, −1 for each equal to the opposite answer (ties and abstentions 0); correct when positive.
    public var accuracyNet: MetricValue?
    public var cohenKappa: MetricValue?
    public var cohenKappaCI: Interval?
    public var weightedKappaQuadratic: MetricValue?
    public var pearson: MetricValue?
    public var spearman: MetricValue?
    public var kendallTauB: MetricValue?
    public var agreementWithTies: MetricValue?
    public var agreementWithoutTies: MetricValue?
    public var parseRate: MetricValue?
    /// Win/tie/loss counts of answer A (pairwise, reconciled verdicts).
    public var wins: Int?
    public var ties: Int?
    public var losses: Int?
    public var meanScore: MetricValue?
    /// Accuracy of the probability-based verdict (P(A) vs P(B) over both orders), when log-probabilities were read.
    public var probAccuracy: MetricValue?
    /// Share of votes with probabilities whose reading puts (nearly) all mass on one label
    /// (``Probabilities/isDegenerate(_:)``): near 1, the "probability" only repeats the argmax.
    public var degenerateProbsRate: MetricValue?
    /// Pearson of the expected score (from log-probabilities) with the label.
    public var expectedScorePearson: MetricValue?
    /// Dawid–Skene's estimate of this judge's accuracy (no labels needed).
    public var estimatedAccuracy: MetricValue?
    public var costUSD: Double?
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// Why each null metric is undefined.
    public var notes: [String: String]?

    public init(judge: String, n: Int) {
        self.judge = judge
        self.n = n
    }

    package enum CodingKeys: String, CodingKey {
        case judge, n, calls, errors, abstentions
        case voteAccuracy = "vote_accuracy"
        case accuracy
        case accuracyCI = "accuracy_ci"
        case coverage
        case accuracyAnswered = "accuracy_answered"
        case positionConsistency = "position_consistency"
        case positionConsistencyAnswered = "position_consistency_answered"
        case positionAsked = "position_asked"
        case positionBothAbstained = "position_both_abstained"
        case firstSlotRate = "first_slot_rate"
        case refusalRate = "refusal_rate"
        case lengthRate = "length_rate"
        case accuracyFlipTie = "accuracy_flip_tie"
        case accuracyFlipAbstain = "accuracy_flip_abstain"
        case accuracyNet = "accuracy_net"
        case cohenKappa = "cohen_kappa"
        case cohenKappaCI = "cohen_kappa_ci"
        case weightedKappaQuadratic = "weighted_kappa_quadratic"
        case pearson, spearman
        case kendallTauB = "kendall_tau_b"
        case agreementWithTies = "agreement_with_ties"
        case agreementWithoutTies = "agreement_without_ties"
        case parseRate = "parse_rate"
        case wins, ties, losses
        case meanScore = "mean_score"
        case probAccuracy = "prob_accuracy"
        case degenerateProbsRate = "degenerate_probs_rate"
        case expectedScorePearson = "expected_score_pearson"
        case estimatedAccuracy = "estimated_accuracy"
        case costUSD = "cost_usd"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case notes
    }

    /// Records a metric, noting its reason when undefined.
    package mutating func set(_ keyPath: WritableKeyPath<JudgeMetrics, MetricValue?>, _ name: String, _ value: MetricValue) {
        self[keyPath: keyPath] = value
        if let reason = value.reason, value.value == nil {
            var n = notes ?? [:]
            n[name] = reason
            notes = n
        }
    }
}

/// Agreement among the human annotators: the ceiling a judge can be expected to reach.
public struct HumanAgreement: Sendable, Hashable, Codable {
    public var nAnnotators: Int
    public var nItems: Int
    public var fleissKappa: MetricValue?
    public var krippendorffAlpha: MetricValue?
    public var alphaLevel: String?
    public var pairwiseCohenKappa: [String: MetricValue]
    public var leaveOneOutAgreement: MetricValue?
    public var notes: [String: String]?

    package enum CodingKeys: String, CodingKey {
        case nAnnotators = "n_annotators"
        case nItems = "n_items"
        case fleissKappa = "fleiss_kappa"
        case krippendorffAlpha = "krippendorff_alpha"
        case alphaLevel = "alpha_level"
        case pairwiseCohenKappa = "pairwise_cohen_kappa"
        case leaveOneOutAgreement = "leave_one_out_agreement"
        case notes
    }
}

/// Agreement between judges.
public struct InterJudge: Sendable, Hashable, Codable {
    public var cohenKappa: [String: MetricValue]
    public var errorCorrelation: [String: MetricValue]
    /// How many independent judges the panel is worth, from the error correlations (n² / Σρ).
    public var effectiveJudges: MetricValue?

    package enum CodingKeys: String, CodingKey {
        case cohenKappa = "cohen_kappa"
        case errorCorrelation = "error_correlation"
        case effectiveJudges = "effective_judges"
    }
}

/// The meta-evaluation report: how far each judge and the panel agree with human labels.
/// Its JSON keys are a stable contract (DESIGN.md).
public struct MetaReport: Sendable, Hashable, Codable {
    public var nItems: Int
    public var labelKind: LabelKind?
    public var judges: [JudgeMetrics]
    public var panel: JudgeMetrics?
    public var human: HumanAgreement?
    public var interJudge: InterJudge?
    /// The bootstrap resampling unit: `item` or `cluster:KEY`.
    public var resampling: String
    public var bootstrapResamples: Int
    public var seed: UInt64
    public var flip: FlipPolicy
    public var aggregate: AggregationMethod
    /// Reports per slice value, when `--by KEY` was given.
    public var slices: [String: [String: MetaReport]]?
    public var notes: [String]?
    /// Per-judge weights used by `weighted` aggregation (from the panel file, `--weights`, or learned).
    public var weights: [String: Double]?
    /// How the weights were obtained: `panel`, `given` or `learned:FILE`.
    public var weightsSource: String?
    /// Bradley–Terry ranking of the compared systems (`model_a`/`model_b`) from the panel's verdicts, best first.
    public var ranking: [RankingEntry]?
    /// Kendall τ-b between the panel's ranking and the ranking from the human labels (when labels exist).
    public var rankingKendallTauHuman: MetricValue?
    /// Adaptive-panel summary (`score --adaptive`): calls saved and agreement against the full panel.
    public var adaptive: AdaptiveSummary?
    /// How the numbers were produced (flip policy, abstentions, human label, bootstrap unit), in words.
    public var conventions: ReportConventions?

    package enum CodingKeys: String, CodingKey {
        case nItems = "n_items"
        case labelKind = "label_kind"
        case judges, panel, human
        case interJudge = "inter_judge"
        case resampling
        case bootstrapResamples = "bootstrap_resamples"
        case seed, flip, aggregate, slices, notes, weights
        case weightsSource = "weights_source"
        case ranking
        case rankingKendallTauHuman = "ranking_kendall_tau_human"
        case adaptive, conventions
    }
}

/// The conventions behind a meta report's numbers, so a reader can match each to the paper it is compared with
/// (the `conventions` key).
public struct ReportConventions: Sendable, Hashable, Codable {
    /// How a judge whose two orders disagree counts in `accuracy`, and which keys give the other conventions.
    public var flip: String
    /// How abstentions count in accuracy, coverage and position consistency.
    public var abstention: String
    /// Which human label a judge is compared with.
    public var humanLabel: String
    /// What the bootstrap resamples.
    public var bootstrapUnit: String

    public init(flip: String, abstention: String, humanLabel: String, bootstrapUnit: String) {
        self.flip = flip
        self.abstention = abstention
        self.humanLabel = humanLabel
        self.bootstrapUnit = bootstrapUnit
    }

    package enum CodingKeys: String, CodingKey {
        case flip, abstention
        case humanLabel = "human_label"
        case bootstrapUnit = "bootstrap_unit"
    }
}

/// One system in a Bradley–Terry ranking: the `rank --json` row.
public struct RankingEntry: Sendable, Hashable, Codable {
    public var model: String
    public var strength: Double
    public var strengthCI: Interval?
    public var rank: Int
    public var rankCI: [Int]?

    public init(_ e: SystemRanking.Entry) {
        model = e.model
        strength = e.strength
        strengthCI = e.strengthCI
        rank = e.rank
        rankCI = e.rankCI.map { [$0.lo, $0.hi] }
    }

    package enum CodingKeys: String, CodingKey {
        case model, strength
        case strengthCI = "strength_ci"
        case rank
        case rankCI = "rank_ci"
    }
}
