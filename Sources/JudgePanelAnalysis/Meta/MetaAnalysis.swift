import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Builds the meta-evaluation report from items (with human labels) and votes: per-judge and panel agreement
/// with humans (with bootstrap CIs), human inter-annotator agreement, inter-judge agreement.
///
/// ```swift
/// let report = MetaAnalysis(options: .init()).report(items: items, votes: votes)
/// print(report.judges.map { ($0.judge, $0.accuracy?.value ?? .nan) })
/// ```
public struct MetaAnalysis: Sendable {
    /// What the analysis does with the votes.
    public struct Options: Sendable {
        /// What a judge whose two orders disagree counts as.
        public var flip: FlipPolicy
        /// How the panel combines its judges.
        public var aggregate: AggregationMethod
        /// Bootstrap resamples for the intervals (0 for none).
        public var resamples: Int
        /// The bootstrap seed.
        public var seed: UInt64
        /// A `meta` key whose values define bootstrap clusters (resampled whole).
        public var clusterKey: String?
        /// Krippendorff level override; default nominal for pairwise/category labels, interval for scores.
        public var alphaLevel: MeasurementLevel?
        /// Judge order (names); judges not listed follow in order of appearance.
        public var judgeOrder: [String]
        /// Per-judge weights for `weighted` aggregation.
        public var weights: [String: Double]
        /// Checklist: how much higher a pass ratio must be to beat the other response.
        public var tieMargin: Double
        /// The judging protocol of the votes (a score run's rubric); nil infers it from the votes.
        public var protocolKind: JudgingProtocol?
        /// The probability with which each labelled item was drawn for labelling (labels.jsonl `p_select`; missing
        /// = 1): unequal probabilities make the prediction-powered estimates inverse-probability weighted.
        public var pSelect: [String: Double] = [:]
        /// The error level of the prediction-powered intervals (`ppi.alpha`).
        public var ppiAlpha: Double = 0.05

        /// Options; the defaults are `meta`'s.
        public init(
            flip: FlipPolicy = .tie, aggregate: AggregationMethod = .majority, resamples: Int = 1000, seed: UInt64 = 0,
            clusterKey: String? = nil, alphaLevel: MeasurementLevel? = nil, judgeOrder: [String] = [],
            weights: [String: Double] = [:], tieMargin: Double = 0.05
        ) {
            self.flip = flip
            self.aggregate = aggregate
            self.resamples = resamples
            self.seed = seed
            self.clusterKey = clusterKey
            self.alphaLevel = alphaLevel
            self.judgeOrder = judgeOrder
            self.weights = weights
            self.tieMargin = tieMargin
        }
    }

    /// The options in use.
    public var options: Options

    /// An analysis with `options`.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// The kind of the items' labels (from `label`, else from `labels`).
    public static func labelKind(_ items: [Item]) -> LabelKind? {
        var kinds = Set<LabelKind>()
        for item in items {
            for l in [item.label].compactMap({ $0 }) + item.labels.map(\.label) {
                switch l {
                case .pairwise: kinds.insert(.pairwise)
                case .score: kinds.insert(.score)
                case .category: kinds.insert(.category)
                }
            }
        }
        if kinds.contains(.pairwise) { return .pairwise }
        if kinds.contains(.category) { return .category }
        if kinds.contains(.score) { return .score }
        return nil
    }

    /// Reconciled per-item verdicts of every judge plus the panel, from votes.
    public struct Reconciled: Sendable {
        /// The judges, in report order.
        public var judges: [String]
        /// The protocol the votes were cast under.
        public var kind: JudgingProtocol
        /// [judge][item]
        public var verdicts: [[JudgeVerdict]]
        /// The panel's verdict per item.
        public var panel: [Verdict]
        /// Each judge's accuracy as estimated by Dawid–Skene (empty for the per-item methods).
        public var estimatedAccuracy: [String: Double?]
    }

