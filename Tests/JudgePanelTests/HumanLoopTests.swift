import Foundation
import JudgePanel
import JudgePanelUI
import JudgeStats
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A four-item pairwise run with two judges, both orders, one sample — small enough to check every number by hand
/// (see each test's comments).
enum HumanLoopRun {
    static let items = [
        #"{"id":"q1","prompt":"Say hi","response_a":"<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">alpha","response_b":"beta","model_a":"modelX","model_b":"modelY","label":"A","meta":{"topic":"math"}}"#,
        #"{"id":"q2","prompt":"Add 2+2","response_a":"5","response_b":"4","model_a":"modelX","model_b":"modelY","label":"B","meta":{"topic":"code"}}"#,
        #"{"id":"q3","prompt":"Name a colour","response_a":"red","response_b":"blue","model_a":"modelY","model_b":"modelX","label":"A"}"#,
        #"{"id":"q4","prompt":"Capital of France","response_a":"Paris","response_b":"Paris.","model_a":"modelY","model_b":"modelX","label":"tie"}"#,
    ]
    // (item, judge, order, verdict in the dataset's orientation)
    static let votes = [
        #"{"item":"q1","judge":"j1","protocol":"pairwise","order":"AB","sample":0,"verdict":"A","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q1","judge":"j1","protocol":"pairwise","order":"BA","sample":0,"verdict":"A","status":"ok","raw":"[[B]]"}"#,
        #"{"item":"q1","judge":"j2","protocol":"pairwise","order":"AB","sample":0,"verdict":"A","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q1","judge":"j2","protocol":"pairwise","order":"BA","sample":0,"verdict":"B","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q2","judge":"j1","protocol":"pairwise","order":"AB","sample":0,"verdict":"B","status":"ok","raw":"[[B]]"}"#,
        #"{"item":"q2","judge":"j1","protocol":"pairwise","order":"BA","sample":0,"verdict":"B","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q2","judge":"j2","protocol":"pairwise","order":"AB","sample":0,"verdict":"B","status":"ok","raw":"[[B]]"}"#,
        #"{"item":"q2","judge":"j2","protocol":"pairwise","order":"BA","sample":0,"verdict":"B","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q3","judge":"j1","protocol":"pairwise","order":"AB","sample":0,"verdict":"A","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q3","judge":"j1","protocol":"pairwise","order":"BA","sample":0,"verdict":"tie","status":"ok","raw":"[[C]]"}"#,
        #"{"item":"q3","judge":"j2","protocol":"pairwise","order":"AB","sample":0,"verdict":"B","status":"ok","raw":"[[B]]"}"#,
        #"{"item":"q3","judge":"j2","protocol":"pairwise","order":"BA","sample":0,"verdict":"tie","status":"ok","raw":"[[C]]"}"#,
        #"{"item":"q4","judge":"j1","protocol":"pairwise","order":"AB","sample":0,"verdict":"A","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q4","judge":"j1","protocol":"pairwise","order":"BA","sample":0,"status":"error","reason":"timeout","error":"timed out"}"#,
        #"{"item":"q4","judge":"j2","protocol":"pairwise","order":"AB","sample":0,"verdict":"A","status":"ok","raw":"[[A]]"}"#,
        #"{"item":"q4","judge":"j2","protocol":"pairwise","order":"BA","sample":0,"verdict":"A","status":"ok","raw":"[[B]]"}"#,
    ]
    // Reconciled under flip: tie — q1: j1 A, j2 tie (flipped) → panel tie; q2: B, B → B; q3: both flipped → tie;
    // q4: j1 A (one order), j2 A → A.
    static let verdicts = [
        #"{"item":"q1","verdict":"tie","judges":{"j1":"A","j2":"tie"},"agreement":0.5,"flips":["j2"],"abstained":[]}"#,
        #"{"item":"q2","verdict":"B","judges":{"j1":"B","j2":"B"},"agreement":1,"flips":[],"abstained":[]}"#,
        #"{"item":"q3","verdict":"tie","judges":{"j1":"tie","j2":"tie"},"agreement":1,"flips":["j1","j2"],"abstained":[]}"#,
        #"{"item":"q4","verdict":"A","judges":{"j1":"A","j2":"A"},"agreement":1,"flips":[],"abstained":[]}"#,
    ]

