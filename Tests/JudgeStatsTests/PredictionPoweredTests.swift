// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (names mirror the keys of the Python reference scripts and provider JSON that generated or define them)

import Foundation
import Testing

@testable import JudgeStats

/// Expected values from ppi_py 0.2.3 (scripts/reference/make_ppi_fixture.py → Fixtures/ppi.json).
struct PPIFixture: Decodable, Sendable {
    struct Mean: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let y: [Double], yhat: [Double], yhat_unlabeled: [Double]
        let alpha: Double
        let w: [Double]?
        let estimate: Double
        let ci: [Double], classical_ci: [Double]
        var testDescription: String { name }
    }
    struct Power: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let y: [Double], yhat: [Double]
        let n_items: Int
        let half_width: Double, alpha: Double, classical_exact: Double
        let ppi_labels: Int
        let ppi_corr: Double
        var testDescription: String { name }
    }
    struct Logistic: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let x: [[Double]], y: [Double], yhat: [Double], x_unlabeled: [[Double]], yhat_unlabeled: [Double]
        let alpha: Double
        let estimate: [Double], lo: [Double], hi: [Double]
        var testDescription: String { name }
    }
    struct Active: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let y: [Double], yhat: [Double], p: [Double], yhat_unlabeled: [Double]
        let alpha: Double
        let lam: Double?
        let estimate: Double, lambda: Double
        let ci: [Double]
        var testDescription: String { name }
    }
    let mean: [Mean]
    let active: [Active]
    let power: [Power]
    let logistic: [Logistic]

    static let shared: PPIFixture = {
        let url = Bundle.module.url(forResource: "ppi", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(PPIFixture.self, from: Data(contentsOf: url))
    }()
}

@Suite struct PredictionPoweredTests {
    @Test func normalQuantileMatchesScipy() {
        // scipy.stats.norm.ppf
        #expect(abs(PredictionPowered.normalQuantile(0.975) - 1.959963984540054) < 1e-14)
        #expect(abs(PredictionPowered.normalQuantile(0.95) - 1.6448536269514722) < 1e-14)
        #expect(abs(PredictionPowered.normalQuantile(0.995) - 2.5758293035489004) < 1e-14)
        #expect(abs(PredictionPowered.normalQuantile(0.01) + 2.3263478740408408) < 1e-13)
    }

