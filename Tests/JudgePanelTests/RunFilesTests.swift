import Foundation
import JudgePanel
import Testing

/// config.json and the run facts as typed values: one reader and one writer, bytes as the untyped writer wrote them
/// (plus `schema_version`), old run directories read, newer ones refused.
@Suite("run files: typed config.json and run facts")
struct RunFilesTests {
    /// A config.json as judgepanel wrote it before `schema_version` (every key, nulls included), with one key this
    /// build does not know.
    static let legacy: JSONValue = [
        "rubric": ["id": "r", "protocol": "pairwise", "source": "rubrics/r.yaml", "template_sha256": "ab"],
        "panel": [
            "source": "panels/p.yaml", "aggregate": "majority", "swap": true, "flip": "tie",
            "judges": [
                [
                    "name": "alpha", "provider": "openai", "model": "m", "base_urls": ["http://127.0.0.1:1/v1"],
                    "family": .null, "api_key_env": "OPENAI_API_KEY", "temperature": 0, "max_tokens": 64,
                    "seed": .null, "concurrency": 4, "samples": 1, "structured_output": false, "logprobs": .null,
                    "weight": 1.5, "gguf": .null, "wire": ["headers": [], "timeout_s": 60],
                ]
            ],
        ],
        "items": "items.jsonl", "items_sha256": .null,
        "item_mapping": ["map": ["prompt": "instruction"], "label_map": ["1": "A"]],
        "analysis": [
            "aggregate": "majority", "flip": "tie", "weights": ["alpha": 1.5], "judge_order": ["alpha"], "seed": 7,
            "resamples": 200, "cluster_key": .null, "alpha_level": .null, "tie_margin": 0.05, "protocol": "pairwise",
        ],
        "fingerprint": ["version": 1, "judges": ["alpha": "x"]],
        "run": [
            "items_file": "items.jsonl", "rubric": "r", "protocol": "pairwise", "panel": "panels/p.yaml",
            "judges": ["alpha"], "started": "2026-12-08T01:02:03Z", "wall_s": 1.234, "votes": 10,
            "reused_from_journal": 0, "reasked": 0, "dropped_from_journal": 0, "http_calls": 9, "cached": 1, "ok": 8,
            "abstain": 1, "error": 1, "prompt_tokens": 1000, "completion_tokens": 20, "cost_usd": 0.0123,
            "model_versions": ["alpha": ["m-2026": 10]], "notes": ["a note"], "a_future_fact": "kept",
        ],
        "policy": ["name": "adaptive", "escalate": ["min_share": 0.75, "on_flip": true, "min_margin": .null]],
        "shard": ["index": 1, "count": 4, "scheme": "sha256-mod", "items": 3, "items_total": 12],
        "a_future_key": ["kept": true],
    ]

    static func writeConfig(_ json: JSONValue) throws -> String {
        let dir = try tempDir("runfiles")
        try RunDirectory(path: dir.path).writeJSON("config.json", json)
        return dir.path
    }

    @Test("a run directory written before schema_version is read as version 1, unknown keys kept")
    func legacyRead() throws {
        let dir = try Self.writeConfig(Self.legacy)
        let config = try #require(try RunConfig.read(dir: dir))
        #expect(config.schemaVersion == 1)
        #expect(config.items == "items.jsonl" && config.itemsSHA256 == nil)
        #expect(config.panel?.judgeNames == ["alpha"] && config.panel?.judges?.first?.weight == 1.5)
        #expect(config.analysis?.seed == 7 && config.analysis?.resamples == 200)
        #expect(config.mapping.fieldMap == ["prompt": "instruction"])
        #expect(config.run?.votes == 10 && config.run?.wallSeconds == 1.234 && config.run?.costUSD == 0.0123)
        #expect(config.run?.modelVersions == ["alpha": ["m-2026": 10]])
        #expect(config.run?.extra["a_future_fact"] == "kept")
        #expect(config.extra["a_future_key"] == ["kept": true])
    }

    @Test("the writer's bytes are the untyped writer's, with schema_version added")
    func bytesUnchanged() throws {
        let dir = try Self.writeConfig(Self.legacy)
        let config = try #require(try RunConfig.read(dir: dir))
        let out = try tempDir("runfiles-out")
        try config.write(to: RunDirectory(path: out.path))
        var expected = try #require(Self.legacy.objectValue)
        expected["schema_version"] = 1
        let want = try tempDir("runfiles-want")
        try RunDirectory(path: want.path).writeJSON("config.json", JSONValue.object(expected))
        let written = try Data(contentsOf: out.appendingPathComponent("config.json"))
        #expect(written == (try Data(contentsOf: want.appendingPathComponent("config.json"))))
        #expect(String(decoding: written, as: UTF8.self).contains("\"schema_version\" : 1"))
    }

