import Foundation
import JudgeStats

extension VotesFile {
    /// Decodes one line of a votes file with `decoder` (`Vote`'s own `init(from:)`), straight from the reader's
    /// buffer; a bad line fails naming `path` and `line`.
    ///
    /// (A fast path that read the line as a `JSONValue` first was removed: through Foundation it took 1.7× the time of
    /// `init(from:)`, and twice that on lines it declined. See BENCHMARKS.md, "JSONValue parsing and serialising".)
    package static func decodeLine(_ bytes: UnsafeBufferPointer<UInt8>, decoder: JSONDecoder, path: String, line: Int)
        throws -> Vote
    {
        do {
            guard let base = bytes.baseAddress else { return try decoder.decode(Vote.self, from: Data()) }
            let data = Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
            return try decoder.decode(Vote.self, from: data)
        } catch {
            throw JudgePanelError.badInput("invalid vote: \(describe(error))", file: path, line: line)
        }
    }
}
