import ArgumentParser
import Foundation
import JudgePanel
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `judgepanel serve --stdio`: JSON-RPC 2.0, one JSON object a line, on standard input and output (see README,
/// "serve --stdio"). `score` runs in the library (``ServeScore``); `meta`, `rank` and `aggregate` run the very
/// subcommands with their options from the request's params, their output captured instead of printed.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve JSON-RPC 2.0 on standard input/output (one JSON object a line): score, meta, rank, aggregate.",
        discussion: """
            Methods: score {items | items_path, rubric, panel, out?, resume?, adaptive?, aggregate?, flip?, votes?, notify_votes?} → \
            {verdicts, votes, report, run, failed_calls}; meta, rank, aggregate (params: their command-line options by \
            long name, positional arguments by name) → their --json output; cancel {id}; shutdown {cancel?}. \
            Notifications: progress {request, done, total, errors, cost}; vote {request, vote} with notify_votes. Requests run concurrently on one HTTP \
            client, response cache and set of judge rate limits. Standard output carries protocol lines only.
            """)

    @Flag(help: "Speak JSON-RPC on standard input/output (the only transport).") var stdio = false
    @Option(
        name: .customLong("rubrics-dir"),
        help: "Where a rubric given by id is looked for (repeatable; default ./rubrics).")
    var rubricsDir: [String] = []
    @OptionGroup var cacheOptions: CacheOptions

    func run() async throws {
        try await runMapped {
            guard stdio else { throw JudgePanelError.usage("serve needs --stdio (the only transport)") }
            // Protocol lines go to the original standard output; descriptor 1 becomes standard error, so that no
            // stray print can corrupt the stream.
            let protocolFD = dup(1)
            guard protocolFD >= 0, dup2(2, 1) >= 0 else {
                throw JudgePanelError.io("serve: cannot set up standard output")
            }
            let output = ServeOutput(fileDescriptor: protocolFD)
            let runtime = try ServeRuntime(
                cache: cacheOptions.cache, rubricDirectories: rubricsDir.isEmpty ? ["rubrics"] : rubricsDir)
            let score = ServeScore(runtime: runtime)
            let server = ServeServer(
                handlers: [
                    "meta": { params, _ in
                        try await CapturedCommand.run(
                            MetaCommand.self, name: "meta", params: params, positional: ["items"], flags: ["--json"],
                            result: .json)
                    },
                    "rank": { params, _ in
                        try await CapturedCommand.run(
                            RankCommand.self, name: "rank", params: params, positional: ["items"], flags: ["--json"],
                            result: .json)
                    },
                    "aggregate": { params, _ in
                        try await CapturedCommand.run(
                            AggregateCommand.self, name: "aggregate", params: params, positional: ["votes"], flags: [],
                            result: .lines)
                    },
                ], encodedHandlers: ["score": { params, context in try await score.encoded(params, context) }],
                output: output)
            printErr("judgepanel serve: ready (JSON-RPC 2.0 on standard input/output)")
            await server.serve(lines: standardInputLines())
            await runtime.shutdown()
            try Task.checkCancellation()  // a signal ended it: 128 + n, as every command
        }
    }
}

/// A subcommand's standard output, gathered by ``say`` while a `serve` request runs it, and the message of the
/// error it ended with.
final class OutputCapture: Sendable {
    @TaskLocal static var current: OutputCapture?

    private let state = Mutex<(lines: [String], error: String?)>(([], nil))

    func append(_ line: String) { state.withLock { $0.lines.append(line) } }
    func fail(_ message: String) { state.withLock { $0.error = SecretScrubber.process.scrubPieces(message) } }
    var lines: [String] { state.withLock { $0.lines } }
    var error: String? { state.withLock { $0.error } }
}

/// Runs a subcommand in-process for `serve`: params → its argument list → its parser and `run()`.
enum CapturedCommand {
    enum Result { case json, lines }

    /// The argument list of `params`: names in `positional` become positional arguments in that order; any other
    /// key becomes `--key` (underscores as dashes) followed by its value, `true` a bare flag, `false`/null nothing,
    /// a list one `--key value` per element.
    static func arguments(_ params: JSONValue, positional: [String], name: String) throws -> [String] {
        guard case .object(let obj) = params else { throw ServeError.badParams("\(name): params must be an object") }
        func text(_ v: JSONValue, _ key: String) throws -> String {
            switch v {
            case .string(let s): return s
            case .number: return v.compactString
            default: throw ServeError.badParams("\(name): \(key) must be a string, number, true or a list of them")
            }
        }
        var args: [String] = []
        for key in positional {
            guard let v = obj[key] else { throw ServeError.badParams("\(name) needs \(key)") }
            args.append(try text(v, key))
        }
        for (key, value) in obj.sorted(by: { $0.key < $1.key }) where !positional.contains(key) {
            let flag = "--" + key.replacingOccurrences(of: "_", with: "-")
            switch value {
            case .bool(true): args.append(flag)
            case .bool(false), .null: break
            case .array(let list): for v in list { args += [flag, try text(v, key)] }
            case let v: args += [flag, try text(v, key)]
            }
        }
        return args
    }

    static func run<C: AsyncParsableCommand>(
        _ type: C.Type, name: String, params: JSONValue, positional: [String], flags: [String], result: Result
    ) async throws -> JSONValue {
        var args = try arguments(params, positional: positional, name: name)
        for f in flags where !args.contains(f) { args.append(f) }
        var command: C
        do {
            command = try C.parse(args)
        } catch {
            throw ServeError.cli(exitCode: 2, message: "\(name): " + C.message(for: error))
        }
        let capture = OutputCapture()
        do {
            try await OutputCapture.$current.withValue(capture) { try await command.run() }
        } catch let e as ExitCode {
            if e.rawValue == 130 || e.rawValue == 143 || Task.isCancelled { throw CancellationError() }
            throw ServeError.cli(
                exitCode: Int(e.rawValue), message: capture.error ?? "\(name) failed (exit \(e.rawValue))")
        }
        switch result {
        case .json:
            let text = capture.lines.joined(separator: "\n")
            do { return try JSONValue(jsonData: Data(text.utf8)) } catch {
                throw ServeError(
                    code: ServeError.internalError, message: "\(name) printed no JSON: \(error.description)")
            }
        case .lines:
            var out: [JSONValue] = []
            for line in capture.lines where !line.isEmpty {
                do { out.append(try JSONValue(jsonData: Data(line.utf8))) } catch {
                    throw ServeError(
                        code: ServeError.internalError,
                        message: "\(name) printed a line that is not JSON: \(error.description)")
                }
            }
            return .array(out)
        }
    }
}
