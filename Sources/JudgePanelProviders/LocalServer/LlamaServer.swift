import Foundation
import JudgePanelCore
import Logging
import Subprocess
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `llama-server` process that judgepanel starts for a `llamacpp` judge and stops when the run ends.
///
/// The process runs under swift-subprocess inside a supervising task: ``stop()`` cancels that task, and
/// swift-subprocess tears the server down (SIGTERM, then SIGKILL after 5 s) and reaps it before `stop()` returns.
/// The server gets a session of its own, so a Ctrl-C at the terminal reaches judgepanel only; judgepanel turns
/// SIGINT/SIGTERM into task cancellation (see the CLI), which stops its servers through the same path. No code
/// runs inside a signal handler.
///
/// ```swift
/// let server = try await LlamaServer.start(settings: LlamaCppSettings(gguf: "model.gguf"))
/// print(server.baseURL)  // http://127.0.0.1:PORT/v1
/// await server.stop()
/// ```
package final class LlamaServer: Sendable {
    package let port: Int
    /// The server's process id.
    package let processID: Int32
    package let logPath: String
    /// The supervising task: it returns (with the exit status) once the process has ended and been reaped.
    private let supervisor: Task<TerminationStatus, any Error>
    /// Set by the supervising task when the process has ended.
    private let exited: ExitFlag

    private final class ExitFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Every server this process started and has not stopped (for ``stopAll()`` and ``runningProcessIDs``).
    private static let running = Mutex<[Int32: LlamaServer]>([:])

    /// The OpenAI-compatible base URL.
    package var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(
        port: Int, processID: Int32, logPath: String, supervisor: Task<TerminationStatus, any Error>, exited: ExitFlag
    ) {
        self.port = port
        self.processID = processID
        self.logPath = logPath
        self.supervisor = supervisor
        self.exited = exited
    }

    /// Locates the server binary: the setting, `$JUDGEPANEL_LLAMA_SERVER`, `$JUDGEPANEL_HOME/bin/llama-server`, or PATH.
    static func locateBinary(_ configured: String?, environment: [String: String]) -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let e = environment["JUDGEPANEL_LLAMA_SERVER"] { candidates.append(e) }
        let home = environment["JUDGEPANEL_HOME"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/judgepanel"
        candidates.append(home + "/bin/llama-server")
        for dir in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(dir)/llama-server") }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }

    /// A free TCP port on 127.0.0.1.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw JudgePanelError.io("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard bound == 0 else { throw JudgePanelError.io("bind() failed") }
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard named == 0 else { throw JudgePanelError.io("getsockname() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The server's command-line arguments for `settings` on `port`.
    package static func arguments(settings: LlamaCppSettings, port: Int) -> [String] {
        var args = [
            "-m", settings.gguf, "--host", "127.0.0.1", "--port", String(port), "--parallel", String(settings.parallel),
            "-c", String(settings.contextSize * settings.parallel), "-ngl", "0",
        ]
        if let t = settings.threads { args += ["-t", String(t)] }
        if let tpl = settings.chatTemplate { args += ["--no-jinja", "--chat-template", tpl] }
        return args + settings.extraArgs
    }

    /// Starts a server for `settings` and waits until `/health` answers 200. When the start fails or is cancelled,
    /// the process is stopped before this throws.
    package static func start(
        settings: LlamaCppSettings, judgeName: String = "llamacpp",
        environment: [String: String] = ProcessInfo.processInfo.environment, readyTimeout: Double = 180
    ) async throws -> LlamaServer {
        guard let binary = locateBinary(settings.server, environment: environment) else {
            throw JudgePanelError.badInput(
                "judge '\(judgeName)': llama-server not found (run scripts/setup-local.sh, or set 'server:' or $JUDGEPANEL_LLAMA_SERVER)"
            )
        }
        guard FileManager.default.fileExists(atPath: settings.gguf) else {
            throw JudgePanelError.badInput(
                "judge '\(judgeName)': model file \(settings.gguf) not found (run scripts/setup-local.sh)")
        }
        let port = try freePort()
        let args = arguments(settings: settings, port: port)
        let logPath = NSTemporaryDirectory() + "judgepanel-llama-\(port).log"
        // The server's stdout and stderr go to one log file, read back for the error when it dies during start-up.
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard logFD >= 0 else {
            throw JudgePanelError.io(
                "cannot create the llama-server log: \(String(cString: strerror(errno)))", file: logPath)
        }
        var platform = PlatformOptions()
        // Its own session: a terminal's SIGINT goes to judgepanel alone, which then stops the server (and the calls
        // in flight are cancelled, not failed by a server dying under them).
        platform.createSession = true
        platform.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(5))]
        let configuration = Configuration(
            executable: .path(.init(binary)), arguments: Arguments(args), environment: .inherit,
            platformOptions: platform)
        Diagnostics.logger.trace(
            "starting llama-server",
            metadata: ["judge": "\(judgeName)", "command": "\(([binary] + args).joined(separator: " "))"])

        let launched = AsyncThrowingStream<Int32, any Error>.makeStream()
        let exited = ExitFlag()
        let supervisor = Task<TerminationStatus, any Error> {
            defer { exited.value.store(true, ordering: .releasing) }
            do {
                let result = try await Subprocess.run(
                    configuration, input: .none,
                    output: .fileDescriptor(.init(rawValue: logFD), closeAfterSpawningProcess: false),
                    error: .fileDescriptor(.init(rawValue: logFD), closeAfterSpawningProcess: false)
                ) { execution in
                    launched.continuation.yield(execution.processIdentifier.value)
                }
                close(logFD)
                launched.continuation.finish()
                return result.terminationStatus
            } catch {
                close(logFD)
                launched.continuation.finish(throwing: error)
                throw error
            }
        }
        let pid: Int32
        do {
            var iterator = launched.stream.makeAsyncIterator()
            guard let value = try await iterator.next() else { throw CancellationError() }
            pid = value
        } catch {
            supervisor.cancel()
            _ = await supervisor.result
            if error is CancellationError { throw error }
            throw JudgePanelError.io("could not start \(binary): \(error)")
        }
        let server = LlamaServer(port: port, processID: pid, logPath: logPath, supervisor: supervisor, exited: exited)
        running.withLock { $0[pid] = server }
        do {
            try await server.waitUntilReady(judgeName: judgeName, timeout: readyTimeout)
        } catch {
            await server.stop(keepLog: true)
            throw error
        }
        Diagnostics.logger.debug(
            "llama-server ready", metadata: ["judge": "\(judgeName)", "pid": "\(pid)", "port": "\(port)"])
        return server
    }

    /// Polls `/health` until it answers 200; throws when the process ends first or `timeout` passes.
    private func waitUntilReady(judgeName: String, timeout: Double) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        let url = URL(string: "http://127.0.0.1:\(port)/health")!
        let transport = OneShotTransport()
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            if hasExited {
                let status = (try? await supervisor.value).map { " (\($0))" } ?? ""
                let tail: String
                do {
                    tail = String(try String(contentsOfFile: logPath, encoding: .utf8).suffix(600))
                } catch {
                    tail = "(its log \(logPath) could not be read: \(error.localizedDescription))"
                }
                throw JudgePanelError.io("llama-server for '\(judgeName)' exited during start-up\(status): \(tail)")
            }
            do {
                let r = try await transport.send(HTTPRequest(url: url, method: "GET", timeout: 2))
                if r.status == 200 { return }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Not listening yet (connection refused) or still loading the model: poll again.
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw JudgePanelError.io("llama-server for '\(judgeName)' was not ready after \(Int(timeout)) s")
    }

    /// Whether the process has ended (its supervising task has finished).
    private var hasExited: Bool { exited.value.load(ordering: .acquiring) }

    /// Stops the server: SIGTERM, then SIGKILL after 5 s; returns once the process has been reaped. Idempotent.
    package func stop() async {
        await stop(keepLog: false)
    }

    private func stop(keepLog: Bool) async {
        supervisor.cancel()
        let status = await supervisor.result
        let wasRunning = Self.running.withLock { $0.removeValue(forKey: processID) } != nil
        if wasRunning, case .success(let s) = status {
            Diagnostics.logger.debug("llama-server stopped", metadata: ["pid": "\(processID)", "status": "\(s)"])
        }
        if !keepLog {
            do {
                try FileManager.default.removeItem(atPath: logPath)
            } catch {
                Diagnostics.logger.debug(
                    "could not remove the llama-server log \(logPath): \(error.localizedDescription)")
            }
        }
    }

    /// Stops every server this process started and has not stopped yet, and waits until they are gone.
    package static func stopAll() async {
        let all = running.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for server in all { group.addTask { await server.stop() } }
        }
    }

    /// The ids of the server processes still running (for tests and diagnostics).
    package static var runningProcessIDs: [Int32] { running.withLock { Array($0.keys).sorted() } }
}
