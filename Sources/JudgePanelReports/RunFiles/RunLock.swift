import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The advisory lock of a run directory (`DIR/.lock`): one writer at a time.
///
/// The lock is an exclusive `flock(2)` on `DIR/.lock`, held for as long as the process writes the directory (the
/// kernel drops it when the process dies). The file names the holder — pid, host, start time and command — so a
/// second writer is refused with a message that says who holds it. A lock file that still names a holder although
/// nobody holds the `flock` (a process killed with `kill -9`) is stale: it is taken over, and said so. Where the
/// file system does not support `flock`, the holder's pid decides (alive on this host: held; dead: stale).
///
/// Within one process the lock is re-entrant (a `score` command and the ``ScoreJob`` it runs share it); it is
/// released when the last holder releases it, which empties the file.
///
/// ```swift
/// let lock = try RunLock.acquire(dir: "runs/x", command: "score")
/// defer { lock.release() }
/// ```
package final class RunLock: Sendable {
    /// The lock file.
    package let path: String
    private let released = Mutex(false)

    /// Who holds (or held) a lock: the contents of the lock file.
    package struct Holder: Sendable, Hashable, CustomStringConvertible {
        /// The holder's process id.
        package var pid: Int32
        /// The host it runs on.
        package var host: String
        /// When it took the lock (ISO 8601).
        package var since: String
        /// What it is doing (`score --resume`, `report`, …).
        package var command: String

        /// "pid 123 on host h (score --resume) since 2026-…".
        package var description: String {
            "pid \(pid) on host \(host)" + (command.isEmpty ? "" : " (\(command))") + " since \(since)"
        }

        package var text: String {
            let o: JSONValue = [
                "pid": .number(Double(pid)), "host": .string(host), "since": .string(since),
                "command": .string(command),
            ]
            return o.compactString + "\n"
        }

        package static func parse(_ data: Data) -> Holder? {
            guard !data.isEmpty, let v = try? JSONValue(jsonData: data), let pid = v["pid"]?.intValue else {
                return nil
            }
            return Holder(
                pid: Int32(clamping: pid), host: v["host"]?.stringValue ?? "?", since: v["since"]?.stringValue ?? "?",
                command: v["command"]?.stringValue ?? "")
        }
    }

    private struct Held {
        var fd: Int32
        var count: Int
    }

    /// Locks held by this process, by lock-file path.
    private static let held = Mutex<[String: Held]>([:])

    private init(path: String) {
        self.path = path
    }

    /// The lock-file path of a run directory.
    package static func lockPath(dir: String) -> String {
        URL(fileURLWithPath: dir).standardizedFileURL.appendingPathComponent(".lock").path
    }

    /// Takes the lock of `dir` (creating the directory if needed).
    ///
    /// - Parameters:
    ///   - dir: the run directory.
    ///   - command: what the holder is doing, shown to a refused writer (e.g. `score --resume`).
    ///   - notice: told when a stale lock is taken over (nil: the "judgepanel" swift-log logger, at `notice`).
    /// - Throws: ``JudgePanelError`` (usage, exit 2) naming the holder when another process writes `dir`;
    ///   an I/O error when the lock file cannot be created.
    package static func acquire(
        dir: String, command: String, notice: (@Sendable (String) -> Void)? = nil
    ) throws -> RunLock {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw JudgePanelError.io("cannot create run directory: \(error.localizedDescription)", file: dir)
        }
        let path = lockPath(dir: dir)
        return try held.withLock { table -> RunLock in
            if var h = table[path] {
                h.count += 1
                table[path] = h
                return RunLock(path: path)
            }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw JudgePanelError.io("cannot open the lock file: \(String(cString: strerror(errno)))", file: path)
            }
            let previous = Holder.parse(readAll(fd))
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                if code == EWOULDBLOCK || code == EAGAIN {
                    close(fd)
                    // The holder may not have written its name yet: read once more after it had the time to.
                    let holder =
                        previous
                        ?? {
                            usleep(50_000)
                            return Holder.parse(FileManager.default.contents(atPath: path) ?? Data())
                        }()
                    throw refusal(dir: dir, holder: holder)
                }
                // No flock on this file system: the pid in the file decides.
                if let previous, previous.host == hostName(), previous.pid != getpid(), isAlive(previous.pid) {
                    close(fd)
                    throw refusal(dir: dir, holder: previous)
                }
            }
            if let previous {
                let alive = previous.host == hostName() && isAlive(previous.pid)
                (notice ?? { Diagnostics.logger.notice("\($0)") })(
                    "taking over the stale lock of \(dir): \(previous) did not release it"
                        + (alive ? "" : " (the process is no longer running)"))
            }
            let me = Holder(
                pid: getpid(), host: hostName(), since: ISO8601DateFormatter().string(from: Date()), command: command)
            let bytes = Array(me.text.utf8)
            guard ftruncate(fd, 0) == 0, pwrite(fd, bytes, bytes.count, 0) == bytes.count else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw JudgePanelError.io("cannot write the lock file: \(message)", file: path)
            }
            table[path] = Held(fd: fd, count: 1)
            return RunLock(path: path)
        }
    }

    /// The holder named in `dir`'s lock file, if any (nil when free or released).
    package static func holder(dir: String) -> Holder? {
        Holder.parse(FileManager.default.contents(atPath: lockPath(dir: dir)) ?? Data())
    }

    /// Releases this hold; the last one in the process empties the lock file and drops the `flock`.
    package func release() {
        let first = released.withLock { r -> Bool in
            defer { r = true }
            return !r
        }
        guard first else { return }
        Self.held.withLock { table in
            guard var h = table[path] else { return }
            h.count -= 1
            if h.count > 0 {
                table[path] = h
                return
            }
            table[path] = nil
            _ = ftruncate(h.fd, 0)
            close(h.fd)
        }
    }

    deinit { release() }

    private static func refusal(dir: String, holder: Holder?) -> JudgePanelError {
        .usage(
            "\(dir) is being written by another judgepanel process"
                + (holder.map { ": \($0)" } ?? "")
                + " (lock file \(lockPath(dir: dir))); wait for it to finish, or choose another --out")
    }

    private static func readAll(_ fd: Int32) -> Data {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var offset: off_t = 0
        while out.count < 65_536 {
            let n = pread(fd, &buffer, buffer.count, offset)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
            offset += off_t(n)
        }
        return out
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
