import Foundation
import Logging

/// Where the library's diagnostics go: one swift-log `Logger` labelled "judgepanel".
///
/// The library only logs; the application decides where lines go and which levels show, once, with
/// `LoggingSystem.bootstrap` (the `judgepanel` CLI installs ``DiagnosticLogHandler`` behind `--log-level`).
/// What is logged, by level: `warning` — a corrupt response-cache entry ignored; `notice` — a stale run lock
/// taken over; `debug` — a local `llama-server` ready or stopped, a call retried after a retryable provider error;
/// `trace` — the `llama-server` command line. (Nothing at `info`, swift-log's default level for a program that
/// does not bootstrap, so an embedding program sees only the warnings and notices it saw before.)
package enum Diagnostics {
    /// The shared logger. Created on first use, so a bootstrap made at program start applies to it.
    package static let logger = Logger(label: "judgepanel")
}

/// A swift-log handler for command-line tools: one line per event on standard error, `judgepanel: MESSAGE`
/// (with `[debug]`-style tags below `notice`), control characters escaped and API keys removed.
///
/// Every line passes ``SecretScrubber``: the generic key shapes (`Bearer …`, `sk-…`, `AIza…`, `key=` in URLs,
/// masked keys) and the values of the environment's key variables (any name ending in `_KEY` or `_TOKEN`, or
/// holding `SECRET`), so a provider message that echoes a key cannot put it in a log.
///
/// ```swift
/// LoggingSystem.bootstrap { label in DiagnosticLogHandler(label: label, level: .notice) }
/// ```
package struct DiagnosticLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let write: @Sendable (String) -> Void
    private let scrubber: SecretScrubber

    /// A handler that writes lines of `level` and above with `write` (default: standard error).
    package init(
        label: String, level: Logger.Level, environment: [String: String] = ProcessInfo.processInfo.environment,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.logLevel = level
        self.write = write
        let keyNames = environment.keys.filter { name in
            let upper = name.uppercased()
            return upper.hasSuffix("_KEY") || upper.hasSuffix("_TOKEN") || upper.contains("SECRET")
        }
        self.scrubber = SecretScrubber(keyVariables: keyNames.sorted(), environment: environment)
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var text = event.message.description
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        let tag: String
        switch event.level {
        case .notice, .warning: tag = ""
        default: tag = "[\(event.level)] "
        }
        // The environment's keys, then every secret a loaded panel registered (its key variables may have any name,
        // its headers and URLs hold others).
        let scrubbed = SecretScrubber.process.scrub(scrubber.scrub(text))
        write("judgepanel: " + tag + TerminalText.sanitize(scrubbed) + "\n")
    }
}
