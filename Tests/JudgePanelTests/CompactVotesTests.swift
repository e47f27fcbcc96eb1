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

/// The compact votes reader (issue 19): 8-byte records parsed in parallel byte ranges, the same digest and report as
/// the `Vote`-by-`Vote` analysis, and the general reader for every line outside the compact form.
@Suite struct CompactVotesTests {
    /// Pairwise votes in the compact form: 3 judges, orders AB/BA and none, 1–3 samples, errors, abstentions,
    /// refusal and length reasons, live fields, `logprobs: unavailable`, exactly representable costs, an unknown item.
    static func votes(_ items: [Item]) -> [Vote] {
        var out: [Vote] = []
        let prefs: [Preference] = [.a, .b, .tie]
        for (i, item) in items.enumerated() {
            for (j, judge) in ["j1", "j2", "j3"].enumerated() {
                let orders: [Order?] = i % 13 == 5 ? [nil] : (i % 17 == 3 ? [.ab] : [.ab, .ba])
                for order in orders {
                    for sample in 0..<(1 + (i + j) % 3) {
                        var v = Vote(item: item.id, judge: judge, protocol: .pairwise, order: order, sample: sample)
                        let k = i * 7 + j * 3 + sample + (order == .ba ? 5 : 0)
                        switch k % 13 {
                        case 0:
                            v.status = .error
                            v.reason = .timeout
                            v.error = "timed out"
                        case 1:
                            v.status = .abstain
                            v.reason = .refusal
                        case 2:
                            v.status = .abstain
                            v.reason = .length
                            v.raw = "cut \u{00e9}\u{4e2d} \"quoted\"\n"
                        default:
                            v.verdict = prefs[(k / 2 + j + (order == .ba ? i % 2 : 0)) % 3]
                            v.raw = "[[\(v.verdict!.rawValue)]]"
                        }
                        if k % 5 == 0 { v.costUSD = Double(k % 7) / 1024 }
                        if k % 6 == 0 { v.attempts = 1 + k % 2 }
                        if k % 8 == 0 { v.latencyMS = 12.5 }
                        if k % 9 == 0 { v.logprobs = "unavailable" }
                        if k % 10 == 0 { v.cached = true }
                        out.append(v)
                    }
                }
            }
        }
        out.insert(Vote(item: "not-an-item", judge: "j2", protocol: .pairwise, order: .ab, verdict: .a), at: 7)
        out.append(Vote(item: "not-an-item", judge: "j4", protocol: .pairwise, order: .ba, verdict: .b))
        return out
    }

