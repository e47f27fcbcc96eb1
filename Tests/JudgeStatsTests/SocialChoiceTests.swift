// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (names mirror the keys of the Python reference scripts and provider JSON that generated or define them)

import Foundation
import Testing

@testable import JudgeStats

/// scripts/reference/make_social_choice_fixture.py (pref_voting 1.18.2).
private struct SocialChoiceFixture: Decodable {
    struct Ballot: Decodable {
        let tiers: [[String]]
        let weight: Double
    }
    struct Expected: Decodable {
        let plurality: [String: Double]
        let borda: [String: Double]
        let copeland: [String: Double]
        let minimax: [String: Double]
        let schulze: [String: Double]
        let schulze_winners: [String]
        let kemeny_rankings: [[String]]
        let kemeny_margin_sum: Double
        let kemeny_winners: [String]
        let kemeny_rankings_kendall: [[String]]?
    }
    struct Profile: Decodable {
        let name: String
        let candidates: [String]
        let ballots: [Ballot]
        let expected: Expected
    }
    let profiles: [Profile]

    static func load() throws -> SocialChoiceFixture {
        let url = try #require(
            Bundle.module.url(forResource: "social_choice", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(SocialChoiceFixture.self, from: Data(contentsOf: url))
    }
}

@Suite("Social choice: every rule's scores and order equal pref_voting's on the same profiles")
struct SocialChoiceTests {
    private func ballots(_ p: SocialChoiceFixture.Profile) -> [WeakOrderBallot] {
        let idx = Dictionary(uniqueKeysWithValues: p.candidates.enumerated().map { ($1, $0) })
        return p.ballots.map { WeakOrderBallot(tiers: $0.tiers.map { $0.map { idx[$0]! } }, weight: $0.weight) }
    }

    /// The documented order: score descending, then name.
    private func expectedOrder(_ scores: [String: Double]) -> [String] {
        scores.keys.sorted { scores[$0]! != scores[$1]! ? scores[$0]! > scores[$1]! : $0 < $1 }
    }

    @Test(
        "plurality, borda, copeland, minimax, schulze: scores equal pref_voting within 1e-9; order by score then name")
    func scoringRules() throws {
        let fixture = try SocialChoiceFixture.load()
        #expect(fixture.profiles.count >= 10)
        let rules: [(SocialChoiceRule, KeyPath<SocialChoiceFixture.Expected, [String: Double]>)] = [
            (.plurality, \.plurality), (.borda, \.borda), (.copeland, \.copeland), (.minimax, \.minimax),
            (.schulze, \.schulze),
        ]
        for p in fixture.profiles {
            for (rule, path) in rules {
                let r = try SocialChoice.aggregate(ballots(p), names: p.candidates, rule: rule)
                let ref = p.expected[keyPath: path]
                for (i, name) in p.candidates.enumerated() {
                    #expect(
                        abs(r.scores[i] - ref[name]!) < 1e-9,
                        "\(p.name) \(rule) \(name): \(r.scores[i]) vs \(ref[name]!)")
                }
                #expect(r.order.map { p.candidates[$0] } == expectedOrder(ref), "\(p.name) \(rule)")
            }
            // Schulze's top = pref_voting's beat-path winners.
            let s = try SocialChoice.aggregate(ballots(p), names: p.candidates, rule: .schulze)
            let top = s.scores.max()!
            let winners = p.candidates.indices.filter { s.scores[$0] == top }.map { p.candidates[$0] }.sorted()
            #expect(winners == p.expected.schulze_winners.sorted(), "\(p.name)")
        }
    }

    @Test("kemeny: an optimal ranking of pref_voting's, the first by name among them; scores = models ranked below")
    func kemeny() throws {
        let fixture = try SocialChoiceFixture.load()
        var withTies = 0
        for p in fixture.profiles {
            let r = try SocialChoice.aggregate(ballots(p), names: p.candidates, rule: .kemeny)
            let order = r.order.map { p.candidates[$0] }
            #expect(p.expected.kemeny_rankings.contains(order), "\(p.name): \(order)")
            #expect(order == p.expected.kemeny_rankings.min { $0.lexicographicallyPrecedes($1) }, "\(p.name)")
            if p.expected.kemeny_rankings.count > 1 { withTies += 1 }
            #expect(Set(p.expected.kemeny_rankings.map { $0[0] }) == Set(p.expected.kemeny_winners), "\(p.name)")
            if let kendall = p.expected.kemeny_rankings_kendall {
                #expect(
                    Set(kendall) == Set(p.expected.kemeny_rankings), "\(p.name): margin and Kendall-τ definitions agree"
                )
            }
            let m = SocialChoice.margins(ballots(p), n: p.candidates.count)
            var sum = 0.0
            for i in 0..<r.order.count { for j in (i + 1)..<r.order.count { sum += m[r.order[i]][r.order[j]] } }
            #expect(abs(sum - p.expected.kemeny_margin_sum) < 1e-9, "\(p.name)")
            for (k, c) in r.order.enumerated() { #expect(r.scores[c] == Double(p.candidates.count - 1 - k)) }
        }
        #expect(withTies >= 3, "the fixture exercises the name tie-break")
    }

    @Test("ties never follow input order: permuting the candidates gives the same named result")
    func inputOrderIrrelevant() throws {
        let fixture = try SocialChoiceFixture.load()
        for p in fixture.profiles {
            let rev = Array(p.candidates.reversed())
            let idx = Dictionary(uniqueKeysWithValues: rev.enumerated().map { ($1, $0) })
            let b = p.ballots.map { WeakOrderBallot(tiers: $0.tiers.map { $0.map { idx[$0]! } }, weight: $0.weight) }
            for rule in SocialChoiceRule.allCases {
                let x = try SocialChoice.aggregate(ballots(p), names: p.candidates, rule: rule)
                let y = try SocialChoice.aggregate(b, names: rev, rule: rule)
                #expect(x.order.map { p.candidates[$0] } == y.order.map { rev[$0] }, "\(p.name) \(rule)")
            }
        }
    }

    @Test("kemeny refuses more models than it computes exactly, and is exact at the limit")
    func kemenyLimit() throws {
        let n = SocialChoice.kemenyLimit + 1
        let names = (0..<n).map { "m\($0)" }
        let ballot = WeakOrderBallot(tiers: (0..<n).map { [$0] })
        #expect(throws: SocialChoice.Failure.tooManyCandidatesForKemeny(n)) {
            try SocialChoice.aggregate([ballot], names: names, rule: .kemeny)
        }
        // 12 models, one voter: the unique optimum is the voter's own ranking.
        let twelve = (0..<12).map { "m\(String(format: "%02d", $0))" }
        let b = WeakOrderBallot(tiers: [5, 3, 11, 0, 1, 2, 4, 6, 7, 8, 9, 10].map { [$0] })
        let r = try SocialChoice.aggregate([b], names: twelve, rule: .kemeny)
        #expect(r.order == [5, 3, 11, 0, 1, 2, 4, 6, 7, 8, 9, 10])
    }
}
