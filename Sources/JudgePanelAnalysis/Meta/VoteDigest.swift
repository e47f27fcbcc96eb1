import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// One judge's vote-level statistics (calls, parse rate, refusal and length rates, tokens, cost, vote accuracy,
/// position consistency, first-slot rate, JudgeBench's two-order score, degenerate probabilities), gathered vote by
/// vote and item by item so they can be computed in a pass over a votes file.
package struct VoteTally: Sendable {
    /// Votes (calls) by status, tokens and cost; ``hasCost`` and ``hasUsage`` say whether any vote had them.
    package var totals = VoteTotals()
    package var refusals = 0
    package var lengthStops = 0
    /// A provider answered some vote (attempts, latency or usage recorded): refusal and length rates apply.
    package var live = false
    package var withProbs = 0
    var degenerateProbs = 0
    package var logprobsUnavailable = 0
    package var hasCost = false
    var hasUsage = false
    package var pairwise = false
    var anyOrder = false
    /// Some vote (any status) was shown in the swapped order.
    var anyBA = false
    var labeledVotes = 0
    var correctVotes = 0
    /// Per item asked in both orders (a vote that is not a failed call in each), the majority of each order's
    /// answered samples (nil: no usable answer in that order).
    package var askedAB: [Preference?] = []
    package var askedBA: [Preference?] = []
    /// Some item was asked in the swapped order.
    var anyAskedBA = false
    /// Labelled items whose two-order net score (+1 per order with the label, −1 per order against it) is positive.
    package var netCorrect = 0
    /// Verdicts of every answered vote by the order it was shown in (a vote without an order counts as AB).
    var shownAB = PreferenceCounts()
    var shownBA = PreferenceCounts()

    /// Counts one vote (`label`: the item's consensus preference, when the labels are pairwise).
    package mutating func add(_ v: Vote, label: Preference?, labelKindIsPairwise: Bool) {
        add(
            status: v.status, refusal: v.reason == .refusal, lengthStop: v.reason == .length,
            live: v.attempts != nil || v.latencyMS != nil || v.usage != nil,
            logprobsUnavailable: v.logprobs == .unavailable, cost: v.costUSD, usage: v.usage)
        if let probs = v.probs {
            withProbs += 1
            if Probabilities.isDegenerate(probs) { degenerateProbs += 1 }
        }
        guard v.protocol == .pairwise else { return }
        addPairwise(
            order: v.order, status: v.status, verdict: v.verdict, label: label, labelKindIsPairwise: labelKindIsPairwise
        )
    }

    /// Counts one vote's status, reasons, liveness, cost and tokens — the part of
    /// ``add(_:label:labelKindIsPairwise:)`` every reader has (the compact columns call it with their decoded fields).
    @inline(__always)
    package mutating func add(
        status: VoteStatus, refusal: Bool, lengthStop: Bool, live isLive: Bool, logprobsUnavailable unavailable: Bool,
        cost: Double?, usage: TokenUsage? = nil
    ) {
        totals.add(
            status: status, promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0,
            costUSD: cost ?? 0)
        if cost != nil { hasCost = true }
        if usage != nil { hasUsage = true }
        if refusal { refusals += 1 }
        if lengthStop { lengthStops += 1 }
        if isLive { live = true }
        if unavailable { logprobsUnavailable += 1 }
    }

    /// Counts one pairwise vote's order, vote accuracy and shown verdict.
    @inline(__always)
    mutating func addPairwise(
        order: Order?, status: VoteStatus, verdict: Preference?, label: Preference?, labelKindIsPairwise: Bool
    ) {
        pairwise = true
        if order != nil { anyOrder = true }
        if order == .ba { anyBA = true }
        if labelKindIsPairwise, let t = label {
            labeledVotes += 1
            if status == .ok, verdict == t { correctVotes += 1 }
        }
        if status == .ok, let verdict {
            if order == .ba { shownBA.add(verdict) } else { shownAB.add(verdict) }
        }
    }

    /// Adds one item's per-order statistics (the votes of this judge for that item, in file order). An order counts
    /// as asked when it has a vote that is not a failed call (an abstention was asked and gave no usable answer).
    mutating func addItem(_ votes: [Vote], label: Preference?, labelKindIsPairwise: Bool) {
        var samples = PairwiseSamples()
        for v in votes where v.protocol == .pairwise { samples.add(v) }
        addItem(samples, label: label, labelKindIsPairwise: labelKindIsPairwise)
    }

    /// Adds one item's per-order statistics from the judge's samples on it (``PairwiseSamples``).
    @inline(__always)
    mutating func addItem(_ samples: PairwiseSamples, label: Preference?, labelKindIsPairwise: Bool) {
        let (ab, ba) = samples.orderMajorities
        if samples.askedBA { anyAskedBA = true }
        if samples.askedBoth {
            askedAB.append(ab)
            askedBA.append(ba)
        }
        if labelKindIsPairwise, let t = label, PairwiseRule.netCorrect(ab: ab, ba: ba, label: t) { netCorrect += 1 }
    }

    /// Writes the statistics into a judge's metrics (`labeledItems`: items with a pairwise label).
    package func apply(to m: inout JudgeMetrics, labelKindIsPairwise: Bool, labeledItems: Int) {
        let calls = totals.votes
        m.calls = calls
        m.errors = totals.errors
        m.abstentions = totals.abstentions
        let answered = calls - totals.errors
        m.set(
            \.parseRate, "parse_rate",
            answered == 0 ? .undefined("no answered call") : .defined(Double(totals.ok) / Double(answered)))
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
        if hasCost { m.costUSD = totals.costUSD }
        if hasUsage {
            m.promptTokens = totals.promptTokens
            m.completionTokens = totals.completionTokens
        }
        guard pairwise else { return }
        if labelKindIsPairwise {
            m.set(
                \.voteAccuracy, "vote_accuracy",
                labeledVotes == 0
                    ? .undefined("no labeled vote") : .defined(Double(correctVotes) / Double(labeledVotes)))
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
                    labeledItems == 0
                        ? .undefined("no labeled item") : .defined(Double(netCorrect) / Double(labeledItems)))
            }
        }
        if anyOrder {
            // The shown verdicts' multiset (first_slot_rate counts them; their order does not matter).
            func shown(_ c: PreferenceCounts) -> [Preference?] {
                Array(repeatElement(.a, count: Int(c.a))) + Array(repeatElement(.b, count: Int(c.b)))
                    + Array(repeatElement(.tie, count: Int(c.tie)))
            }
            m.set(\.firstSlotRate, "first_slot_rate", firstSlotRate(ab: shown(shownAB), ba: shown(shownBA)))
        }
    }
}

