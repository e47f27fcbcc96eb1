import Foundation
import JudgePanel
import JudgeStats
import Testing

@Suite("calibrate: judge score → human score, cross-validated, applied by meta --calibration")
struct CalibrateCommandTests {
    /// A judge that scores 2·human + 1 (+ small deterministic noise) on 1–5 labels.
    func write(_ dir: URL) throws -> (items: String, votes: String) {
        var items: [String] = []
        var votes: [String] = []
        for i in 0..<60 {
            let h = Double(1 + (i * 7) % 5)
            let noise = Double((i * 13) % 7 - 3) * 0.1
            items.append("{\"id\":\"s\(i)\",\"prompt\":\"p\",\"response\":\"r\(i)\",\"label\":\(h)}")
            votes.append("{\"item\":\"s\(i)\",\"judge\":\"big\",\"score\":\(2 * h + 1 + noise)}")
            votes.append("{\"item\":\"s\(i)\",\"judge\":\"other\",\"score\":\(h)}")
        }
        let ip = dir.appendingPathComponent("items.jsonl").path
        let vp = dir.appendingPathComponent("votes.jsonl").path
        try items.joined(separator: "\n").write(toFile: ip, atomically: true, encoding: .utf8)
        try votes.joined(separator: "\n").write(toFile: vp, atomically: true, encoding: .utf8)
        return (ip, vp)
    }

    @Test("linear and isotonic: MAE/RMSE after < before; the model file round-trips; meta applies it")
    func calibrateAndApply() async throws {
        let dir = try tempDir("calib")
        let (items, votes) = try write(dir)
        for method in ["linear", "isotonic"] {
            let model = dir.appendingPathComponent("\(method).json").path
            let r = try await runJudgepanel([
                "calibrate", items, "--votes", votes, "--judge", "big", "--method", method, "--out", model,
            ])
            #expect(r.code == 0, "\(r.err)")
            #expect(
                r.out.contains("MAE") && r.out.contains("RMSE") && r.out.contains("before") && r.out.contains("after"))
            let cal = try JudgeCalibration.load(path: model)
            #expect(cal.judge == "big")
            let cv = try #require(cal.crossValidation)
            #expect((cv.maeAfter.value ?? 9) < (cv.maeBefore.value ?? 0))
            #expect((cv.rmseAfter.value ?? 9) < (cv.rmseBefore.value ?? 0))
            #expect((cv.maeAfter.value ?? 9) < 0.5)
            // Equal to JudgeStats' cross-validation on the same pairs.
            let loaded = try ItemLoader().load(path: items)
            let recorded = try VotesFile.load(path: votes)
            let pairs = JudgeCalibration.pairs(items: loaded, votes: recorded, judge: "big")
            let direct = Calibration.crossValidate(
                judge: pairs.judge, human: pairs.human, method: CalibrationModel.Method(rawValue: method)!, folds: 5,
                seed: 0)
            #expect(direct.maeAfter == cv.maeAfter && direct.model == cal.model)
            // meta --calibration: the judge's mean score moves onto the human scale.
            let m = try await runJudgepanel([
                "meta", items, "--votes", votes, "--calibration", model, "--json", "--resamples", "20",
            ])
            #expect(m.code == 0, "\(m.err)")
            let report = try JSONValue.parse(m.out)
            let big = try #require(report["judges"]?.arrayValue?.first { $0["judge"]?.stringValue == "big" })
            let meanHuman = pairs.human.reduce(0, +) / Double(pairs.human.count)
            #expect(abs((big["mean_score"]?.doubleValue ?? 0) - meanHuman) < 0.3)
            let raw = try await runJudgepanel(["meta", items, "--votes", votes, "--json", "--resamples", "20"])
            let rawBig = try #require(
                try JSONValue.parse(raw.out)["judges"]?.arrayValue?.first { $0["judge"]?.stringValue == "big" })
            #expect((rawBig["mean_score"]?.doubleValue ?? 0) > meanHuman + 2)
            #expect(report["notes"]?.arrayValue?.contains { $0.stringValue?.contains("calibrated") == true } == true)
        }
        let bad = try await runJudgepanel(["calibrate", items, "--votes", votes, "--judge", "nobody"])
        #expect(bad.code == 2)
        let badMethod = try await runJudgepanel([
            "calibrate", items, "--votes", votes, "--judge", "big", "--method", "cubic",
        ])
        #expect(badMethod.code == 2)
    }
}
