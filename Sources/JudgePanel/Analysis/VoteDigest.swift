import Foundation
import JudgeStats

/// One judge's vote-level statistics (calls, parse rate, refusal and length rates, tokens, cost, vote accuracy,
/// position consistency, first-slot rate, JudgeBench's two-order score, degenerate probabilities), gathered vote by
/// vote and item by item so they can be computed in a pass over a votes file.
struct VoteTally: Sendable {
    var calls = 0
    var errors = 0
    var abstentions = 0
    var ok = 0
    var refusals = 0
    var lengthStops = 0
    /// A provider answered some vote (attempts, latency or usage recorded): refusal and length rates apply.
    var live = false
    var withProbs = 0
    var degenerateProbs = 0
    var logprobsUnavailable = 0
    var cost = 0.0
    var hasCost = false
    var promptTokens = 0
    var completionTokens = 0
    var hasUsage = false
    var pairwise = false
    var anyOrder = false
    /// Some vote (any status) was shown in the swapped order.
    var anyBA = false
    var labeledVotes = 0
    var correctVotes = 0
    /// Per item asked in both orders (a vote that is not a failed call in each), the majority of each order's
    /// answered samples (nil: no usable answer in that order).
    var askedAB: [Preference?] = []
    var askedBA: [Preference?] = []
    /// Some item was asked in the swapped order.
    var anyAskedBA = false
    /// Labelled items whose two-order net score (+1 per order with the label, −1 per order against it) is positive.
    var netCorrect = 0
    /// Verdicts of every answered vote by the order it was shown in.
    var shownAB: [Preference?] = []
    var shownBA: [Preference?] = []

    /// Counts one vote (`label`: the item's consensus preference, when the labels are pairwise).
    mutating func add(_ v: Vote, label: Preference?, labelKindIsPairwise: Bool) {
        calls += 1
        switch v.status {
        case .error: errors += 1
        case .abstain: abstentions += 1
        case .ok: ok += 1
        }
        if v.reason == .refusal { refusals += 1 }
        if v.reason == .length { lengthStops += 1 }
        if v.attempts != nil || v.latencyMS != nil || v.usage != nil { live = true }
        if let probs = v.probs {
            withProbs += 1
            if Probabilities.isDegenerate(probs) { degenerateProbs += 1 }
        }
        if v.logprobs == "unavailable" { logprobsUnavailable += 1 }
        if let c = v.costUSD {
            cost += c
            hasCost = true
        }
        if let u = v.usage {
            promptTokens += u.promptTokens
            completionTokens += u.completionTokens
            hasUsage = true
        }
        guard v.protocol == .pairwise else { return }
        pairwise = true
        if v.order != nil { anyOrder = true }
        if v.order == .ba { anyBA = true }
        if labelKindIsPairwise, let t = label {
            labeledVotes += 1
            if v.isOK, v.verdict == t { correctVotes += 1 }
        }
        if v.isOK {
            if v.order == .ba { shownBA.append(v.verdict) } else { shownAB.append(v.verdict) }
        }
    }

    /// Adds one item's per-order statistics (the votes of this judge for that item, in file order). An order counts
    /// as asked when it has a vote that is not a failed call (an abstention was asked and gave no usable answer).
    mutating func addItem(_ votes: [Vote], label: Preference?, labelKindIsPairwise: Bool) {
        var ab: [Preference] = []
        var ba: [Preference] = []
        var asked = (ab: false, ba: false)
        for v in votes where v.protocol == .pairwise && v.status != .error {
            if v.order == .ba { asked.ba = true } else if v.order == .ab { asked.ab = true }
            guard v.isOK, let p = v.verdict else { continue }
            if v.order == .ba { ba.append(p) } else if v.order == .ab { ab.append(p) }
        }
        let majorities = [ab.isEmpty ? nil : Reconcile.majority(ab), ba.isEmpty ? nil : Reconcile.majority(ba)]
        if asked.ba { anyAskedBA = true }
        if asked.ab && asked.ba {
            askedAB.append(majorities[0])
            askedBA.append(majorities[1])
        }
        if labelKindIsPairwise, let t = label {
            var net = 0
            for case let p? in majorities {
                if p == t { net += 1 } else if t != .tie && p != .tie { net -= 1 }
            }
            if net > 0 { netCorrect += 1 }
        }
    }

