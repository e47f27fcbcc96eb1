import Foundation
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

/// The streaming `meta` path over votes files (issue 19): the same report as the in-memory analysis, whether the
/// votes are grouped by item or not, with or without a known protocol, and the byte-level vote decoder.
@Suite struct MetaScaleTests {
    /// Pairwise votes for `items` (3 judges × 2 orders × 2 samples), costs exactly representable so that sums do
    /// not depend on the order they are added in.
    static func pairwiseVotes(_ items: [Item]) -> [Vote] {
        var votes: [Vote] = []
        let prefs: [Preference] = [.a, .b, .tie]
        for (i, item) in items.enumerated() {
            for (j, judge) in ["j1", "j2", "j3"].enumerated() {
                for order in [Order.ab, .ba] {
                    for sample in 0..<2 {
                        var v = Vote(item: item.id, judge: judge, protocol: .pairwise, order: order, sample: sample)
                        let k = i * 7 + j * 3 + sample + (order == .ba ? 5 : 0)
                        switch k % 11 {
                        case 0:
                            v.status = .error
                            v.reason = .timeout
                        case 1:
                            v.status = .abstain
                            v.reason = .refusal
                        default: v.verdict = prefs[(k / 2 + j) % 3]
                        }
                        v.costUSD = Double(k % 5) / 1024
                        if k % 3 == 0 { v.usage = TokenUsage(promptTokens: 100 + k, completionTokens: k % 9) }
                        if k % 4 == 0 { v.probs = ["A": 0.25 + Double(k % 3) / 10, "B": 0.5, "tie": 0.05] }
                        if k % 6 == 0 { v.attempts = 1 + k % 2 }
                        votes.append(v)
                    }
                }
            }
        }
        votes.append(Vote(item: "not-an-item", judge: "j2", protocol: .pairwise, order: .ab, verdict: .a))
        var variant = Vote(item: items[0].id, judge: "j1", protocol: .pairwise, order: .ab, verdict: .b)
        variant.variant = "verbosity"
        votes.insert(variant, at: 3)
        return votes
    }

    static func write(_ votes: [Vote], _ path: String) throws {
        try (votes.map { try VotesFile.line($0) }.joined(separator: "\n") + "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
    }

    static func encoded(_ r: MetaReport) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try enc.encode(r)
    }

