/// Makes text from input files and models safe to print: control characters become visible escapes, so a
/// judge name like `x\e]0;OWNED\a\e[2J` cannot retitle or clear the terminal, and a `\r` cannot overwrite
/// what was printed before.
///
/// Newlines and tabs are kept. Escaped: C0 controls (`\e`, `\a`, `\r`, `\b`, others as `\x1F`), DEL,
/// C1 controls (U+0080–U+009F, as `\u0085`) and the bidirectional overrides and isolates that reorder
/// text on screen (U+202A–U+202E, U+2066–U+2069).
///
/// ```swift
/// print(TerminalText.sanitize("x\u{1B}]0;OWNED\u{07}"))  // x\e]0;OWNED\a
/// ```
package enum TerminalText {
    /// `text` with every control character (except newline and tab) replaced by a visible escape.
    package static func sanitize(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            guard needsEscape(u) else {
                out.append(u)
                continue
            }
            let visible: String
            switch u.value {
            case 0x1B: visible = "\\e"
            case 0x07: visible = "\\a"
            case 0x0D: visible = "\\r"
            case 0x08: visible = "\\b"
            case 0..<0x80: visible = "\\x" + hex(u.value, width: 2)
            default: visible = "\\u" + hex(u.value, width: 4)
            }
            out.append(contentsOf: visible.unicodeScalars)
        }
        return String(out)
    }

    /// Whether `u` is a control character that must not reach a terminal raw.
    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x0A, 0x09: return false
        case 0..<0x20, 0x7F, 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
