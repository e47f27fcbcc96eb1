import Foundation
import JudgePanelReports

/// The run's `report.html` as `judgepanel ui` serves it (`/report`): the page unchanged, with a bar of links into the
/// Explore view put at the top of its `<main>` — every item, the order flips, the panel splits, panel ≠ human, each
/// judge and its flips, and the Label view. The report file itself stays a self-contained page without scripts; the
/// links exist only where they can work (served with the session's token, under a policy that allows no script).
package enum ReportLinks {
    /// The report's policy: its inline styles and data images, nothing else (no script, no other origin).
    package static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        + "frame-ancestors 'none'"

    /// `html` with the link bar inserted after its first `<main>` (else after `<body>`, else at the start).
    package static func inject(into html: String, token: String, judges: [String]) -> String {
        let bar = self.bar(token: token, judges: judges)
        for tag in ["<main>", "<body>"] {
            if let r = html.range(of: tag) {
                var out = html
                out.insert(contentsOf: bar, at: r.upperBound)
                return out
            }
        }
        return bar + html
    }

    /// The link bar. Every value is escaped for HTML, and query values are percent-encoded.
    package static func bar(token: String, judges: [String]) -> String {
        func link(_ query: [(String, String)], _ text: String, view: String = "explore") -> String {
            let q = ([("token", token)] + query).map { "\($0.0)=\(percent($0.1))" }.joined(separator: "&")
            return "<a href=\"/?\(escape(q))#\(view)\">\(escape(text))</a>"
        }
        var parts = [
            link([], "every item"), link([("flips", "1")], "order flips"), link([("split", "1")], "panel splits"),
            link([("disagree", "1")], "panel ≠ human"),
        ]
        for j in judges {
            parts.append(link([("judge", j)], j) + " (" + link([("judge", j), ("flips", "1")], "flips") + ")")
        }
        parts.append(link([], "label items", view: "label"))
        return "<nav class=\"jp-ui\" id=\"jp-ui-links\" style=\"background:#eef2f8;padding:.5em .8em;"
            + "border:1px solid #c9d3e3;margin-bottom:1em\"><strong>judgepanel ui</strong> · "
            + parts.joined(separator: " · ") + "</nav>"
    }

    static func percent(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func escape(_ s: String) -> String { HTMLReport.escape(s) }
}
