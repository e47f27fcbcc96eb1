import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// Fingerprints of what determines a judge's answer, so that `--resume` never reuses a vote for inputs that changed.
///
/// - A **call fingerprint** (per vote, journaled as `fingerprint`) hashes the request exactly as it is sent
///   (model, rendered messages — item content in the order shown, system prompt, template —, temperature,
///   max tokens, seed, structured-output schema, log-probabilities; an image as its SHA-256), the judge's provider kind and endpoint,
///   how the rubric reads the answer (output spec, scale, ties, repair message), and the call's identity
///   (order, side, sample, variant).
/// - A **run fingerprint** (in `config.json`) lists the same judge settings per judge and the rubric's parts, so a
///   resumed run can say what changed.
package enum RunFingerprint {
    /// Version of the fingerprint recipe; a change makes every old fingerprint unmatched.
    package static let version = 1

    /// The judge settings that change an answer (never the key, the concurrency or rate limits).
    static func judgeSettings(_ j: JudgeConfig) -> JSONValue {
        var o: [String: JSONValue] = [
            "provider": .string(j.provider.rawValue),
            "model": .string(j.model),
            "base_urls": .array(j.baseURLs.map { .string(SecretScrubber.redactURL($0)) }),
            "structured_output": .bool(j.structuredOutput),
        ]
        if let t = j.temperature { o["temperature"] = .number(t) }
        if let m = j.maxTokens { o["max_tokens"] = .number(Double(m)) }
        if let s = j.seed { o["seed"] = .number(Double(s)) }
        if let l = j.topLogprobs { o["logprobs"] = .number(Double(l)) }
        if let l = j.llamacpp {
            o["gguf"] = .string(l.gguf)
            o["context_size"] = .number(Double(l.contextSize))
            if let t = l.chatTemplate { o["chat_template"] = .string(t) }
            if !l.extraArgs.isEmpty { o["server_args"] = .array(l.extraArgs.map { .string($0) }) }
        }
        return .object(o)
    }

    /// The rubric's parts that change what is asked or how the answer is read, by name.
    static func rubricParts(_ r: Rubric) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "protocol": .string(r.kind.rawValue),
            "system": r.system.map { .string($0) } ?? .null,
            "template": .string(r.template.source),
            "allow_tie": .bool(r.allowTie),
            "description": .string(r.description),
            "repair": r.repair.map { .string($0) } ?? .null,
        ]
        switch r.output {
        case .pattern(let p): o["output"] = ["pattern": .string(p)]
        case .json(let f): o["output"] = ["json": .string(f)]
        }
        if let s = r.scale {
            o["scale"] = [
                "min": .number(Double(s.min)), "max": .number(Double(s.max)),
                "levels": .object(
                    Dictionary(uniqueKeysWithValues: s.levels.map { (String($0.key), JSONValue.string($0.value)) })),
            ]
        }
        if let c = r.checklist {
            o["checklist"] = [
                "items": .array(c.items.map { .string($0) }), "generate": .bool(c.generate),
                "tie_margin": .number(c.tieMargin),
            ]
        }
        return o
    }

    /// The call fingerprint of one request.
    package static func call(request: CompletionRequest, judge: JudgeConfig, rubric: Rubric, call: Call) -> String {
        var o: [String: JSONValue] = [
            "v": .number(Double(version)),
            "judge": judgeSettings(judge),
            "reading": .object(
                rubricParts(rubric).filter {
                    ["protocol", "output", "allow_tie", "repair", "scale", "checklist"].contains($0.key)
                }),
            "messages": .array(
                request.messages.map { m -> JSONValue in
                    var o: [String: JSONValue] = ["role": .string(m.role.rawValue), "content": .string(m.content)]
                    // An image enters by its bytes' hash (and media type, URL), so a changed image file changes the call.
                    let images = m.images
                    if !images.isEmpty { o["images"] = .array(images.map(\.canonicalJSON)) }
                    return .object(o)
                }),
            "sample": .number(Double(call.sample)),
        ]
        if let s = request.seed { o["seed"] = .number(Double(s)) }
        if let j = request.jsonSchema { o["schema"] = j }
        if let order = call.order { o["order"] = .string(order.rawValue) }
        if let side = call.side { o["side"] = .string(side.rawValue) }
        if let v = call.variant { o["variant"] = .string(v) }
        return ContentHash.hex(bytes: Array(JSONValue.object(o).data))
    }

    /// The run-level fingerprint recorded in `config.json`: per-judge settings, rubric parts (hashed) and the
    /// panel's swap, with a hash of each half.
    package static func run(rubric: Rubric, panel: Panel) -> JSONValue {
        let parts = rubricParts(rubric)
        let rubricHashes = JSONValue.object(parts.mapValues { .string(ContentHash.hex(bytes: Array($0.data))) })
        let judges = JSONValue.array(
            panel.judges.map { j in
                ["name": .string(j.name), "settings": judgeSettings(j), "samples": .number(Double(j.samples))]
            })
        let panelValue: JSONValue = ["judges": judges, "swap": .bool(panel.swap)]
        return [
            "version": .number(Double(version)),
            "rubric": .string(ContentHash.hex(bytes: Array(rubricHashes.data))),
            "rubric_parts": rubricHashes,
            "panel": .string(ContentHash.hex(bytes: Array(panelValue.data))),
            "judges": judges,
            "swap": .bool(panel.swap),
        ]
    }

    /// What changed between a recorded run fingerprint and the current one, in words (empty: nothing).
    package static func changes(recorded: JSONValue, current: JSONValue) -> [String] {
        var out: [String] = []
        if recorded["version"] != current["version"] {
            return ["the fingerprint recipe (an older judgepanel wrote this run)"]
        }
        if recorded["rubric"] != current["rubric"] {
            let old = recorded["rubric_parts"]?.objectValue ?? [:]
            let new = current["rubric_parts"]?.objectValue ?? [:]
            let keys = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
            out.append("the rubric's " + (keys.isEmpty ? "content" : keys.joined(separator: ", ")))
        }
        if recorded["swap"] != current["swap"] { out.append("the panel's swap setting") }
        let old = Dictionary(
            (recorded["judges"]?.arrayValue ?? []).compactMap { j in j["name"]?.stringValue.map { ($0, j) } },
            uniquingKeysWith: { a, _ in a })
        let new = Dictionary(
            (current["judges"]?.arrayValue ?? []).compactMap { j in j["name"]?.stringValue.map { ($0, j) } },
            uniquingKeysWith: { a, _ in a })
        for name in new.keys.sorted() where old[name] == nil { out.append("judge '\(name)' added") }
        for name in old.keys.sorted() where new[name] == nil { out.append("judge '\(name)' removed") }
        for name in new.keys.sorted() {
            guard let o = old[name], let n = new[name], o != n else { continue }
            let os = o["settings"]?.objectValue ?? [:]
            let ns = n["settings"]?.objectValue ?? [:]
            var diffs = Set(os.keys).union(ns.keys).filter { os[$0] != ns[$0] }.sorted().map { k in
                "\(k) \(os[k]?.compactString ?? "unset") → \(ns[k]?.compactString ?? "unset")"
            }
            if o["samples"] != n["samples"] { diffs.append("samples") }
            out.append("judge '\(name)': " + diffs.joined(separator: ", "))
        }
        return out
    }
}
