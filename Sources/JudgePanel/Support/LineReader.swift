import Foundation

/// Reads a file line by line in fixed-size chunks, so large JSONL files stream with flat memory.
///
/// ```swift
/// let reader = try LineReader(path: "votes.jsonl")
/// while let (number, line) = try reader.next() { print(number, line) }
/// ```
public final class LineReader {
    private let handle: FileHandle
    private let path: String
    private var buffer = Data()
    private var offset = 0
    private var eof = false
    private var number = 0
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw JudgePanelError.badInput("cannot open file", file: path)
        }
        self.handle = h
        self.path = path
        self.chunkSize = chunkSize
    }

    deinit { try? handle.close() }

    /// The next line (without its newline) and its 1-based number, or nil at the end.
    public func next() throws -> (Int, Substring)? {
        while true {
            if let nl = buffer[offset...].firstIndex(of: 0x0A) {
                var end = nl
                if end > offset, buffer[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffer[offset..<end], as: UTF8.self)
                offset = nl + 1
                number += 1
                return (number, Substring(line))
            }
            if eof {
                guard offset < buffer.count else { return nil }
                let line = String(decoding: buffer[offset...], as: UTF8.self)
                offset = buffer.count
                number += 1
                return (number, Substring(line))
            }
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: chunkSize) ?? Data()
            } catch {
                throw JudgePanelError.io("read failed: \(error.localizedDescription)", file: path)
            }
            if chunk.isEmpty {
                eof = true
            } else {
                buffer = Data(buffer[offset...]) + chunk
                offset = 0
            }
        }
    }
}
