import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// Settings of a probe run.
package struct ProbeOptions: Sendable {
    /// Seeds the target sides, every perturbation's random choices and the bootstraps.
    package var seed: UInt64
    package var resamples: Int
    package var level: Double
    /// `model` → family overrides (`--family model=family`).
    package var familyOverrides: [String: String]

    package init(seed: UInt64 = 0, resamples: Int = 1000, level: Double = 0.95, familyOverrides: [String: String] = [:])
    {
        self.seed = seed
        self.resamples = resamples
        self.level = level
        self.familyOverrides = familyOverrides
    }
}

/// Runs bias probes: the panel judges the baseline items and each probe's perturbed items (pairwise: always
/// in both orders), then each probe measures its effect per judge and for the panel.
///
/// Pairwise items are sent as two presentations — the item as is, and a copy with the answers exchanged — to
/// a copy of the panel with `swap` off, so that a perturbation can name the slot its target is shown in; votes
/// of the exchanged copy are mapped back to the dataset's orientation with `order: BA`, and verdicts are
/// reconciled and aggregated as a `score` run would.
///
/// ```swift
/// let runner = ProbeRunner(panel: panel, rubric: rubric, probes: try ProbeCatalog.probes(named: "all"),
///                          probeOptions: ProbeOptions(seed: 7))
/// let run = try await runner.run(items: items)
/// try run.write(to: "runs/probe")
/// ```
package final class ProbeRunner: Sendable {
    package let panel: Panel
    package let rubric: Rubric
    package let probes: [any BiasProbe]
    package let options: RunOptions
    package let probeOptions: ProbeOptions

    package init(
        panel: Panel, rubric: Rubric, probes: [any BiasProbe], options: RunOptions = RunOptions(),
        probeOptions: ProbeOptions = ProbeOptions()
    ) {
        self.panel = panel
        self.rubric = rubric
        self.probes = probes
        self.options = options
        self.probeOptions = probeOptions
    }

    /// Whether items are compared two at a time (pairwise rubric, or a checklist over two answers).
    package func isPairwise(_ item: Item) -> Bool {
        switch rubric.kind {
        case .pairwise: return true
        case .pointwise: return false
        case .checklist: return item.isPairwise && item.response == nil
        }
    }

    /// Whether each pairwise item is shown in both orders (pairwise rubrics; checklists grade answers one by one).
    var usesOrders: Bool { rubric.kind == .pairwise }

    package var families: FamilyMap {
        FamilyMap(families: panel.judges.compactMap(\.family), overrides: probeOptions.familyOverrides)
    }

    /// The target answer per item for one probe: A and B balanced over pairwise items, in a seeded order.
    package func targets(items: [Item], probe: String) -> [Preference?] {
        let pairIdx = items.indices.filter { isPairwise(items[$0]) }
        var rng = SeededGenerator(seed: ProbeHash.fnv(probeOptions.seed, "targets", probe))
        var sides =
            [Preference](repeating: .a, count: pairIdx.count / 2)
            + [Preference](repeating: .b, count: pairIdx.count / 2)
        if pairIdx.count % 2 == 1 { sides.append(rng.nextIndex(below: 2) == 0 ? .a : .b) }
        for i in stride(from: sides.count - 1, to: 0, by: -1) { sides.swapAt(i, rng.nextIndex(below: i + 1)) }
        var out = [Preference?](repeating: nil, count: items.count)
        for (k, i) in pairIdx.enumerated() { out[i] = sides[k] }
        return out
    }

    /// The item with its answers (and authors, label) exchanged: the swapped presentation.
    package static func exchanged(_ item: Item) -> Item {
        var s = item
        s.responseA = item.responseB
        s.responseB = item.responseA
        s.candidateA = item.candidateB  // a conversation or trajectory moves whole
        s.candidateB = item.candidateA
        s.modelA = item.modelB
        s.modelB = item.modelA
        if let p = item.label?.preference { s.label = .pairwise(p.swapped) }
        return s
    }

    /// One probe's perturbed presentations: per item, the dataset-order item and (pairwise) the exchanged copy.
    package func perturbations(items: [Item], probe: any BiasProbe, targets: [Preference?])
        -> (ab: [Item?], ba: [Item?], records: [PerturbationRecord])
    {
        var ab = [Item?](repeating: nil, count: items.count)
        var ba = [Item?](repeating: nil, count: items.count)
        var records: [PerturbationRecord] = []
        for (i, item) in items.enumerated() {
            let target = targets[i]
            let base = SeededGenerator(seed: ProbeHash.fnv(probeOptions.seed, "perturb", probe.name, item.id))
            var r1 = base
            guard let p1 = probe.perturb(item, target: target, slot: target, rubric: rubric, rng: &r1) else { continue }
            ab[i] = p1
            var swappedFields: [String: String]?
            if usesOrders, let t = target {
                var r2 = base
                if let p2 = probe.perturb(item, target: t, slot: t.swapped, rubric: rubric, rng: &r2) {
                    ba[i] = Self.exchanged(p2)
                    let f2 = Self.changedFields(item, p2)
                    if f2 != Self.changedFields(item, p1) { swappedFields = f2 }
                }
            }
            records.append(
                PerturbationRecord(
                    item: item.id, probe: probe.name, target: target?.rawValue ?? "response",
                    fields: Self.changedFields(item, p1), fieldsSwapped: swappedFields))
        }
        return (ab, ba, records)
    }

    static func changedFields(_ a: Item, _ b: Item) -> [String: String] {
        var out: [String: String] = [:]
        if a.prompt != b.prompt, let p = b.prompt { out["prompt"] = p }
        if a.messages != b.messages, let m = b.messages, let last = m.last(where: { $0.role == .user }) {
            out["messages.last_user"] = last.content
        }
        if a.response != b.response, let r = b.response { out["response"] = r }
        if a.responseA != b.responseA, let r = b.responseA { out["response_a"] = r }
        if a.responseB != b.responseB, let r = b.responseB { out["response_b"] = r }
        return out
    }

    /// Judges presentations with the panel (swap off) and returns each item's votes in dataset orientation,
    /// tagged with `variant`.
    package func judge(
        runner: PanelRunner, ab: [Item?], ba: [Item?], variant: String?, counters: RunCounters?
    ) async throws -> [[Vote]?] {
        var batch: [Item] = []
        var owner: [(index: Int, swapped: Bool)] = []
        for i in ab.indices {
            if let x = ab[i] {
                batch.append(x)
                owner.append((i, false))
            }
            if let y = ba[i] {
                batch.append(y)
                owner.append((i, true))
            }
        }
        var out = [[Vote]?](repeating: nil, count: ab.count)
        guard !batch.isEmpty else { return out }
        let result = try await runner.run(items: batch, counters: counters)
        for (k, r) in result.results.enumerated() {
            let (i, swapped) = owner[k]
            var votes = r.votes
            for j in votes.indices {
                votes[j].variant = variant
                if usesOrders { votes[j].order = swapped ? .ba : .ab }
                if swapped {
                    votes[j].verdict = votes[j].verdict?.swapped
                    if let p = votes[j].probs {
                        var q = p
                        q["A"] = p["B"]
                        q["B"] = p["A"]
                        votes[j].probs = q
                    }
                }
            }
            out[i] = (out[i] ?? []) + votes
        }
        return out
    }

    /// Reconciles and aggregates each item's votes (as a `score` run does), with per-order verdicts.
    package func outcomes(items: [Item], votes: [[Vote]?]) -> [ItemOutcome?] {
        let flip = options.flip ?? panel.flip
        let method = options.aggregate ?? panel.aggregate
        let aggregator = Aggregator(
            method: method, weights: Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) }))
        let names = panel.judges.map(\.name)
        let tieMargin = rubric.checklist?.tieMargin ?? 0.05
        var out: [ItemOutcome?] = items.indices.map { i -> ItemOutcome? in
            guard let vs = votes[i] else { return nil }
            var perJudge: [String: JudgeVerdict] = [:]
            var byOrder: [Order: [String: Preference]] = [:]
            var firsts: [String: [Bool]] = [:]
            var asked: [String: Set<Order>] = [:]
            for name in names {
                let mine = vs.filter { $0.judge == name }
                let jv = Reconcile.judge(mine, kind: rubric.kind, flip: flip, tieMargin: tieMargin)
                perJudge[name] = jv
                guard usesOrders else { continue }
                asked[name] = Set(mine.filter { $0.status != .error }.map { $0.order ?? .ab })
                for order in Order.allCases {
                    let prefs = mine.filter { $0.isOK && ($0.order ?? .ab) == order }.compactMap(\.verdict)
                    if let m = Reconcile.majority(prefs) { byOrder[order, default: [:]][name] = m }
                    for p in prefs where p != .tie { firsts[name, default: []].append((p == .a) == (order == .ab)) }
                }
            }
            var panelByOrder: [Order: Preference] = [:]
            if usesOrders {
                for order in Order.allCases {
                    let js = names.map { n in (name: n, verdict: JudgeVerdict(verdict: byOrder[order]?[n])) }
                    if let p = aggregator.aggregate(item: items[i].id, judges: js, kind: rubric.kind).verdict {
                        panelByOrder[order] = p
                    }
                }
            }
            return ItemOutcome(
                judges: perJudge, panel: Verdict(item: items[i].id), judgesByOrder: byOrder, panelByOrder: panelByOrder,
                firstSlotVotes: firsts, askedOrders: asked)
        }
        let present = out.indices.compactMap { i in out[i].map { (i, $0) } }
        let joint = aggregator.aggregate(
            items: present.map { items[$0.0].id }, judges: names,
            verdicts: present.map { _, o in names.map { o.judges[$0] ?? JudgeVerdict() } }, kind: rubric.kind)
        for (k, (i, _)) in present.enumerated() { out[i]?.panel = joint.verdicts[k] }
        return out
    }

    /// Runs the baseline and every perturbing probe, then measures all probes.
    /// `progress` is told each phase (`baseline`, then each probe's name) before it runs.
    package func run(
        items: [Item], counters: RunCounters? = nil, progress: (@Sendable (String) -> Void)? = nil
    ) async throws -> ProbeRun {
        guard !items.isEmpty else { throw JudgePanelError.badInput("no items to probe") }
        var seen = Set<String>()
        for item in items {
            try rubric.validate(item, file: item.line > 0 ? "items" : "<items>")
            try VisionSupport.check(item, panel: panel, file: item.line > 0 ? "items" : "<items>")
            guard seen.insert(item.id).inserted else {
                throw JudgePanelError.badInput("duplicate item id '\(item.id)'", line: item.line > 0 ? item.line : nil)
            }
        }
        var p = panel
        p.swap = false
        let runner = PanelRunner(panel: p, rubric: rubric, options: options)
        return try await runner.whileStarted {
            try await probe(items: items, runner: runner, counters: counters, progress: progress)
        }
    }

    /// ``run(items:counters:progress:)`` with the runner started.
    private func probe(
        items: [Item], runner: PanelRunner, counters: RunCounters?, progress: (@Sendable (String) -> Void)?
    ) async throws -> ProbeRun {
        progress?("baseline")
        let baseAB: [Item?] = items
        let baseBA: [Item?] = items.map { usesOrders && isPairwise($0) ? Self.exchanged($0) : nil }
        let baseVotes = try await judge(runner: runner, ab: baseAB, ba: baseBA, variant: nil, counters: counters)
        let baseline = outcomes(items: items, votes: baseVotes).map { $0! }
        var allVotes = baseVotes.flatMap { $0 ?? [] }
        var records: [PerturbationRecord] = []
        var results: [ProbeResult] = []
        let judgeFamilies = Dictionary(
            panel.judges.compactMap { j in j.family.map { (j.name, $0) } }, uniquingKeysWith: { a, _ in a })
        for probe in probes {
            var targets = [Preference?](repeating: nil, count: items.count)
            var perturbed = [ItemOutcome?](repeating: nil, count: items.count)
            if probe.perturbs {
                progress?(probe.name)
                targets = self.targets(items: items, probe: probe.name)
                let (ab, ba, recs) = perturbations(items: items, probe: probe, targets: targets)
                records += recs
                let votes = try await judge(runner: runner, ab: ab, ba: ba, variant: probe.name, counters: counters)
                allVotes += votes.flatMap { $0 ?? [] }
                perturbed = outcomes(items: items, votes: votes)
            }
            let data = ProbeData(
                kind: rubric.kind, items: items, judges: panel.judges.map(\.name), judgeFamilies: judgeFamilies,
                families: families, baseline: baseline, perturbed: perturbed, targets: targets,
                seed: probeOptions.seed, resamples: probeOptions.resamples, level: probeOptions.level)
            results += probe.measure(data)
        }
        return ProbeRun(
            rubric: rubric.id, judges: panel.judges.map(\.name), items: items.count, seed: probeOptions.seed,
            probes: probes.map { ProbeRun.ProbeInfo(name: $0.name, summary: $0.summary) }, results: results,
            votes: allVotes, perturbations: records, baseline: baseline)
    }
}