    /// Writes the run directory (config.json naming the items file) and returns it.
    static func write() throws -> URL {
        let dir = try tempDir("hitl")
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try (items.joined(separator: "\n") + "\n").write(toFile: itemsPath, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try (votes.joined(separator: "\n") + "\n").write(
            to: run.appendingPathComponent("votes.jsonl"), atomically: true, encoding: .utf8)
        try (verdicts.joined(separator: "\n") + "\n").write(
            to: run.appendingPathComponent("verdicts.jsonl"), atomically: true, encoding: .utf8)
        let config: JSONValue = ["items": .string(itemsPath), "rubric": ["id": "pairwise", "protocol": "pairwise"]]
        try config.compactData().write(to: run.appendingPathComponent("config.json"))
        return run
    }

    static func loadedItems() throws -> [Item] {
        try items.enumerated().map { try ItemLoader().parse(line: $1, file: "items", number: $0 + 1) }
    }

    static func loadedVotes() throws -> [Vote] {
        try votes.map { try JSONDecoder().decode(Vote.self, from: Data($0.utf8)) }
    }
}

@Suite("Humans in the loop: selection, the FairEval curve, agreement, Label Studio")
struct HumanLoopTests {
    @Test("BPDE equals FairEval's -sum p ln p over the 2k results mapped to response_a's win/tie/lose")
    func bpdeByHand() throws {
        let ids = ["q1", "q2", "q3", "q4"]
        let scores = LabelSelection.scores(rule: .bpde, items: ids, votes: try HumanLoopRun.loadedVotes())
        // q1: A A A B → −(.75 ln .75 + .25 ln .25); q2: B×4 → 0; q3: A tie B tie → −(2·.25 ln .25 + .5 ln .5);
        // q4: A A A (the error vote has no result) → 0.
        let q1 = -(0.75 * log(0.75) + 0.25 * log(0.25))
        let q3 = -(2 * 0.25 * log(0.25) + 0.5 * log(0.5))
        #expect(abs(scores[0]! - q1) < 1e-12)
        #expect(scores[1] == 0)
        #expect(abs(scores[2]! - q3) < 1e-12)
        #expect(scores[3] == 0)
        #expect(abs(q1 - 0.5623351446188083) < 1e-12 && abs(q3 - 1.0397207708399179) < 1e-12)
        let picks = LabelSelection.select(ids: ids, scores: scores, rule: .bpde, budget: 4)
        // Highest first, the two zeros by id.
        #expect(picks.map(\.item) == ["q3", "q1", "q2", "q4"])
        #expect(picks.allSatisfy { $0.pSelect == 1 })
        // One judge alone: j2 on q3 is B, tie → ln 2; on q1 A, B → ln 2.
        let j2 = LabelSelection.scores(rule: .bpde, items: ids, votes: try HumanLoopRun.loadedVotes(), judge: "j2")
        #expect(abs(j2[0]! - log(2)) < 1e-12 && abs(j2[2]! - log(2)) < 1e-12 && j2[1] == 0)
    }

    @Test("disagreement is the entropy of the reconciled verdicts; uncertainty is 1 - the top Dawid-Skene posterior")
    func otherRules() throws {
        let ids = ["q1", "q2", "q3", "q4"]
        let votes = try HumanLoopRun.loadedVotes()
        let d = LabelSelection.scores(rule: .disagreement, items: ids, votes: votes)
        #expect(abs(d[0]! - log(2)) < 1e-12)  // j1 A, j2 tie
        #expect(d[1] == 0 && d[2] == 0 && d[3] == 0)
        let u = LabelSelection.scores(rule: .uncertainty, items: ids, votes: votes)
        #expect(u.allSatisfy { $0 != nil && $0! >= 0 && $0! < 1 })
        #expect(u[0]! > u[1]!)  // the split item is the uncertain one
        // crowd-kit 1.4.2 DawidSkene(n_iter=100, tol=1e-5) on the reconciled table:
        // scripts/reference/make_uncertainty_fixture.py
        let crowdKit = [0.5, 0.0, 3.33333360913457e-11, 3.33333360913457e-11]
        for (got, want) in zip(u, crowdKit) { #expect(abs(got! - want) < 1e-9) }
    }

    @Test("report.html as the UI serves it: a link bar into Explore at the top of <main>, hostile names inert")
    func reportLinks() {
        let html = "<!doctype html><html><body><main><h1>Report</h1></main></body></html>"
        let out = ReportLinks.inject(into: html, token: "t0k", judges: ["j1", "<b>x&y</b>"])
        #expect(out.hasPrefix("<!doctype html><html><body><main><nav class=\"jp-ui\""))
        #expect(out.hasSuffix("<h1>Report</h1></main></body></html>"))
        #expect(out.contains("href=\"/?token=t0k&amp;flips=1#explore\">order flips</a>"))
        #expect(
            out.contains("href=\"/?token=t0k&amp;judge=%3Cb%3Ex%26y%3C%2Fb%3E#explore\">&lt;b&gt;x&amp;y&lt;/b&gt;</a>")
        )
        #expect(!out.contains("<b>x"))
        #expect(out.contains("#label\">label items</a>"))
        #expect(ReportLinks.inject(into: "plain", token: "t", judges: []).hasSuffix("</nav>plain"))
        #expect(!ReportLinks.contentSecurityPolicy.contains("script"))
    }

