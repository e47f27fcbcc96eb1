import Foundation
import JudgePanel
import JudgePanelTesting
import Synchronization
import Testing

/// The request loop of `serve --stdio` (JSON-RPC 2.0, https://www.jsonrpc.org/specification) with stub handlers,
/// and its `score` method against the fake provider server.
@Suite("serve --stdio: JSON-RPC loop and score")
struct ServeProtocolTests {
    /// Serves `lines` (fed by `feed`) and returns every line the server wrote, parsed.
    func session(
        handlers: [String: ServeServer.Handler],
        feed: @escaping @Sendable (AsyncStream<String>.Continuation) async -> Void
    ) async throws -> [JSONValue] {
        let pipe = Pipe()
        let server = ServeServer(
            handlers: handlers, output: ServeOutput(fileDescriptor: pipe.fileHandleForWriting.fileDescriptor))
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let feeder = Task { await feed(continuation) }
        await server.serve(lines: stream)
        await feeder.value
        try pipe.fileHandleForWriting.close()
        let data = try pipe.fileHandleForReading.readToEnd() ?? Data()
        return try data.split(separator: 0x0A).map { try JSONValue(jsonData: Data($0)) }
    }

    static func request(_ id: Int, _ method: String, _ params: String = "{}") -> String {
        #"{"jsonrpc": "2.0", "id": \#(id), "method": "\#(method)", "params": \#(params)}"#
    }