    @Test("RunConfig and RunFacts round trip through the file")
    func roundTrip() throws {
        var facts = RunFacts()
        facts.itemsFile = "i.jsonl"
        facts.judges = ["a", "b"]
        facts.wallSeconds = 0.1
        facts.votes = 4
        facts.costUSD = 1e-7
        facts.costUnknownCalls = 2
        facts.stoppedJudges = ["b": "quota"]
        facts.quotaUnsent = ["b": 2]
        facts.systemFingerprints = ["a": ["fp_1": 4]]
        facts.cacheUnwritable = "/tmp/c: denied"
        var config = RunConfig()
        config.rubric = .init(id: "r", protocol: "pointwise", source: "", templateSHA256: "00")
        var judge = RunConfig.JudgeRecord(name: "a")
        judge.provider = "anthropic"
        judge.temperature = 0.3
        judge.seed = 42
        config.panel = .init(source: "", aggregate: "mean", swap: false, flip: "tie", judges: [judge])
        config.items = "i.jsonl"
        config.itemsSHA256 = "ff"
        config.itemMapping = .init(ItemMapping())
        var analysis = RunConfig.AnalysisRecord()
        analysis.aggregate = "mean"
        analysis.seed = 3
        analysis.tieMargin = 0.05
        config.analysis = analysis
        config.fingerprint = ["version": 1]
        config.run = facts
        let dir = try tempDir("runfiles-rt")
        try config.write(to: RunDirectory(path: dir.path))
        #expect(try RunConfig.read(dir: dir.path) == config)
        let decoded = try JSONDecoder().decode(RunFacts.self, from: try facts.json.compactData())
        #expect(decoded == facts)
        // Facts leave out what does not apply; settings a judge lacks are null.
        let json = try config.json
        #expect(json["run"]?["notes"] == nil && json["run"]?["model_versions"] == nil)
        #expect(json["panel"]?["judges"]?[0]?["family"] == .null && json["policy"] == nil)
    }

    @Test("a config.json of a newer schema_version is refused, naming the file and both versions")
    func futureRefused() async throws {
        var newer = try #require(Self.legacy.objectValue)
        newer["schema_version"] = 2
        let dir = try Self.writeConfig(.object(newer))
        #expect {
            _ = try RunConfig.read(dir: dir)
        } throws: { error in
            guard let e = error as? JudgePanelError else { return false }
            return e.code == .badInput && e.file == RunConfig.path(dir: dir) && e.message.contains("schema_version 2")
                && e.message.contains("up to schema_version 1")
        }
        #expect(throws: JudgePanelError.self) { _ = try RunReports.regenerate(dir: dir) }
        // The CLI refuses it with exit 2, naming the file and both versions (report DIR, merge).
        let report = try await runJudgepanel(["report", dir])
        #expect(report.code == 2 && report.err.contains("config.json"), "\(report.err)")
        #expect(report.err.contains("schema_version 2") && report.err.contains("schema_version 1"), "\(report.err)")
        let merge = try await runJudgepanel(["merge", dir, "--out", try tempDir("runfiles-merge").path + "/m"])
        #expect(merge.code == 2 && merge.err.contains("schema_version 2"), "\(merge.err)")
    }

    @Test("a value of the wrong type is refused naming its key, not misread")
    func wrongType() throws {
        var bad = try #require(Self.legacy.objectValue)
        bad["items"] = 3
        let dir = try Self.writeConfig(.object(bad))
        #expect {
            _ = try RunConfig.read(dir: dir)
        } throws: { error in
            (error as? JudgePanelError).map { $0.code == .badInput && $0.message.contains("items") } ?? false
        }
        #expect(try RunConfig.read(dir: try tempDir("runfiles-none").path) == nil)
    }

    @Test("report.json of a score run reads back as a ScoreReportFile and writes the same JSON")
    func reportFile() throws {
        let golden = panelTestRoot.appendingPathComponent("Tests/JudgePanelTests/Golden/pandalm-50.report.json")
        let dir = try tempDir("runfiles-report")
        var facts = RunFacts()
        facts.votes = 3
        var json = try #require(try JSONValue.parse(Data(contentsOf: golden)).objectValue)
        json["run"] = try facts.json
        json["verdicts"] = ["n": 50, "share": ["A": 0.5]]
        try RunDirectory(path: dir.path).writeJSON("report.json", JSONValue.object(json))
        let file = try #require(try ScoreReportFile.read(dir: dir.path))
        #expect(file.run == facts && file.verdicts["n"] == 50)
        // Written back, the file carries schema_version (this one, as from before the key, had none).
        json["schema_version"] = 1
        #expect(try file.json() == .object(json))
    }
}