    /// Reconciles votes per judge and aggregates the panel.
    public func reconcile(items: [Item], votes: [Vote]) -> Reconciled {
        let (judges, kind, verdicts) = Reconcile.table(
            items: items, votes: votes, judgeOrder: options.judgeOrder, kind: options.protocolKind, flip: options.flip,
            tieMargin: options.tieMargin)
        return finishReconcile(items: items, judges: judges, kind: kind, verdicts: verdicts)
    }

    /// The panel's verdicts (and Dawid–Skene's judge accuracies) from every judge's reconciled verdicts.
    func finishReconcile(items: [Item], judges: [String], kind: JudgingProtocol, verdicts: [[JudgeVerdict]])
        -> Reconciled
    {
        let table = items.indices.map { i in judges.indices.map { verdicts[$0][i] } }
        let panel = Aggregator(method: options.aggregate, weights: options.weights)
            .aggregate(items: items.map(\.id), judges: judges, verdicts: table, kind: kind)
        return Reconciled(
            judges: judges, kind: kind, verdicts: verdicts, panel: panel.verdicts,
            estimatedAccuracy: panel.judgeAccuracy)
    }

    /// The full report, with slices by `sliceKey` when given, and per-turn slices (`slices.turn`) whenever the items
    /// carry a `turn` (MT-Bench human judgments: one item per question, model pair and turn; meta key `turn`).
    public func report(items: [Item], votes: [Vote], sliceKey: String? = nil) -> MetaReport {
        let votes = votes.filter { $0.variant == nil }
        var report = build(items: items, votes: votes)
        let known = Set(items.map(\.id))
        let unmatched = votes.filter { !known.contains($0.item) }.count
        if unmatched > 0 {
            report.notes = (report.notes ?? []) + ["\(unmatched) votes name items not in the items file (ignored)"]
        }
        var keys = sliceKey.map { [$0] } ?? []
        if sliceKey != "turn", items.contains(where: { $0.meta["turn"] != nil }) { keys.append("turn") }
        for key in keys {
            var groups: [String: [Item]] = [:]
            for item in items { groups[item.meta[key]?.textValue ?? "(none)", default: []].append(item) }
            var out: [String: MetaReport] = [:]
            for (value, group) in groups {
                let ids = Set(group.map(\.id))
                out[value] = build(items: group, votes: votes.filter { ids.contains($0.item) })
            }
            report.slices = (report.slices ?? [:]).merging([key: out]) { $1 }
        }
        if options.aggregate == .weighted { report.weights = options.weights.isEmpty ? nil : options.weights }
        if items.contains(where: { $0.modelA != nil && $0.modelB != nil && $0.modelA != $0.modelB }) {
            addRanking(
                &report, items: ItemColumns(items, clusterKey: nil),
                rec: ReconciledColumns(reconcile(items: items, votes: votes)))
        }
        // Human labels on a subset of the judged items: prediction-powered estimates of what humans would conclude.
        if items.contains(where: { $0.consensus != nil }) {
            let panel = reconcile(items: items, votes: votes).panel
            report.ppi = PPIAnalysis.report(
                items: items, outcomes: PPIAnalysis.outcomes(panel), scores: panel.map(\.score),
                pSelect: options.pSelect,
                alpha: options.ppiAlpha)
        }
        return report
    }

    /// Adds the Bradley–Terry ranking of the compared systems (pairwise items with `model_a`/`model_b`).
    func addRanking(_ report: inout MetaReport, items: ItemColumns, rec: ReconciledColumns) {
        guard items.comparesModels else { return }
        guard rec.kind == .pairwise, !rec.judges.isEmpty else { return }
        let pairs = (0..<items.count).lazy.map { i in items.models(i).map { ($0.a, $0.b) } }
        let ranking = SystemRanking.rank(
            pairs: pairs, verdicts: (0..<items.count).lazy.map { rec.panel.verdict($0) }, resamples: options.resamples,
            seed: options.seed)
        guard !ranking.isEmpty else { return }
        report.ranking = ranking.map(RankingEntry.init)
        if items.anyHumanPreference {
            let human = SystemRanking.rank(
                pairs: pairs, verdicts: (0..<items.count).lazy.map { items.consensus.preference($0) }, resamples: 0,
                seed: options.seed)
            if !human.isEmpty { report.rankingKendallTauHuman = SystemRanking.kendall(ranking, human) }
        }
    }

