import Foundation
import JudgePanelTesting
import Logging
import Synchronization
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

/// Lines a handler wrote, for assertions.
private final class Lines: Sendable {
    let all = Mutex<[String]>([])
    var text: String { all.withLock { $0.joined() } }
}

@Suite("Diagnostics through swift-log (--log-level)")
struct DiagnosticLoggingTests {
    private func logger(level: Logger.Level, environment: [String: String] = [:]) -> (Logger, Lines) {
        let lines = Lines()
        let handler = DiagnosticLogHandler(label: "judgepanel", level: level, environment: environment) { line in
            lines.all.withLock { $0.append(line) }
        }
        return (Logger(label: "judgepanel") { _ in handler }, lines)
    }

    @Test("notice and warning lines read as before (judgepanel: MESSAGE); lower levels are tagged and filtered")
    func formatAndLevels() {
        let (log, lines) = logger(level: .notice)
        log.warning("ignoring a corrupt response-cache entry /c/x.json (treated as a miss)")
        log.notice("taking over the stale lock of runs/x")
        log.info("llama-server ready", metadata: ["pid": "42"])
        log.debug("retrying")
        #expect(
            lines.all.withLock { $0 } == [
                "judgepanel: ignoring a corrupt response-cache entry /c/x.json (treated as a miss)\n",
                "judgepanel: taking over the stale lock of runs/x\n",
            ])
        let (verbose, more) = logger(level: .trace)
        verbose.info("llama-server ready", metadata: ["pid": "42", "port": "8080"])
        verbose.trace("a\u{1B}]0;title\u{07}b")
        #expect(more.all.withLock { $0.first } == "judgepanel: [info] llama-server ready pid=42 port=8080\n")
        // Control characters from model or file text are shown as escapes, as for every other stderr line.
        #expect(more.all.withLock { $0.last }?.contains("\u{1B}") == false)
    }

    @Test("no fragment of an API key reaches a log line: the environment's key variables and key shapes are redacted")
    func logLinesCarryNoKey() {
        let (log, lines) = logger(level: .trace, environment: ["OPENAI_API_KEY": fakeKey, "HOME": "/root"])
        log.debug(
            "retrying a call after a retryable error",
            metadata: ["error": "HTTP 500: Invalid Authorization header: Bearer \(fakeKey)"])
        log.error("provider said: key \(String(fakeKey.prefix(12)))… was rejected; masked ****\(fakeKey.suffix(4))")
        log.info("proxy echoed x-api-key: \(fakeKey) and https://host/v1?key=AIzaSyA1234567890abcdefgh")
        let text = lines.text
        #expect(text.contains(SecretScrubber.mark))
        for fragment in fakeKeyFragments + ["AIzaSyA1234567890"] {
            #expect(!text.contains(fragment), "log holds '\(fragment)': \(text)")
        }
    }

    @Test("the CLI's --log-level: anywhere on the line; an unknown or missing level is a usage error (exit 2)")
    func unknownLevelIsUsageError() async throws {
        let r = try await runJudgepanel(["--log-level", "loud", "rubrics", "list"])
        #expect(r.code == 2, "\(r.err)")
        #expect(
            r.err.contains("unknown --log-level 'loud'") && r.err.contains("trace, debug, info, notice"), "\(r.err)")
        let missing = try await runJudgepanel(["rubrics", "--log-level"])
        #expect(missing.code == 2, "\(missing.err)")
        // Accepted before or after the subcommand, in either spelling.
        let after = try await runJudgepanel(["rubrics", "--log-level=warning", "list"])
        #expect(after.code == 0 && after.out.contains("pairwise-mtbench"), "\(after.err)")
    }

    @Test("--log-level debug shows retries on stderr, without the key the provider echoed; the default shows none")
    func cliDebugLogHasNoKey() async throws {
        let dir = try tempDir("loglevel")
        let (items, _) = syntheticPairwise(2)
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        // A proxy that fails with a retryable 500 and quotes the whole Authorization header it got.
        let server = try await startPanelFake([
            "echo": { request in
                .status(
                    500,
                    body:
                        #"{"error":{"message":"upstream failed; header was: \#(request.headers["authorization"] ?? "")"}}"#
                )
            }
        ])
        let base = await server.baseURL.absoluteString + "/v1"
        try """
        version: 1
        judges:
          - {name: echo, provider: openai, base_url: "\(base)", model: echo, retries: 1}
        aggregate: majority
        swap: true
        """.write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        func score(_ out: String, _ extra: [String]) async throws -> (code: Int32, out: String, err: String) {
            try await runJudgepanel(
                extra + [
                    "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel",
                    dir.appendingPathComponent("panel.yaml").path, "--out", dir.appendingPathComponent(out).path,
                    "--no-cache",
                ], env: ["OPENAI_API_KEY": fakeKey])
        }
        let quiet = try await score("quiet", [])
        let loud = try await score("loud", ["--log-level", "debug"])
        let recorded = await server.recordedRequests()
        await server.stop()
        // The key was sent and echoed back, so there was something to leak.
        #expect(recorded.contains { $0.headers["authorization"] == "Bearer \(fakeKey)" })
        #expect(!quiet.err.contains("[debug]"), "\(quiet.err)")
        #expect(loud.err.contains("judgepanel: [debug] retrying a call after a retryable error"), "\(loud.err)")
        #expect(loud.err.contains("judge=echo"), "\(loud.err)")
        for (name, text) in [("stdout", loud.out), ("stderr", loud.err), ("default stderr", quiet.err)] {
            for fragment in fakeKeyFragments {
                #expect(!text.contains(fragment), "\(name) holds '\(fragment)'")
            }
        }
    }
}