    @Test("--explore: the top items with p 1, the rest drawn uniformly with p = E / (n - N + E), frequencies agree")
    func exploreInclusion() {
        let ids = (0..<10).map { String(format: "i%02d", $0) }
        let scores: [Double?] = (0..<10).map { Double(10 - $0) }
        let picks = LabelSelection.select(ids: ids, scores: scores, rule: .bpde, budget: 4, explore: 0.5, seed: 7)
        #expect(picks.count == 4)
        #expect(picks.prefix(2).map(\.item) == ["i00", "i01"] && picks.prefix(2).allSatisfy { $0.pSelect == 1 })
        #expect(picks.suffix(2).allSatisfy { $0.pSelect == 2.0 / 8.0 && $0.explored })
        // Over many seeds each non-top item is drawn with frequency ≈ 0.25 (deterministic seeds: no flakiness).
        var counts = [String: Int]()
        let rounds = 4000
        for s in 0..<rounds {
            for p in LabelSelection.select(
                ids: ids, scores: scores, rule: .bpde, budget: 4, explore: 0.5, seed: UInt64(s)) where p.explored
            {
                counts[p.item, default: 0] += 1
            }
        }
        for id in ids.dropFirst(2) { #expect(abs(Double(counts[id] ?? 0) / Double(rounds) - 0.25) < 0.03) }
        let random = LabelSelection.select(ids: ids, scores: scores, rule: .random, budget: 3, seed: 1)
        #expect(random.count == 3 && random.allSatisfy { $0.pSelect == 0.3 })
    }

    @Test("--hitl reproduces the hand-computed FairEval curve")
    func hitlCurve() throws {
        let labels = [
            LabelRecord(item: "q3", annotator: "ann", label: .pairwise(.a), selectedBy: "bpde"),
            LabelRecord(item: "q1", annotator: "ann", label: .pairwise(.a), selectedBy: "bpde"),
            LabelRecord(item: "q4", annotator: "ann", label: .pairwise(.tie), selectedBy: "bpde"),
            LabelRecord(item: "q4", annotator: "bob", label: .pairwise(.tie), selectedBy: "bpde"),
            LabelRecord(item: "zz", annotator: "bob", label: .pairwise(.a), selectedBy: "bpde"),
        ]
        let curve = HITLCurve.compute(
            items: try HumanLoopRun.loadedItems(), votes: try HumanLoopRun.loadedVotes(), labels: labels)
        // Gold A B A tie. Panel tie B tie A: 1/4. j1 A B tie A: 2/4. j2 tie B tie A: 1/4.
        // k=1 (q3 → A): panel 2/4, j1 3/4, j2 2/4. k=2 (q1 → A): 3/4 each. k=3 (q4 → tie): 1 each.
        #expect(curve.points.map(\.labelled) == [0, 1, 2, 3])
        #expect(curve.points.map(\.share) == [0, 0.25, 0.5, 0.75])
        #expect(curve.points.map(\.panelAccuracy) == [0.25, 0.5, 0.75, 1])
        #expect(curve.points.map { $0.judges["j1"]! } == [0.5, 0.75, 0.75, 1])
        #expect(curve.points.map { $0.judges["j2"]! } == [0.25, 0.5, 0.75, 1])
        #expect(curve.nWithReference == 4 && curve.unknownItems == 1)
        let json = try JSONValue(jsonData: JSONEncoder().encode(curve))
        #expect(json["points"]?[1]?["panel_accuracy"]?.doubleValue == 0.5)
    }

    @Test("annotators' agreement: Cohen kappa by hand, each annotator against the panel")
    func annotatorAgreement() throws {
        let set = LabelSet([
            LabelRecord(item: "q1", annotator: "ann", label: .pairwise(.a)),
            LabelRecord(item: "q3", annotator: "ann", label: .pairwise(.a)),
            LabelRecord(item: "q4", annotator: "ann", label: .pairwise(.tie)),
            LabelRecord(item: "q1", annotator: "bob", label: .pairwise(.b)),
            LabelRecord(item: "q3", annotator: "bob", label: .pairwise(.a)),
            LabelRecord(item: "q4", annotator: "bob", label: .pairwise(.tie)),
        ])
        let panel: [String: Preference?] = ["q1": .tie, "q2": .b, "q3": .tie, "q4": .a]
        let a = AnnotatorAgreement.compute(items: try HumanLoopRun.loadedItems(), labels: set, panel: panel)
        // ann [A, A, tie] vs bob [B, A, tie]: po 2/3, pe 1/3 → κ 0.5.
        #expect(abs((a.human?.pairwiseCohenKappa["ann|bob"]?.value ?? -9) - 0.5) < 1e-12)
        #expect(a.human?.nItems == 3)
        #expect(a.withPanel.map(\.annotator) == ["ann", "bob"])
        #expect(a.withPanel[0].agreement.value == 0 && a.withPanel[0].n == 3)
        #expect(a.withPanel[1].agreement.value == 0)
    }

    @Test("Label Studio: tasks are blind and shuffled; a recorded export reads back in the dataset's orientation")
    func labelStudioRoundTrip() throws {
        let items = try HumanLoopRun.loadedItems()
        let tasks = LabelStudio.tasks(items: items, shownOrder: { $0.id == "q1" ? .ba : .ab })
        let text = String(decoding: try tasks.compactData(), as: UTF8.self)
        #expect(!text.contains("modelX") && !text.contains("\"label\""))
        #expect(tasks[0]?["data"]?["answer1"]?.stringValue == "beta")  // q1 shown BA
        // The export of a real Label Studio server (scripts/labelstudio/record_export.py): every task was annotated
        // with the item's reference label as the task showed it, so reading it back must give the items' labels.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/labelstudio/export.json")
        let records = try LabelStudio.labels(export: try Data(contentsOf: url), file: url.path)
        #expect(records.count == 4)
        let gold = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.label) })
        for r in records {
            #expect(r.label == gold[r.item]!, "item \(r.item) shown \(r.shownOrder?.rawValue ?? "-")")
            #expect(r.shownOrder != nil && r.selectedBy == "bpde")
        }
        #expect(Set(records.compactMap(\.shownOrder)).count == 2)  // both orders were shown
        let bad = Data(#"[{"data":{"prompt":"x"},"annotations":[]}]"#.utf8)
        #expect(throws: JudgePanelError.self) { try LabelStudio.labels(export: bad, file: "bad.json") }
    }
}

