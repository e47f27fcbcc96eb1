import ArgumentParser
import Foundation
import JudgePanel

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a subcommand body, mapping errors to the documented exit codes: 2 for bad input or usage (message names
/// file and line), 3 for I/O and environment failures (an unwritable or full output, a batch the provider no longer
/// knows), 1 for other failures. (1 is also a finished run with failed calls, 4 a failed quality gate, 128+n a signal.)
func runMapped(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as JudgePanelError {
        if OutputCapture.current == nil { await LlamaServer.stopAll() }  // serve: other requests may use them
        OutputCapture.current?.fail(e.description)
        printErr("judgepanel: error: \(e.description)")
        throw ExitCode(exitCode(for: e))
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
        // A file-system error that no layer turned into a JudgePanelError is still an I/O failure.
        throw ExitCode(error is CocoaError || error is POSIXError ? 3 : 1)
    }
}

/// The exit code of a failure: 2 bad input or usage, 3 I/O and environment, 1 anything else.
func exitCode(for e: JudgePanelError) -> Int32 {
    if e.isInputError { return 2 }
    if e.isEnvironmentError { return 3 }
    return 1
}

/// Options shared by commands that read items.
struct ItemOptions: ParsableArguments {
    @Option(name: .customLong("map"), help: "Read a field from another key: --map prompt=instruction (repeatable).")
    var map: [String] = []

    @Option(name: .customLong("label-map"), help: "Rewrite label values: --label-map 1=A,2=B,0=tie.")
    var labelMap: [String] = []

    @Option(name: .customLong("max-line-bytes"), help: "Longest items line read, in bytes (default 64 MiB).")
    var maxLineBytes: Int = LineReader.defaultMaxLineBytes

    @Option(name: .customLong("max-image-bytes"), help: "Largest image an item may carry, in bytes (default 5 MiB).")
    var maxImageBytes: Int = ItemContentLimits.defaultMaxImageBytes

    @Option(
        name: .customLong("max-tool-output-chars"),
        help: "Tool outputs in trajectories longer than this are cut, with a marker, and counted (default 2000).")
    var maxToolOutputChars: Int = ItemContentLimits.defaultMaxToolOutputChars

    func loader() throws -> ItemLoader {
        guard maxLineBytes >= 1 else {
            throw JudgePanelError.usage("--max-line-bytes must be at least 1 (got \(maxLineBytes))")
        }
        guard maxImageBytes >= 1 else {
            throw JudgePanelError.usage("--max-image-bytes must be at least 1 (got \(maxImageBytes))")
        }
        guard maxToolOutputChars >= 1 else {
            throw JudgePanelError.usage("--max-tool-output-chars must be at least 1 (got \(maxToolOutputChars))")
        }
        var loader = ItemLoader(mapping: try ItemMapping(mapOptions: map, labelMapOptions: labelMap))
        loader.maxLineBytes = maxLineBytes
        loader.limits = ItemContentLimits(maxImageBytes: maxImageBytes, maxToolOutputChars: maxToolOutputChars)
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
    FileHandle.standardError.write(Data((TerminalText.sanitize(SecretScrubber.process.scrubPieces(s)) + "\n").utf8))
}

/// Writes a line to stdout with control characters shown as escapes (see `printErr`); no piece of a secret a loaded
/// panel names reaches it. Inside `serve`, to the request's ``OutputCapture`` instead.
func say(_ s: String) {
    if let capture = OutputCapture.current {
        capture.append(SecretScrubber.process.scrubPieces(s))
        return
    }
    print(TerminalText.sanitize(SecretScrubber.process.scrubPieces(s)))
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