    /// Writes the statistics into a judge's metrics (`labeledItems`: items with a pairwise label).
    func apply(to m: inout JudgeMetrics, labelKindIsPairwise: Bool, labeledItems: Int) {
        m.calls = calls
        m.errors = errors
        m.abstentions = abstentions
        let answered = calls - errors
        m.set(\.parseRate, "parse_rate", answered == 0 ? .undefined("no answered call") : .defined(Double(ok) / Double(answered)))
        if withProbs > 0 { m.degenerateProbsRate = .defined(Double(degenerateProbs) / Double(withProbs)) }
        if logprobsUnavailable > 0 {
            m.notes = (m.notes ?? [:]).merging(
                ["logprobs": "logprobs unavailable on \(logprobsUnavailable) of \(calls) votes"]) { a, _ in a }
        }
        // Refusal and length rates apply to live calls and to recorded votes that note such reasons; imported
        // verdicts without reasons leave them absent.
        if calls > 0, live || refusals > 0 || lengthStops > 0 {
            m.refusalRate = .defined(Double(refusals) / Double(calls))
            m.lengthRate = .defined(Double(lengthStops) / Double(calls))
        }
        if hasCost { m.costUSD = cost }
        if hasUsage {
            m.promptTokens = promptTokens
            m.completionTokens = completionTokens
        }
        guard pairwise else { return }
        if labelKindIsPairwise {
            m.set(
                \.voteAccuracy, "vote_accuracy",
                labeledVotes == 0 ? .undefined("no labeled vote") : .defined(Double(correctVotes) / Double(labeledVotes)))
        }
        if anyAskedBA {
            let pc = positionConsistencyOverAsked(ab: askedAB, ba: askedBA)
            m.set(\.positionConsistency, "position_consistency", pc.consistency)
            m.set(\.positionConsistencyAnswered, "position_consistency_answered", pc.answered)
            m.positionAsked = pc.asked
            m.positionBothAbstained = pc.bothAbstained
            if labelKindIsPairwise {
                // JudgeBench's two-order score over every labelled item (an item without votes scores 0: a miss).
                m.set(
                    \.accuracyNet, "accuracy_net",
                    labeledItems == 0 ? .undefined("no labeled item") : .defined(Double(netCorrect) / Double(labeledItems)))
            }
        }
        if anyOrder {
            m.set(\.firstSlotRate, "first_slot_rate", firstSlotRate(ab: shownAB, ba: shownBA))
        }
    }
}

/// What the report needs from the votes, gathered in one pass: each judge's reconciled verdict per item and its
/// vote statistics. Only the current item's votes are held at a time, so a votes file whose votes are grouped by
/// item (as `score` writes them) is analysed in memory proportional to items × judges, not to votes.
struct VoteDigest: Sendable {
    var judges: [String]
    var kind: JudgingProtocol
    /// [judge][item]
    var verdicts: [[JudgeVerdict]]
    /// [judge][item] under the other flip policy (for `accuracy_flip_tie` / `accuracy_flip_abstain`).
    var verdictsOtherFlip: [[JudgeVerdict]]
    var tallies: [VoteTally]
    /// Baseline votes whose item is in the items list.
    var knownVotes = 0
    /// Baseline votes naming items not in the list.
    var unknownVotes = 0
    /// Every line of the file (probe variants included), its error votes and the sum of its costs, in file order.
    var allVotes = 0
    var allErrors = 0
    var allCost = 0.0
    var anyCost = false

    /// Thrown when the votes are not grouped by item (the caller then analyses them in memory).
    struct NotGrouped: Error {}

