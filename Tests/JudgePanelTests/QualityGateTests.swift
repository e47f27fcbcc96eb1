import Foundation
import JudgePanel
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `--fail-under`: the grammar, every comparison, the path forms (dots, [i], names of judges and models, quoted
/// names, ci_lo/ci_hi) and what a missing or null value does.
@Suite("Quality gates (--fail-under)")
struct QualityGateTests {
    static let report: JSONValue = [
        "n_items": 50,
        "panel": ["accuracy": 0.74, "accuracy_ci": [0.62, 0.86], "cohen_kappa": .null],
        "judges": [
            ["judge": "gpt4o", "accuracy": 0.8, "accuracy_ci": [0.7, 0.9], "cohen_kappa": 0.61],
            ["judge": "claude-3.5", "accuracy": 0.7, "cohen_kappa": 0.5],
        ],
        "ranking": [["model": "m1", "strength": 1.5, "strength_ci": [1.1, 1.9]]],
        "ppi": ["overall": ["estimate": 0.55, "ci": [0.5, 0.6], "n": 10]],
        "verdicts": ["share": ["A": 0.42, "B": 0.5, "tie": 0.08]],
        "notes": ["x"],
    ]

    static func eval(_ expr: String) throws -> GateResult {
        try #require(QualityGates.evaluate([try QualityGate(parsing: expr)], on: report).first)
    }

    @Test(
        "each comparison passes and fails where it should",
        arguments: [
            ("panel.accuracy>=0.74", true), ("panel.accuracy>=0.75", false),
            ("panel.accuracy>0.74", false), ("panel.accuracy>0.7", true),
            ("panel.accuracy<=0.74", true), ("panel.accuracy<=0.7", false),
            ("panel.accuracy<0.75", true), ("panel.accuracy<0.74", false),
            ("n_items==50", true), ("n_items==49", false),
            ("n_items!=49", true), ("n_items!=50", false),
        ])
    func comparisons(_ expr: String, _ passes: Bool) throws {
        let r = try Self.eval(expr)
        #expect(r.passed == passes, "\(expr): \(r.message)")
        #expect(!r.pathMissing)
    }

    @Test("paths: dots, [i], judge and model names, quoted names, ci_lo/ci_hi, spaces around the operator")
    func paths() throws {
        #expect(try Self.eval("judges.gpt4o.cohen_kappa>=0.6").value == 0.61)
        #expect(try Self.eval("judges[1].accuracy == 0.7").value == 0.7)
        #expect(try Self.eval("judges[\"claude-3.5\"].accuracy>=0.7").value == 0.7)
        #expect(try Self.eval("panel.accuracy_ci[0]>=0.6").value == 0.62)
        #expect(try Self.eval("panel.accuracy.ci_lo>=0.6").value == 0.62)
        #expect(try Self.eval("panel.accuracy.ci_hi<=0.9").value == 0.86)
        #expect(try Self.eval("judges.gpt4o.accuracy.ci_lo>=0.7").value == 0.7)
        #expect(try Self.eval("ranking.m1.strength.ci_lo>1").value == 1.1)
        #expect(try Self.eval("ppi.overall.estimate.ci_lo>=0.5").value == 0.5)
        #expect(try Self.eval("ppi.overall.estimate.ci_hi>=0.5").value == 0.6)
        #expect(try Self.eval("verdicts.share.A >= 0.4").passed)
        #expect(try Self.eval("  verdicts.share.tie<0.1").passed)
    }

    @Test(
        "a path that does not exist, or that is not a number, is flagged (a usage error), never a pass",
        arguments: [
            "panel.acuracy>=0.5", "judges.gpt5.accuracy>=0.5", "judges[7].accuracy>=0", "panel.accuracy_ci>=0",
            "notes[0]>=0", "judges.claude-3.5.accuracy.ci_lo>=0", "ppi.overall.n.ci_lo>=0",
            "panel.cohen_kappa.ci_lo>=0", "n_items.x>=1",
        ])
    func missing(_ expr: String) throws {
        let r = try Self.eval(expr)
        #expect(r.pathMissing, "\(expr): \(r.message)")
        #expect(!r.passed)
    }

    @Test("a null value fails its gate with a message saying so")
    func null() throws {
        let r = try Self.eval("panel.cohen_kappa>=0")
        #expect(!r.passed && !r.pathMissing && r.value == nil)
        #expect(r.message.contains("null"))
        // `!=` cannot pass on null either.
        #expect(try !Self.eval("panel.cohen_kappa!=5").passed)
    }

    @Test(
        "malformed expressions are usage errors",
        arguments: [
            "", "panel.accuracy", "panel.accuracy>=", "panel.accuracy>=x", ">=0.5", "panel..accuracy>=1",
            "panel.accuracy.>=1", "judges[a]>=1", "judges[\"x>=1", "panel.accuracy=>1", "panel.accuracy>=nan",
            "panel.accuracy>=inf", "panel.accuracy>=0.5 extra",
        ])
    func malformed(_ expr: String) {
        #expect(throws: JudgePanelError.self) { try QualityGate(parsing: expr) }
    }

    @Test("the failure message shows the value and the threshold")
    func message() throws {
        let r = try Self.eval("panel.accuracy>=0.8")
        #expect(r.message == "panel.accuracy = 0.74, not >= 0.8")
        #expect(try Self.eval("panel.accuracy>=0.7").message == "panel.accuracy = 0.74 >= 0.7")
    }
}

/// JUnit XML: well-formed, counts right, escaped; and valid against the Jenkins/Ant `junit-10.xsd` where the
/// validator is installed (scripts/check_junit.py; CI sets JUDGEPANEL_REQUIRE_JUNIT_VALIDATOR=1 so a missing
/// validator fails this test instead of skipping it, and also runs the check as its own .ci/run step).
@Suite("JUnit reports (--junit)")
struct JUnitReportTests {
    static func sample() throws -> JUnitReport {
        let gates = try QualityGates.parse([
            "panel.accuracy>=0.7", "judges.gpt4o.cohen_kappa>=0.9", "panel.cohen_kappa>=0",
        ])
        var report = JUnitReport(name: "judgepanel score")
        report.addGates(QualityGates.evaluate(gates, on: QualityGateTests.report), command: "score")
        report.addItems(
            [
                ("item-1", .verdict(.a), "expect", true, "A"),
                ("<item & \"2\">\u{1}", .verdict(.b), "human label", false, "A"),
                ("item-3", .range(min: 3, max: nil), "expect", false, "no score (abstained)"),
            ], command: "score")
        return report
    }

    @Test("one test case per gate and per item, failures counted, text escaped")
    func shape() throws {
        let xml = try Self.sample().xml
        #expect(xml.contains("<testsuites name=\"judgepanel score\" tests=\"6\" failures=\"4\" errors=\"0\">"))
        #expect(xml.contains("tests=\"3\" failures=\"2\""))
        #expect(xml.contains("name=\"&lt;item &amp; &quot;2&quot;&gt;\u{FFFD}\""))
        #expect(xml.contains("panel.cohen_kappa is null"))
        let parsed = XMLDocumentCheck(xml)
        #expect(parsed.ok, "\(parsed.error ?? "")")
        #expect(parsed.testcases == 6)
    }

    @Test(
        "valid against the Jenkins/Ant JUnit XSD (xmlschema)",
        .enabled(if: JUnitValidator.available || JUnitValidator.required))
    func schema() throws {
        #expect(
            JUnitValidator.available,
            "python3 with xmlschema and the XSD are required here (JUDGEPANEL_REQUIRE_JUNIT_VALIDATOR=1): \(JUnitValidator.why)"
        )
        let dir = try tempDir("junit")
        let path = dir.appendingPathComponent("gates.xml").path
        try Self.sample().write(to: path)
        let result = try JUnitValidator.validate(path)
        #expect(result.code == 0, "\(result.output)")
        // The validator rejects what the schema forbids (a test that cannot fail is a defect).
        let bad = dir.appendingPathComponent("bad.xml").path
        try "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>".write(
            toFile: bad, atomically: true, encoding: .utf8)
        #expect(try JUnitValidator.validate(bad).code != 0)
    }
}