    @Test("a malformed line is a parse error (-32700) and the server goes on; bad requests and methods are refused")
    func malformed() async throws {
        let lines = try await session(handlers: ["echo": { params, _ in params }]) { c in
            c.yield("{oops")
            c.yield(#"{"id": 1, "method": "echo"}"#)
            c.yield(Self.request(2, "nope"))
            c.yield(Self.request(3, "echo", #"{"x": 1}"#))
            c.yield(#"{"jsonrpc": "2.0", "method": "echo", "params": {}}"#)  // a notification: no answer
            c.yield(Self.request(9, "shutdown"))
        }
        #expect(lines.count == 5 && lines.last?["id"] == 9)
        #expect(lines[0]["error"]?["code"] == -32700 && lines[0]["id"] == .null)
        let byID = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { ($0["id"]!.compactString, $0) })
        #expect(byID["9"]?["result"] == .null)
        #expect(byID["1"]?["error"]?["code"] == -32600)
        #expect(byID["2"]?["error"]?["code"] == -32601)
        #expect(byID["3"]?["result"] == ["x": 1])
    }

    @Test("cancel ends a request in flight with -32800; the others answer; shutdown answers last")
    func cancelAndShutdown() async throws {
        let started = StartCount()
        let slow: ServeServer.Handler = { _, _ in
            started.count.withLock { $0 += 1 }
            try await Task.sleep(for: .seconds(60))
            return "late"
        }
        let lines = try await session(handlers: ["slow": slow, "echo": { p, _ in p }]) { c in
            c.yield(Self.request(1, "slow"))
            c.yield(Self.request(2, "echo", #"{"y": 2}"#))
            while started.count.withLock({ $0 }) == 0 { try? await Task.sleep(for: .milliseconds(5)) }
            c.yield(#"{"jsonrpc": "2.0", "id": 3, "method": "cancel", "params": {"id": 1}}"#)
            c.yield(Self.request(4, "shutdown"))
            c.yield(Self.request(5, "echo"))  // after shutdown: not read
        }
        let ids = lines.map { $0["id"]?.compactString ?? "" }
        #expect(ids.last == "4" && lines.last?["result"] == .null)
        #expect(!ids.contains("5"))
        let byID = Dictionary(uniqueKeysWithValues: lines.map { ($0["id"]!.compactString, $0) })
        #expect(byID["1"]?["error"]?["code"] == -32800)
        #expect(byID["2"]?["result"] == ["y": 2])
        #expect(byID["3"]?["result"] == ["cancelled": true])
    }

    @Test("the end of input without shutdown cancels the requests in flight (the client is gone)")
    func endOfInput() async throws {
        let lines = try await session(handlers: [
            "wait": { _, _ in
                try await Task.sleep(for: .seconds(60))
                return "done"
            }
        ]) { c in
            c.yield(Self.request(1, "wait"))
            try? await Task.sleep(for: .milliseconds(50))
            c.finish()
        }
        #expect(lines.count == 1 && lines[0]["error"]?["code"] == -32800)
    }

    @Test("shutdown waits for work in flight to finish (without cancel: true)")
    func shutdownFinishes() async throws {
        let lines = try await session(handlers: [
            "wait": { _, _ in
                try await Task.sleep(for: .milliseconds(200))
                return "done"
            }
        ]) { c in
            c.yield(Self.request(1, "wait"))
            c.yield(Self.request(2, "shutdown"))
        }
        #expect(lines.map { $0["id"]?.compactString ?? "" } == ["1", "2"])
        #expect(lines[0]["result"] == "done")
    }

    @Test("errors carry the CLI's message and exit-code class")
    func errorClasses() {
        let input = ServeError.from(JudgePanelError.badInput("missing \"id\"", file: "items.jsonl", line: 3))
        #expect(
            input.code == -32002 && input.data?["exit_code"] == 2
                && input.data?["message"] == "items.jsonl:3: missing \"id\"")
        #expect(ServeError.from(JudgePanelError.io("disk full", file: "out")).data?["exit_code"] == 3)
        #expect(ServeError.from(CancellationError()).code == -32800)
    }

    @Test("score: inline items, a rubric id and an inline panel on the fake server; verdicts, votes and report")
    func score() async throws {
        let server = try await startPanelFake(["first": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let runtime = try ServeRuntime(
            cache: nil, rubricDirectories: [panelTestRoot.appendingPathComponent("rubrics").path])
        let score = ServeScore(runtime: runtime)
        let params: JSONValue = [
            "items": [
                ["id": "a", "prompt": "q", "response_a": "x", "response_b": "y"],
                ["id": "b", "prompt": "q", "response_a": "x", "response_b": "y"],
            ],
            "rubric": "pairwise-mtbench",
            "panel": [
                "version": 1,
                "judges": [["name": "first", "provider": "openai", "base_url": .string(base), "model": "first"]],
            ],
        ]
        let lines = try await session(handlers: ["score": { p, ctx in try await score(p, ctx) }]) { c in
            c.yield(Self.request(1, "score", params.compactString))
            c.yield(Self.request(2, "score", #"{"items": [{"id": "a"}], "rubric": "no-such", "panel": {}}"#))
            c.yield(Self.request(3, "shutdown"))
        }
        await runtime.shutdown()
        let calls = await server.requestCount()
        await server.stop()
        let byID = Dictionary(grouping: lines.filter { $0["id"] != nil }, by: { $0["id"]!.compactString })
        let result = try #require(byID["1"]?.first?["result"])
        // always-first: every pair flips
        #expect(result["verdicts"]?.arrayValue?.map { $0["verdict"] } == ["tie", "tie"])
        #expect(result["votes"]?.arrayValue?.count == 4 && result["run"] == .null && result["failed_calls"] == 0)
        #expect(result["report"]?["run"]?["votes"] == 4)
        #expect(calls == 4)
        #expect(byID["2"]?.first?["error"]?["data"]?["exit_code"] == 2)
        let progress = lines.filter { $0["method"] == "progress" }
        #expect(progress.last?["params"] == ["request": 1, "done": 4, "total": 4, "errors": 0, "cost": 0])
    }

    @Test("score with notify_votes: one vote notification per call at the fake server, each before the answer")
    func voteNotifications() async throws {
        let server = try await startPanelFake(["first": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let runtime = try ServeRuntime(
            cache: nil, rubricDirectories: [panelTestRoot.appendingPathComponent("rubrics").path])
        let score = ServeScore(runtime: runtime)
        func params(_ ids: [String], notify: Bool) -> String {
            let p: JSONValue = [
                "items": .array(ids.map { ["id": .string($0), "prompt": "q", "response_a": "x", "response_b": "y"] }),
                "rubric": "pairwise-mtbench", "notify_votes": .bool(notify),
                "panel": [
                    "version": 1,
                    "judges": [["name": "first", "provider": "openai", "base_url": .string(base), "model": "first"]],
                ],
            ]
            return p.compactString
        }
        let first = Self.request(1, "score", params(["a", "b", "c"], notify: true))
        let second = Self.request(2, "score", params(["d"], notify: false))
        let lines = try await session(handlers: ["score": { p, ctx in try await score(p, ctx) }]) { c in
            c.yield(first)
            c.yield(second)
            c.yield(Self.request(3, "shutdown"))
        }
        await runtime.shutdown()
        let calls = await server.requestCount()
        await server.stop()
        let votes = lines.filter { $0["method"] == "vote" }
        #expect(calls == 8)  // 3 + 1 items, both orders
        #expect(votes.count == 6 && votes.allSatisfy { $0["params"]?["request"] == 1 })  // none for request 2
        let answer = try #require(lines.firstIndex { $0["id"] == 1 })
        #expect(lines.lastIndex { $0["method"] == "vote" }! < answer)
        // The notified votes are the result's votes (votes-file lines), in whatever order they were journaled.
        let result = try #require(lines[answer]["result"]?["votes"]?.arrayValue)
        #expect(Set(votes.compactMap { $0["params"]?["vote"] }) == Set(result) && result.count == 6)
        #expect(Set(votes.compactMap { $0["params"]?["vote"]?["item"]?.stringValue }) == ["a", "b", "c"])
    }
}

private final class StartCount: Sendable {
    let count = Mutex(0)
}
