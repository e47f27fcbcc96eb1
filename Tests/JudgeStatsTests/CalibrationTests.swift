import Foundation
import Testing

@testable import JudgeStats

@Suite struct CalibrationTests {
    @Test func isotonicMatchesScikitLearn() throws {
        let fixture = try AggregationFixture.load()
        #expect(fixture.isotonic.count >= 3)
        for c in fixture.isotonic {
            let m = try #require(Calibration.fitIsotonic(judge: c.x, human: c.y))
            #expect(m.method == .isotonic)
            for (got, want) in zip(m.apply(c.x), c.fitted) {
                #expect(abs(got - want) < 1e-9, "\(c.name) fitted")
            }
            for (got, want) in zip(m.apply(c.t), c.predicted) {
                #expect(abs(got - want) < 1e-9, "\(c.name) predicted")
            }
            // Thresholds agree where sklearn kept them.
            for (x, y) in zip(c.x_thresholds, c.y_thresholds) {
                #expect(abs(m.apply(x) - y) < 1e-9, "\(c.name) threshold")
            }
            #expect(abs(m.xThresholds.first! - c.x_thresholds.first!) < 1e-12)
            #expect(abs(m.xThresholds.last! - c.x_thresholds.last!) < 1e-12)
        }
    }

    @Test func linearMatchesNumpyPolyfit() throws {
        let fixture = try AggregationFixture.load()
        for c in fixture.isotonic {
            let m = try #require(Calibration.fitLinear(judge: c.x, human: c.y))
            #expect(abs(m.slope - c.linear_slope) < 1e-9, "\(c.name)")
            #expect(abs(m.intercept - c.linear_intercept) < 1e-9, "\(c.name)")
        }
    }