/// Counts `<testcase>` elements with Foundation's XML parser (well-formedness).
final class XMLDocumentCheck: NSObject, XMLParserDelegate {
    var testcases = 0
    var ok = false
    var error: String?

    init(_ xml: String) {
        super.init()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = self
        ok = parser.parse()
        error = parser.parserError.map { "\($0)" }
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if name == "testcase" { testcases += 1 }
    }
}

/// scripts/check_junit.py through the project's venv (`.build-venv`, .ci/run) or `python3` on the path.
enum JUnitValidator {
    static var required: Bool { ProcessInfo.processInfo.environment["JUDGEPANEL_REQUIRE_JUNIT_VALIDATOR"] == "1" }

    static var python: String? {
        let venv = panelTestRoot.appendingPathComponent(".build-venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func run(_ args: [String]) throws -> (code: Int32, output: String) {
        guard let python else { return (127, "no python3") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [panelTestRoot.appendingPathComponent("scripts/check_junit.py").path] + args
        p.currentDirectoryURL = panelTestRoot
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try launch(p)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `check_junit.py --available`: python3, xmlschema and the XSD are all there.
    static let probe: (code: Int32, output: String) = (try? run(["--available"])) ?? (127, "could not run python3")
    static var available: Bool { probe.code == 0 }
    static var why: String { probe.output }

    static func validate(_ path: String) throws -> (code: Int32, output: String) { try run([path]) }
}