@Suite("judgepanel ui: the run index, Explore filters, the Label session and the server's guard")
struct UIServerTests {
    @Test("Explore filters over the index")
    func exploreFilters() throws {
        let run = try HumanLoopRun.write()
        let index = try RunIndex(dir: run.path)
        let explore = Explore(index: index)
        func ids(_ f: Explore.Filter) -> [String] { explore.matching(f).map { index.ids[$0] } }
        #expect(index.votes.count == 16 && index.judges == ["j1", "j2"])
        #expect(ids(.init(flips: true)) == ["q1", "q3"])
        #expect(ids(.init(split: true)) == ["q1"])
        #expect(ids(.init(disagree: true)) == ["q1", "q3", "q4"])
        #expect(ids(.init(reason: "timeout")) == ["q4"])
        #expect(ids(.init(judge: "j1", reason: "timeout")) == ["q4"])
        #expect(ids(.init(judge: "j2", reason: "timeout")) == [])
        #expect(ids(.init(metaKey: "topic", metaValue: "math")) == ["q1"])
        #expect(ids(.init(metaKey: "topic")) == ["q1", "q2"])
        #expect(ids(.init(query: "pwned")) == ["q1"])
        #expect(ids(.init(query: "PWNED")) == [])  // case-sensitive
        #expect(ids(.init(query: "Paris")) == ["q4"])
        #expect(ids(.init(query: "q4")) == ["q4"])
        let detail = try #require(try explore.detail(id: "q4"))
        #expect(detail["votes"]?.arrayValue?.count == 4)
        #expect(detail["votes"]?.arrayValue?.contains { $0["reason"]?.stringValue == "timeout" } == true)
        #expect(detail["verdict"]?["verdict"]?.stringValue == "A")
    }

