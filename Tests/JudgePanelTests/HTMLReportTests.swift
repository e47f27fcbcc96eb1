import Foundation
import JudgePanel
import JudgeStats
import Testing

/// A strict structural check of the generated markup: every `<` starts a known tag, attributes are quoted and
/// from an allowlist (no event handlers, no `src`/`href` to elsewhere), and tags nest and balance.
func htmlStructureProblems(_ html: String) -> [String] {
    let void: Set<String> = ["meta", "br", "hr", "img", "input", "link", "col", "wbr"]
    let allowedTags: Set<String> = [
        "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section", "h1", "h2",
        "h3", "p", "a",
        "b", "dl", "dt", "dd", "div", "ul", "li", "figure", "figcaption", "table", "caption", "thead", "tbody", "tr",
        "th", "td",
        "svg", "g", "rect", "line", "circle", "text",
    ]
    let allowedAttrs: Set<String> = [
        "lang", "charset", "name", "content", "id", "href", "class", "xmlns", "role", "aria-label", "viewbox", "width",
        "height",
        "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "fill", "stroke", "stroke-width", "transform",
        "text-anchor",
    ]
    var problems: [String] = []
    var stack: [String] = []
    let s = Array(html.unicodeScalars)
    var i = 0
    func at(_ k: Int) -> Character { k < s.count ? Character(s[k]) : "\0" }
    while i < s.count {
        guard s[i] == "<" else {
            if s[i] == ">" { problems.append("raw '>' in text at \(i)") }
            i += 1
            continue
        }
        var j = i + 1
        if at(j) == "!" {  // doctype
            while j < s.count, s[j] != ">" { j += 1 }
            i = j + 1
            continue
        }
        let closing = at(j) == "/"
        if closing { j += 1 }
        var name = ""
        while j < s.count, at(j).isLetter || at(j).isNumber {
            name.append(at(j))
            j += 1
        }
        name = name.lowercased()
        if !allowedTags.contains(name) { problems.append("unexpected tag <\(closing ? "/" : "")\(name)> at \(i)") }
        var selfClosing = false
        while j < s.count, s[j] != ">" {
            if at(j) == " " {
                j += 1
                continue
            }
            if at(j) == "/" {
                selfClosing = true
                j += 1
                continue
            }
            var attr = ""
            while j < s.count, at(j) != "=", at(j) != " ", at(j) != ">" {
                attr.append(at(j))
                j += 1
            }
            attr = attr.lowercased()
            if !allowedAttrs.contains(attr) { problems.append("attribute '\(attr)' on <\(name)> at \(i)") }
            if at(j) == "=" {
                j += 1
                guard at(j) == "\"" else {
                    problems.append("unquoted attribute \(attr) at \(i)")
                    break
                }
                j += 1
                while j < s.count, s[j] != "\"" {
                    if s[j] == "<" || s[j] == ">" { problems.append("raw < or > inside attribute \(attr) at \(i)") }
                    j += 1
                }
                j += 1
            }
            if attr == "href" {
                let v = String(String.UnicodeScalarView(s[i..<min(j, s.count)]))
                if !v.contains("href=\"#") { problems.append("external link \(v)") }
            }
        }
        i = j + 1
        if closing {
            if stack.last == name {
                stack.removeLast()
            } else {
                problems.append("</\(name)> closes <\(stack.last ?? "nothing")> at \(j)")
            }
        } else if !selfClosing && !void.contains(name) {
            if name == "style" || name == "title" {  // raw text until the end tag
                let rest = String(String.UnicodeScalarView(s[i...]))
                guard let end = rest.range(of: "</\(name)>") else {
                    problems.append("unclosed <\(name)>")
                    break
                }
                let inner = rest[..<end.lowerBound]
                if inner.contains("<") { problems.append("'<' inside <\(name)>") }
                i += inner.unicodeScalars.count + name.count + 3
                continue
            }
            stack.append(name)
        }
    }
    if !stack.isEmpty { problems.append("unclosed: \(stack)") }
    return problems
}

