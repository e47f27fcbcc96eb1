import Foundation
import JudgePanelCore

/// A `score` (or `merge`) run directory's config.json: the resolved inputs and options of the run (no keys: only
/// the names of the variables they come from), its run fingerprint, and — once the run finished — its facts
/// (``RunFacts``, under `run`). Read it with ``read(dir:)`` and write it with ``write(to:)``: the one reader and the
/// one writer of the file.
///
/// `schema_version` (``currentSchemaVersion``) is written by every run; a file without it (written before it was
/// added) is version 1, the same shape. A file of a newer version is refused, never misread. Members read as
/// optional where an older (or hand-made) file may lack them; keys this build does not know are kept in ``extra``.
/// `fingerprint`, `policy`, `shard` and each judge's `wire` keep the JSON of the code that owns their format
/// (``/JudgePanelJudging/RunFingerprint``, the scheduled policies, `Shard`, the wire settings).
package struct RunConfig: Codable, Sendable, Equatable {
    /// The version of config.json this build writes and reads.
    package static let currentSchemaVersion = 1

    /// The file's version (1 for a file written before the key existed).
    package var schemaVersion = RunConfig.currentSchemaVersion
    package var rubric: RubricRecord?
    package var panel: PanelRecord?
    /// The items file's path as the run was given it.
    package var items: String?
    /// SHA-256 of the items file's bytes (`null` for items not read from a file).
    package var itemsSHA256: String?
    /// `--map` / `--label-map`.
    package var itemMapping: ItemMappingRecord?
    /// The options that shape the analysis (nil for a run that predates them).
    package var analysis: AnalysisRecord?
    /// The run fingerprint (``/JudgePanelJudging/RunFingerprint/run(rubric:panel:)``).
    package var fingerprint: JSONValue?
    /// The run's facts, once it finished.
    package var run: RunFacts?
    /// A scheduled run's policy (adaptive, cascade); nil for the full panel.
    package var policy: JSONValue?
    /// A shard's identity (`score --shard I/N`).
    package var shard: JSONValue?
    /// Keys this build does not know, kept as they were.
    package var extra: [String: JSONValue] = [:]

    package init() {}

    /// config.json's `rubric`.
    package struct RubricRecord: Codable, Sendable, Equatable {
        package var id: String?
        package var `protocol`: String?
        package var source: String?
        package var templateSHA256: String?

        package init(id: String?, protocol: String?, source: String?, templateSHA256: String?) {
            self.id = id
            self.protocol = `protocol`
            self.source = source
            self.templateSHA256 = templateSHA256
        }

        enum CodingKeys: String, CodingKey {
            case id, `protocol`, source
            case templateSHA256 = "template_sha256"
        }
    }

    /// config.json's `panel`.
    package struct PanelRecord: Codable, Sendable, Equatable {
        package var source: String?
        package var aggregate: String?
        package var swap: Bool?
        package var flip: String?
        package var judges: [JudgeRecord]?

        package init(source: String?, aggregate: String?, swap: Bool?, flip: String?, judges: [JudgeRecord]?) {
            self.source = source
            self.aggregate = aggregate
            self.swap = swap
            self.flip = flip
            self.judges = judges
        }

        /// The judges' names, in the panel's order.
        package var judgeNames: [String] { (judges ?? []).map(\.name) }
    }

    /// One judge of config.json's `panel.judges`. Settings a judge does not have are written as `null`.
    package struct JudgeRecord: Codable, Sendable, Equatable {
        package var name = ""
        package var provider: String?
        package var model: String?
        /// Base URLs with any credentials redacted.
        package var baseURLs: [String]?
        package var family: String?
        /// The name of the variable that holds the key (never the key).
        package var apiKeyEnv: String?
        package var temperature: Double?
        package var maxTokens: Int?
        package var seed: Int?
        package var concurrency: Int?
        package var samples: Int?
        package var structuredOutput: Bool?
        /// `top_logprobs` asked for.
        package var logprobs: Int?
        package var weight: Double?
        package var gguf: String?
        /// The wire settings' fingerprint (header names, not values).
        package var wire: JSONValue?

        package init(name: String) { self.name = name }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: RunFileKey.self)
            name = try c.field("name") ?? ""
            provider = try c.field("provider")
            model = try c.field("model")
            baseURLs = try c.field("base_urls")
            family = try c.field("family")
            apiKeyEnv = try c.field("api_key_env")
            temperature = try c.field("temperature")
            maxTokens = try c.field("max_tokens")
            seed = try c.field("seed")
            concurrency = try c.field("concurrency")
            samples = try c.field("samples")
            structuredOutput = try c.field("structured_output")
            logprobs = try c.field("logprobs")
            weight = try c.field("weight")
            gguf = try c.field("gguf")
            wire = try c.field("wire")
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: RunFileKey.self)
            try c.put(name, "name")
            try c.put(provider, "provider")
            try c.put(model, "model")
            try c.put(baseURLs, "base_urls")
            try c.putNullable(family, "family")
            try c.putNullable(apiKeyEnv, "api_key_env")
            try c.putNullable(temperature, "temperature")
            try c.putNullable(maxTokens, "max_tokens")
            try c.putNullable(seed, "seed")
            try c.put(concurrency, "concurrency")
            try c.put(samples, "samples")
            try c.put(structuredOutput, "structured_output")
            try c.putNullable(logprobs, "logprobs")
            try c.put(weight, "weight")
            try c.putNullable(gguf, "gguf")
            try c.put(wire, "wire")
        }
    }

    /// config.json's `item_mapping`: how the items file's fields and labels were read.
    package struct ItemMappingRecord: Codable, Sendable, Equatable {
        package var map: [String: String]
        package var labelMap: [String: String]

        package init(_ mapping: ItemMapping) {
            map = mapping.fieldMap
            labelMap = mapping.labelMap
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: RunFileKey.self)
            map = try c.field("map") ?? [:]
            labelMap = try c.field("label_map") ?? [:]
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: RunFileKey.self)
            try c.put(map, "map")
            try c.put(labelMap, "label_map")
        }

        /// The mapping to read the items with.
        package var mapping: ItemMapping { ItemMapping(fieldMap: map, labelMap: labelMap) }
    }

    /// config.json's `analysis`: the options that shape the analysis, as raw values (``RunReports`` turns them into
    /// the analysis's options, naming a value it cannot read).
    package struct AnalysisRecord: Codable, Sendable, Equatable {
        package var aggregate: String?
        package var flip: String?
        package var weights: [String: Double]?
        package var judgeOrder: [String]?
        package var seed: UInt64?
        package var resamples: Int?
        package var clusterKey: String?
        package var alphaLevel: String?
        package var tieMargin: Double?
        package var `protocol`: String?

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: RunFileKey.self)
            aggregate = try c.field("aggregate")
            flip = try c.field("flip")
            weights = try c.field("weights")
            judgeOrder = try c.field("judge_order")
            seed = try c.field("seed")
            resamples = try c.field("resamples")
            clusterKey = try c.field("cluster_key")
            alphaLevel = try c.field("alpha_level")
            tieMargin = try c.field("tie_margin")
            `protocol` = try c.field("protocol")
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: RunFileKey.self)
            try c.put(aggregate, "aggregate")
            try c.put(flip, "flip")
            try c.put(weights, "weights")
            try c.put(judgeOrder, "judge_order")
            try c.put(seed, "seed")
            try c.put(resamples, "resamples")
            try c.putNullable(clusterKey, "cluster_key")
            try c.putNullable(alphaLevel, "alpha_level")
            try c.put(tieMargin, "tie_margin")
            try c.putNullable(`protocol`, "protocol")
        }
    }

    static let known: Set<String> = [
        "schema_version", "rubric", "panel", "items", "items_sha256", "item_mapping", "analysis", "fingerprint", "run",
        "policy", "shard",
    ]

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: RunFileKey.self)
        // A file written before `schema_version` existed is version 1 (the same shape).
        schemaVersion = try c.field("schema_version") ?? 1
        rubric = try c.field("rubric")
        panel = try c.field("panel")
        items = try c.field("items")
        itemsSHA256 = try c.field("items_sha256")
        itemMapping = try c.field("item_mapping")
        analysis = try c.field("analysis")
        fingerprint = try c.field("fingerprint")
        run = try c.field("run")
        policy = try c.field("policy")
        shard = try c.field("shard")
        extra = try c.extra(known: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RunFileKey.self)
        try c.put(schemaVersion, "schema_version")
        try c.put(rubric, "rubric")
        try c.put(panel, "panel")
        try c.put(items, "items")
        try c.putNullable(itemsSHA256, "items_sha256")
        try c.put(itemMapping, "item_mapping")
        try c.put(analysis, "analysis")
        try c.put(fingerprint, "fingerprint")
        try c.put(run, "run")
        try c.put(policy, "policy")
        try c.put(shard, "shard")
        try c.put(extra: extra)
    }

    /// The path of config.json in `dir`.
    package static func path(dir: String) -> String { RunFiles.path(dir, "config.json") }

    /// Reads `dir`'s config.json: nil when there is none. Refuses (exit 2, naming the file) one that is not JSON,
    /// holds a value of the wrong type, or was written by a newer judgepanel (a greater `schema_version`).
    package static func read(dir: String) throws -> RunConfig? {
        try RunFiles.read(
            RunConfig.self, path: path(dir: dir), current: currentSchemaVersion, what: "config.json")
    }

    /// The file as it is written (keys sorted when printed).
    package var json: JSONValue {
        get throws { try RunFiles.json(self, what: "config.json") }
    }

    /// The mapping the items were read with (empty when not recorded).
    package var mapping: ItemMapping { itemMapping?.mapping ?? ItemMapping() }

    /// Writes config.json into `dir` (atomically).
    package func write(to dir: RunDirectory) throws {
        try dir.writeJSON(
            "config.json",
            RunFiles.json(self, what: "config.json", file: dir.url.appendingPathComponent("config.json").path))
    }
}
