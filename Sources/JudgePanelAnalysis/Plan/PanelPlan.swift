import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Which panel to pay for, decided offline from recorded pairwise votes and human labels (`judgepanel plan`).
///
/// For every subset of the recorded judges (all of them up to ``Options/maxExhaustive`` judges, a greedy forward
/// selection beyond) and every call policy — the full panel, the adaptive stopping rule, and the panel file's
/// cascade when it has `tiers:` — the recorded votes are *replayed*: the policy's scheduler (the same code a live
/// run uses) asks for calls and gets the recorded votes, so the replay makes exactly the calls and reaches exactly
/// the verdicts a live run with deterministic judges would. Each candidate gets its accuracy and Cohen κ against
/// the human consensus (with bootstrap CIs, by item or `--cluster`), calls per item and dollars per 1 000 items;
/// the Pareto frontier of agreement against cost and a recommendation for a budget or an accuracy target follow.
package struct PanelPlan: Sendable {
    /// Plan settings.
    package struct Options: Sendable {
        package var flip: FlipPolicy
        package var aggregate: AggregationMethod
        package var resamples: Int
        package var seed: UInt64
        /// A `meta` key whose values are bootstrap clusters.
        package var clusterKey: String?
        /// A `meta` key: the plan is repeated per value.
        package var sliceKey: String?
        /// Recommend the most accurate candidate costing at most this many USD per 1 000 items.
        package var budget: Double?
        /// Recommend the cheapest candidate with at least this accuracy.
        package var targetAccuracy: Double?
        /// Every subset up to this many judges; greedy forward selection beyond.
        package var maxExhaustive: Int
        /// The panel file: judge order, weights, prices, `tiers:`/`escalate:`, swap, flip and aggregation.
        package var panel: Panel?
        /// With a panel price: votes without token usage (imported ones) are costed from an estimate — the
        /// prompt this rubric renders for the item and the recorded reply, about 4 characters a token, as
        /// `score --dry-run` estimates.
        package var rubric: Rubric?
        /// The files, for error messages.
        package var votesFile: String?
        package var itemsFile: String?

        /// Creates plan settings; a `panel` overrides `flip` and `aggregate` with its own.
        package init(
            flip: FlipPolicy = .tie, aggregate: AggregationMethod = .majority, resamples: Int = 1000, seed: UInt64 = 0,
            clusterKey: String? = nil, sliceKey: String? = nil, budget: Double? = nil, targetAccuracy: Double? = nil,
            maxExhaustive: Int = 12, panel: Panel? = nil
        ) {
            self.flip = panel?.flip ?? flip
            self.aggregate = panel?.aggregate ?? aggregate
            self.resamples = resamples
            self.seed = seed
            self.clusterKey = clusterKey
            self.sliceKey = sliceKey
            self.budget = budget
            self.targetAccuracy = targetAccuracy
            self.maxExhaustive = maxExhaustive
            self.panel = panel
        }
    }

    /// One subset of judges under one call policy.
    package struct Candidate: Sendable, Hashable, Codable {
        package var judges: [String]
        package var policy: CallPolicy
        /// Agreement with the human consensus on labelled items (an abstention is a miss), and Cohen κ (A/B/tie).
        package var accuracy: MetricValue?
        package var accuracyCI: Interval?
        package var cohenKappa: MetricValue?
        package var cohenKappaCI: Interval?
        /// Recorded calls the policy uses, per item.
        package var callsPerItem: Double
        /// Dollars per 1 000 items (usage × the panel's prices, else the recorded `cost_usd`); nil when a used
        /// vote has neither.
        package var usdPer1000: Double?
        /// Share of items whose verdict equals the same judges' full-panel verdict.
        package var sameAsFull: Double
        /// On the Pareto frontier of accuracy against cost.
        package var pareto: Bool

        package enum CodingKeys: String, CodingKey {
            case judges, policy, accuracy
            case accuracyCI = "accuracy_ci"
            case cohenKappa = "cohen_kappa"
            case cohenKappaCI = "cohen_kappa_ci"
            case callsPerItem = "calls_per_item"
            case usdPer1000 = "usd_per_1000"
            case sameAsFull = "same_as_full"
            case pareto
        }
    }

    /// The plan: `plan --json`.
    package struct Report: Sendable, Hashable, Codable {
        package var nItems: Int
        package var nLabelled: Int
        package var judges: [String]
        package var swap: Bool
        package var aggregate: AggregationMethod
        package var flip: FlipPolicy
        /// `exhaustive` (every subset) or `greedy` (singletons and a forward-selection path).
        package var search: String
        /// The cost axis: `usd` (dollars per 1 000 items) or `calls` (no cost known for some vote).
        package var costBasis: String
        package var resampling: String
        package var bootstrapResamples: Int
        package var seed: UInt64
        /// Every candidate, cheapest first.
        package var candidates: [Candidate]
        /// The Pareto frontier, cheapest first.
        package var frontier: [Candidate]
        package var recommended: Candidate?
        /// Why the recommendation is what it is (or why there is none).
        package var recommendation: String?
        package var notes: [String]?
        /// Recorded votes whose cost came from estimated tokens (``Options/rubric``).
        var estimatedVotes: Int?
        package var slices: [String: [String: Report]]?

        package enum CodingKeys: String, CodingKey {
            case nItems = "n_items"
            case nLabelled = "n_labelled"
            case judges, swap, aggregate, flip, search
            case costBasis = "cost_basis"
            case resampling
            case bootstrapResamples = "bootstrap_resamples"
            case seed, candidates, frontier, recommended, recommendation, notes
            case estimatedVotes = "estimated_votes"
            case slices
        }
    }

    /// One policy replayed over recorded votes: per item the votes used, the calls made and the verdict.
    package struct Replay: Sendable {
        package var verdicts: [Verdict]
        package var callsPerItem: [Int]
        /// The recorded votes the policy used, per item (plan order).
        package var votes: [[Vote]]
        /// Dollars per item; nil where a used vote has no cost.
        var usdPerItem: [Double?]
    }

    package var options: Options

    package init(options: Options = Options()) {
        self.options = options
    }

    // MARK: - Replay

    /// Recorded votes indexed for replay: per item, per judge, the votes of each order.
    package struct Recorded {
        package var items: [Item]
        package var judges: [String]
        package var swap: Bool
        package var asked: [[AskedJudge]]
        package var unmatched: Int
    }

    package func index(items: [Item], votes: [Vote]) throws -> Recorded {
        let votes = votes.filter { $0.variant == nil }
        if let v = votes.first(where: { $0.protocol != .pairwise }) {
            throw JudgePanelError.badInput(
                "plan replays pairwise votes; vote for item '\(v.item)' by '\(v.judge)' is \(v.protocol.rawValue)",
                file: options.votesFile)
        }
        var order = options.panel?.judges.map(\.name) ?? []
        var seen = Set(order)
        for v in votes where !seen.contains(v.judge) {
            seen.insert(v.judge)
            order.append(v.judge)
        }
        let present = Set(votes.map(\.judge))
        let judges = order.filter { present.contains($0) }
        let itemIndex = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let judgeIndex = Dictionary(uniqueKeysWithValues: judges.enumerated().map { ($1, $0) })
        var asked = [[AskedJudge]](
            repeating: [AskedJudge](repeating: AskedJudge(), count: judges.count), count: items.count)
        var unmatched = 0
        for v in votes {
            guard let i = itemIndex[v.item], let j = judgeIndex[v.judge] else {
                unmatched += 1
                continue
            }
            let o = v.order ?? .ab
            asked[i][j][o] = (asked[i][j][o] ?? []) + [v]
        }
        for i in asked.indices {
            for j in asked[i].indices {
                asked[i][j].ab?.sort { $0.sample < $1.sample }
                asked[i][j].ba?.sort { $0.sample < $1.sample }
            }
        }
        let swap = options.panel?.swap ?? votes.contains { $0.order == .ba }
        return Recorded(items: items, judges: judges, swap: swap, asked: asked, unmatched: unmatched)
    }

    /// Replays `policy` with the judges `subset` (indices into the recorded judges, in that order).
    package func replay(_ rec: Recorded, subset: [Int], policy: CallPolicy) -> Replay? {
        let names = subset.map { rec.judges[$0] }
        let configs = Dictionary((options.panel?.judges ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let weightByName = Dictionary(uniqueKeysWithValues: names.map { ($0, configs[$0]?.weight ?? 1) })
        let weights = names.map { options.aggregate == .weighted ? weightByName[$0] ?? 1 : 1 }
        let scheduler: (any CallScheduler)?
        switch policy {
        case .full: scheduler = nil
        case .adaptive: scheduler = AdaptiveStopping(weights: weights, swap: rec.swap, flip: options.flip)
        case .cascade:
            guard let tiers = options.panel?.tiers else { return nil }
            let position = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            let sub = tiers.map { $0.compactMap { position[$0] } }.filter { !$0.isEmpty }
            guard sub.count >= 2 else { return nil }
            scheduler = CascadeRule(
                tiers: sub, weights: weights, swap: rec.swap, flip: options.flip,
                rule: options.panel?.escalate ?? EscalationRule())
        }
        let aggregator = Aggregator(method: options.aggregate, weights: weightByName)
        let orders: [Order] = rec.swap ? [.ab, .ba] : [.ab]
        var results: [ItemResult] = []
        var calls: [Int] = []
        var used: [[Vote]] = []
        var usd: [Double?] = []
        for (i, item) in rec.items.enumerated() {
            let recorded = subset.map { rec.asked[i][$0] }
            var asked = [AskedJudge](repeating: AskedJudge(), count: subset.count)
            var aggregated: [Int]? = nil
            if let scheduler {
                while true {
                    let batch = scheduler.next(asked)
                    if batch.isEmpty { break }
                    for b in batch { asked[b.judge][b.order] = recorded[b.judge][b.order] ?? [] }
                }
                aggregated = scheduler.aggregated(asked)
            } else {
                for j in asked.indices { for o in orders { asked[j][o] = recorded[j][o] ?? [] } }
            }
            let votes = asked.flatMap { ($0.ab ?? []) + ($0.ba ?? []) }
            var perJudge: [String: JudgeVerdict] = [:]
            var ordered: [(name: String, verdict: JudgeVerdict)] = []
            for (j, name) in names.enumerated() {
                let jv = Reconcile.judge((asked[j].ab ?? []) + (asked[j].ba ?? []), kind: .pairwise, flip: options.flip)
                perJudge[name] = jv
                ordered.append((name, jv))
            }
            if let aggregated { ordered = aggregated.map { ordered[$0] } }
            let verdict = aggregator.aggregate(item: item.id, judges: ordered, kind: .pairwise)
            results.append(ItemResult(index: i, item: item, votes: votes, judgeVerdicts: perJudge, verdict: verdict))
            calls.append(votes.count)
            used.append(votes)
            usd.append(
                votes.reduce(Double?.some(0)) { sum, v in
                    guard let sum, let c = cost(v, configs[v.judge], item) else { return nil }
                    return sum + c
                })
        }
        results = aggregator.finish(results, kind: .pairwise)
        return Replay(verdicts: results.map(\.verdict), callsPerItem: calls, votes: used, usdPerItem: usd)
    }

    /// What a vote's call costs: its token usage at the judge's price in the panel file, else the recorded
    /// `cost_usd` — except a cache hit's recorded 0, which says nothing about the price of the call.
    package func cost(_ v: Vote, _ judge: JudgeConfig?, _ item: Item) -> Double? {
        if let price = judge?.price, let u = v.usage {
            return price.cost(promptTokens: u.promptTokens, completionTokens: u.completionTokens)
        }
        if let c = v.costUSD, v.cached != true { return c }
        guard let price = judge?.price, let tokens = Self.estimatedTokens(v, item, rubric: options.rubric) else {
            return nil
        }
        return price.cost(promptTokens: tokens.prompt, completionTokens: tokens.completion)
    }

    /// Estimated tokens of a vote without usage: the rubric's prompt for the item in the vote's order and the
    /// recorded reply, 4 characters a token plus 8 per message.
    static func estimatedTokens(_ v: Vote, _ item: Item, rubric: Rubric?) -> (prompt: Int, completion: Int)? {
        guard let rubric, v.usage == nil else { return nil }
        let messages = Prompting.messages(rubric: rubric, item: item, order: v.order)
        let prompt = messages.reduce(0) { $0 + $1.content.utf8.count } / 4 + 8 * messages.count
        return (prompt, (v.raw ?? "").utf8.count / 4 + 1)
    }

    /// Replays one policy with every recorded judge (panel order): what a live run of that policy would do.
    package func replay(items: [Item], votes: [Vote], policy: CallPolicy) throws -> Replay {
        let rec = try index(items: items, votes: votes)
        guard let r = replay(rec, subset: Array(rec.judges.indices), policy: policy) else {
            throw JudgePanelError.usage("the cascade policy needs a panel with at least two non-empty 'tiers:'")
        }
        return r
    }

    // MARK: - The plan

    /// The plan for `items` (with human labels) and their recorded `votes`.
    package func plan(items: [Item], votes: [Vote]) throws -> Report {
        guard items.contains(where: { $0.consensus?.preference != nil }) else {
            throw JudgePanelError.badInput(
                "no pairwise human label (label / labels) in the items: nothing to plan against",
                file: options.itemsFile)
        }
        var report = try build(items: items, votes: votes)
        if let key = options.sliceKey {
            var groups: [String: [Item]] = [:]
            for item in items { groups[item.meta[key]?.textValue ?? "(none)", default: []].append(item) }
            var out: [String: Report] = [:]
            for (value, group) in groups where group.contains(where: { $0.consensus?.preference != nil }) {
                let ids = Set(group.map(\.id))
                out[value] = try build(items: group, votes: votes.filter { ids.contains($0.item) })
            }
            report.slices = [key: out]
        }
        return report
    }

    package func build(items: [Item], votes: [Vote]) throws -> Report {
        let rec = try index(items: items, votes: votes)
        guard !rec.judges.isEmpty else {
            throw JudgePanelError.badInput("no vote names an item of the items file", file: options.votesFile)
        }
        let n = rec.judges.count
        var subsets: [[Int]]
        let search: String
        if n <= options.maxExhaustive {
            search = "exhaustive"
            subsets = (1..<(1 << n)).map { mask in (0..<n).filter { mask & (1 << $0) != 0 } }
        } else {
            search = "greedy"
            subsets = try greedyPath(rec)
        }
        let labels = items.map(\.consensus)
        let clusters = MetaAnalysis.clusters(items, key: options.clusterKey)
        // Bootstrap every candidate while that stays cheap; beyond, only the frontier and the recommendation.
        let policies: [CallPolicy] = options.panel?.tiers == nil ? [.full, .adaptive] : [.full, .adaptive, .cascade]
        let everyCI = subsets.count * policies.count <= 512
        var candidates: [Candidate] = []
        var replays: [Replay] = []
        for subset in subsets {
            guard let full = replay(rec, subset: subset, policy: .full) else { continue }
            for policy in policies {
                guard let r = policy == .full ? full : replay(rec, subset: subset, policy: policy) else { continue }
                let m = metrics(r.verdicts, labels: labels, clusters: clusters, withCI: everyCI)
                let usd = r.usdPerItem.contains { $0 == nil } ? nil : r.usdPerItem.compactMap { $0 }.reduce(0, +)
                let same = zip(r.verdicts, full.verdicts).filter { $0.verdict == $1.verdict }.count
                candidates.append(
                    Candidate(
                        judges: subset.map { rec.judges[$0] }, policy: policy, accuracy: m.accuracy,
                        accuracyCI: m.accuracyCI,
                        cohenKappa: m.cohenKappa, cohenKappaCI: m.cohenKappaCI,
                        callsPerItem: Double(r.callsPerItem.reduce(0, +)) / Double(max(1, items.count)),
                        usdPer1000: usd.map { $0 / Double(max(1, items.count)) * 1000 },
                        sameAsFull: items.isEmpty ? 1 : Double(same) / Double(items.count), pareto: false))
                replays.append(r)
            }
        }
        let basis = candidates.allSatisfy { $0.usdPer1000 != nil } ? "usd" : "calls"
        func cost(_ c: Candidate) -> Double { basis == "usd" ? c.usdPer1000! : c.callsPerItem }
        let order = candidates.indices.sorted {
            let (a, b) = (candidates[$0], candidates[$1])
            if cost(a) != cost(b) { return cost(a) < cost(b) }
            if (a.accuracy?.value ?? -1) != (b.accuracy?.value ?? -1) {
                return (a.accuracy?.value ?? -1) > (b.accuracy?.value ?? -1)
            }
            return $0 < $1
        }
        candidates = order.map { candidates[$0] }
        replays = order.map { replays[$0] }
        var best = -Double.infinity
        for k in candidates.indices {
            guard let acc = candidates[k].accuracy?.value, acc > best + 1e-12 else { continue }
            best = acc
            candidates[k].pareto = true
        }
        let (pick, why) = try recommend(candidates, basis: basis, cost: cost)
        if !everyCI {
            for k in candidates.indices where candidates[k].pareto || k == pick {
                let m = metrics(replays[k].verdicts, labels: labels, clusters: clusters, withCI: true)
                candidates[k].accuracyCI = m.accuracyCI
                candidates[k].cohenKappaCI = m.cohenKappaCI
            }
        }
        var notes: [String] = []
        if rec.unmatched > 0 { notes.append("\(rec.unmatched) votes name items or judges outside the plan (ignored)") }
        if basis == "calls" {
            notes.append(
                "some votes carry neither cost_usd nor usage with a --panel price: the cost axis is calls per item")
        }
        let priced = Set((options.panel?.judges ?? []).filter { $0.price != nil }.map(\.name))
        var estimated = 0
        if options.rubric != nil {
            for perItem in rec.asked {
                for judge in perItem {
                    let votes: [Vote] = (judge.ab ?? []) + (judge.ba ?? [])
                    estimated +=
                        votes.filter { v in
                            v.usage == nil && (v.costUSD == nil || v.cached == true) && priced.contains(v.judge)
                        }.count
                }
            }
        }
        if estimated > 0 {
            notes.append(
                "\(estimated) votes carry no token usage: their cost is estimated from the rubric's prompt and the recorded reply (~4 characters a token)"
            )
        }
        if !everyCI {
            notes.append("bootstrap CIs for the frontier and the recommendation only (\(candidates.count) candidates)")
        }
        return Report(
            nItems: items.count, nLabelled: labels.filter { $0?.preference != nil }.count, judges: rec.judges,
            swap: rec.swap,
            aggregate: options.aggregate, flip: options.flip, search: search, costBasis: basis,
            resampling: options.clusterKey.map { "cluster:\($0)" } ?? "item", bootstrapResamples: options.resamples,
            seed: options.seed, candidates: candidates, frontier: candidates.filter(\.pareto),
            recommended: pick.map { candidates[$0] }, recommendation: why, notes: notes.isEmpty ? nil : notes,
            estimatedVotes: options.rubric == nil ? nil : estimated)
    }

    /// Greedy forward selection by full-panel accuracy: every single judge, then the path that adds, each step,
    /// the judge raising accuracy most (fewer calls breaking ties).
    func greedyPath(_ rec: Recorded) throws -> [[Int]] {
        let labels = rec.items.map(\.consensus)
        func accuracy(_ s: [Int]) -> Double {
            guard let r = replay(rec, subset: s, policy: .full) else { return -1 }
            return metrics(r.verdicts, labels: labels, clusters: nil, withCI: false).accuracy?.value ?? -1
        }
        var out = rec.judges.indices.map { [$0] }
        var current: [Int] = []
        var rest = Array(rec.judges.indices)
        while !rest.isEmpty {
            let scored = rest.map { j in (j, accuracy((current + [j]).sorted())) }
            let (j, _) = scored.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }!
            current = (current + [j]).sorted()
            rest.removeAll { $0 == j }
            if current.count > 1 { out.append(current) }
        }
        return out
    }

    package func metrics(_ verdicts: [Verdict], labels: [Label?], clusters: [Int]?, withCI: Bool) -> JudgeMetrics {
        let meta = MetaAnalysis(
            options: .init(
                flip: options.flip, aggregate: options.aggregate, resamples: withCI ? options.resamples : 0,
                seed: options.seed,
                clusterKey: options.clusterKey))
        return meta.metrics(
            name: "panel", predictions: verdicts.map { JudgeVerdict(verdict: $0.verdict, score: $0.score) },
            labels: labels,
            kind: .pairwise, clusters: clusters, protocolKind: .pairwise)
    }

    /// The recommended candidate (index) for the budget and/or target, with the reason.
    func recommend(_ cs: [Candidate], basis: String, cost: (Candidate) -> Double) throws -> (Int?, String?) {
        guard options.budget != nil || options.targetAccuracy != nil else { return (nil, nil) }
        if options.budget != nil, basis != "usd" {
            throw JudgePanelError.usage(
                "--budget needs costs: the votes carry no cost_usd, and no --panel price with recorded usage covers every vote"
            )
        }
        let affordable = cs.indices.filter { k in options.budget.map { cost(cs[k]) <= $0 + 1e-12 } ?? true }
        let scored = affordable.filter { cs[$0].accuracy?.value != nil }
        if let target = options.targetAccuracy {
            // Cheapest first (the candidates are sorted by cost, then accuracy).
            if let k = scored.first(where: { cs[$0].accuracy!.value! >= target - 1e-12 }) {
                return (
                    k,
                    String(format: "the cheapest candidate with accuracy ≥ %.3f", target)
                        + (options.budget.map { String(format: " within $%.4f per 1000 items", $0) } ?? "")
                )
            }
            return (
                nil,
                String(format: "no candidate reaches accuracy %.3f", target)
                    + (options.budget.map { String(format: " within $%.4f per 1000 items", $0) } ?? "")
            )
        }
        guard let k = scored.max(by: { (cs[$0].accuracy!.value!, -$0) < (cs[$1].accuracy!.value!, -$1) }) else {
            return (nil, String(format: "no candidate costs at most $%.4f per 1000 items", options.budget!))
        }
        return (k, String(format: "the most accurate candidate within $%.4f per 1000 items", options.budget!))
    }
}