/// python3's html.parser as a second opinion, when python3 is installed: nesting and no `on*` attributes.
func pythonHTMLProblems(_ html: String) throws -> String? {
    guard
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        })
    else { return nil }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("jp-html-\(UUID().uuidString).html")
    try html.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let script = """
        import sys
        from html.parser import HTMLParser
        VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}
        class P(HTMLParser):
            def __init__(self):
                super().__init__(); self.stack = []; self.bad = []
            def handle_starttag(self, tag, attrs):
                for k, _ in attrs:
                    if k.startswith("on") or k in ("src", "srcdoc"): self.bad.append("attr " + k)
                if tag in ("script", "iframe", "object", "embed", "img", "link"): self.bad.append("tag " + tag)
                if tag not in VOID: self.stack.append(tag)
            def handle_startendtag(self, tag, attrs):
                for k, _ in attrs:
                    if k.startswith("on"): self.bad.append("attr " + k)
            def handle_endtag(self, tag):
                if not self.stack or self.stack[-1] != tag: self.bad.append("mismatched </%s>" % tag)
                else: self.stack.pop()
        p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
        if p.stack: p.bad.append("unclosed %s" % p.stack)
        print("\\n".join(p.bad[:20]))
        """
    let proc = Process()
    proc.executableURL = URL(fileURLWithPath: python)
    proc.arguments = ["-c", script, file.path]
    let pipe = Pipe()
    proc.standardOutput = pipe
    try launch(proc)
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    proc.waitUntilExit()
    return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("HTML report")
struct HTMLReportTests {
    static let hostile = [
        "<script>alert(1)</script>", "x\" onerror=\"alert(2)", "</svg><img src=x onerror=alert(3)>",
        "' onload='alert(4)",
        "a & b </table></body>",
    ]

    static func fixture() throws -> ([Item], [Vote]) {
        let items = try ItemLoader().load(path: panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path)
        let votes = try VotesFile.load(
            path: panelTestRoot.appendingPathComponent("fixtures/pandalm-50.votes.jsonl").path)
        return (items, votes)
    }

    /// Pairwise items and two-order votes whose judge names, ids, texts and meta are hostile.
    static func hostileRun() -> ([Item], [Vote]) {
        var items: [Item] = []
        var votes: [Vote] = []
        for k in 0..<24 {
            let h = hostile[k % hostile.count]
            let label: Preference = [.a, .b, .tie][k % 3]
            var item = Item(id: "\(h)#\(k)", prompt: h, responseA: h + " A", responseB: h + " B")
            item.modelA = h
            item.modelB = "m<b>\(k % 2)</b>"
            item.label = .pairwise(label)
            item.labels = [
                AnnotatorLabel(annotator: h, label: .pairwise(label)),
                AnnotatorLabel(annotator: "ann</svg>", label: .pairwise(k % 4 == 0 ? .b : label)),
            ]
            item.meta = ["<script>": .string(h)]
            items.append(item)
            for (j, judge) in hostile.enumerated() {
                for order in [Order.ab, Order.ba] {
                    var v = Vote(item: item.id, judge: judge, protocol: .pairwise)
                    v.order = order
                    v.verdict = (k + j + (order == .ba ? 1 : 0)) % 4 == 0 ? .b : label
                    v.status = .ok
                    v.raw = h
                    v.costUSD = 0.001
                    votes.append(v)
                }
            }
        }
        return (items, votes)
    }

