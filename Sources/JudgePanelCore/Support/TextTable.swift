import Foundation

/// Plain-text and Markdown tables for reports and CLI listings.
package enum TextTable {
    /// An aligned plain-text table (control characters in cells shown as escapes, see `TerminalText`).
    package static func plain(header: [String], rows: [[String]]) -> String {
        let header = header.map(TerminalText.sanitize)
        let rows = rows.map { $0.map(TerminalText.sanitize) }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .trimmingCharacters(in: .whitespaces)
        }
        return
            ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }

    /// A Markdown table.
    package static func markdown(header: [String], rows: [[String]]) -> String {
        func esc(_ s: String) -> String {
            TerminalText.sanitize(
                s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " "))
        }
        return
            ([
                "| " + header.map(esc).joined(separator: " | ") + " |",
                "|" + header.map { _ in "---" }.joined(separator: "|") + "|",
            ]
            + rows.map { "| " + $0.map(esc).joined(separator: " | ") + " |" }).joined(separator: "\n")
    }
}
