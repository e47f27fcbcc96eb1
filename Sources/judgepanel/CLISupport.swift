import ArgumentParser
import Foundation
import JudgePanel

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a subcommand body, mapping errors to the documented exit codes:
/// 2 for bad input or usage (message names file and line), 1 for other failures.
func runMapped(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as JudgePanelError {
        if OutputCapture.current == nil { await LlamaServer.stopAll() }  // serve: other requests may use them
        OutputCapture.current?.fail(e.description)
        printErr("judgepanel: error: \(e.description)")
        throw ExitCode(e.isInputError ? 2 : 1)
    } catch let e as ExitCode {
        throw e
    } catch is CancellationError {
        await LlamaServer.stopAll()
        // 128 + the signal's number, as a shell reports a process that a signal ended (130 for Ctrl-C).
        let signal = SignalCancellation.signal ?? SIGINT
        FileHandle.standardError.write(Data("judgepanel: cancelled (\(signalName(signal)))\n".utf8))
        throw ExitCode(128 + signal)
    } catch {
        if OutputCapture.current == nil { await LlamaServer.stopAll() }
        OutputCapture.current?.fail("\(error)")
        printErr("judgepanel: error: \(error)")
        throw ExitCode(1)
    }
}

/// Options shared by commands that read items.
struct ItemOptions: ParsableArguments {
    @Option(name: .customLong("map"), help: "Read a field from another key: --map prompt=instruction (repeatable).")
    var map: [String] = []

    @Option(name: .customLong("label-map"), help: "Rewrite label values: --label-map 1=A,2=B,0=tie.")
    var labelMap: [String] = []

    @Option(name: .customLong("max-line-bytes"), help: "Longest items line read, in bytes (default 64 MiB).")
    var maxLineBytes: Int = LineReader.defaultMaxLineBytes

    func loader() throws -> ItemLoader {
        guard maxLineBytes >= 1 else { throw JudgePanelError.usage("--max-line-bytes must be at least 1 (got \(maxLineBytes))") }
        var loader = ItemLoader(mapping: try ItemMapping(mapOptions: map, labelMapOptions: labelMap))
        loader.maxLineBytes = maxLineBytes
        return loader
    }
}

/// Options for where responses are cached.
struct CacheOptions: ParsableArguments {
    @Flag(name: .customLong("no-cache"), help: "Do not read or write the response cache.")
    var noCache = false

    @Option(name: .customLong("cache-dir"), help: "Response cache directory (default $JUDGEPANEL_HOME/cache).")
    var cacheDir: String?

    var cache: ResponseCache? {
        if noCache { return nil }
        if let cacheDir { return ResponseCache(directory: URL(fileURLWithPath: cacheDir)) }
        return ResponseCache(directory: ResponseCache.defaultDirectory())
    }
}

/// Writes a line to stderr with control characters shown as escapes (names, ids and messages come
/// from input files and models; see `TerminalText`).
func printErr(_ s: String) {
    FileHandle.standardError.write(Data((TerminalText.sanitize(s) + "\n").utf8))
}

/// Writes a line to stdout with control characters shown as escapes (see `printErr`); inside `serve`, to the
/// request's ``OutputCapture`` instead.
func say(_ s: String) {
    if let capture = OutputCapture.current {
        capture.append(s)
        return
    }
    print(TerminalText.sanitize(s))
}

var stderrIsTTY: Bool { isatty(2) == 1 }

/// The usual name of a signal number (SIGINT, SIGTERM, SIGHUP), for messages.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    case SIGHUP: return "SIGHUP"
    default: return "signal \(signal)"
    }
}
