import Crypto
import Foundation

/// SHA-256 hex digests for content-addressed cache keys, run fingerprints, shard assignment and file checksums,
/// computed with swift-crypto (BoringSSL on Linux, CryptoKit on Apple platforms).
///
/// ```swift
/// ContentHash.hex("abc")  // "ba7816bf…"
/// ```
package enum ContentHash {
    /// The 32-byte SHA-256 digest of `bytes`.
    package static func digest(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// The lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    package static func hex(_ text: String) -> String {
        hexString(SHA256.hash(data: Data(text.utf8)))
    }

    /// The lowercase hex SHA-256 of `bytes`.
    package static func hex(bytes: [UInt8]) -> String {
        hexString(SHA256.hash(data: bytes))
    }

    /// The lowercase hex SHA-256 of a file's bytes, read in 1 MiB chunks (memory does not grow with the file).
    ///
    /// - Throws: ``JudgePanelError`` when the file cannot be read.
    package static func hexOfFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JudgePanelError.io("cannot read", file: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 20)
            } catch {
                throw JudgePanelError.io("cannot read: \(error.localizedDescription)", file: path)
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return hexString(hasher.finalize())
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func hexString<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
