import Dispatch
import Foundation
import JudgePanel
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `--log-level LEVEL`, accepted anywhere before `--` (before or after the subcommand): which of the library's
/// diagnostics reach standard error. The default, `notice`, shows exactly what judgepanel printed before it had
/// levels (a stale lock taken over, a corrupt cache entry ignored); `debug` adds local servers starting and stopping
/// and retries, `trace` the llama-server command line.
enum LogLevelOption {
    static let name = "--log-level"
    static let defaultLevel = Logger.Level.notice

    /// The level asked for and the arguments without the option.
    ///
    /// - Throws: ``JudgePanelError`` (usage, exit 2) for a missing or unknown level.
    static func extract(from arguments: [String]) throws -> (Logger.Level, [String]) {
        var level = defaultLevel
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" {
                rest += arguments[i...]
                break
            }
            var value: String?
            if a == name {
                guard i + 1 < arguments.count else { throw usage("missing value for \(name)") }
                value = arguments[i + 1]
                i += 2
            } else if a.hasPrefix(name + "=") {
                value = String(a.dropFirst(name.count + 1))
                i += 1
            } else {
                rest.append(a)
                i += 1
            }
            if let value {
                guard let parsed = Logger.Level(rawValue: value.lowercased()) else {
                    throw usage("unknown \(name) '\(value)'")
                }
                level = parsed
            }
        }
        return (level, rest)
    }

    private static func usage(_ what: String) -> JudgePanelError {
        JudgePanelError.usage(
            "\(what) (one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")); default \(defaultLevel))"
        )
    }

    /// Installs the stderr handler once, for the whole process.
    static func bootstrap(_ level: Logger.Level) {
        LoggingSystem.bootstrap { label in DiagnosticLogHandler(label: label, level: level) }
    }
}

/// SIGINT, SIGTERM and SIGHUP as task cancellation: the signals are ignored at the process level and watched by
/// dispatch sources, whose handlers run on a dispatch queue (not in signal context) and cancel the command's task.
/// Cancellation then unwinds the run the ordinary way: calls in flight are cancelled, local `llama-server`
/// processes are torn down by swift-subprocess and reaped, the vote journal keeps only whole lines (each vote is one
/// write), and the command exits with 128 + the signal's number. A second signal while that is under way ends
/// the process at once, after killing any server still running.
final class SignalCancellation {
    private let sources: [any DispatchSourceSignal]
    private static let received = Atomic<Int32>(0)

    /// The signal that cancelled the run, if one did.
    static var signal: Int32? {
        let s = received.load(ordering: .acquiring)
        return s == 0 ? nil : s
    }

    /// Starts watching; `cancel` runs on a dispatch queue when the first signal arrives.
    init(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP], cancel: @escaping @Sendable () -> Void) {
        sources = signals.map { signo in
            Glibc.signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler {
                let (first, _) = Self.received.compareExchange(
                    expected: 0, desired: signo, ordering: .acquiringAndReleasing)
                if first {
                    cancel()
                } else {
                    for pid in LlamaServer.runningProcessIDs { kill(pid, SIGKILL) }
                    exit(128 + signo)
                }
            }
            source.resume()
            return source
        }
    }

    /// Stops watching and gives the signals their default action back.
    func cancel() {
        for source in sources { source.cancel() }
        for signo in [SIGINT, SIGTERM, SIGHUP] { Glibc.signal(signo, SIG_DFL) }
    }
}
