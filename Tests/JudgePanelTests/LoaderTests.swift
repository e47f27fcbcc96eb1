import Foundation
import JudgePanel
import Testing

@Suite("Loaders reject malformed input with file and line")
struct LoaderTests {
    func write(_ text: String, _ name: String = "items.jsonl") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func expectError(line: Int?, containing: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error containing '\(containing)'")
        } catch let e as JudgePanelError {
            #expect(e.isInputError)
            #expect(e.line == line)
            #expect(e.description.contains(containing), "\(e.description)")
            #expect(e.file != nil)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("bad JSON, missing id, duplicate id, wrong label")
    func items() throws {
        let ok = #"{"id": "1", "prompt": "p", "response_a": "a", "response_b": "b", "label": "A"}"#
        let bad = try write(ok + "\n{not json\n")
        expectError(line: 2, containing: "invalid JSON") { _ = try ItemLoader().load(path: bad) }
        let noID = try write(ok + "\n" + #"{"prompt": "p"}"# + "\n")
        expectError(line: 2, containing: "missing \"id\"") { _ = try ItemLoader().load(path: noID) }
        let dup = try write(ok + "\n\n" + ok + "\n")
        expectError(line: 3, containing: "duplicate id '1' (first on line 1)") { _ = try ItemLoader().load(path: dup) }
        let label = try write(#"{"id": "1", "prompt": "p", "response_a": "a", "response_b": "b", "label": "2"}"# + "\n")
        expectError(line: 1, containing: "pairwise label") { _ = try ItemLoader().load(path: label) }
        let mapped = try ItemLoader(mapping: ItemMapping(fieldMap: [:], labelMap: ["2": "B"])).load(path: label)
        #expect(mapped[0].label == .pairwise(.b))
    }

    @Test("--map and --label-map read other datasets")
    func mapping() throws {
        let path = try write(#"{"idx": 7, "instruction": "Do it", "output_1": "x", "output_2": "y", "pref": 0}"# + "\n")
        let mapping = try ItemMapping(
            mapOptions: ["id=idx", "prompt=instruction", "response_a=output_1,response_b=output_2", "label=pref"],
            labelMapOptions: ["1=A,2=B,0=tie"])
        let items = try ItemLoader(mapping: mapping).load(path: path)
        #expect(items[0].id == "7")
        #expect(items[0].prompt == "Do it")
        #expect(items[0].responseB == "y")
        #expect(items[0].label == .pairwise(.tie))
        #expect(throws: JudgePanelError.self) { try ItemMapping(mapOptions: ["nonsense=x"], labelMapOptions: []) }
    }

    @Test("a field the rubric needs but the item lacks")
    func missingField() throws {
        let rubric = try loadRubric("pairwise-reference")
        let path = try write(#"{"id": "q", "prompt": "p", "response_a": "a", "response_b": "b"}"# + "\n")
        let items = try ItemLoader().load(path: path)
        expectError(line: 1, containing: "lacks 'reference'") { try rubric.validate(items[0], file: path) }
        let pointwise = try loadRubric("pointwise-1to10")
        expectError(line: 1, containing: "lacks 'response'") { try pointwise.validate(items[0], file: path) }
    }

    @Test("unknown protocol, unknown template variable, unknown key, newer version")
    func rubrics() throws {
        let base = "version: 1\nid: r\nprotocol: pairwise\ntemplate: |\n  {{prompt}} {{response_a}} {{response_b}}\n"
        expectError(line: 3, containing: "unknown protocol 'ranking'") {
            _ = try Rubric.parse(
                yaml: base.replacingOccurrences(of: "protocol: pairwise", with: "protocol: ranking"), file: "r.yaml")
        }
        let badVar =
            "version: 1\nid: r\nprotocol: pairwise\ntemplate: |\n  {{prompt}}\n  {{response_a}} {{respons_b}}\n"
        expectError(line: 6, containing: "'{{respons_b}}' does not exist") {
            _ = try Rubric.parse(yaml: badVar, file: "r.yaml")
        }
        expectError(line: 6, containing: "unknown key 'tempalte'") {
            _ = try Rubric.parse(yaml: base + "tempalte: x\n", file: "r.yaml")
        }
        expectError(line: 1, containing: "version 2 is not supported") {
            _ = try Rubric.parse(yaml: base.replacingOccurrences(of: "version: 1", with: "version: 2"), file: "r.yaml")
        }
        let ok = try Rubric.parse(yaml: base, file: "r.yaml")
        #expect(ok.requiredFields == ["prompt", "response_a", "response_b"])
    }

    @Test("panel files: unknown provider, duplicate judge, missing model")
    func panels() throws {
        let judge = "version: 1\njudges:\n  - name: a\n    provider: openai\n    model: m\n"
        expectError(line: 4, containing: "unknown provider 'opnai'") {
            _ = try Panel.parse(
                yaml: judge.replacingOccurrences(of: "openai", with: "opnai"), file: "p.yaml", environment: [:])
        }
        expectError(line: 6, containing: "duplicate judge name 'a'") {
            _ = try Panel.parse(yaml: judge + "  - name: a\n    model: m\n", file: "p.yaml", environment: [:])
        }
        expectError(line: 3, containing: "needs 'model'") {
            _ = try Panel.parse(yaml: "version: 1\njudges:\n  - name: a\n", file: "p.yaml", environment: [:])
        }
        let p = try Panel.parse(
            yaml: judge
                + "    base_urls: [\"http://h1/v1\", \"http://h2/v1\"]\n    api_key_env: MY_KEY\naggregate: median\nflip: abstain\n",
            file: "p.yaml", environment: [:])
        #expect(p.judges[0].baseURLs == ["http://h1/v1", "http://h2/v1"])
        #expect(p.judges[0].keyVariables == ["MY_KEY"])
        #expect(p.aggregate == .median && p.flip == .abstain)
        let local = try Panel.load(
            path: panelTestRoot.appendingPathComponent("panels/local.yaml").path,
            environment: ["JUDGEPANEL_HOME": "/jp"])
        #expect(
            local.judges.map(\.llamacpp?.gguf) == [
                "/jp/models/smollm2-135m-instruct-q4_1.gguf", "/jp/models/gemma3-270m-q4_k_m.gguf",
            ])
        #expect(local.judges[1].llamacpp?.chatTemplate == "gemma")
    }

    @Test("templates: sections, inverted sections, agreeing pattern matches count, disagreeing ones do not")
    func templatesAndParsing() throws {
        let t = try Template(
            "Q: {{prompt}}{{#reference}} R: {{reference}}{{/reference}}{{^reference}} (no ref){{/reference}}")
        #expect(t.render(["prompt": "x"]) == "Q: x (no ref)")
        #expect(t.render(["prompt": "x", "reference": "y"]) == "Q: x R: y")
        #expect(t.requiredVariables == ["prompt"])
        let rubric = try loadRubric("pairwise-mtbench")
        let parser = try AnswerParser(rubric: rubric, structured: false)
        // DESIGN.md: a reply whose own matches disagree is an abstention (reason `ambiguous`), not its last match.
        #expect(parser.parse("At first [[A]] seemed right, but final: [[B]]") == nil)
        #expect(parser.parse("Both lean to [[B]]; final: [[B]]") == .choice(.b))
        #expect(parser.parse("[[C]]") == .choice(.tie))
        #expect(parser.parse("no verdict") == nil)
        let structured = try AnswerParser(rubric: rubric, structured: true)
        #expect(structured.parse("```json\n{\"verdict\": \"tie\"}\n```") == .choice(.tie))
        let pointwise = try AnswerParser(rubric: try loadRubric("pointwise-1to10"), structured: false)
        #expect(pointwise.parse("Rating: [[7]]") == .score(7))
        #expect(pointwise.parse("Rating: [[11]]") == nil)
    }
}
