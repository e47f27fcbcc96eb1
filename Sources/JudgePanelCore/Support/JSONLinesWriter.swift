import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams lines to a temporary file and renames it into place when finished, so a JSONL file is written in
/// bounded memory and a reader never sees half of it.
package final class JSONLinesWriter {
    package let path: String
    private let handle: FileHandle
    private var buffer = Data()
    private let flushAt = 1 << 16

    /// Creates (truncating) the temporary file at `path`.
    package init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path)
        else {
            throw JudgePanelError.io("cannot create", file: path)
        }
        self.path = path
        handle = h
        buffer.reserveCapacity(flushAt + 4096)
    }

    /// Appends one line (a newline is added).
    package func append(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(10)
        if buffer.count >= flushAt { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: path)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, closes the file and renames it to `target`.
    package func finish(renamingTo target: String) throws {
        try flush()
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: path)
        }
        if rename(path, target) != 0 {
            throw JudgePanelError.io("cannot rename into place: \(String(cString: strerror(errno)))", file: target)
        }
    }

    /// Closes and removes the temporary file (after a failure; errors here would hide the first one).
    package func discard() {
        try? handle.close()
        unlink(path)
    }
}
