import Foundation

extension JSONValue {
    /// Compact JSON bytes, identical to `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
    /// (keys sorted by their UTF-8 bytes, `/` and non-ASCII written raw, non-finite numbers as `null`),
    /// written directly instead of through `Encodable`.
    ///
    /// - Throws: `JSONEncoder`'s own error where it throws: containers nested 512 deep or more
    ///   (such values are handed to `JSONEncoder` so the outcome is exactly its).
    package func compactData() throws -> Data {
        var writer = JSONCompactWriter()
        if writer.write(self, depth: 0) {
            return Data(writer.bytes)
        }
        return try JSONEncoder.compact.encode(self)
    }

    /// `compactData()` as a String ("" where it throws).
    package var compactString: String {
        (try? compactData()).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// Writes a ``JSONValue`` as compact, key-sorted JSON, byte-for-byte as Foundation's `JSONEncoder` does.
struct JSONCompactWriter {
    /// Foundation's writer refuses containers at this depth (1 = the top-level container).
    static let encoderDepthLimit = 512

    package private(set) var bytes: [UInt8] = []

    package init() {
        bytes.reserveCapacity(256)
    }

    /// Appends `value`; false where the value nests too deep (the caller falls back to JSONEncoder).
    package mutating func write(_ value: JSONValue, depth: Int) -> Bool {
        switch value {
        case .null:
            append("null")
        case .bool(let b):
            append(b ? "true" : "false")
        case .number(let d):
            writeNumber(d)
        case .string(let s):
            writeString(s)
        case .array(let a):
            guard depth + 1 < Self.encoderDepthLimit else { return false }
            bytes.append(UInt8(ascii: "["))
            var first = true
            for element in a {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                guard write(element, depth: depth + 1) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            guard depth + 1 < Self.encoderDepthLimit else { return false }
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in o.sorted(by: { Self.precedes($0.key, $1.key) }) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                writeString(key)
                bytes.append(UInt8(ascii: ":"))
                guard write(element, depth: depth + 1) else { return false }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// Byte-wise UTF-8 order, as `a.utf8.lexicographicallyPrecedes(b.utf8)` (JSONEncoder's `.sortedKeys` on Linux).
    static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
                let n = min(pa.count, pb.count)
                if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                    let c = memcmp(x, y, n)
                    if c != 0 { return c < 0 }
                }
                return pa.count < pb.count
            }
        }
        if let fast, let result = fast { return result }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private mutating func append(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// `Double.description` without a trailing ".0"; `null` for NaN and infinities (``JSONValue`` encodes those as nil).
    private mutating func writeNumber(_ d: Double) {
        guard d.isFinite else { return append("null") }
        if d == d.rounded(.towardZero), abs(d) < 1e15 {
            // Integral and below Double.description's switch to exponent form: the digits of the Int.
            if d == 0 && d.sign == .minus { return append("-0") }
            bytes.append(contentsOf: String(Int64(d)).utf8)
            return
        }
        var s = d.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        bytes.append(contentsOf: s.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var mark = 0
            for k in 0..<utf8.count {
                let b = utf8[k]
                if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { continue }
                let escape: UInt8
                switch b {
                case UInt8(ascii: "\""): escape = UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
                case 0x08: escape = UInt8(ascii: "b")
                case 0x0C: escape = UInt8(ascii: "f")
                case 0x0A: escape = UInt8(ascii: "n")
                case 0x0D: escape = UInt8(ascii: "r")
                case 0x09: escape = UInt8(ascii: "t")
                case 0x00..<0x20: escape = UInt8(ascii: "u")
                default: continue
                }
                if k > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<k])) }
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(escape)
                if escape == UInt8(ascii: "u") {
                    bytes.append(contentsOf: [
                        UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigits[Int(b >> 4)], Self.hexDigits[Int(b & 0xF)],
                    ])
                }
                mark = k + 1
            }
            if utf8.count > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