    @Test("the label session: blind, seeded shown order, dataset orientation, fsynced append, undo, resume")
    func labelSession() async throws {
        let run = try HumanLoopRun.write()
        let index = try RunIndex(dir: run.path)
        let labels = run.appendingPathComponent("labels.jsonl").path
        let queue = index.items.indices.map { LabelSession.Entry(item: $0, selectedBy: "bpde", pSelect: 0.5) }
        let s = try LabelSession(index: index, annotator: "ann", labelsPath: labels, queue: queue, seed: 3)
        let first = try await s.next()
        let shown = String(decoding: try first.compactData(), as: UTF8.self)
        for secret in ["modelX", "modelY", "j1", "j2", "\"q1\"", "verdict", "panel"] {
            #expect(!shown.contains(secret))
        }
        let key = try #require(first["item"]?["key"]?.intValue)
        let order = s.shownOrder(item: index.ids[key])
        #expect(order == LabelSession.shownOrder(seed: 3, annotator: "ann", item: index.ids[key]))
        try await s.label(key: key, choice: "A")  // the first shown
        var recs = try LabelsFile.read(path: labels, pairwise: true)
        #expect(
            recs.count == 1 && recs[0].shownOrder == order && recs[0].selectedBy == "bpde" && recs[0].pSelect == 0.5)
        #expect(recs[0].label == .pairwise(order == .ab ? .a : .b))
        try await s.undo()
        #expect(try LabelsFile.read(path: labels, pairwise: true).isEmpty)
        try await s.label(key: key, choice: "T")
        let second = try #require(try await s.next()["item"]?["key"]?.intValue)
        #expect(second != key)
        // A restart resumes after the labelled item; another annotator starts at the beginning.
        let again = try LabelSession(index: index, annotator: "ann", labelsPath: labels, queue: queue, seed: 3)
        #expect(try await again.next()["item"]?["key"]?.intValue == second)
        #expect(try await again.next()["done"]?.intValue == 1)
        let other = try LabelSession(index: index, annotator: "bob", labelsPath: labels, queue: queue, seed: 3)
        #expect(try await other.next()["item"]?["key"]?.intValue == key)
        recs = try LabelsFile.read(path: labels, pairwise: true)
        #expect(recs.count == 1 && recs[0].label == .pairwise(.tie))
        // Across many items both orders occur.
        let orders = Set((0..<64).map { LabelSession.shownOrder(seed: 3, annotator: "ann", item: "item\($0)") })
        #expect(orders.count == 2)
    }

    @Test("the server: 403 without the token or with another Host, CSP on every page, JSON API")
    func serverGuard() async throws {
        let run = try HumanLoopRun.write()
        let index = try RunIndex(dir: run.path)
        let queue = index.items.indices.map { LabelSession.Entry(item: $0, selectedBy: "census", pSelect: 1) }
        let session = try LabelSession(
            index: index, annotator: "ann", labelsPath: run.appendingPathComponent("labels.jsonl").path, queue: queue,
            seed: 0)
        let server = UIServer(index: index, session: session, options: .init(token: "t0k3n"))
        let urls = AsyncStream<String>.makeStream()
        let task = Task { try await server.run { urls.continuation.yield($0) } }
        defer { task.cancel() }
        var it = urls.stream.makeAsyncIterator()
        let printed = try #require(await it.next())
        #expect(printed.hasPrefix("http://127.0.0.1:") && printed.contains("?token=t0k3n"))
        let base = String(printed.prefix { $0 != "?" }).replacingOccurrences(of: "/#explore", with: "/")
        func get(_ path: String, host: String? = nil) async throws -> (Int, String, HTTPURLResponse) {
            var r = URLRequest(url: URL(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path)!)
            if let host { r.setValue(host, forHTTPHeaderField: "Host") }
            let (data, resp) = try await URLSession.shared.data(for: r)
            let h = resp as! HTTPURLResponse
            return (h.statusCode, String(decoding: data, as: UTF8.self), h)
        }
        #expect(try await get("/").0 == 403)
        #expect(try await get("/api/summary").0 == 403)
        #expect(try await get("/api/summary?token=wrong").0 == 403)
        #expect(try await get("/app.js?token=t0k3n", host: "evil.example:80").0 == 403)
        let (code, html, resp) = try await get("/?token=t0k3n")
        #expect(code == 200 && html.contains("app.js?token=t0k3n"))
        let csp = resp.value(forHTTPHeaderField: "Content-Security-Policy") ?? ""
        #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"))
        #expect(resp.value(forHTTPHeaderField: "Referrer-Policy") == "no-referrer")
        let js = try await get("/app.js?token=t0k3n").1
        #expect(!js.contains("innerHTML") && !js.contains("eval("))
        let (_, summary, _) = try await get("/api/summary?token=t0k3n")
        #expect(try JSONValue(jsonData: Data(summary.utf8))["n_items"]?.intValue == 4)
        let (_, list, _) = try await get("/api/items?token=t0k3n&flips=1&judge=j2")
        #expect(try JSONValue(jsonData: Data(list.utf8))["total"]?.intValue == 2)
        // No report.html in this run: /report is a 404 (after the token check), and the summary says so.
        #expect(try await get("/report").0 == 403)
        #expect(try await get("/report?token=t0k3n").0 == 404)
        #expect(try JSONValue(jsonData: Data(summary.utf8))["has_report"] == false)
        try "<html><body><main>R</main></body></html>".write(
            to: run.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        let (rc, report, rresp) = try await get("/report?token=t0k3n")
        #expect(rc == 200 && report.contains("id=\"jp-ui-links\"") && report.contains(">j2</a>"))
        #expect(rresp.value(forHTTPHeaderField: "Content-Security-Policy") == ReportLinks.contentSecurityPolicy)
    }
}

