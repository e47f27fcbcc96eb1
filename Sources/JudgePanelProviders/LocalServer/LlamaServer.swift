import Foundation
import Synchronization
import JudgePanelCore

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `llama-server` process that judgepanel starts for a `llamacpp` judge and stops when the run ends.
///
/// ```swift
/// let server = try await LlamaServer.start(settings: LlamaCppSettings(gguf: "model.gguf"))
/// defer { server.stop() }
/// print(server.baseURL)  // http://127.0.0.1:PORT/v1
/// ```
package final class LlamaServer: Sendable {
    package let port: Int
    package let process: Process
    package let logPath: String

    /// Every server this process started, so a signal handler can stop them (no orphans on Ctrl-C).
    package static let running = Mutex<[Int32: Process]>([:])

    /// The OpenAI-compatible base URL.
    package var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    package init(port: Int, process: Process, logPath: String) {
        self.port = port
        self.process = process
        self.logPath = logPath
    }

    /// Locates the server binary: the setting, `$JUDGEPANEL_LLAMA_SERVER`, `$JUDGEPANEL_HOME/bin/llama-server`, or PATH.
    package static func locateBinary(_ configured: String?, environment: [String: String]) -> String? {
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
    package static func freePort() throws -> Int {
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

    /// Starts a server for `settings` and waits until `/health` answers 200.
    package static func start(
        settings: LlamaCppSettings, judgeName: String = "llamacpp",
        environment: [String: String] = ProcessInfo.processInfo.environment, readyTimeout: Double = 180
    ) async throws -> LlamaServer {
        guard let binary = locateBinary(settings.server, environment: environment) else {
            throw JudgePanelError.badInput(
                "judge '\(judgeName)': llama-server not found (run scripts/setup-local.sh, or set 'server:' or $JUDGEPANEL_LLAMA_SERVER)")
        }
        guard FileManager.default.fileExists(atPath: settings.gguf) else {
            throw JudgePanelError.badInput(
                "judge '\(judgeName)': model file \(settings.gguf) not found (run scripts/setup-local.sh)")
        }
        let port = try freePort()
        var args = [
            "-m", settings.gguf, "--host", "127.0.0.1", "--port", String(port), "--parallel", String(settings.parallel),
            "-c", String(settings.contextSize * settings.parallel), "-ngl", "0",
        ]
        if let t = settings.threads { args += ["-t", String(t)] }
        if let tpl = settings.chatTemplate { args += ["--no-jinja", "--chat-template", tpl] }
        args += settings.extraArgs
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        let logPath = NSTemporaryDirectory() + "judgepanel-llama-\(port).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw JudgePanelError.io("could not start \(binary): \(error.localizedDescription)")
        }
        running.withLock { $0[process.processIdentifier] = process }
        installSignalHandlers()
        let server = LlamaServer(port: port, process: process, logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(readyTimeout)
        let url = URL(string: "http://127.0.0.1:\(port)/health")!
        let transport = URLSessionTransport(maxConnectionsPerHost: 2)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(600) ?? ""
                server.stop()
                throw JudgePanelError.io("llama-server for '\(judgeName)' exited during start-up: \(tail)")
            }
            if let r = try? await transport.send(HTTPRequest(url: url, method: "GET", timeout: 2)), r.status == 200 {
                return server
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        server.stop()
        throw JudgePanelError.io("llama-server for '\(judgeName)' was not ready after \(Int(readyTimeout)) s")
    }

    /// Stops the server: SIGTERM, then SIGKILL after 5 s.
    package func stop() {
        let pid = process.processIdentifier
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        _ = Self.running.withLock { $0.removeValue(forKey: pid) }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Kills every running server (for signal handlers and exits).
    package static func stopAll() {
        let all = running.withLock { r -> [Process] in
            let v = Array(r.values)
            r.removeAll()
            return v
        }
        for p in all where p.isRunning {
            kill(p.processIdentifier, SIGTERM)
        }
        usleep(200_000)
        for p in all where p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    private static let handlersInstalled = Mutex(false)

    package static func installSignalHandlers() {
        let first = handlersInstalled.withLock { installed -> Bool in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { s in
                LlamaServer.stopAll()
                signal(s, SIG_DFL)
                raise(s)
            }
        }
    }
}
