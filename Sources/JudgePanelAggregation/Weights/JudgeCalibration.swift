import Foundation
import JudgePanelCore
import JudgeStats

/// A calibration of one judge's scores to human scores (Quantitative Judges): the fitted model, the judge it
/// belongs to, and the cross-validated errors before and after. Written by `judgepanel calibrate`, applied by
/// `meta --calibration`.
package struct JudgeCalibration: Sendable, Hashable, Codable {
    package var judge: String
    package var model: CalibrationModel
    package var crossValidation: CalibrationReport?

    package init(judge: String, model: CalibrationModel, crossValidation: CalibrationReport? = nil) {
        self.judge = judge
        self.model = model
        self.crossValidation = crossValidation
    }

    package enum CodingKeys: String, CodingKey {
        case judge, model
        case crossValidation = "cross_validation"
    }

    /// The (judge score, human score) pairs over labelled items: the judge's reconciled score (mean of its samples)
    /// against the numeric consensus label.
    package static func pairs(items: [Item], votes: [Vote], judge: String) -> (judge: [Double], human: [Double]) {
        var byItem: [String: [Double]] = [:]
        for v in votes where v.judge == judge && v.isOK && v.variant == nil {
            if let s = v.score { byItem[v.item, default: []].append(s) }
        }
        var xs: [Double] = []
        var ys: [Double] = []
        for item in items {
            guard let h = item.consensus?.score, let s = byItem[item.id], !s.isEmpty else { continue }
            xs.append(s.reduce(0, +) / Double(s.count))
            ys.append(h)
        }
        return (xs, ys)
    }

    /// Fits `method` on all pairs and cross-validates it (`folds`, seeded). Nil when no model can be fitted.
    package static func fit(
        items: [Item], votes: [Vote], judge: String, method: CalibrationModel.Method, folds: Int = 5, seed: UInt64 = 0
    ) -> JudgeCalibration? {
        let (xs, ys) = pairs(items: items, votes: votes, judge: judge)
        let cv = Calibration.crossValidate(judge: xs, human: ys, method: method, folds: folds, seed: seed)
        guard let model = cv.model ?? Calibration.fit(method, judge: xs, human: ys) else { return nil }
        return JudgeCalibration(judge: judge, model: model, crossValidation: cv)
    }

    /// Replaces this judge's scores by calibrated ones (other judges' votes and verdict votes are unchanged).
    package func apply(to votes: [Vote]) -> [Vote] {
        votes.map { v in
            guard v.judge == judge, let s = v.score else { return v }
            var out = v
            out.score = model.apply(s)
            return out
        }
    }

    package static func load(path: String) throws -> JudgeCalibration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JudgePanelError.io("cannot read \(path)")
        }
        do {
            return try JSONDecoder().decode(JudgeCalibration.self, from: data)
        } catch {
            throw JudgePanelError.badInput("not a calibration model (judgepanel calibrate --out): \(error)", file: path)
        }
    }
}