    @Test(arguments: PPIFixture.shared.mean) func meanEqualsPPIPy(_ c: PPIFixture.Mean) throws {
        let e = try #require(
            PredictionPowered.mean(y: c.y, yhat: c.yhat, yhatUnlabeled: c.yhat_unlabeled, alpha: c.alpha, w: c.w))
        #expect(abs(e.estimate - c.estimate) < 1e-9)
        #expect(abs(e.ci.lo - c.ci[0]) < 1e-9)
        #expect(abs(e.ci.hi - c.ci[1]) < 1e-9)
        #expect(e.lambda >= 0 && e.lambda <= 1)
        let cl = try #require(PredictionPowered.classicalMean(y: c.y, alpha: c.alpha, w: c.w))
        #expect(abs(cl.ci.lo - c.classical_ci[0]) < 1e-9)
        #expect(abs(cl.ci.hi - c.classical_ci[1]) < 1e-9)
    }

    @Test(arguments: PPIFixture.shared.active) func activeMeanEqualsTheEstimator(_ c: PPIFixture.Active) throws {
        let e = try #require(
            PredictionPowered.activeMean(
                y: c.y, yhat: c.yhat, pSelect: c.p, yhatUnlabeled: c.yhat_unlabeled, alpha: c.alpha, lambda: c.lam))
        #expect(abs(e.estimate - c.estimate) < 1e-9)
        #expect(abs(e.ci.lo - c.ci[0]) < 1e-9)
        #expect(abs(e.ci.hi - c.ci[1]) < 1e-9)
        #expect(abs(e.lambda - c.lambda) < 1e-9)
    }

    @Test func activeMeanWithEqualProbabilitiesOfOneIsTheLabelMean() throws {
        // A census (p = 1 everywhere, nothing unlabelled): z = y, whatever λ.
        let e = try #require(
            PredictionPowered.activeMean(
                y: [1, 0, 1, 1], yhat: [0, 0, 1, 0], pSelect: [1, 1, 1, 1], yhatUnlabeled: [], alpha: 0.05))
        #expect(abs(e.estimate - 0.75) < 1e-15)
    }

    @Test func anticorrelatedJudgeClipsLambdaToZeroAndEqualsClassical() throws {
        let c = try #require(PPIFixture.shared.mean.first { $0.name == "anti-correlated judge" })
        let e = try #require(PredictionPowered.mean(y: c.y, yhat: c.yhat, yhatUnlabeled: c.yhat_unlabeled, alpha: 0.05))
        #expect(e.lambda == 0)
        let cl = try #require(PredictionPowered.classicalMean(y: c.y, alpha: 0.05))
        #expect(abs(e.ci.lo - cl.ci.lo) < 1e-12 && abs(e.ci.hi - cl.ci.hi) < 1e-12)
        #expect(
            abs(try #require(PredictionPowered.effectiveLabels(y: c.y, ppiStandardError: e.standardError)) - 50) < 1e-9)
    }

    @Test func effectiveLabelsExceedLabelsForAnInformativeJudge() throws {
        let c = try #require(PPIFixture.shared.mean.first { $0.name == "win-rate 100/900 acc 0.9" })
        let e = try #require(PredictionPowered.mean(y: c.y, yhat: c.yhat, yhatUnlabeled: c.yhat_unlabeled, alpha: 0.05))
        let eff = try #require(PredictionPowered.effectiveLabels(y: c.y, ppiStandardError: e.standardError))
        #expect(eff > 150)
        // The classical half-width with `eff` labels equals the PPI half-width.
        let cl = try #require(PredictionPowered.classicalMean(y: c.y, alpha: 0.05))
        #expect(abs(cl.standardError * (100 / eff).squareRoot() - e.standardError) < 1e-12)
    }

    @Test func degenerateInputsGiveNil() {
        #expect(PredictionPowered.mean(y: [1], yhat: [1], yhatUnlabeled: [1, 0], alpha: 0.05) == nil)
        #expect(PredictionPowered.mean(y: [1, 0], yhat: [1, 0], yhatUnlabeled: [], alpha: 0.05) == nil)
        #expect(PredictionPowered.effectiveLabels(y: [1, 1, 1], ppiStandardError: 0.1) == nil)
    }

    @Test(arguments: PPIFixture.shared.power) func labelPlanEqualsPPIMeanPower(_ c: PPIFixture.Power) throws {
        let p = try #require(
            PredictionPowered.labelPlan(
                y: c.y, yhat: c.yhat, nItems: c.n_items, halfWidth: c.half_width, alpha: c.alpha))
        #expect(abs(p.classicalExact - c.classical_exact) < 1e-9 * c.classical_exact)
        #expect(abs(p.correlation - c.ppi_corr) < 1e-12)
        #expect(p.ppiLabels == c.ppi_labels)
        #expect(p.ppiLabels <= p.classicalLabels)
    }

    @Test(arguments: PPIFixture.shared.logistic) func logisticEqualsPPIPy(_ c: PPIFixture.Logistic) throws {
        let e = try #require(
            PredictionPowered.logistic(
                x: c.x, y: c.y, yhat: c.yhat, xUnlabeled: c.x_unlabeled, yhatUnlabeled: c.yhat_unlabeled, alpha: c.alpha
            ))
        for j in c.estimate.indices {
            #expect(abs(e.estimate[j] - c.estimate[j]) < 1e-6, "coefficient \(j)")
            #expect(abs(e.lo[j] - c.lo[j]) < 1e-6, "lower \(j)")
            #expect(abs(e.hi[j] - c.hi[j]) < 1e-6, "upper \(j)")
        }
        #expect(e.lambda >= 0 && e.lambda <= 1)
    }

    @Test func logisticWithAnUnidentifiedCoefficientIsNil() {
        // The second covariate is always 0: the Hessian is singular.
        let x: [[Double]] = [[1, 0], [-1, 0], [1, 0]]
        #expect(
            PredictionPowered.logistic(
                x: x, y: [1, 0, 1], yhat: [1, 0, 0], xUnlabeled: x, yhatUnlabeled: [1, 1, 0], alpha: 0.05) == nil)
    }
}