    @Test func isotonicIsMonotone() {
        var rng = SeededGenerator(seed: 5)
        let x = (0..<200).map { _ in rng.nextUnit() * 10 }
        let y = x.map { sin($0) + $0 / 3 + (rng.nextUnit() - 0.5) }
        let m = Calibration.fitIsotonic(judge: x, human: y)!
        let grid = stride(from: -1.0, through: 11.0, by: 0.01).map { m.apply($0) }
        for i in 1..<grid.count { #expect(grid[i] >= grid[i - 1]) }
        for i in 1..<m.yThresholds.count {
            #expect(m.yThresholds[i] >= m.yThresholds[i - 1])
            #expect(m.xThresholds[i] > m.xThresholds[i - 1])
        }
    }

    @Test func crossValidationImprovesBiasedJudge() {
        // A judge that scores 2 points too high on a 1–10 scale, with some noise.
        var rng = SeededGenerator(seed: 9)
        let human = (0..<120).map { _ in 1 + rng.nextUnit() * 7 }
        let judge = human.map { $0 + 2 + (rng.nextUnit() - 0.5) * 0.6 }
        for method in [CalibrationModel.Method.linear, .isotonic] {
            let r = Calibration.crossValidate(judge: judge, human: human, method: method, folds: 5, seed: 1)
            let before = try! #require(r.maeBefore.value)
            let after = try! #require(r.maeAfter.value)
            #expect(abs(before - 2) < 0.1)
            #expect(after < 0.5, "\(method)")
            #expect(r.rmseAfter.value! >= after)
            #expect(r.model != nil)
            let again = Calibration.crossValidate(judge: judge, human: human, method: method, folds: 5, seed: 1)
            #expect(again == r)
        }
        let folds = Calibration.foldAssignment(n: 23, folds: 5, seed: 3)
        #expect(folds == Calibration.foldAssignment(n: 23, folds: 5, seed: 3))
        for f in 0..<5 { #expect(folds.filter { $0 == f }.count >= 4) }
    }

    @Test func modelIsCodableAndApplies() throws {
        let m = Calibration.fitIsotonic(judge: [1, 2, 3, 4, 5], human: [1, 3, 2, 4, 5])!
        let data = try JSONEncoder().encode(m)
        let back = try JSONDecoder().decode(CalibrationModel.self, from: data)
        #expect(back == m)
        #expect(back.apply([0, 2, 2.5, 3, 9]) == [1, 2.5, 2.5, 2.5, 5])
        let lin = Calibration.fitLinear(judge: [0, 1, 2], human: [1, 3, 5])!
        #expect(abs(lin.apply(3) - 7) < 1e-12)
        let linBack = try JSONDecoder().decode(CalibrationModel.self, from: JSONEncoder().encode(lin))
        #expect(linBack == lin)
    }

    @Test func degenerateInputs() {
        #expect(Calibration.fitLinear(judge: [], human: []) == nil)
        #expect(Calibration.fitLinear(judge: [3, 3, 3], human: [1, 2, 3]) == nil)
        #expect(Calibration.fitLinear(judge: [1, 2], human: [1]) == nil)
        #expect(Calibration.fitIsotonic(judge: [], human: []) == nil)
        #expect(Calibration.fitIsotonic(judge: [1, .nan], human: [1, 2]) == nil)
        let single = Calibration.fitIsotonic(judge: [2], human: [7])!
        #expect(single.apply([0, 2, 10]) == [7, 7, 7])
        let constant = Calibration.fitIsotonic(judge: [3, 3, 3], human: [1, 2, 3])!
        #expect(constant.apply(100) == 2)
        let r = Calibration.crossValidate(
            judge: [3, 3, 3, 3, 3, 3], human: [1, 2, 3, 1, 2, 3], method: .linear, folds: 3)
        #expect(r.model == nil)
        #expect(r.maeAfter.isDefined)
        let tiny = Calibration.crossValidate(judge: [1, 2], human: [1, 2], method: .isotonic, folds: 5)
        #expect(!tiny.maeAfter.isDefined)
        #expect(tiny.maeBefore.value == 0)
        let empty = Calibration.crossValidate(judge: [], human: [], method: .isotonic)
        #expect(!empty.maeBefore.isDefined && !empty.maeAfter.isDefined)
    }
}

@Suite struct EffectiveJudgesTests {
    @Test func kishAndEigen() {
        let independent: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        #expect(EffectiveJudges.kish(independent).value == 3)
        #expect(EffectiveJudges.eigen(independent).value == 3)
        let identical: [[Double]] = Array(repeating: [1, 1, 1, 1], count: 4)
        #expect(abs(EffectiveJudges.kish(identical).value! - 1) < 1e-12)
        #expect(abs(EffectiveJudges.eigen(identical).value! - 1) < 1e-12)
        let half: [[Double]] = [[1, 0.5], [0.5, 1]]
        #expect(abs(EffectiveJudges.kish(half).value! - 4.0 / 3.0) < 1e-12)
        #expect(abs(EffectiveJudges.eigen(half).value! - 4.0 / 2.5) < 1e-12)
        // Equicorrelated ρ: n / (1 + (n-1)ρ).
        let n = 5
        let rho = 0.3
        let eq = (0..<n).map { i in (0..<n).map { j in i == j ? 1.0 : rho } }
        #expect(abs(EffectiveJudges.kish(eq).value! - Double(n) / (1 + Double(n - 1) * rho)) < 1e-12)
        // Eigenvalues of equicorrelation: 1+(n-1)ρ once, 1-ρ (n-1) times.
        let l1 = 1 + Double(n - 1) * rho
        let l2 = 1 - rho
        let pr = Double(n * n) / (l1 * l1 + Double(n - 1) * l2 * l2)
        #expect(abs(EffectiveJudges.eigen(eq).value! - pr) < 1e-12)
    }

    @Test func undefinedCases() {
        #expect(!EffectiveJudges.kish([[1.0]]).isDefined)
        #expect(!EffectiveJudges.kish([[Double]]()).isDefined)
        #expect(!EffectiveJudges.kish([[1, 0.2], [0.2]]).isDefined)
        let withUndefined: [[MetricValue]] = [
            [.defined(1), .undefined("constant")], [.undefined("constant"), .defined(1)],
        ]
        #expect(!EffectiveJudges.kish(withUndefined).isDefined)
        #expect(!EffectiveJudges.eigen(withUndefined).isDefined)
        // Undefined diagonal is fine: taken as 1.
        let diagUndefined: [[Double?]] = [[nil, 0], [0, nil]]
        #expect(EffectiveJudges.kish(diagUndefined).value == 2)
        // Σρ ≤ 0 is undefined for Kish.
        let anti: [[Double]] = [[1, -1], [-1, 1]]
        #expect(!EffectiveJudges.kish(anti).isDefined)
        #expect(EffectiveJudges.eigen(anti).value == 1)
        #expect(!EffectiveJudges.kish([[1, 2], [2, 1]]).isDefined)
    }
}
