import ArgumentParser
import Foundation
import JudgePanel

/// `--fail-under`, `--junit` and `--junit-items` for `score`, `meta` and `rank` (README, "CI gates").
struct GateOptions: ParsableArguments {
    @Option(
        name: .customLong("fail-under"),
        help:
            "Quality gate PATH OP NUMBER on the report JSON (repeatable), e.g. 'panel.accuracy.ci_lo>=0.7', 'judges.gpt4o.cohen_kappa>=0.6'. A failed gate exits 4 after every file is written; a path that does not exist exits 2."
    )
    var failUnder: [String] = []

    @Option(help: "Write a JUnit XML report: one test case per gate (and per item with --junit-items).")
    var junit: String?

    @Flag(
        name: .customLong("junit-items"),
        help:
            "With --junit: also one test case per item with an expectation (its `expect` field, else its human label).")
    var junitItems = false

    /// The gates, parsed before anything is sent (a malformed expression is a usage error, exit 2).
    func gates() throws -> [QualityGate] {
        if junitItems && junit == nil { throw JudgePanelError.usage("--junit-items needs --junit FILE") }
        return try QualityGates.parse(failUnder)
    }

    var isActive: Bool { !failUnder.isEmpty || junit != nil }

    /// Evaluates the gates on the finished report, prints them, writes the JUnit file and exits 4 when a gate failed
    /// (2 when a path does not exist in the report: a usage error, never a pass). `items` gives the per-item checks
    /// (`--junit-items`).
    func finish(report: JSONValue, command: String, items: (() throws -> [ItemChecks.Check])? = nil) throws {
        guard isActive else { return }
        let gates = try self.gates()
        let results = QualityGates.evaluate(gates, on: report)
        let bad = results.filter(\.pathMissing)
        if !bad.isEmpty {
            for r in bad { printErr("judgepanel: error: --fail-under '\(r.gate.text)': \(r.message)") }
            printErr("judgepanel: the gate paths are listed in README.md, \"CI gates\"; no JUnit report was written")
            throw ExitCode(2)
        }
        for r in results { printErr("gate \(r.passed ? "passed" : "FAILED"): \(r.message)") }
        if let junit {
            var report = JUnitReport(name: "judgepanel \(command)")
            report.addGates(results, command: command)
            if junitItems {
                guard let items else {
                    throw JudgePanelError.usage("--junit-items: `\(command)` has no per-item verdicts")
                }
                let checks = try items()
                report.addItems(checks, command: command)
                let failed = checks.filter { !$0.passed }.count
                printErr("items: \(checks.count - failed) of \(checks.count) with an expectation as expected")
            }
            try report.write(to: junit)
            printErr("wrote \(junit)")
        }
        let failed = results.filter { !$0.passed }
        if !failed.isEmpty {
            printErr("judgepanel: \(failed.count) of \(results.count) quality gates failed:")
            for r in failed { printErr("  \(r.gate.text): \(r.message)") }
            throw ExitCode(4)
        }
    }
}