    static func hostileProbes() -> JSONValue {
        var probes: [JSONValue] = []
        for (j, judge) in (hostile + ["panel"]).enumerated() {
            for (p, probe) in ["position", "verbosity", "<script>probe</script>"].enumerated() {
                probes.append([
                    "probe": .string(probe), "judge": .string(judge), "n": 20, "flip_rate": .number(0.1 * Double(j)),
                    "flip_rate_ci": [0.0, 0.5], "bias": .number(0.2 * Double(p - 1) + 0.05 * Double(j)),
                    "bias_ci": [-0.3, 0.4],
                ])
            }
        }
        return ["probes": .array(probes), "descriptions": ["verbosity": "<script>alert(5)</script>"]]
    }

    static func assertSafe(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lower = html.lowercased()
        #expect(!lower.contains("<script"), "raw <script", sourceLocation: sourceLocation)
        #expect(!lower.contains("<img"), "raw <img", sourceLocation: sourceLocation)
        #expect(!lower.contains("</svg><img"), sourceLocation: sourceLocation)
        #expect(
            !lower.contains("</svg><"),
            "an </svg> followed by markup (only ever followed by a newline-free text or our own tags)",
            sourceLocation: sourceLocation)
        // Every `onerror=` / `onload=` is inside text, escaped: never preceded by a raw quote-free attribute context.
        for bad in [" onerror=\"", " onload=\"", " onload='"] {
            #expect(!lower.contains(bad), "raw \(bad)", sourceLocation: sourceLocation)
        }
        #expect(
            html.components(separatedBy: "<svg").count == html.components(separatedBy: "</svg>").count,
            sourceLocation: sourceLocation)
        let problems = htmlStructureProblems(html)
        #expect(problems.isEmpty, "\(problems.prefix(10))", sourceLocation: sourceLocation)
        if let py = try pythonHTMLProblems(html) {
            #expect(py.isEmpty, "html.parser: \(py)", sourceLocation: sourceLocation)
        }
    }

    @Test("hostile judge names, items, annotators, meta and probe names render as escaped text")
    func hostileEscaped() throws {
        let (items, votes) = Self.hostileRun()
        let report = MetaAnalysis().report(items: items, votes: votes)
        let ctx = HTMLReport.Context(
            title: "<script>alert('t')</script>", dataset: "</svg><script>", rubric: "r\" onerror=\"x",
            panel: Self.hostile.joined(separator: ", "),
            cost: 0.5, date: "<b>now</b>", probes: Self.hostileProbes(), items: items, votes: votes,
            extra: [("<x>", "</dd></dl>")])
        let html = HTMLReport.render(report: report, context: ctx)
        try Self.assertSafe(html)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;/svg&gt;&lt;img src=x onerror=alert(3)&gt;"))
        #expect(html.contains("x&quot; onerror=&quot;alert(2)"))
        // The charts are there, with the hostile names inside them.
        for id in ["accuracy", "kappa", "confusion", "position", "interjudge", "probes"] {
            #expect(html.contains("<section id=\"\(id)\">"), "section \(id)")
        }
    }

    @Test("the fixture page is self-contained: charts, tables, no scripts, no external resources")
    func fixturePage() throws {
        let (items, votes) = try Self.fixture()
        let report = MetaAnalysis().report(items: items, votes: votes)
        let html = HTMLReport.render(
            report: report,
            context: .init(
                title: "PandaLM-50", dataset: "fixtures/pandalm-50.jsonl", rubric: "recorded", cost: nil,
                date: "2025-01-01", items: items, votes: votes))
        try Self.assertSafe(html)
        for id in ["summary", "accuracy", "kappa", "confusion", "interjudge", "human"] {
            #expect(html.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        #expect(!html.contains("id=\"scores\""))  // pairwise: no score distributions
        let svgs = html.components(separatedBy: "<svg").count - 1
        #expect(svgs >= 6)  // accuracy, κ, three confusion matrices, inter-judge heatmap
        let tables = html.components(separatedBy: "<table>").count - 1
        #expect(tables >= 5)
        // No network: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").count - 1
        #expect(urls == html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1)
        #expect(!html.contains("url(") && !html.contains("@import") && !html.contains("<link"))
        for judge in ["gpt-3.5-turbo", "pandalm-7b", "panel"] { #expect(html.contains(judge)) }
        // Header facts.
        for fact in ["fixtures/pandalm-50.jsonl", "2025-01-01", "Cost", "Rubric", "Panel"] {
            #expect(html.contains(fact))
        }
        // Deterministic.
        let again = HTMLReport.render(
            report: report,
            context: .init(
                title: "PandaLM-50", dataset: "fixtures/pandalm-50.jsonl", rubric: "recorded", cost: nil,
                date: "2025-01-01", items: items, votes: votes))
        #expect(html == again)
    }

    @Test("pointwise runs get score distributions; probe-only pages render the bias heatmap")
    func scoresAndProbes() throws {
        var items: [Item] = []
        var votes: [Vote] = []
        for k in 0..<30 {
            var item = Item(id: "i\(k)", prompt: "p", response: "r\(k)")
            item.label = .score(Double(1 + k % 5))
            items.append(item)
            for judge in ["lenient", "<harsh>"] {
                var v = Vote(item: item.id, judge: judge, protocol: .pointwise)
                v.score = Double(min(5, max(1, 1 + k % 5 + (judge == "lenient" ? 1 : -1))))
                v.status = .ok
                votes.append(v)
            }
        }
        let report = MetaAnalysis().report(items: items, votes: votes)
        let html = HTMLReport.render(report: report, context: .init(title: "scores", items: items, votes: votes))
        try Self.assertSafe(html)
        #expect(html.contains("<section id=\"scores\">"))
        #expect(html.contains("&lt;harsh&gt;"))
        #expect(!html.contains("id=\"confusion\""))

        let probeOnly = HTMLReport.render(report: nil, context: .init(title: "probe", probes: Self.hostileProbes()))
        try Self.assertSafe(probeOnly)
        #expect(probeOnly.contains("<section id=\"probes\">"))
        #expect(probeOnly.contains("flip 0.10"))
    }

    @Test("judgepanel report DIR regenerates report.json, report.md and report.html identically from votes")
    func reportCommandRegenerates() async throws {
        let dir = try tempDir("report")
        let items = panelTestRoot.appendingPathComponent("fixtures/pandalm-50.jsonl").path
        try FileManager.default.copyItem(
            atPath: panelTestRoot.appendingPathComponent("fixtures/pandalm-50.votes.jsonl").path,
            toPath: dir.appendingPathComponent("votes.jsonl").path)
        let config: JSONValue = [
            "items": .string(items), "rubric": ["id": "recorded", "protocol": "pairwise"],
            "panel": [
                "source": "fixtures", "aggregate": "majority", "flip": "tie",
                "judges": [["name": "gpt-3.5-turbo"], ["name": "pandalm-7b"]],
            ],
        ]
        try String(decoding: JSONEncoder().encode(config), as: UTF8.self).write(
            to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let first = try await runJudgepanel(["report", dir.path])
        #expect(first.code == 0, "\(first.err)")
        let names = ["report.json", "report.md", "report.html"]
        var originals: [String: String] = [:]
        for n in names { originals[n] = try String(contentsOf: dir.appendingPathComponent(n), encoding: .utf8) }
        for n in names { try FileManager.default.removeItem(at: dir.appendingPathComponent(n)) }
        let second = try await runJudgepanel(["report", dir.path, "--html"])
        #expect(second.code == 0, "\(second.err)")
        for n in names {
            let again = try String(contentsOf: dir.appendingPathComponent(n), encoding: .utf8)
            #expect(again == originals[n], "\(n) differs after regeneration")
        }
        // The meta keys equal the in-process analysis (no model was called: there is no server).
        let json = try JSONValue.parse(originals["report.json"]!)
        #expect(json["n_items"]?.intValue == 50)
        #expect(json["judges"]?.arrayValue?.count == 2)
        try Self.assertSafe(originals["report.html"]!)
    }
}
