import Foundation

/// Reads a file line by line in fixed-size chunks, so large JSONL files stream with flat memory.
///
/// Each byte is scanned once for the newline and copied at most once more (when a line straddles chunks),
/// so reading is linear in the file size; a line may hold at most `maxLineBytes` bytes, and memory stays
/// within one line plus one chunk. ``next()`` fails on invalid UTF-8, naming the line; ``nextBytes(_:)``
/// hands the raw bytes to a parser that validates them itself.
///
/// ```swift
/// let reader = try LineReader(path: "votes.jsonl")
/// while let (number, line) = try reader.next() { print(number, line) }
/// ```
package final class LineReader {
    /// The default longest line: 64 MiB.
    package static let defaultMaxLineBytes = 64 << 20

    private let handle: FileHandle
    private let path: String
    /// Bytes read but not yet returned live in `buffer[start..<end]`; `scanned` is how far past `start`
    /// the newline search has already looked.
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var eof = false
    private var number = 0
    /// The file offset of `buffer[0]`.
    private var bufferBase = 0
    /// The file offset of the first byte of the line last handed out (by `next` or `nextBytes`).
    package private(set) var lastLineOffset = 0
    private let chunkSize: Int
    private let maxLineBytes: Int

    /// Opens `path`; a missing file, a directory or an unreadable file is bad input naming the path.
    package init(path: String, chunkSize: Int = 1 << 20, maxLineBytes: Int = LineReader.defaultMaxLineBytes) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw JudgePanelError.badInput("no such file", file: path)
        }
        if isDirectory.boolValue {
            throw JudgePanelError.badInput("is a directory, not a file", file: path)
        }
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw JudgePanelError.badInput("cannot open file (permission denied?)", file: path)
        }
        self.handle = h
        self.path = path
        self.chunkSize = max(1, chunkSize)
        self.maxLineBytes = max(1, maxLineBytes)
    }

    deinit { try? handle.close() }

    /// The next line (without its newline) and its 1-based number, or nil at the end.
    ///
    /// - Throws: ``JudgePanelError`` (bad input) naming file and line when the line is not valid UTF-8
    ///   or is longer than the maximum.
    package func next() throws -> (Int, Substring)? {
        try nextBytes { number, bytes in
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw JudgePanelError.badInput(
                    "invalid UTF-8 at byte \(Self.firstInvalidUTF8(bytes) + 1) of the line", file: path, line: number)
            }
            return (number, Substring(s))
        }
    }

    /// Hands the next line's bytes (without the newline or a trailing CR) and its 1-based number to `body`,
    /// and returns its result, or nil at the end. The buffer is only valid inside `body`.
    package func nextBytes<T>(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        while true {
            if let nl = findNewline() {
                var lineEnd = nl
                if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let lineStart = start
                if lineEnd - lineStart > maxLineBytes { throw tooLong(line: number + 1) }
                lastLineOffset = bufferBase + lineStart
                start = nl + 1
                scanned = 0
                number += 1
                let n = number
                return try buffer.withUnsafeBufferPointer {
                    try body(n, UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd]))
                }
            }
            // No newline yet: stop reading before the pending line outgrows the limit (and memory with it).
            if end - start > maxLineBytes + 1 { throw tooLong(line: number + 1) }
            if eof {
                guard start < end else { return nil }
                let (lineStart, lineEnd) = (start, end)
                if lineEnd - lineStart > maxLineBytes { throw tooLong(line: number + 1) }
                lastLineOffset = bufferBase + lineStart
                start = end
                number += 1
                let n = number
                return try buffer.withUnsafeBufferPointer {
                    try body(n, UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd]))
                }
            }
            try fill()
        }
    }

    private func tooLong(line: Int) -> JudgePanelError {
        JudgePanelError.badInput("line longer than the limit of \(maxLineBytes) bytes", file: path, line: line)
    }

    /// The index of the next newline in the unread bytes, scanning only bytes not scanned before.
    private func findNewline() -> Int? {
        let from = start + scanned
        guard from < end else { return nil }
        let found: Int? = buffer.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return nil }
            guard let hit = memchr(base + from, 0x0A, end - from) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        scanned = (found ?? end) - start
        return found
    }

    /// Reads one more chunk, first moving the unread bytes to the front (each byte moves at most once per
    /// line, and only when the buffer's free tail is too short for a chunk).
    private func fill() throws {
        let chunk: Data
        do {
            chunk = try handle.read(upToCount: chunkSize) ?? Data()
        } catch {
            throw JudgePanelError.io("read failed: \(error.localizedDescription)", file: path)
        }
        if chunk.isEmpty {
            eof = true
            return
        }
        if start > 0 && buffer.count - end < chunk.count {
            let pending = end - start
            if pending > 0 {
                buffer.withUnsafeMutableBufferPointer { p in
                    // `pending > 0` bytes lie in the buffer, so it has an address.
                    guard let base = p.baseAddress else { return }
                    _ = memmove(base, base + start, pending)
                }
            }
            bufferBase += start
            start = 0
            end = pending
        }
        if buffer.count < end + chunk.count {
            buffer.removeSubrange(end...)
            buffer.append(contentsOf: chunk)
        } else {
            buffer.withUnsafeMutableBufferPointer { p in
                _ = chunk.copyBytes(to: UnsafeMutableBufferPointer(rebasing: p[end..<(end + chunk.count)]))
            }
        }
        end += chunk.count
    }

    /// The 0-based offset of the first byte that is not part of a valid UTF-8 sequence.
    package static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}