    /// Reads the votes of `path` once. Probe variants are skipped, as in ``MetaAnalysis/report(items:votes:sliceKey:)``.
    ///
    /// - Throws: ``NotGrouped`` when an item's votes are not contiguous; ``JudgePanelError`` for a bad line.
    static func read(
        path: String, items: [Item], kind: JudgingProtocol, options: MetaAnalysis.Options
    ) throws -> VoteDigest {
        let itemIndex = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let labels = items.map { MetaAnalysis.consensus($0)?.preference }
        let labelKindIsPairwise = MetaAnalysis.labelKind(items) == .pairwise
        var judges = options.judgeOrder
        var judgeIndex = Dictionary(judges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let empty = Reconcile.judge([], kind: kind, flip: options.flip, tieMargin: options.tieMargin)
        var verdicts = judges.map { _ in [JudgeVerdict](repeating: empty, count: items.count) }
        let otherFlip: FlipPolicy = options.flip == .tie ? .abstain : .tie
        let emptyOther = Reconcile.judge([], kind: kind, flip: otherFlip, tieMargin: options.tieMargin)
        var verdictsOther = judges.map { _ in [JudgeVerdict](repeating: emptyOther, count: items.count) }
        var tallies = judges.map { _ in VoteTally() }
        var present = [Bool](repeating: false, count: judges.count)
        var done = [Bool](repeating: false, count: items.count)
        var current: Int?
        var group: [[Vote]] = judges.map { _ in [] }
        var digest = VoteDigest(judges: [], kind: kind, verdicts: [], verdictsOtherFlip: [], tallies: [])

        func flush() {
            guard let i = current else { return }
            for j in group.indices where !group[j].isEmpty {
                verdicts[j][i] = Reconcile.judge(group[j], kind: kind, flip: options.flip, tieMargin: options.tieMargin)
                verdictsOther[j][i] = Reconcile.judge(group[j], kind: kind, flip: otherFlip, tieMargin: options.tieMargin)
                tallies[j].addItem(group[j], label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
                group[j].removeAll(keepingCapacity: true)
            }
            done[i] = true
        }

        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        while let (number, line) = try reader.next() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let v: Vote
            do {
                v = try decoder.decode(Vote.self, from: Data(line.utf8))
            } catch {
                throw JudgePanelError.badInput("invalid vote: \(VotesFile.describe(error))", file: path, line: number)
            }
            digest.allVotes += 1
            if v.status == .error { digest.allErrors += 1 }
            if let c = v.costUSD {
                digest.allCost += c  // the same left-to-right sum as `reduce(0, +)` over the file's costs
                digest.anyCost = true
            }
            guard v.variant == nil else { continue }
            let j: Int
            if let known = judgeIndex[v.judge] {
                j = known
            } else {
                j = judges.count
                judges.append(v.judge)
                judgeIndex[v.judge] = j
                verdicts.append([JudgeVerdict](repeating: empty, count: items.count))
                verdictsOther.append([JudgeVerdict](repeating: emptyOther, count: items.count))
                tallies.append(VoteTally())
                present.append(false)
                group.append([])
            }
            present[j] = true
            guard let i = itemIndex[v.item] else {
                digest.unknownVotes += 1
                continue
            }
            if i != current {
                flush()
                if done[i] { throw NotGrouped() }
                current = i
            }
            digest.knownVotes += 1
            tallies[j].add(v, label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
            group[j].append(v)
        }
        flush()
        let keep = judges.indices.filter { present[$0] }
        digest.judges = keep.map { judges[$0] }
        digest.verdicts = keep.map { verdicts[$0] }
        digest.verdictsOtherFlip = keep.map { verdictsOther[$0] }
        digest.tallies = keep.map { tallies[$0] }
        return digest
    }
}

/// A run's report computed from its votes file, with what the page headers need.
struct VotesFileAnalysis: Sendable {
    var report: MetaReport
    var reconciled: MetaAnalysis.Reconciled
    var votes: Int
    var errors: Int
    var cost: Double?
}

extension MetaAnalysis {
    /// The report from a votes file read in one pass (``VoteDigest``) for a known judging protocol; falls back
    /// to reading every vote when the file's votes are not grouped by item. Equal to
    /// ``report(items:votes:sliceKey:)`` over the same votes.
    func analyse(items: [Item], votesPath: String) throws -> VotesFileAnalysis {
        func inMemory() throws -> VotesFileAnalysis {
            let votes = try VotesFile.load(path: votesPath)
            let costs = votes.compactMap(\.costUSD)
            return VotesFileAnalysis(
                report: self.report(items: items, votes: votes), reconciled: reconcile(items: items, votes: votes.filter { $0.variant == nil }),
                votes: votes.count, errors: votes.filter { $0.status == .error }.count, cost: costs.isEmpty ? nil : costs.reduce(0, +))
        }
        guard let kind = options.protocolKind else { return try inMemory() }
        let digest: VoteDigest
        do {
            digest = try VoteDigest.read(path: votesPath, items: items, kind: kind, options: options)
        } catch is VoteDigest.NotGrouped {
            return try inMemory()
        }
        let rec = finishReconcile(items: items, judges: digest.judges, kind: kind, verdicts: digest.verdicts)
        var report = build(items: items, rec: rec, tallies: digest.tallies, knownVotes: digest.knownVotes) {
            otherFlip.finishReconcile(items: items, judges: digest.judges, kind: kind, verdicts: digest.verdictsOtherFlip)
        }
        if digest.unknownVotes > 0 {
            report.notes = (report.notes ?? []) + ["\(digest.unknownVotes) votes name items not in the items file (ignored)"]
        }
        if options.aggregate == .weighted { report.weights = options.weights.isEmpty ? nil : options.weights }
        addRanking(&report, items: items, rec: rec)
        return VotesFileAnalysis(
            report: report, reconciled: rec, votes: digest.allVotes, errors: digest.allErrors,
            cost: digest.anyCost ? digest.allCost : nil)
    }
}