    static func itemIndex(_ items: [Item]) -> [String: Int32] {
        Dictionary(items.enumerated().map { ($1.id, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("the compact reader's report equals the in-memory analysis, grouped or shuffled, any flip and judge filter")
    func compactEqualsInMemory() throws {
        let (items, _) = syntheticPairwise(90)
        let votes = Self.votes(items)
        var rng = SeededGenerator(seed: 5)
        var shuffled = votes
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let dir = try tempDir("compactvotes")
        let paths = ["grouped", "shuffled"].map { dir.appendingPathComponent("\($0).jsonl").path }
        try MetaScaleTests.write(votes, paths[0])
        try MetaScaleTests.write(shuffled, paths[1])
        for path in paths {
            let table = try #require(try CompactVoteTable.read(path: path, itemIndex: Self.itemIndex(items)))
            #expect(table.votes.count == votes.count)
        }
        for flip in [FlipPolicy.tie, .abstain] {
            for keep in [nil, Set(["j3", "j1", "j4"])] as [Set<String>?] {
                let analysis = MetaAnalysis(
                    options: .init(flip: flip, resamples: 50, seed: 9, judgeOrder: ["j2", "j9"]))
                let kept = keep.map { k in votes.filter { k.contains($0.judge) } } ?? votes
                let expected = analysis.report(items: items, votes: kept)
                #expect(
                    expected.judges.contains {
                        $0.refusalRate != nil && $0.costUSD != nil && $0.positionConsistency?.value != nil
                    })
                for path in paths {
                    let got = try analysis.analyse(items: items, votesPath: path, keepJudges: keep)
                    #expect(try MetaScaleTests.encoded(got.report) == MetaScaleTests.encoded(expected))
                    #expect(got.votes == kept.count)
                    #expect(got.errors == kept.filter { $0.status == .error }.count)
                }
            }
        }
    }

    @Test("any number of byte ranges gives the same tables as one (lines split at range boundaries)")
    func rangesAreDeterministic() throws {
        let (items, _) = syntheticPairwise(40)
        var votes = Self.votes(items)
        // Judges first seen late in the file, and a blank line and a CRLF line.
        votes.append(Vote(item: items[3].id, judge: "late", protocol: .pairwise, order: .ab, verdict: .tie))
        let dir = try tempDir("compactranges")
        let path = dir.appendingPathComponent("votes.jsonl").path
        var text = try votes.enumerated().map { x, v in try VotesFile.line(v) + (x % 4 == 1 ? "\r" : "") }
            .joined(separator: "\n")
        // no final newline
        text += "\n   \n" + (try VotesFile.line(Vote(item: items[0].id, judge: "z", protocol: .pairwise, verdict: .a)))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let one = try #require(try CompactVoteTable.read(path: path, itemIndex: Self.itemIndex(items), workers: 1))
        #expect(one.votes.count == votes.count + 1)
        #expect(one.judges == ["j1", "j2", "j3", "j4", "late", "z"])
        for workers in [2, 3, 7, 64] {
            let many = try #require(
                try CompactVoteTable.read(
                    path: path, itemIndex: Self.itemIndex(items), workers: workers, minRangeBytes: 1))
            #expect(many.judges == one.judges)
            #expect(many.votes == one.votes)
            #expect(many.costs == one.costs)
        }
    }

    @Test("lines outside the compact form go to the general reader: same report, and a bad line's error names it")
    func fallback() throws {
        let (items, _) = syntheticPairwise(20)
        let votes = Self.votes(items)
        let dir = try tempDir("compactfallback")
        let good = try votes.map { try VotesFile.line($0) }
        let cases: [(String, String)] = [
            ("probs", #"{"item":"s1","judge":"j1","order":"AB","verdict":"A","probs":{"A":0.9,"B":0.1}}"#),
            ("variant", #"{"item":"s1","judge":"j1","order":"AB","verdict":"A","variant":"verbosity"}"#),
            ("numeric sample as float", #"{"item":"s1","judge":"j1","order":"AB","sample":1.0,"verdict":"A"}"#),
            ("escaped id", #"{"item":"s\u0031","judge":"j1","order":"AB","verdict":"A"}"#),
            ("lower-case verdict", #"{"item":"s1","judge":"j1","order":"BA","verdict":" b "}"#),
        ]
        for (name, line) in cases {
            let path = dir.appendingPathComponent("\(name).jsonl").path
            try (good[0..<5].joined(separator: "\n") + "\n" + line + "\n" + good[5...].joined(separator: "\n") + "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let compact = try CompactVoteTable.read(path: path, itemIndex: Self.itemIndex(items))
            if name == "lower-case verdict" {
                #expect(compact != nil, "\(name)")
            } else {
                #expect(compact == nil, "\(name)")
            }
            let all = try VotesFile.load(path: path)
            let analysis = MetaAnalysis(options: .init(resamples: 20))
            let expected = analysis.report(items: items, votes: all)
            #expect(
                try MetaScaleTests.encoded(analysis.analyse(items: items, votesPath: path).report)
                    == MetaScaleTests.encoded(expected))
        }
        for bad in [
            #"{"item":"s1","judge":"j1","order":"AB","verdict":"A""#, #"{"item":"s1","judge":"j1","verdict":"X"}"#,
            "{\"item\":\"s1\",\"judge\":\"j\u{1}\",\"verdict\":\"A\"}",
        ] {
            let path = dir.appendingPathComponent("bad.jsonl").path
            try (good[0..<5].joined(separator: "\n") + "\n" + bad + "\n" + good[5...].joined(separator: "\n") + "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try CompactVoteTable.read(path: path, itemIndex: Self.itemIndex(items)) == nil)
            do {
                _ = try MetaAnalysis(options: .init(resamples: 20)).analyse(items: items, votesPath: path)
                Issue.record("a bad line was accepted: \(bad)")
            } catch let e as JudgePanelError {
                #expect(e.line == 6 && e.file == path, "\(e)")
            }
        }
    }
}
