import Foundation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import Synchronization

/// One runtime shared by every request of a `serve` process: one HTTP client (connection pool), one response
/// cache, and one lane per judge (its concurrency and rate limits hold across concurrent requests).
package final class ServeRuntime: Sendable {
    package let transport: AsyncHTTPClientTransport
    package let cache: ResponseCache?
    package let judges = JudgeRuntimePool()
    /// Where a rubric given by id is looked for (`ID.yaml`), in order.
    package let rubricDirectories: [String]
    package let environment: [String: String]

    package init(
        cache: ResponseCache?, rubricDirectories: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        maxConnectionsPerHost: Int = 256
    ) throws {
        self.transport = try AsyncHTTPClientTransport(
            maxConnectionsPerHost: maxConnectionsPerHost, environment: environment)
        self.cache = cache
        self.rubricDirectories = rubricDirectories
        self.environment = environment
    }

    package func shutdown() async {
        do { try await transport.shutdown() } catch {
            FileHandle.standardError.write(Data("judgepanel serve: HTTP client shutdown: \(error)\n".utf8))
        }
    }

    /// The run options of a request: the shared cache, HTTP client and judge lanes.
    func runOptions() -> RunOptions {
        var o = RunOptions(cache: cache, environment: environment, transport: transport)
        o.judgeRuntimes = judges
        return o
    }
}

/// The judges' lanes shared across runs, one per judge configuration (a judge changed in any setting gets its own).
package final class JudgeRuntimePool: Sendable {
    private let lanes = Mutex<[JudgeConfig: JudgeRuntime]>([:])

    package init() {}

    package func runtime(for judge: JudgeConfig, make: () throws -> JudgeRuntime) rethrows -> JudgeRuntime {
        if let existing = lanes.withLock({ $0[judge] }) { return existing }
        let made = try make()
        return lanes.withLock { l in
            if let existing = l[judge] { return existing }
            l[judge] = made
            return made
        }
    }
}

