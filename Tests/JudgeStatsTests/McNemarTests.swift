import Foundation
import Testing

@testable import JudgeStats

/// McNemar's exact test against statsmodels `mcnemar(table, exact=True)`
/// (scripts/reference/make_mcnemar_fixture.py → Fixtures/reference_mcnemar.json).
@Suite struct McNemarTests {
    struct Case: Decodable {
        var b: Int
        var c: Int
        var statistic: Double
        var pvalue: Double
    }

    struct Fixture: Decodable { var cases: [Case] }

    static func fixture() throws -> Fixture {
        let url = try #require(
            Bundle.module.url(forResource: "reference_mcnemar", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test("exact McNemar equals statsmodels to 1e-9 on every fixture table")
    func equalsStatsmodels() throws {
        let cases = try Self.fixture().cases
        #expect(cases.count >= 30)
        for c in cases {
            let r = McNemar.exact(b: c.b, c: c.c)
            #expect(Double(r.statistic) == c.statistic, "b=\(c.b) c=\(c.c)")
            #expect(
                abs(r.pValue - c.pvalue) <= 1e-9 * max(1, c.pvalue), "b=\(c.b) c=\(c.c): \(r.pValue) vs \(c.pvalue)")
        }
    }

    @Test("symmetric in b and c; no discordant pair gives p = 1")
    func symmetry() {
        #expect(McNemar.exact(b: 3, c: 12).pValue == McNemar.exact(b: 12, c: 3).pValue)
        #expect(McNemar.exact(b: 0, c: 0).pValue == 1)
        #expect(McNemar.exact(b: 0, c: 20).pValue < 1e-5)
    }
}
