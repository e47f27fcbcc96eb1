import Foundation
import JudgeStats
import Testing

@Suite("L1-penalised logistic regression (soft labels, weights) and the length-controlled win rate")
struct L1LogisticTests {
    struct Case: Decodable {
        var c: Double
        var coef: [Double]
    }

    struct Fixture: Decodable {
        var x: [[Double]]
        var p: [Double]
        var weight: [Double]
        var cases: [Case]
    }

    static func fixture() throws -> Fixture {
        let url = try #require(
            Bundle.module.url(forResource: "l1-logistic-expected", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Equal to scikit-learn's liblinear (tol 1e-12) on the duplicated-rows form of the soft-label problem
    /// (scripts/reference/l1_logistic_reference.py), from C where every coefficient is 0 to nearly unpenalised.
    @Test func equalsLiblinear() throws {
        let f = try Self.fixture()
        for k in f.cases {
            let w = L1Logistic.fit(x: f.x, p: f.p, weight: f.weight, c: k.c)
            for (a, b) in zip(w, k.coef) { #expect(abs(a - b) < 1e-7, "C=\(k.c): \(w) vs \(k.coef)") }
        }
    }

    /// The optimality conditions of the L1 problem: C·∂ⱼ(loss) = −sign(wⱼ) where wⱼ ≠ 0, |C·∂ⱼ(loss)| ≤ 1 where 0.
    @Test(arguments: [0.05, 0.5, 3.0, 40.0])
    func kktConditions(c: Double) throws {
        let f = try Self.fixture()
        let w = L1Logistic.fit(x: f.x, p: f.p, weight: f.weight, c: c)
        var g = [Double](repeating: 0, count: w.count)
        for i in f.x.indices {
            let z = zip(f.x[i], w).reduce(0) { $0 + $1.0 * $1.1 }
            let q = L1Logistic.sigmoid(z)
            for j in w.indices { g[j] += c * f.weight[i] * (q - f.p[i]) * f.x[i][j] }
        }
        for j in w.indices {
            if w[j] != 0 {
                #expect(abs(g[j] + (w[j] > 0 ? 1 : -1)) < 1e-8, "C=\(c) j=\(j): \(g[j]) w=\(w[j])")
            } else {
                #expect(abs(g[j]) <= 1 + 1e-9, "C=\(c) j=\(j): \(g[j])")
            }
        }
        // And no step along a coordinate lowers the objective.
        let f0 = L1Logistic.objective(x: f.x, p: f.p, weight: f.weight, c: c, w: w)
        for j in w.indices {
            for h in [1e-4, -1e-4] {
                var v = w
                v[j] += h
                #expect(L1Logistic.objective(x: f.x, p: f.p, weight: f.weight, c: c, w: v) >= f0 - 1e-12)
            }
        }
    }

    @Test func logspaceGrid() {
        #expect(LengthControlledWinRate.cGrid.count == 10)
        #expect(LengthControlledWinRate.cGrid.first == 1e-4 && LengthControlledWinRate.cGrid.last == 1e4)
        #expect(abs(LengthControlledWinRate.cGrid[4] - 0.3593813663804626) < 1e-15)
    }

    /// Degenerate inputs are refused with a reason, never NaN.
    @Test func degenerateInputs() {
        let same = (0..<10).map { LengthControlledWinRate.Row(preference: 0.5, deltaLength: 3, index: $0) }
        #expect(throws: LengthControlledWinRate.Failure.constantLength) {
            _ = try LengthControlledWinRate.compute(rows: same, gamed: nil)
        }
        let few = (0..<4).map { LengthControlledWinRate.Row(preference: 0.5, deltaLength: Double($0), index: $0) }
        #expect(throws: LengthControlledWinRate.Failure.tooFewComparisons(4)) {
            _ = try LengthControlledWinRate.compute(rows: few, gamed: nil)
        }
        let gamed = [LengthControlledWinRate.GamedRow(index: 0, preference: 0.5, stdDeltaLength: 0, difficulty: 0)]
        #expect(throws: LengthControlledWinRate.Failure.unknownIndex(1)) {
            _ = try LengthControlledWinRate.compute(rows: few, gamed: gamed, difficulty: [0: 0])
        }
    }

    /// Preferences that do not depend on length: the controlled win rate is the plain mean, up to the L1 shrinkage.
    @Test func noLengthEffect() throws {
        var rows: [LengthControlledWinRate.Row] = []
        for k in 0..<200 {
            rows.append(.init(preference: k % 4 == 0 ? 1 : 0, deltaLength: Double((k * 37) % 101) - 50, index: k))
        }
        let r = try LengthControlledWinRate.compute(rows: rows, gamed: nil)
        #expect(abs(r.winRate - 0.25) < 0.05, "\(r)")
        #expect((r.standardError ?? 1) < 1e-12)  // the reduced formula predicts one value for every comparison
    }
}

@Suite("Bradley–Terry with covariates (style control)")
struct StyleControlledBradleyTerryTests {
    /// Without covariates the fit is the unpenalised Bradley–Terry MLE: for two models, the log-odds of the win rate.
    @Test func twoModelsWithoutCovariates() throws {
        let battles = (0..<10).map {
            StyleControlledBradleyTerry.Battle(i: 0, j: 1, outcome: $0 < 7 ? 1 : 0, covariates: [])
        }
        let fit = try StyleControlledBradleyTerry.fit(battles: battles, nModels: 2, nCovariates: 0, reference: 1)
        #expect(abs(fit.strengths[0] - log(7.0 / 3)) < 1e-10)
        #expect(fit.strengths[1] == 0)
    }

    /// A model that wins every battle has no finite estimate.
    @Test func separation() {
        let battles = (0..<5).map { _ in StyleControlledBradleyTerry.Battle(i: 0, j: 1, outcome: 1, covariates: []) }
        #expect(throws: StyleControlledBradleyTerry.Failure.noFiniteMaximum) {
            _ = try StyleControlledBradleyTerry.fit(battles: battles, nModels: 2, nCovariates: 0, reference: 1)
        }
    }

    /// The score equations hold at the fit: Σ (y − q)·x = 0 for every free parameter.
    @Test func scoreEquations() throws {
        var battles: [StyleControlledBradleyTerry.Battle] = []
        for k in 0..<60 {
            let i = k % 3
            let j = (k + 1 + k / 3 % 2) % 3
            guard i != j else { continue }
            let f = [sin(Double(k)), cos(Double(2 * k))]
            battles.append(.init(i: i, j: j, outcome: Double((k * 7) % 3) / 2, covariates: f))
        }
        let fit = try StyleControlledBradleyTerry.fit(battles: battles, nModels: 3, nCovariates: 2, reference: 2)
        var g = [Double](repeating: 0, count: 4)
        for b in battles {
            let z =
                fit.strengths[b.i] - fit.strengths[b.j] + fit.coefficients[0] * b.covariates[0]
                + fit.coefficients[1] * b.covariates[1]
            let r = b.outcome - L1Logistic.sigmoid(z)
            for (m, s) in [(b.i, 1.0), (b.j, -1.0)] where m < 2 { g[m] += r * s }
            g[2] += r * b.covariates[0]
            g[3] += r * b.covariates[1]
        }
        for v in g { #expect(abs(v) < 1e-9) }
    }
}
