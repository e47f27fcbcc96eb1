import Foundation
import JudgeStats

/// PandaLM: `testset-v1.json` (annotator1..3 "0" tie / "1" / "2") plus result files
/// (`{idx, gpt_result}` or `{idx, pandalm_result}`), in any order among the sources.
///
/// A result file's judge name is its file name before `-testset` (e.g. `gpt-3.5-turbo-testset-v1.json`
/// gives `gpt-3.5-turbo`); failing that, the result key's prefix (`gpt`, `pandalm`). Votes are single-order
/// (`AB`); a value that is not 1 / 2 / tie becomes an abstention whose `raw` is the value.
package enum PandaLMImporter {
    package static func run(sources: [String]) throws -> ImportResult {
        var testsets: [(String, [(ImportRecord, [String: JSONValue])])] = []
        var resultFiles: [(String, [(ImportRecord, [String: JSONValue])])] = []
        for path in sources {
            let recs = try ImportIO.objects(path: path)
            guard let first = recs.first?.1 else {
                throw JudgePanelError.badInput("empty file", file: path)
            }
            if first["response1"] != nil || first["annotator1"] != nil {
                testsets.append((path, recs))
            } else if first.keys.contains(where: { $0.hasSuffix("_result") }) {
                resultFiles.append((path, recs))
            } else {
                throw JudgePanelError.badInput(
                    "neither a PandaLM test set (response1, annotator1..3) nor a result file (idx, *_result)",
                    file: path)
            }
        }
        guard !testsets.isEmpty else {
            throw JudgePanelError.usage(
                "import pandalm: no test set among the sources (a file with response1/response2)")
        }
        var result = ImportResult()
        var known: Set<String> = []
        var counts: [Preference: Int] = [:]
        var coerced: [String] = []
        for (path, recs) in testsets {
            for (r, o) in recs {
                let fail = { (m: String) in ImportIO.fail(m, r, path) }
                guard let idxValue = o["idx"], !idxValue.isNull else { throw fail("missing \"idx\"") }
                let id = idxValue.textValue
                let instruction = try ImportIO.string(o, "instruction", r, path)
                let input = ImportIO.optionalString(o, "input") ?? ""
                var item = Item(id: id, line: r.line ?? 0)
                item.prompt = input.isEmpty ? instruction : instruction + "\n\n" + input
                item.responseA = try ImportIO.string(o, "response1", r, path)
                item.responseB = try ImportIO.string(o, "response2", r, path)
                if o["response1"]?.stringValue == nil || o["response2"]?.stringValue == nil {
                    coerced.append(id)
                    result.warn(
                        .reinterpreted, r, path,
                        "idx \(id): a response is a JSON true/false/number, kept as its JSON text")
                }
                if let key = ImportIO.optionalString(o, "cmp_key") {
                    let parts = key.split(separator: "_", maxSplits: 1).map(String.init)
                    if parts.count == 2 {
                        item.modelA = parts[0]
                        item.modelB = parts[1]
                    }
                    item.meta["cmp_key"] = .string(key)
                }
                if let app = o["motivation_app"], !app.isNull { item.meta["motivation_app"] = app }
                var prefs: [Preference] = []
                for k in 1...3 {
                    let key = "annotator\(k)"
                    guard let v = o[key], !v.isNull else { continue }
                    guard let p = ImportLabels.oneTwo(v, zeroIsTie: true) else {
                        throw fail("\"\(key)\" must be 0 (tie), 1 or 2 (got \(v.textValue.debugDescription))")
                    }
                    prefs.append(p)
                    item.labels.append(AnnotatorLabel(annotator: key, label: .pairwise(p)))
                }
                if let m = ImportLabels.majority(prefs) {
                    item.label = .pairwise(m)
                    counts[m, default: 0] += 1
                }
                guard known.insert(id).inserted else { throw fail("duplicate idx \(id)") }
                result.items.append(item)
            }
        }
        result.notes.append(
            "pandalm: \(result.items.count) items; majority labels A(1) \(counts[.a] ?? 0), B(2) \(counts[.b] ?? 0), tie \(counts[.tie] ?? 0)"
        )
        if !coerced.isEmpty {
            result.notes.append(
                "pandalm: \(coerced.count) items have a non-string response (a JSON true/false/number in the source, kept as its JSON text): idx \(coerced.joined(separator: ", "))"
            )
        }
        for (path, recs) in resultFiles {
            var votes: [Vote] = []
            for (r, o) in recs {
                let fail = { (m: String) in ImportIO.fail(m, r, path) }
                guard let idxValue = o["idx"], !idxValue.isNull else { throw fail("missing \"idx\"") }
                let id = idxValue.textValue
                guard known.contains(id) else { throw fail("idx \(id) is not in the test set") }
                guard let key = o.keys.sorted().first(where: { $0.hasSuffix("_result") }) else {
                    throw fail("missing a \"*_result\" field")
                }
                let judge = judgeName(path: path, key: key)
                let value = o[key] ?? .null
                var vote = Vote(item: id, judge: judge, protocol: .pairwise, order: .ab)
                if let p = ImportLabels.oneTwo(value, zeroIsTie: true, tieWords: true) {
                    vote.verdict = p
                    vote.raw = value.textValue
                } else {
                    vote.status = .abstain
                    vote.raw = value.textValue
                    vote.error = "unreadable verdict"
                    vote.reason = .unreadable
                }
                votes.append(vote)
            }
            result.notes.append("pandalm: \((path as NSString).lastPathComponent): \(ImportLabels.votesSummary(votes))")
            result.votes += votes
        }
        return result
    }

    /// `gpt-3.5-turbo-testset-v1.json` → `gpt-3.5-turbo`; otherwise the key's prefix (`gpt_result` → `gpt`).
    package static func judgeName(path: String, key: String) -> String {
        let prefix = String(key.dropLast("_result".count))
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if let r = stem.range(of: "-testset") {
            let name = String(stem[..<r.lowerBound])
            if !name.isEmpty && name.lowercased().hasPrefix(prefix.lowercased()) { return name }
        }
        return prefix.isEmpty ? "judge" : prefix
    }
}