    @Test("a shuffled (ungrouped) votes file gives the same report as the grouped one and as the in-memory analysis")
    func shuffledEqualsGrouped() throws {
        let (items, _) = syntheticPairwise(60)
        let votes = Self.pairwiseVotes(items)
        var rng = SeededGenerator(seed: 11)
        var shuffled = votes
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        // Judge by judge: not grouped by item, but each (item, judge)'s votes keep their order (the majority of an
        // order's samples depends on it), so the report equals the grouped file's.
        let byJudge = ["j2", "j3", "j1"].flatMap { j in votes.filter { $0.judge == j } }
        let dir = try tempDir("metascale")
        let paths = ["grouped", "shuffled", "byjudge"].map { dir.appendingPathComponent("\($0).jsonl").path }
        try Self.write(votes, paths[0])
        try Self.write(shuffled, paths[1])
        try Self.write(byJudge, paths[2])
        for flip in [FlipPolicy.tie, .abstain] {
            // protocolKind left nil, as `judgepanel meta --votes` runs it.
            let analysis = MetaAnalysis(
                options: .init(flip: flip, resamples: 100, seed: 3, judgeOrder: ["j3", "j1", "j2"]))
            let expected = analysis.report(items: items, votes: votes)
            #expect(expected.judges.map(\.judge) == ["j3", "j1", "j2"])
            #expect(
                expected.judges.allSatisfy {
                    $0.positionConsistency?.value != nil && $0.costUSD != nil && $0.refusalRate != nil
                })
            let a = try analysis.analyse(items: items, votesPath: paths[0])
            let b = try analysis.analyse(items: items, votesPath: paths[1])
            let c = try analysis.analyse(items: items, votesPath: paths[2])
            #expect(try Self.encoded(a.report) == Self.encoded(expected))
            #expect(try Self.encoded(c.report) == Self.encoded(expected))
            #expect(c.reconciled.panel == a.reconciled.panel)
            #expect(try Self.encoded(b.report) == Self.encoded(analysis.report(items: items, votes: shuffled)))
            #expect(
                b.reconciled.panel
                    == analysis.reconcile(items: items, votes: shuffled.filter { $0.variant == nil }).panel)
            for x in [b, c] { #expect(x.votes == votes.count && x.errors == a.errors && x.cost == a.cost) }
        }
    }

    @Test("an ungrouped file's cost sums follow file order, as in the in-memory analysis")
    func ungroupedCostOrder() throws {
        let (items, _) = syntheticPairwise(30)
        var votes = Self.pairwiseVotes(items)
        for i in votes.indices { votes[i].costUSD = 0.1 + Double(i % 7) * 0.000_137 }
        votes.swapAt(0, votes.count - 2)
        let path = try tempDir("metascale-cost").appendingPathComponent("v.jsonl").path
        try Self.write(votes, path)
        let analysis = MetaAnalysis(options: .init(resamples: 50))
        let got = try analysis.analyse(items: items, votesPath: path)
        #expect(try Self.encoded(got.report) == Self.encoded(analysis.report(items: items, votes: votes)))
        #expect(got.cost == votes.compactMap(\.costUSD).reduce(0, +))
    }

    @Test("keepJudges equals filtering the votes first")
    func keepJudges() throws {
        let (items, _) = syntheticPairwise(25)
        let votes = Self.pairwiseVotes(items)
        let path = try tempDir("metascale-keep").appendingPathComponent("v.jsonl").path
        try Self.write(votes.reversed(), path)
        let analysis = MetaAnalysis(options: .init(resamples: 50))
        let keep: Set = ["j1", "j3"]
        let got = try analysis.analyse(items: items, votesPath: path, keepJudges: keep)
        let expected = analysis.report(items: items, votes: votes.reversed().filter { keep.contains($0.judge) })
        #expect(got.report.judges.map(\.judge) == ["j3", "j1"])
        #expect(try Self.encoded(got.report) == Self.encoded(expected))
    }

    @Test(
        "without a known protocol, pointwise votes (first vote without a value) are inferred as reconcile infers them")
    func protocolInference() throws {
        let items = try ItemLoader().load(
            path: panelTestRoot.appendingPathComponent("fixtures/pointwise-20.jsonl").path)
        var votes: [Vote] = []
        for (i, item) in items.enumerated() {
            for judge in ["p1", "p2"] {
                var v = Vote(
                    item: item.id, judge: judge, protocol: .pointwise, score: Double((i * 3 + judge.count) % 10))
                if i == 0 && judge == "p1" {
                    v.score = nil
                    v.status = .abstain
                }
                votes.append(v)
            }
        }
        // The first line carries no value and no protocol key: the first guess (pairwise) is wrong and is corrected.
        var lines = try votes.map { try VotesFile.line($0) }
        lines[0] = #"{"item":"\#(items[0].id)","judge":"p1","status":"abstain"}"#
        let path = try tempDir("metascale-kind").appendingPathComponent("v.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let decoded = try VotesFile.load(path: path)
        let analysis = MetaAnalysis(options: .init(resamples: 50))
        #expect(try MetaAnalysis.firstVoteKind(path: path, keepJudges: nil) == .pairwise)
        let got = try analysis.analyse(items: items, votesPath: path)
        #expect(got.reconciled.kind == .pointwise)
        #expect(try Self.encoded(got.report) == Self.encoded(analysis.report(items: items, votes: decoded)))
        #expect(got.report.judges.first?.pearson?.value != nil)
    }

    @Test("votes files: a numeric id and a usage object decode; a bad line fails naming file and line")
    func votesFileLines() throws {
        let full =
            #"{"item":"x","judge":"j","protocol":"pairwise","order":"BA","sample":2,"verdict":"a","status":"ok","raw":"A","cost_usd":0.000137,"latency_ms":12.5,"cached":false,"reason":"length","attempts":3,"repaired":true,"probs":{"A":0.7,"B":0.2,"tie":0.1},"logprobs":"ok","fingerprint":"ff","unknown":[1,{"a":null}]}"#
        let statusOnly = #"{"item":"x","judge":"j","status":"ok"}"#
        let numericID = #"{"item":12,"judge":"j","verdict":"A"}"#
        let withUsage = #"{"item":"x","judge":"j","verdict":"A","usage":{"prompt_tokens":3,"completion_tokens":1}}"#
        let badVerdict = #"{"item":"x","judge":"j","verdict":"maybe"}"#
        // Through the file reader: the numeric id and the usage object still decode (by JSONDecoder); a bad line
        // fails naming file and line, whether the file is read grouped or not.
        let dir = try tempDir("metascale-decode")
        let good = dir.appendingPathComponent("good.jsonl").path
        try (numericID + "\n" + withUsage + "\n").write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try VotesFile.load(path: good).map(\.item) == ["12", "x"])
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try ([full, #"{"item":"y","judge":"j","verdict":"A"}"#, statusOnly, badVerdict].joined(separator: "\n") + "\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let items = [
            Item(id: "x", prompt: "p", responseA: "a", responseB: "b", label: .pairwise(.a)),
            Item(id: "y", prompt: "p", responseA: "a", responseB: "b", label: .pairwise(.b)),
        ]
        do {
            _ = try MetaAnalysis(options: .init(resamples: 10)).analyse(items: items, votesPath: bad)
            Issue.record("a bad line was accepted")
        } catch let e as JudgePanelError {
            #expect("\(e)".contains("bad.jsonl") && "\(e)".contains("4"), "\(e)")
        }
    }
}
