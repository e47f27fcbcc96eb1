import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// A confidence interval `[lo, hi]`, encoded as a two-element array.
public struct Interval: Sendable, Hashable, Codable {
    /// The lower bound.
    public package(set) var lo: Double
    /// The upper bound.
    public package(set) var hi: Double

    /// An interval from its bounds.
    public init(lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
    }

    package init?(_ pair: (lo: Double, hi: Double)?) {
        guard let pair, pair.lo.isFinite, pair.hi.isFinite else { return nil }
        self.init(lo: pair.lo, hi: pair.hi)
    }

    /// Reads the two-element array `[lo, hi]`.
    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        lo = try c.decode(Double.self)
        hi = try c.decode(Double.self)
    }

    /// Writes the two-element array `[lo, hi]`.
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
    /// The judge's name (`panel` for the panel).
    public package(set) var judge: String
    /// Items with a human label and a verdict from this judge (`n`).
    public package(set) var n: Int
    /// Calls made for this judge (`calls`).
    public package(set) var calls: Int?
    /// Votes that failed (`errors`).
    public package(set) var errors: Int?
    /// Votes without a usable answer (`abstentions`).
    public package(set) var abstentions: Int?
    /// Share of single votes (each order and sample) equal to the label (`vote_accuracy`).
    public package(set) var voteAccuracy: MetricValue?
    /// Share of labelled items whose reconciled verdict equals the label; an abstention is a miss (`accuracy`).
    public package(set) var accuracy: MetricValue?
    /// The bootstrap confidence interval of `accuracy` (`accuracy_ci`).
    public package(set) var accuracyCI: Interval?
    /// Share of labelled items the judge answered (`coverage`).
    public package(set) var coverage: MetricValue?
    /// `accuracy` over the answered items only (`accuracy_answered`).
    public package(set) var accuracyAnswered: MetricValue?
    /// Share of the items asked in both orders whose two orders answered and agree (a one-sided abstention is
    /// inconsistent; LLMBar's "equal").
    public package(set) var positionConsistency: MetricValue?
    /// The same over the items answered in both orders.
    public package(set) var positionConsistencyAnswered: MetricValue?
    /// Items asked in both orders (the denominator of `position_consistency`).
    public package(set) var positionAsked: Int?
    /// Items asked in both orders where neither order gave a usable answer (inconsistent in
    /// `position_consistency`; LLMBar counts them as equal).
    public package(set) var positionBothAbstained: Int?
    /// Share of answered pairwise votes that chose the answer shown first (`first_slot_rate`).
    public package(set) var firstSlotRate: MetricValue?
    /// Share of the judge's votes whose `reason` is `refusal` (live calls, or recorded votes that note reasons).
    public package(set) var refusalRate: MetricValue?
    /// Share of the judge's votes whose `reason` is `length` (cut at the output-token limit).
    public package(set) var lengthRate: MetricValue?
    /// Pairwise, both orders asked: `accuracy` with a flip counted as a tie (`--flip tie`).
    public package(set) var accuracyFlipTie: MetricValue?
    /// Pairwise, both orders asked: `accuracy` with a flip counted as an abstention (`--flip abstain`).
    public package(set) var accuracyFlipAbstain: MetricValue?
    /// Pairwise, both orders asked: JudgeBench's two-order score — per item, +1 for each order's verdict equal
    /// to the label, −1 for each equal to the opposite answer (ties and abstentions 0); correct when positive.
    public package(set) var accuracyNet: MetricValue?
    /// Cohen κ against the label (`cohen_kappa`).
    public package(set) var cohenKappa: MetricValue?
    /// The bootstrap confidence interval of `cohen_kappa` (`cohen_kappa_ci`).
    public package(set) var cohenKappaCI: Interval?
    /// Quadratically weighted κ against a score label (`weighted_kappa_quadratic`).
    public package(set) var weightedKappaQuadratic: MetricValue?
    /// Pearson correlation with a score label (`pearson`).
    public package(set) var pearson: MetricValue?
    /// Spearman correlation with a score label (`spearman`).
    public package(set) var spearman: MetricValue?
    /// Kendall τ-b with a score label (`kendall_tau_b`).
    public package(set) var kendallTauB: MetricValue?
    /// Pairwise agreement with ties counted as a class (`agreement_with_ties`).
    public package(set) var agreementWithTies: MetricValue?
    /// Pairwise agreement over the items neither side called a tie (`agreement_without_ties`).
    public package(set) var agreementWithoutTies: MetricValue?
    /// Share of replies the answer parser could read (`parse_rate`).
    public package(set) var parseRate: MetricValue?
    /// Win/tie/loss counts of answer A (pairwise, reconciled verdicts).
    public package(set) var wins: Int?
    /// Items the judge called a tie (`ties`).
    public package(set) var ties: Int?
    /// Items answer A lost (`losses`).
    public package(set) var losses: Int?
    /// Mean reconciled score (pointwise; `mean_score`).
    public package(set) var meanScore: MetricValue?
    /// Accuracy of the probability-based verdict (P(A) vs P(B) over both orders), when log-probabilities were read.
    public package(set) var probAccuracy: MetricValue?
    /// Share of votes with probabilities whose reading puts (nearly) all mass on one label
    /// (`Probabilities.isDegenerate(_:)`): near 1, the "probability" only repeats the argmax.
    public package(set) var degenerateProbsRate: MetricValue?
    /// Pearson of the expected score (from log-probabilities) with the label.
    public package(set) var expectedScorePearson: MetricValue?
    /// Dawid–Skene's estimate of this judge's accuracy (no labels needed).
    public package(set) var estimatedAccuracy: MetricValue?
    /// Dollars spent on this judge's calls (`cost_usd`).
    public package(set) var costUSD: Double?
    /// Prompt tokens sent (`prompt_tokens`).
    public package(set) var promptTokens: Int?
    /// Completion tokens received (`completion_tokens`).
    public package(set) var completionTokens: Int?
    /// Why each null metric is undefined.
    public package(set) var notes: [String: String]?

    package init(judge: String, n: Int) {
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
    package mutating func set(
        _ keyPath: WritableKeyPath<JudgeMetrics, MetricValue?>, _ name: String, _ value: MetricValue
    ) {
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
    /// Annotators with at least one label (`n_annotators`).
    public package(set) var nAnnotators: Int
    /// Items with labels from two or more annotators (`n_items`).
    public package(set) var nItems: Int
    /// Fleiss κ among the annotators (`fleiss_kappa`).
    public package(set) var fleissKappa: MetricValue?
    /// Krippendorff α among the annotators (`krippendorff_alpha`).
    public package(set) var krippendorffAlpha: MetricValue?
    /// The measurement level α was computed at (`alpha_level`).
    public package(set) var alphaLevel: String?
    /// Cohen κ per pair of annotators, keyed `a|b` (`pairwise_cohen_kappa`).
    public package(set) var pairwiseCohenKappa: [String: MetricValue]
    /// Mean agreement of each annotator with the consensus of the others (`leave_one_out_agreement`).
    public package(set) var leaveOneOutAgreement: MetricValue?
    /// Why each null metric is undefined.
    public package(set) var notes: [String: String]?

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
    /// Cohen κ per pair of judges, keyed `a|b` (`cohen_kappa`).
    public package(set) var cohenKappa: [String: MetricValue]
    /// Correlation of the judges' errors per pair, keyed `a|b` (`error_correlation`).
    public package(set) var errorCorrelation: [String: MetricValue]
    /// How many independent judges the panel is worth, from the error correlations (n² / Σρ).
    public package(set) var effectiveJudges: MetricValue?

    package enum CodingKeys: String, CodingKey {
        case cohenKappa = "cohen_kappa"
        case errorCorrelation = "error_correlation"
        case effectiveJudges = "effective_judges"
    }
}

/// The meta-evaluation report: how far each judge and the panel agree with human labels.
/// Its JSON keys are a stable contract (DESIGN.md).
public struct MetaReport: Sendable, Hashable, Codable {
    /// Items in the report (`n_items`).
    public package(set) var nItems: Int
    /// The kind of the human labels, when there are any (`label_kind`).
    public package(set) var labelKind: LabelKind?
    /// Each judge's agreement with the labels, in panel order (`judges`).
    public package(set) var judges: [JudgeMetrics]
    /// The panel's agreement with the labels (`panel`).
    public package(set) var panel: JudgeMetrics?
    /// Agreement among the human annotators (`human`).
    public package(set) var human: HumanAgreement?
    /// Agreement between the judges (`inter_judge`).
    public package(set) var interJudge: InterJudge?
    /// The bootstrap resampling unit: `item` or `cluster:KEY`.
    public package(set) var resampling: String
    /// Bootstrap resamples behind every interval (`bootstrap_resamples`).
    public package(set) var bootstrapResamples: Int
    /// The bootstrap seed (`seed`).
    public package(set) var seed: UInt64
    /// How a flipped judge counted (`flip`).
    public package(set) var flip: FlipPolicy
    /// How the panel aggregated its judges (`aggregate`).
    public package(set) var aggregate: AggregationMethod
    /// Reports per slice value, when `--by KEY` was given.
    public package(set) var slices: [String: [String: MetaReport]]?
    /// Notes on what was left out or could not be computed.
    public package(set) var notes: [String]?
    /// Per-judge weights used by `weighted` aggregation (from the panel file, `--weights`, or learned).
    public package(set) var weights: [String: Double]?
    /// How the weights were obtained: `panel`, `given` or `learned:FILE`.
    public package(set) var weightsSource: String?
    /// Bradley–Terry ranking of the compared systems (`model_a`/`model_b`) from the panel's verdicts, best first.
    public package(set) var ranking: [RankingEntry]?
    /// Kendall τ-b between the panel's ranking and the ranking from the human labels (when labels exist).
    public package(set) var rankingKendallTauHuman: MetricValue?
    /// Adaptive-panel summary (`score --adaptive`): calls saved and agreement against the full panel.
    public package(set) var adaptive: AdaptiveSummary?
    /// How the numbers were produced (flip policy, abstentions, human label, bootstrap unit), in words.
    public package(set) var conventions: ReportConventions?
    /// Prediction-powered estimates (`ppi`): the panel's verdicts corrected by human labels on a subset of the items.
    public package(set) var ppi: PPIReport?

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
        case adaptive, conventions, ppi
    }
}

/// The conventions behind a meta report's numbers, so a reader can match each to the paper it is compared with
/// (the `conventions` key).
public struct ReportConventions: Sendable, Hashable, Codable {
    /// How a judge whose two orders disagree counts in `accuracy`, and which keys give the other conventions.
    public package(set) var flip: String
    /// How abstentions count in accuracy, coverage and position consistency.
    public package(set) var abstention: String
    /// Which human label a judge is compared with.
    public package(set) var humanLabel: String
    /// What the bootstrap resamples.
    public package(set) var bootstrapUnit: String

    /// Conventions from their descriptions.
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
    /// The system's name (`model`).
    public package(set) var model: String
    /// Its Bradley–Terry strength (`strength`).
    public package(set) var strength: Double
    /// The bootstrap interval of the strength (`strength_ci`).
    public package(set) var strengthCI: Interval?
    /// Its rank, 1 for the best (`rank`).
    public package(set) var rank: Int
    /// The bootstrap interval of the rank, `[best, worst]` (`rank_ci`).
    public package(set) var rankCI: [Int]?

    package init(_ e: SystemRanking.Entry) {
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