/// What the report needs from the votes, gathered in one pass: each judge's reconciled verdict per item and its
/// vote statistics. Only the current item's votes are held at a time, so a votes file whose votes are grouped by
/// item (as `score` writes them) is analysed in memory proportional to items × judges, not to votes. A file whose
/// votes are not grouped is indexed instead (one compact entry per line: offset, length, item ordinal) and its
/// lines replayed item by item, so its memory stays proportional to lines × 24 bytes, never to decoded votes.
package struct VoteDigest: Sendable {
    package var judges: [String]
    package var kind: JudgingProtocol
    /// [judge] → verdict per item.
    package var verdicts: [VerdictColumn]
    /// [judge] → verdict per item under the other flip policy (for `accuracy_flip_tie` / `accuracy_flip_abstain`;
    /// only the verdict codes are read).
    var verdictsOtherFlip: [VerdictColumn]
    var tallies: [VoteTally]
    /// Baseline votes whose item is in the items list.
    var knownVotes = 0
    /// Baseline votes naming items not in the list.
    var unknownVotes = 0
    /// Every line of the file (probe variants included), its error votes and the sum of its costs, in file order.
    package var allVotes = 0
    var allErrors = 0
    var allCost = 0.0
    var anyCost = false
    /// The judging protocol `MetaAnalysis.reconcile` would infer from these baseline votes (first vote with
    /// checks, else pairwise when some vote has a verdict, else pointwise when some has a score, else pairwise).
    var inferredKind: JudgingProtocol = .pairwise

    /// Thrown when the votes are not grouped by item.
    struct NotGrouped: Error {}

    /// Reads the votes of `path`: one pass when the votes are grouped by item, else an indexing pass and a replay
    /// in item order (``readUngrouped(path:items:kind:options:keepJudges:)``). Probe variants are skipped, as in
    /// ``MetaAnalysis/report(items:votes:sliceKey:)``; votes of judges not in `keepJudges` (when given) are dropped
    /// as if absent from the file.
    ///
    /// - Throws: ``JudgePanelError`` for a bad line (naming file and line).
    package static func read(
        path: String, items: ItemColumns, itemIndex: [String: Int32], kind: JudgingProtocol,
        options: MetaAnalysis.Options,
        keepJudges: Set<String>? = nil
    ) throws -> VoteDigest {
        var builder = Builder(
            items: items, itemIndex: itemIndex, kind: kind, options: options, judgeOrder: options.judgeOrder,
            keepJudges: keepJudges)
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        do {
            while let v = try reader.nextBytes({ number, bytes in
                try Self.vote(bytes, decoder: decoder, path: path, line: number)
            }) {
                guard let v else { continue }
                try builder.add(v)
            }
        } catch is NotGrouped {
            return try readUngrouped(
                path: path, items: items, itemIndex: itemIndex, kind: kind, options: options, keepJudges: keepJudges)
        }
        return builder.finish()
    }

    /// The vote on one line (nil for a blank line); a bad line fails naming file and line, as `VotesFile.load` does.
    package static func vote(_ bytes: UnsafeBufferPointer<UInt8>, decoder: JSONDecoder, path: String, line: Int) throws
        -> Vote?
    {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw JudgePanelError.badInput(
                "invalid UTF-8 at byte \(LineReader.firstInvalidUTF8(bytes) + 1) of the line", file: path, line: line)
        }
        return try VotesFile.decodeLine(bytes, decoder: decoder, path: path, line: line)
    }

    /// A votes file whose votes are not grouped by item: a first pass indexes every line (file offset, length, item
    /// ordinal) and gathers what depends on file order (judges in order of appearance, the sums of costs); a second
    /// replays the lines item by item (file order within an item) through the same one-item-at-a-time builder.
    static func readUngrouped(
        path: String, items: ItemColumns, itemIndex: [String: Int32], kind: JudgingProtocol,
        options: MetaAnalysis.Options,
        keepJudges: Set<String>?
    ) throws -> VoteDigest {
        struct Entry {
            var offset: Int64
            var length: Int32
            var item: Int32
            var line: Int32
        }
        var entries: [Entry] = []
        var judgeOrder = options.judgeOrder
        var seenJudges = Set(judgeOrder)
        var judgeCost: [String: Double] = [:]
        var allCost = 0.0
        var anyCost = false
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        var maxLength = 0
        while let pair = try reader.nextBytes({ number, bytes -> (Vote?, Int, Int) in
            (try Self.vote(bytes, decoder: decoder, path: path, line: number), number, bytes.count)
        }) {
            let (decoded, number, length) = pair
            guard let v = decoded else { continue }
            if let keepJudges, !keepJudges.contains(v.judge) { continue }
            if let c = v.costUSD {
                allCost += c
                anyCost = true
            }
            var item = -1
            if v.variant == nil {
                if !seenJudges.contains(v.judge) {
                    seenJudges.insert(v.judge)
                    judgeOrder.append(v.judge)
                }
                if let i = itemIndex[v.item] {
                    item = Int(i)
                    if let c = v.costUSD { judgeCost[v.judge, default: 0] += c }
                }
            }
            guard number <= Int(Int32.max), length <= Int(Int32.max) else {
                throw JudgePanelError.badInput("too many lines or too long a line to index", file: path, line: number)
            }
            maxLength = max(maxLength, length)
            entries.append(
                Entry(
                    offset: Int64(reader.lastLineOffset), length: Int32(length), item: Int32(item), line: Int32(number))
            )
        }
        // Stable order: by item ordinal (variants and unknown items first), then by line.
        entries.sort { ($0.item, $0.line) < ($1.item, $1.line) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JudgePanelError.badInput("cannot open file (permission denied?)", file: path)
        }
        defer { try? handle.close() }
        let fd = handle.fileDescriptor
        var builder = Builder(
            items: items, itemIndex: itemIndex, kind: kind, options: options, judgeOrder: judgeOrder,
            keepJudges: keepJudges)
        var buffer = [UInt8](repeating: 0, count: max(1, maxLength))
        for e in entries {
            let v: Vote? = try buffer.withUnsafeMutableBytes { raw in
                // `buffer` holds at least one byte (`max(1, maxLength)`), so it has an address.
                guard let base = raw.baseAddress else { return nil }
                var got = 0
                while got < Int(e.length) {
                    let n = pread(fd, base + got, Int(e.length) - got, off_t(e.offset) + off_t(got))
                    guard n > 0 else {
                        throw JudgePanelError.io("read failed (file changed while reading?)", file: path)
                    }
                    got += n
                }
                let bytes = UnsafeBufferPointer(
                    start: base.assumingMemoryBound(to: UInt8.self), count: Int(e.length))
                return try Self.vote(bytes, decoder: decoder, path: path, line: Int(e.line))
            }
            guard let v else { continue }
            try builder.add(v)
        }
        var digest = builder.finish()
        // Sums of costs in file order, as the in-memory analysis adds them.
        digest.allCost = allCost
        digest.anyCost = anyCost
        for j in digest.judges.indices where digest.tallies[j].hasCost {
            digest.tallies[j].totals.costUSD = judgeCost[digest.judges[j]] ?? 0
        }
        return digest
    }

    /// Gathers the digest vote by vote, holding only the current item's votes.
    struct Builder {
        package let items: ItemColumns
        package let kind: JudgingProtocol
        package let options: MetaAnalysis.Options
        package let keepJudges: Set<String>?
        package let itemIndex: [String: Int32]
        package let labels: [Preference?]
        let labelKindIsPairwise: Bool
        let otherFlip: FlipPolicy
        package let empty: JudgeVerdict
        let emptyOther: JudgeVerdict
        package var judges: [String]
        package var judgeIndex: [String: Int]
        package var verdicts: [VerdictColumn]
        var verdictsOther: [VerdictColumn]
        var tallies: [VoteTally]
        package var present: [Bool]
        package var done: [Bool]
        package var current: Int?
        package var group: [[Vote]]
        package var digest: VoteDigest
        var firstChecksKind: JudgingProtocol?
        var anyVerdict = false
        var anyScore = false

        package init(
            items: ItemColumns, itemIndex: [String: Int32], kind: JudgingProtocol, options: MetaAnalysis.Options,
            judgeOrder: [String],
            keepJudges: Set<String>?
        ) {
            self.items = items
            self.kind = kind
            self.options = options
            self.keepJudges = keepJudges
            self.itemIndex = itemIndex
            labels = items.consensus.indices.map(items.consensus.preference)
            labelKindIsPairwise = items.labelKind == .pairwise
            judges = judgeOrder
            judgeIndex = Dictionary(judges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let empty = Reconcile.judge([], kind: kind, flip: options.flip, tieMargin: options.tieMargin)
            let otherFlip: FlipPolicy = options.flip == .tie ? .abstain : .tie
            let emptyOther = JudgeVerdict(verdict: empty.verdict, flipped: empty.flipped)
            self.empty = empty
            self.otherFlip = otherFlip
            self.emptyOther = emptyOther
            verdicts = judgeOrder.map { _ in VerdictColumn(repeating: empty, count: items.count) }
            verdictsOther = judgeOrder.map { _ in VerdictColumn(repeating: emptyOther, count: items.count) }
            tallies = judgeOrder.map { _ in VoteTally() }
            present = [Bool](repeating: false, count: judgeOrder.count)
            done = [Bool](repeating: false, count: items.count)
            group = judgeOrder.map { _ in [] }
            digest = VoteDigest(judges: [], kind: kind, verdicts: [], verdictsOtherFlip: [], tallies: [])
        }

        package mutating func flush() {
            guard let i = current else { return }
            for j in group.indices where !group[j].isEmpty {
                verdicts[j][i] = Reconcile.judge(group[j], kind: kind, flip: options.flip, tieMargin: options.tieMargin)
                // Under the other flip policy only the verdict is read (flip accuracies of pairwise verdicts).
                let other = Reconcile.judge(group[j], kind: kind, flip: otherFlip, tieMargin: options.tieMargin)
                verdictsOther[j][i] = JudgeVerdict(verdict: other.verdict, flipped: other.flipped)
                tallies[j].addItem(group[j], label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
                group[j].removeAll(keepingCapacity: true)
            }
            done[i] = true
        }

        /// Adds one vote of the file (in file order, or item by item on a replay).
        ///
        /// - Throws: ``NotGrouped`` when the vote's item was finished before.
        package mutating func add(_ v: Vote) throws(NotGrouped) {
            if let keepJudges, !keepJudges.contains(v.judge) { return }
            digest.allVotes += 1
            if v.status == .error { digest.allErrors += 1 }
            if let c = v.costUSD {
                digest.allCost += c  // the same left-to-right sum as `reduce(0, +)` over the file's costs
                digest.anyCost = true
            }
            guard v.variant == nil else { return }
            if firstChecksKind == nil, v.checks != nil { firstChecksKind = v.protocol }
            if v.verdict != nil { anyVerdict = true }
            if v.score != nil { anyScore = true }
            let j: Int
            if let known = judgeIndex[v.judge] {
                j = known
            } else {
                j = judges.count
                judges.append(v.judge)
                judgeIndex[v.judge] = j
                verdicts.append(VerdictColumn(repeating: empty, count: items.count))
                verdictsOther.append(VerdictColumn(repeating: emptyOther, count: items.count))
                tallies.append(VoteTally())
                present.append(false)
                group.append([])
            }
            present[j] = true
            guard let i = itemIndex[v.item].map(Int.init) else {
                digest.unknownVotes += 1
                return
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

        package mutating func finish() -> VoteDigest {
            flush()
            let keep = judges.indices.filter { present[$0] }
            var out = digest
            out.judges = keep.map { judges[$0] }
            out.verdicts = keep.map { verdicts[$0] }
            out.verdictsOtherFlip = keep.map { verdictsOther[$0] }
            out.tallies = keep.map { tallies[$0] }
            out.inferredKind = firstChecksKind ?? (anyVerdict ? .pairwise : (anyScore ? .pointwise : .pairwise))
            return out
        }
    }
}

/// A run's report computed from its votes file, with what the page headers need.
package struct VotesFileAnalysis: Sendable {
    package var report: MetaReport
    /// Every judge's reconciled verdicts and the panel's verdict and score, as columns.
    package var columns: ReconciledColumns
    /// The items' ids (for ``reconciled``).
    package var ids: [String]
    /// Whether a sink received the whole panel verdicts (``reconciled`` then keeps only their verdict and score).
    package var streamed: Bool
    /// The options of the analysis.
    package var options: MetaAnalysis.Options
    package var votes: Int
    package var errors: Int
    package var cost: Double?
}

extension MetaAnalysis {
    /// The report from a votes file read in one pass (``VoteDigest``), equal to ``report(items:votes:sliceKey:)``
    /// over the same votes (without slices). Votes not grouped by item are indexed and replayed item by item, never
    /// all decoded at once. Without `options.protocolKind` the protocol is guessed from the file's first vote and
    /// checked against the rule `reconcile` applies to all votes; a wrong guess reads the file again with the right
    /// one. `keepJudges` drops the votes of other judges, as filtering the votes first would.
    ///
    /// `verdicts`, when given, receives each panel verdict (with its per-judge detail) in item order as it is
    /// aggregated — `verdicts.jsonl` is written from it — and the returned ``VotesFileAnalysis/reconciled`` then keeps
    /// only each verdict's item, verdict and score (what the report reads), so the panel's verdicts are never all held.
    package func analyse(
        items: [Item], votesPath: String, keepJudges: Set<String>? = nil,
        verdicts sink: ((Verdict) throws -> Void)? = nil
    ) throws -> VotesFileAnalysis {
        try analyse(
            items: ItemColumns(items, clusterKey: options.clusterKey), votesPath: votesPath, keepJudges: keepJudges,
            verdicts: sink)
    }

    /// ``analyse(items:votesPath:keepJudges:verdicts:)`` over the items' columns (``ItemColumns``, built with this
    /// analysis's cluster key).
    package func analyse(
        items: ItemColumns, votesPath: String, keepJudges: Set<String>? = nil,
        verdicts sink: ((Verdict) throws -> Void)? = nil
    ) throws -> VotesFileAnalysis {
        var kind: JudgingProtocol
        var digest: VoteDigest
        let itemIndex = items.index()
        if options.protocolKind ?? .pairwise == .pairwise,
            let table = try CompactVoteTable.read(path: votesPath, itemIndex: itemIndex)
        {
            // Pairwise votes in the compact form (every line checked): parsed in parallel into 8-byte records.
            kind = .pairwise
            digest = VoteDigest.compact(table, items: items, options: options, keepJudges: keepJudges)
        } else {
            if let known = options.protocolKind {
                kind = known
            } else {
                kind = try Self.firstVoteKind(path: votesPath, keepJudges: keepJudges)
            }
            digest = try VoteDigest.read(
                path: votesPath, items: items, itemIndex: itemIndex, kind: kind, options: options,
                keepJudges: keepJudges)
            if options.protocolKind == nil, digest.inferredKind != kind {
                kind = digest.inferredKind
                digest = try VoteDigest.read(
                    path: votesPath, items: items, itemIndex: itemIndex, kind: kind, options: options,
                    keepJudges: keepJudges)
            }
        }
        let rec = try reconcileColumns(
            ids: items.ids, judges: digest.judges, kind: kind, verdicts: digest.verdicts, sink: sink)
        digest.verdicts = []
        var report = try build(items: items, rec: rec, tallies: digest.tallies, knownVotes: digest.knownVotes) {
            // Only the verdict columns of the other flip policy are read (flip accuracies).
            otherFlip.reconcileColumns(
                ids: items.ids, judges: digest.judges, kind: kind, verdicts: digest.verdictsOtherFlip, sink: nil)
        }
        if digest.unknownVotes > 0 {
            report.notes =
                (report.notes ?? []) + ["\(digest.unknownVotes) votes name items not in the items file (ignored)"]
        }
        // Human labels on a subset of the judged items: prediction-powered estimates (a score run's report too).
        if items.consensus.tags.contains(where: { $0 != 0 }) {
            let outcomes: [Double?]? =
                (0..<items.count).contains { rec.panel.verdict($0) != nil }
                ? (0..<items.count).map { rec.panel.verdict($0).map { PPIAnalysis.side($0, isA: true) } } : nil
            report.ppi = PPIAnalysis.report(
                count: items.count, id: { items.ids[$0] }, human: { items.consensus[$0] }, pair: { items.models($0) },
                model: { _ in nil }, outcomes: outcomes, scores: (0..<items.count).map { rec.panel.score($0) },
                pSelect: options.pSelect, alpha: options.ppiAlpha)
        }
        if options.aggregate == .weighted { report.weights = options.weights.isEmpty ? nil : options.weights }
        addRanking(&report, items: items, rec: rec)
        return VotesFileAnalysis(
            report: report, columns: rec, ids: items.ids, streamed: sink != nil, options: options,
            votes: digest.allVotes, errors: digest.allErrors,
            cost: digest.anyCost ? digest.allCost : nil)
    }

    /// A guess at the votes' protocol from the first baseline vote (of a kept judge), by the rule of `reconcile`.
    package static func firstVoteKind(path: String, keepJudges: Set<String>?) throws -> JudgingProtocol {
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        while let v = try reader.nextBytes({ number, bytes in
            try VoteDigest.vote(bytes, decoder: decoder, path: path, line: number)
        }) {
            guard let v, v.variant == nil, keepJudges?.contains(v.judge) ?? true else { continue }
            if v.checks != nil { return v.protocol }
            if v.verdict != nil { return .pairwise }
            if v.score != nil { return .pointwise }
            return .pairwise
        }
        return .pairwise
    }
}

extension VotesFileAnalysis {
    /// The reconciled verdicts in their public form. After a streamed analysis (a `verdicts` sink), each panel
    /// verdict holds only its item, verdict and score (``Verdict/trimmed``); otherwise the whole panel verdicts are
    /// aggregated again from the judges' columns (the same ``Aggregator`` rule).
    package var reconciled: MetaAnalysis.Reconciled {
        if streamed { return columns.trimmed(ids: ids) }
        let table = ids.indices.map { i in columns.verdicts.map { $0[i] } }
        let full = Aggregator(method: options.aggregate, weights: options.weights).aggregate(
            items: ids, judges: columns.judges, verdicts: table, kind: columns.kind)
        return MetaAnalysis.Reconciled(
            judges: columns.judges, kind: columns.kind, verdicts: columns.verdicts.map { Array($0) },
            panel: full.verdicts,
            estimatedAccuracy: full.judgeAccuracy)
    }
}

extension Verdict {
    /// The item, verdict and score only (what the report's metrics, ranking and charts read).
    package var trimmed: Verdict { Verdict(item: item, verdict: verdict, score: score) }
}