/// The `score` method of `serve`: items (inline or a file), a rubric (id, path or inline), a panel (path or inline)
/// → `{"verdicts", "votes", "report", "run", "failed_calls"}`, by the same ``ScoreJob`` as `judgepanel score`.
/// With `notify_votes: true` each vote is also sent as a `vote` notification as it is journaled.
package struct ServeScore: Sendable {
    package let runtime: ServeRuntime

    package init(runtime: ServeRuntime) { self.runtime = runtime }

    package func callAsFunction(_ params: JSONValue, _ context: ServeContext) async throws -> JSONValue {
        try JSONValue(jsonData: await encoded(params, context))
    }

    /// The result as the compact JSON text of its answer's `result`: the run's verdicts and votes files are valid
    /// JSON a line each, so their lines are copied into the answer as they are, not parsed and written again (for
    /// 10 000 items that re-encoding was most of the answer's cost).
    package func encoded(_ params: JSONValue, _ context: ServeContext) async throws -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "judgepanel-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // scratch files only; the run's outputs are in `out`
        defer { try? FileManager.default.removeItem(at: scratch) }
        let itemsPath = try self.itemsPath(params, scratch: scratch)
        let rubricPath = try self.rubricPath(params["rubric"], scratch: scratch)
        let panelPath = try self.panelPath(params["panel"], scratch: scratch)
        let out = try stringParam(params, "out")
        let resume = try boolParam(params, "resume")
        let adaptive = try boolParam(params, "adaptive")
        let withVotes = params["votes"]?.boolValue ?? true
        let notifyVotes = try boolParam(params, "notify_votes")
        if resume && out == nil { throw ServeError.badParams("score: resume needs out (the run directory to finish)") }
        var options = runtime.runOptions()
        if let a = try stringParam(params, "aggregate") {
            guard let m = AggregationMethod(rawValue: a) else {
                throw ServeError.badParams("score: unknown aggregate '\(a)'")
            }
            options.aggregate = m
        }
        if let f = try stringParam(params, "flip") {
            guard let p = FlipPolicy(rawValue: f) else {
                throw ServeError.badParams("score: flip must be tie or abstain")
            }
            options.flip = p
        }
        if notifyVotes {
            // Each vote as it is journaled, before the answer (the journal writes it before the run returns).
            options.onJournaled = { line in
                do { context.vote(try JSONValue(jsonData: Data(line.utf8))) } catch {
                    FileHandle.standardError.write(
                        Data("judgepanel serve: vote notification not sent: \(error)\n".utf8))
                }
            }
        }
        if adaptive {
            options.policy = .adaptive
            let rubric = try Rubric.load(path: rubricPath)
            let panel = try Panel.load(path: panelPath, environment: options.environment)
            if rubric.kind != .pairwise && panel.scoreStopping == nil {
                throw JudgePanelError.badInput(
                    "adaptive needs a pairwise rubric, or 'adaptive: {thresholds: [..], tolerance: X}' in the panel file for a \(rubric.kind.rawValue) one",
                    file: panelPath)
            }
        }
        let job =
            options.policy == .full
            ? try ScoreJob(
                streamingItemsPath: itemsPath, rubricPath: rubricPath, panelPath: panelPath, options: options)
            : try ScoreJob(itemsPath: itemsPath, rubricPath: rubricPath, panelPath: panelPath, options: options)
        let runDir = out ?? scratch.appendingPathComponent("run").path
        let counters = RunCounters(expected: job.plannedCalls)
        let reporter = Task {
            var last: RunCounters.Snapshot?
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let s = counters.snapshot
                if s != last {
                    last = s
                    context.progress(
                        done: s.totals.votes, total: max(counters.expected, s.totals.votes), errors: s.totals.errors,
                        cost: s.totals.costUSD)
                }
            }
        }
        let outcome: ScoreJob.Outcome
        do {
            outcome = try await job.run(outDir: runDir, resume: resume, counters: counters, retainResults: false)
        } catch {
            reporter.cancel()
            throw error
        }
        reporter.cancel()
        let s = counters.snapshot.totals
        context.progress(done: s.votes, total: max(counters.expected, s.votes), errors: s.errors, cost: s.costUSD)
        let dir = RunDirectory(path: runDir)
        let reportPath = dir.url.appendingPathComponent("report.json").path
        let report: JSONValue
        do { report = try JSONValue(jsonData: Data(contentsOf: URL(fileURLWithPath: reportPath))) } catch {
            throw JudgePanelError.io("cannot read \(reportPath): \(error)", file: reportPath)
        }
        var text = Data("{\"failed_calls\":\(outcome.errors),\"report\":".utf8)
        text.append(try report.compactData())
        text.append(contentsOf: Array(",\"run\":".utf8))
        text.append(try (out.map { JSONValue.string($0) } ?? .null).compactData())
        text.append(contentsOf: Array(",\"verdicts\":".utf8))
        try Self.appendLines(of: dir.url.appendingPathComponent("verdicts.jsonl").path, asArrayTo: &text)
        if withVotes {
            text.append(contentsOf: Array(",\"votes\":".utf8))
            try Self.appendLines(of: dir.votesPath, asArrayTo: &text)
        }
        text.append(0x7D)
        return text
    }

    /// Appends the lines of a JSON Lines file written by this run as one JSON array (`[line,line,...]`). Each line
    /// is checked to be one JSON value (begins with `{` and ends with `}` after trimming); anything else is an I/O
    /// error naming the file and line, never a torn answer.
    static func appendLines(of path: String, asArrayTo text: inout Data) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw JudgePanelError.io("cannot read \(path): \(error.localizedDescription)", file: path)
        }
        text.append(0x5B)
        var first = true
        for (n, raw) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var line = raw[...]
            while let last = line.last, last == 0x0D || last == 0x20 { line = line.dropLast() }
            if line.isEmpty { continue }
            guard line.first == 0x7B, line.last == 0x7D else {
                throw JudgePanelError.io("not one JSON object", file: "\(path):\(n + 1)")
            }
            if !first { text.append(0x2C) }
            first = false
            text.append(contentsOf: line)
        }
        text.append(0x5D)
    }

    private func stringParam(_ params: JSONValue, _ key: String) throws -> String? {
        guard let v = params[key], v != .null else { return nil }
        guard let s = v.stringValue else { throw ServeError.badParams("score: \(key) must be a string") }
        return s
    }

    private func boolParam(_ params: JSONValue, _ key: String) throws -> Bool {
        guard let v = params[key], v != .null else { return false }
        guard let b = v.boolValue else { throw ServeError.badParams("score: \(key) must be true or false") }
        return b
    }

    /// `items` (a list of item objects, written to a scratch JSONL file read like any items file) or `items_path`.
    private func itemsPath(_ params: JSONValue, scratch: URL) throws -> String {
        switch (params["items"], params["items_path"]) {
        case (let items?, nil):
            guard let list = items.arrayValue else {
                throw ServeError.badParams("score: items must be a list of item objects")
            }
            var text = Data()
            for (n, item) in list.enumerated() {
                guard case .object = item else { throw ServeError.badParams("score: items[\(n)] is not an object") }
                text.append(try item.compactData())
                text.append(0x0A)
            }
            let path = scratch.appendingPathComponent("items.jsonl").path
            try text.write(to: URL(fileURLWithPath: path))
            return path
        case (nil, let p?):
            guard let s = p.stringValue else { throw ServeError.badParams("score: items_path must be a string") }
            return s
        case (nil, nil): throw ServeError.badParams("score needs items (a list) or items_path")
        default: throw ServeError.badParams("score: give items or items_path, not both")
        }
    }

    /// A rubric id (`ID.yaml` in the rubric directories), a path, or an inline object (rubric YAML's keys).
    private func rubricPath(_ value: JSONValue?, scratch: URL) throws -> String {
        switch value {
        case .string(let s)?:
            if FileManager.default.fileExists(atPath: s) { return s }
            for dir in runtime.rubricDirectories {
                let p = URL(fileURLWithPath: dir).appendingPathComponent("\(s).yaml").path
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw ServeError.badParams(
                "score: no rubric '\(s)' (not a file, nor \(s).yaml in \(runtime.rubricDirectories.joined(separator: ", ")))"
            )
        case .object?:
            return try inline(value!, name: "rubric.json", scratch: scratch)
        case nil: throw ServeError.badParams("score needs rubric (an id, a path or an object)")
        default: throw ServeError.badParams("score: rubric must be an id, a path or an object")
        }
    }

    private func panelPath(_ value: JSONValue?, scratch: URL) throws -> String {
        switch value {
        case .string(let s)?: return s
        case .object?: return try inline(value!, name: "panel.json", scratch: scratch)
        case nil: throw ServeError.badParams("score needs panel (a path or an object)")
        default: throw ServeError.badParams("score: panel must be a path or an object")
        }
    }

    /// An inline object is written as JSON (which is YAML) and read by the file loader, with the same checks.
    private func inline(_ value: JSONValue, name: String, scratch: URL) throws -> String {
        let path = scratch.appendingPathComponent(name).path
        try value.compactData().write(to: URL(fileURLWithPath: path))
        return path
    }
}