@Suite("judgepanel label / meta --hitl / import label-studio: the built CLI")
struct HumanLoopCLITests {
    @Test("label --dry-run --json --select bpde prints FairEval's order with scores and p_select")
    func labelDryRun() async throws {
        let r = try await runJudgepanel([
            "label", "fixtures/labelstudio/run", "--budget", "4", "--select", "bpde", "--dry-run", "--json",
        ])
        #expect(r.code == 0, "\(r.err)")
        let rows = try #require(try JSONValue(jsonData: Data(r.out.utf8)).arrayValue)
        #expect(rows.map { $0["item"]?.stringValue ?? "" } == ["q3", "q1", "q2", "q4"])
        #expect(abs((rows[0]["score"]?.doubleValue ?? 0) - 1.0397207708399179) < 1e-12)
        #expect(rows.allSatisfy { $0["p_select"]?.doubleValue == 1 })
        let explore = try await runJudgepanel(
            [
                "label", "fixtures/labelstudio/run", "--budget", "2", "--select", "bpde", "--explore", "0.5",
                "--dry-run", "--json",
            ])
        let picks = try #require(try JSONValue(jsonData: Data(explore.out.utf8)).arrayValue)
        // One top item (p 1), one of the other three drawn uniformly (p 1/3).
        #expect(picks.count == 2 && picks[0]["item"]?.stringValue == "q3" && picks[0]["p_select"]?.doubleValue == 1)
        #expect(abs((picks[1]["p_select"]?.doubleValue ?? 0) - 1.0 / 3.0) < 1e-15)
        let bad = try await runJudgepanel(["label", "fixtures/labelstudio/run", "--select", "bpde", "--dry-run"])
        #expect(bad.code == 2)
    }

    @Test("meta --hitl --json prints the curve; import label-studio appends labels")
    func hitlAndImport() async throws {
        let dir = try tempDir("hitl-cli")
        let labels = dir.appendingPathComponent("labels.jsonl").path
        let r = try await runJudgepanel([
            "import", "label-studio", "fixtures/labelstudio/export.json", "--labels-out", labels,
        ])
        #expect(r.code == 0, "\(r.err)")
        #expect(try LabelsFile.read(path: labels, pairwise: true).count == 4)
        let m = try await runJudgepanel([
            "meta", "fixtures/labelstudio/items.jsonl", "--votes", "fixtures/labelstudio/run/votes.jsonl", "--labels",
            labels,
            "--hitl", "--json",
        ])
        #expect(m.code == 0, "\(m.err)")
        let j = try JSONValue(jsonData: Data(m.out.utf8))
        let points = try #require(j["hitl"]?["points"]?.arrayValue)
        #expect(points.count == 5)
        // Every item labelled with its reference label: the last point is 1 for the panel and both judges.
        #expect(points.last?["panel_accuracy"]?.doubleValue == 1)
        #expect(points.first?["panel_accuracy"]?.doubleValue == 0.25)
    }
}
