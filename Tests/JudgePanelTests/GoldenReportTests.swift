import Foundation
import JudgePanel
import JudgeStats
import Testing

/// Golden files for report.json and report.md on the fixed PandaLM-50 fixture (recorded votes, seeded bootstrap).
/// `JUDGEPANEL_UPDATE_GOLDEN=1 swift test --filter GoldenReport` rewrites them.
@Suite("Golden report files")
struct GoldenReportTests {
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func fixtureReport() throws -> MetaReport {
        let root = panelTestRoot
        let items = try ItemLoader().load(path: root.appendingPathComponent("fixtures/pandalm-50.jsonl").path)
        let votes = try VotesFile.load(path: root.appendingPathComponent("fixtures/pandalm-50.votes.jsonl").path)
        return MetaAnalysis().report(items: items, votes: votes)
    }

    /// The same bytes `report.json` gets (key-sorted, indented).
    static func json(_ report: MetaReport) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(report), as: UTF8.self) + "\n"
    }

    static func markdown(_ report: MetaReport) -> String {
        ReportText.markdown(
            report, title: "judgepanel meta",
            header: ["items: fixtures/pandalm-50.jsonl", "votes: fixtures/pandalm-50.votes.jsonl"])
    }

    /// Compares `actual` with the golden file, or rewrites it when JUDGEPANEL_UPDATE_GOLDEN=1.
    static func check(_ name: String, _ actual: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = goldenDir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["JUDGEPANEL_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: goldenDir, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "missing golden file \(url.path): run with JUDGEPANEL_UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let a = actual.components(separatedBy: "\n")
            let e = expected.components(separatedBy: "\n")
            let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
            let got = i < a.count ? a[i] : "(end)"
            let want = i < e.count ? e[i] : "(end)"
            Issue.record(
                "\(name) differs from the golden file at line \(i + 1):\n  golden: \(want)\n  actual: \(got)\n(JUDGEPANEL_UPDATE_GOLDEN=1 rewrites it after a deliberate change)",
                sourceLocation: sourceLocation)
        }
    }

    @Test("report.json of the PandaLM-50 fixture matches the golden file")
    func reportJSON() throws {
        let report = try Self.fixtureReport()
        try Self.check("pandalm-50.report.json", try Self.json(report))
    }

    @Test("report.md of the PandaLM-50 fixture matches the golden file")
    func reportMarkdown() throws {
        try Self.check("pandalm-50.report.md", Self.markdown(try Self.fixtureReport()))
    }

    @Test("the meta report is deterministic: two analyses give identical bytes, and no timestamp")
    func deterministic() throws {
        let a = try Self.json(try Self.fixtureReport())
        let b = try Self.json(try Self.fixtureReport())
        #expect(a == b)
        #expect(a.range(of: #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"#, options: .regularExpression) == nil)
    }
}