    /// Bootstrap cluster ids per item from the `meta` key (an item without it is its own cluster); nil without a key.
    package static func clusters(_ items: [Item], key: String?) -> [Int]? {
        key.map { key in
            var ids: [String: Int] = [:]
            return items.map { item in
                let v = item.meta[key]?.textValue ?? "\u{0}\(item.id)"
                if let c = ids[v] { return c }
                ids[v] = ids.count
                return ids.count - 1
            }
        }
    }

    package func build(items: [Item], votes: [Vote]) -> MetaReport {
        let rec = reconcile(items: items, votes: votes)
        let itemIndex = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let labels = items.map { $0.consensus?.preference }
        let labelKindIsPairwise = Self.labelKind(items) == .pairwise
        var tallies = rec.judges.map { _ in VoteTally() }
        let judgeIndex = Dictionary(uniqueKeysWithValues: rec.judges.enumerated().map { ($1, $0) })
        var perItem = [[[Vote]]](repeating: [], count: rec.judges.count)
        for j in perItem.indices { perItem[j] = [[Vote]](repeating: [], count: items.count) }
        var known = 0
        for v in votes {
            guard let i = itemIndex[v.item] else { continue }
            known += 1
            guard let j = judgeIndex[v.judge] else { continue }
            tallies[j].add(v, label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
            perItem[j][i].append(v)
        }
        for j in perItem.indices {
            for i in perItem[j].indices where !perItem[j][i].isEmpty {
                tallies[j].addItem(perItem[j][i], label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
            }
        }
        return build(
            items: ItemColumns(items, clusterKey: options.clusterKey), rec: ReconciledColumns(rec), tallies: tallies,
            knownVotes: known
        ) {
            ReconciledColumns(otherFlip.reconcile(items: items, votes: votes))
        }
    }

    /// This analysis under the other flip policy (for `accuracy_flip_tie` / `accuracy_flip_abstain`).
    var otherFlip: MetaAnalysis {
        var other = self
        other.options.flip = options.flip == .tie ? .abstain : .tie
        return other
    }

    /// The report from reconciled verdicts and each judge's vote statistics (`knownVotes`: votes on listed items).
    /// `reconciledUnderOtherFlip` gives the same votes reconciled under the other flip policy; it is called only when
    /// some judge was asked in both orders on pairwise labels.
    package func build(
        items: ItemColumns, rec: ReconciledColumns, tallies: [VoteTally], knownVotes: Int,
        reconciledUnderOtherFlip: () throws -> ReconciledColumns
    ) rethrows -> MetaReport {
        let labels = items.consensus
        let kind = items.labelKind
        let clusters = items.clusters
        let labeledPairwise = labels.tags.reduce(0) { $0 + ($1 >= 1 && $1 <= 3 ? 1 : 0) }
        var report = MetaReport(
            nItems: items.count, labelKind: kind, judges: [], panel: nil, human: nil, interJudge: nil,
            resampling: options.clusterKey.map { "cluster:\($0)" } ?? "item", bootstrapResamples: options.resamples,
            seed: options.seed, flip: options.flip, aggregate: options.aggregate)
        for (j, name) in rec.judges.enumerated() {
            var m = metrics(
                name: name, predictions: rec.verdicts[j], labels: labels, kind: kind, clusters: clusters,
                protocolKind: rec.kind)
            tallies[j].apply(to: &m, labelKindIsPairwise: kind == .pairwise, labeledItems: labeledPairwise)
            if let e = rec.estimatedAccuracy[name] {
                m.estimatedAccuracy = e.map { .defined($0) } ?? .undefined("judge has no votes")
            }
            report.judges.append(m)
        }
        if !rec.judges.isEmpty {
            var p = metrics(
                name: "panel", predictions: rec.panel, labels: labels, kind: kind, clusters: clusters,
                protocolKind: rec.kind)
            p.calls = knownVotes
            let costs = report.judges.compactMap(\.costUSD)
            if !costs.isEmpty { p.costUSD = costs.reduce(0, +) }
            report.panel = p
        }
        if kind == .pairwise, rec.kind == .pairwise, tallies.contains(where: \.anyBA) {
            addFlipAccuracies(&report, rec: rec, recOther: try reconciledUnderOtherFlip(), labels: labels)
        }
        report.conventions = conventions(items: items, kind: kind)
        report.human = human(items: items, kind: kind)
        if rec.judges.count >= 2 {
            report.interJudge = interJudge(rec: rec, labels: labels, kind: kind)
        }
        return report
    }

    // MARK: - Per-judge metrics against the consensus label

    package func metrics(
        name: String, predictions: [JudgeVerdict], labels: [Label?], kind: LabelKind?, clusters: [Int]?,
        protocolKind: JudgingProtocol
    ) -> JudgeMetrics {
        metrics(
            name: name, predictions: VerdictColumn(predictions), labels: LabelColumn(labels), kind: kind,
            clusters: clusters,
            protocolKind: protocolKind)
    }

    /// One judge's (or the panel's) metrics against the consensus labels, from their columns.
    package func metrics(
        name: String, predictions: VerdictColumn, labels: LabelColumn, kind: LabelKind?, clusters: [Int]?,
        protocolKind: JudgingProtocol
    ) -> JudgeMetrics {
        let labeled = labels.indices.filter { labels.tags[$0] != 0 }
        var m = JudgeMetrics(judge: name, n: labeled.count)
        if protocolKind == .pairwise || predictions.codes.contains(where: { $0 & 3 != 0 }) {
            var counts = [0, 0, 0, 0]
            for c in predictions.codes { counts[Int(c & 3)] += 1 }
            m.wins = counts[1]
            m.ties = counts[3]
            m.losses = counts[2]
        }
        let scores = predictions.indices.compactMap { predictions.score($0) }
        if protocolKind != .pairwise, !scores.isEmpty, predictions.codes.allSatisfy({ $0 & 3 == 0 }) {
            m.meanScore = .defined(scores.reduce(0, +) / Double(scores.count))
        }
        guard let kind, !labeled.isEmpty else { return m }
        let subClusters = clusters.map { c in labeled.map { c[$0] } }
        let boot = options
        switch kind {
        case .pairwise:
            let truth = labeled.map { labels.preference($0) }
            let pred = labeled.map { predictions.verdict($0) }
            m.set(\.accuracy, "accuracy", accuracy(pred, truth))
            m.set(\.coverage, "coverage", coverage(pred, truth))
            m.set(\.accuracyAnswered, "accuracy_answered", answeredAccuracy(pred, truth))
            let correct = zip(pred, truth).map { $0.0 != nil && $0.0 == $0.1 }
            m.accuracyCI = Interval(
                bootstrapAccuracyCI(correct: correct, resamples: boot.resamples, seed: boot.seed, clusters: subClusters)
            )
            // κ over answered items, from the 3×3 confusion table (A, B, tie); its CI resamples that table
            // (multinomially, or cluster by cluster with --cluster), the item bootstrap drawn in O(9) per resample.
            // Every cluster gets a table, even one whose items all abstained: it is still drawn.
            let zeros = [Int](repeating: 0, count: 9)
            var confusion = zeros
            var clusterTables: [Int: [Int]] = [:]
            for (i, (p, t)) in zip(pred, truth).enumerated() {
                let cell = p.flatMap { p in t.map { p.denseIndex * 3 + $0.denseIndex } }
                if let cell { confusion[cell] += 1 }
                if let c = subClusters?[i] {
                    var table = clusterTables[c] ?? zeros
                    if let cell { table[cell] += 1 }
                    clusterTables[c] = table
                }
            }
            let k =
                confusion.allSatisfy { $0 == 0 }
                ? MetricValue.undefined("no answered item") : cohenKappa(flatConfusion: confusion, categoryCount: 3)
            m.set(\.cohenKappa, "cohen_kappa", k)
            if k.value != nil {
                m.cohenKappaCI = Interval(
                    bootstrapTableCI(
                        cells: confusion, resamples: boot.resamples, seed: boot.seed,
                        clusterTables: subClusters == nil ? nil : clusterTables.sorted { $0.key < $1.key }.map(\.value)
                    ) { cohenKappa(flatConfusion: $0, categoryCount: 3).value })
            }
            m.set(
                \.agreementWithTies, "agreement_with_ties",
                mtBenchAgreement(judge: pred, human: truth, includeTies: true))
            m.set(
                \.agreementWithoutTies, "agreement_without_ties",
                mtBenchAgreement(judge: pred, human: truth, includeTies: false))
            let probPred = labeled.map { predictions[$0].probVerdict }
            if probPred.contains(where: { $0 != nil }) {
                m.set(\.probAccuracy, "prob_accuracy", accuracy(probPred, truth))
            }
        case .score:
            let truth = labeled.map { labels[$0]?.score }
            let pred = labeled.map { predictions.score($0) }
            let pairs = zip(pred, truth).compactMap { p, t -> (Double, Double)? in
                guard let p, let t else { return nil }
                return (p, t)
            }
            let answered = Double(pairs.count)
            m.set(
                \.coverage, "coverage",
                labeled.isEmpty ? .undefined("no labeled item") : .defined(answered / Double(labeled.count)))
            let xs = pairs.map(\.0)
            let ys = pairs.map(\.1)
            m.set(\.pearson, "pearson", pearson(xs, ys))
            m.set(\.spearman, "spearman", spearman(xs, ys))
            m.set(\.kendallTauB, "kendall_tau_b", kendallTauB(xs, ys))
            let rx = xs.map { Int($0.rounded()) }
            let ry = ys.map { Int($0.rounded()) }
            // Exact agreement of rounded scores: the score analogue of accuracy.
            let exact = zip(pred, truth).map { p, t -> Bool in
                guard let p, let t else { return false }
                return Int(p.rounded()) == Int(t.rounded())
            }
            m.set(
                \.accuracy, "accuracy",
                exact.isEmpty
                    ? .undefined("no labeled item") : .defined(Double(exact.filter { $0 }.count) / Double(exact.count)))
            m.accuracyCI = Interval(
                bootstrapAccuracyCI(correct: exact, resamples: boot.resamples, seed: boot.seed, clusters: subClusters))
            m.set(
                \.accuracyAnswered, "accuracy_answered",
                rx.isEmpty
                    ? .undefined("no answered item")
                    : .defined(Double(zip(rx, ry).filter { $0 == $1 }.count) / Double(rx.count)))
            if !rx.isEmpty {
                let cats = Array(Set(rx + ry)).sorted()
                m.set(\.cohenKappa, "cohen_kappa", cohenKappa(rx, ry, labels: cats))
                m.set(
                    \.weightedKappaQuadratic, "weighted_kappa_quadratic",
                    cohenKappa(rx, ry, labels: cats, weights: .quadratic))
            } else {
                m.set(\.cohenKappa, "cohen_kappa", .undefined("no answered item"))
            }
            let es = labeled.map { predictions[$0].expectedScore }
            let esPairs = zip(es, truth).compactMap { p, t -> (Double, Double)? in
                guard let p, let t else { return nil }
                return (p, t)
            }
            if !esPairs.isEmpty {
                m.set(\.expectedScorePearson, "expected_score_pearson", pearson(esPairs.map(\.0), esPairs.map(\.1)))
            }
        case .category:
            // `labeled` holds the items with a label (tag not 0), so each has one; an item without would read as "".
            let truth = labeled.map { labels[$0]?.text ?? "" }
            let pred = labeled.map { i -> String? in
                if let v = predictions[i].verdict { return v.rawValue }
                return predictions[i].score.map { String(Int($0.rounded())) }
            }
            m.set(\.accuracy, "accuracy", accuracy(pred, truth))
            m.set(\.coverage, "coverage", coverage(pred, truth))
            m.set(\.accuracyAnswered, "accuracy_answered", answeredAccuracy(pred, truth))
            let correct = zip(pred, truth).map { $0.0 != nil && $0.0 == $0.1 }
            m.accuracyCI = Interval(
                bootstrapAccuracyCI(correct: correct, resamples: boot.resamples, seed: boot.seed, clusters: subClusters)
            )
            let both = zip(pred, truth).compactMap { p, t -> (String, String)? in p.map { ($0, t) } }
            m.set(
                \.cohenKappa, "cohen_kappa",
                both.isEmpty
                    ? .undefined("no answered item")
                    : cohenKappa(both.map(\.0), both.map(\.1), labels: Array(Set(truth)).sorted()))
        }
        return m
    }

    /// `accuracy_flip_tie` and `accuracy_flip_abstain` for every judge and the panel: the accuracy under each flip
    /// policy (one of them is `accuracy` itself), so a figure can be matched to either convention.
    func addFlipAccuracies(
        _ report: inout MetaReport, rec: ReconciledColumns, recOther: ReconciledColumns, labels: LabelColumn
    ) {
        let labeled = labels.indices.filter { labels.preference($0) != nil }
        let truth = labeled.map { labels.preference($0) }
        func acc(_ preds: [Preference?]) -> MetricValue { accuracy(labeled.map { preds[$0] }, truth) }
        func assign(_ m: inout JudgeMetrics, mine: [Preference?], theirs: [Preference?]) {
            let (tie, abstain) = options.flip == .tie ? (mine, theirs) : (theirs, mine)
            m.set(\.accuracyFlipTie, "accuracy_flip_tie", acc(tie))
            m.set(\.accuracyFlipAbstain, "accuracy_flip_abstain", acc(abstain))
        }
        for j in report.judges.indices {
            guard let a = rec.judges.firstIndex(of: report.judges[j].judge),
                let b = recOther.judges.firstIndex(of: report.judges[j].judge)
            else { continue }
            assign(
                &report.judges[j], mine: rec.verdicts[a].indices.map(rec.verdicts[a].verdict),
                theirs: recOther.verdicts[b].indices.map(recOther.verdicts[b].verdict))
        }
        if report.panel != nil {
            assign(
                &report.panel!, mine: rec.panel.indices.map(rec.panel.verdict),
                theirs: recOther.panel.indices.map(recOther.panel.verdict))
        }
    }

    /// The `conventions` section: how each number in this report was produced.
    package func conventions(items: ItemColumns, kind: LabelKind?) -> ReportConventions {
        let flip =
            options.flip == .tie
            ? "tie: a judge whose two orders disagree counts as a tie in accuracy (accuracy_flip_abstain: it abstains, so the item is correct only if both orders are; accuracy_net: JudgeBench's two-order score, +1 per order with the label, -1 per order against it)"
            : "abstain: a judge whose two orders disagree abstains, so an item is correct only if both orders are (accuracy_flip_tie: the flip counts as a tie; accuracy_net: JudgeBench's two-order score, +1 per order with the label, -1 per order against it)"
        let abstention =
            "accuracy counts an abstained item as a miss over all labelled items; accuracy_answered is over answered items, coverage the share answered; one order answering stands for the judge; position_consistency is over items asked in both orders, a one-sided abstention inconsistent (LLMBar's \"equal\" = position_consistency + position_both_abstained / position_asked); position_consistency_answered is over items answered in both orders"
        let own = items.ownLabels
        let derived = items.derivedLabels
        var human: String
        switch (own, derived) {
        case (0, 0): human = "none: no item carries a human label"
        case (_, 0): human = "the item's label field (\(own) items)"
        default:
            let rule: String
            switch kind {
            case .score?: rule = "the mean of the annotators' scores"
            case .category?: rule = "the most frequent of the annotators' labels (none when the top is shared)"
            default: rule = "the majority of the annotators' labels (a tie at the top is a tie)"
            }
            human =
                own == 0
                ? "\(rule) (\(derived) items)" : "the label field (\(own) items), else \(rule) (\(derived) items)"
        }
        human += "; the human section compares the annotators with each other"
        let unit =
            options.clusterKey.map { "cluster:\($0) (whole clusters of items resampled)" }
            ?? "item (items resampled with replacement)"
        let bootstrap =
            options.resamples == 0
            ? "none (--resamples 0: point figures only, every interval null)"
            : "\(unit), \(options.resamples) resamples, seed \(options.seed)"
        return ReportConventions(flip: flip, abstention: abstention, humanLabel: human, bootstrapUnit: bootstrap)
    }

    // MARK: - Humans

    package func human(items: ItemColumns, kind: LabelKind?) -> HumanAgreement? {
        let annotators = Array(Set(items.annotated.flatMap { $0.labels.map(\.annotator) })).sorted()
        guard annotators.count >= 2, let kind else { return nil }
        let withLabels = items.annotated.filter { $0.labels.count >= 2 }
        var h = HumanAgreement(
            nAnnotators: annotators.count, nItems: withLabels.count, pairwiseCohenKappa: [:])
        var notes: [String: String] = [:]
        func lookup(_ item: AnnotatedItem, _ a: String) -> Label? { item.labels.first { $0.annotator == a }?.label }
        let level = options.alphaLevel ?? (kind == .score ? .interval : .nominal)
        h.alphaLevel = level.rawValue
        if kind == .score {
            let matrix = annotators.map { a in withLabels.map { lookup($0, a)?.score } }
            h.krippendorffAlpha = krippendorffAlpha(matrix, level: level)
            let ratings = withLabels.map { item in annotators.map { lookup(item, $0).map { String($0.score ?? 0) } } }
            let table = fleissTable(ratings: ratings)
            h.fleissKappa = fleissKappa(table: table.table)
        } else {
            let ratings = withLabels.map { item in annotators.map { lookup(item, $0)?.text } }
            let table = fleissTable(ratings: ratings)
            h.fleissKappa = fleissKappa(table: table.table)
            let matrix = annotators.map { a in withLabels.map { lookup($0, a)?.text } }
            if level == .nominal {
                h.krippendorffAlpha = krippendorffAlpha(categories: matrix, level: .nominal)
            } else {
                let cats = Array(Set(matrix.flatMap { $0.compactMap { $0 } })).sorted()
                let codes = matrix.map { row in row.map { v in v.flatMap { cats.firstIndex(of: $0) }.map(Double.init) }
                }
                h.krippendorffAlpha = krippendorffAlpha(codes, level: level)
            }
        }
        for (x, a) in annotators.enumerated() {
            for b in annotators[(x + 1)...] {
                var ya: [String] = []
                var yb: [String] = []
                for item in withLabels {
                    if let la = lookup(item, a), let lb = lookup(item, b) {
                        ya.append(kind == .score ? String(Int((la.score ?? 0).rounded())) : la.text)
                        yb.append(kind == .score ? String(Int((lb.score ?? 0).rounded())) : lb.text)
                    }
                }
                h.pairwiseCohenKappa["\(a)|\(b)"] = ya.isEmpty ? .undefined("no shared item") : cohenKappa(ya, yb)
            }
        }
        // Leave one annotator out: each annotator against the consensus of the others, averaged.
        var perAnnotator: [Double] = []
        for a in annotators {
            var hits = 0.0
            var n = 0
            var xs: [Double] = []
            var ys: [Double] = []
            for item in withLabels {
                guard let mine = lookup(item, a) else { continue }
                let others = item.labels.filter { $0.annotator != a }.map(\.label)
                guard !others.isEmpty else { continue }
                if kind == .score {
                    let os = others.compactMap(\.score)
                    guard let m = mine.score, !os.isEmpty else { continue }
                    xs.append(m)
                    ys.append(os.reduce(0, +) / Double(os.count))
                } else if kind == .pairwise {
                    guard let rest = Reconcile.majority(others.compactMap(\.preference)) else { continue }
                    n += 1
                    if mine.preference == rest { hits += 1 }
                } else {
                    var counts: [String: Int] = [:]
                    for o in others { counts[o.text, default: 0] += 1 }
                    let top = counts.values.max() ?? 0
                    let winners = counts.filter { $0.value == top }.keys
                    n += 1
                    if winners.count == 1, winners.first == mine.text { hits += 1 }
                }
            }
            if kind == .score {
                if let r = pearson(xs, ys).value { perAnnotator.append(r) }
            } else if n > 0 {
                perAnnotator.append(hits / Double(n))
            }
        }
        if perAnnotator.isEmpty {
            h.leaveOneOutAgreement = .undefined("no item with an annotator and others")
            notes["leave_one_out_agreement"] = "no item with an annotator and others"
        } else {
            h.leaveOneOutAgreement = .defined(perAnnotator.reduce(0, +) / Double(perAnnotator.count))
        }
        if kind == .score {
            notes["leave_one_out_agreement_definition"] = "mean Pearson of each annotator with the mean of the others"
        } else {
            notes["leave_one_out_agreement_definition"] =
                "mean share of items where an annotator matches the majority of the others"
        }
        h.notes = notes
        return h
    }

    // MARK: - Between judges

    package func interJudge(rec: ReconciledColumns, labels: LabelColumn, kind: LabelKind?) -> InterJudge {
        var kappa: [String: MetricValue] = [:]
        var errorCorr: [String: MetricValue] = [:]
        let n = rec.judges.count
        func text(_ v: JudgeVerdict) -> String? {
            if let p = v.verdict { return p.rawValue }
            return v.score.map { String(Int($0.rounded())) }
        }
        func wrong(_ v: JudgeVerdict, _ l: Label?) -> Double? {
            guard let l else { return nil }
            switch l {
            case .pairwise(let p): return v.verdict == p ? 0 : 1
            case .score(let s): return v.score.map { abs($0 - s) } ?? nil
            case .category(let c): return text(v) == c ? 0 : 1
            }
        }
        var matrix = [[MetricValue]](repeating: [MetricValue](repeating: .defined(1), count: n), count: n)
        for a in 0..<n {
            for b in (a + 1)..<max(a + 1, n) where b < n {
                let key = "\(rec.judges[a])|\(rec.judges[b])"
                var xa: [String] = []
                var xb: [String] = []
                var ea: [Double] = []
                var eb: [Double] = []
                for i in rec.verdicts[a].indices {
                    let va = rec.verdicts[a][i]
                    let vb = rec.verdicts[b][i]
                    if let ta = text(va), let tb = text(vb) {
                        xa.append(ta)
                        xb.append(tb)
                    }
                    if let wa = wrong(va, labels[i]), let wb = wrong(vb, labels[i]) {
                        ea.append(wa)
                        eb.append(wb)
                    }
                }
                kappa[key] = xa.isEmpty ? .undefined("no item both answered") : cohenKappa(xa, xb)
                let r = kind == nil ? MetricValue.undefined("no human labels") : pearson(ea, eb)
                errorCorr[key] = r
                matrix[a][b] = r
                matrix[b][a] = r
            }
        }
        return InterJudge(
            cohenKappa: kappa, errorCorrelation: errorCorr,
            effectiveJudges: kind == nil ? nil : EffectiveJudges.bounded(matrix))
    }
}
