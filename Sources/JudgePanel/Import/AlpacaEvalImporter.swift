import Foundation
import JudgeStats

/// alpaca_eval annotations (JSON array, or JSONL): `{instruction, [input], output_1, output_2, generator_1,
/// generator_2, annotator, preference}`.
///
/// Records of the same pair (same instruction, input and outputs) form one item, id `ae-` + the first 12 hex digits
/// of SHA-256 over instruction, input, output_1 and output_2 (stable across files and runs); a record with the two
/// outputs the other way round is flipped into the first orientation seen (its preference p becomes 3 − p).
/// preference 1 → A, 2 → B, 1.5 → tie; a float p in [1, 2]: p < 1.5 → A, p > 1.5 → B, and the vote keeps
/// `probs` {"A": 2 − p, "B": p − 1}. Anything else (null, 0, NaN) is an abstention.
///
/// Who is human: an `annotator` that is absent, a number, or named `human*` / `annotator*` is a human (with
/// `annotator_index` naming the annotator when present); any other `annotator` is a model annotator config
/// (e.g. `alpaca_eval_gpt4_turbo_fn`) and becomes a vote of that judge, unless `asLabels` makes every record a label.
enum AlpacaEvalImporter {
    static func isHuman(_ annotator: JSONValue?) -> Bool {
        guard let a = annotator, !a.isNull else { return true }
        guard case .string(let s) = a else { return true }
        let l = s.lowercased()
        return l.isEmpty || l.hasPrefix("human") || l.hasPrefix("annotator") || Int(l) != nil
    }

    static func run(sources: [String], options: ImportOptions) throws -> ImportResult {
        var result = ImportResult()
        var index: [String: Int] = [:]
        var prefsByItem: [[Preference]] = []
        var samples: [String: Int] = [:]
        var abstainedLabels = 0
        for path in sources {
            for (r, o) in try ImportIO.objects(path: path) {
                let instruction = try ImportIO.string(o, "instruction", r, path)
                let input = ImportIO.optionalString(o, "input") ?? ""
                let o1 = try ImportIO.string(o, "output_1", r, path)
                let o2 = try ImportIO.string(o, "output_2", r, path)
                let key = SHA256.hex([instruction, input, o1, o2].joined(separator: "\u{0}"))
                let flippedKey = SHA256.hex([instruction, input, o2, o1].joined(separator: "\u{0}"))
                var flipped = false
                let position: Int
                if let p = index[key] {
                    position = p
                } else if let p = index[flippedKey] {
                    position = p
                    flipped = true
                } else {
                    var item = Item(id: "ae-" + key.prefix(12), line: r.line ?? 0)
                    item.prompt = input.isEmpty ? instruction : instruction + "\n\n" + input
                    item.responseA = o1
                    item.responseB = o2
                    item.modelA = ImportIO.optionalString(o, "generator_1")
                    item.modelB = ImportIO.optionalString(o, "generator_2")
                    if let d = o["dataset"], !d.isNull { item.meta["dataset"] = d }
                    position = result.items.count
                    index[key] = position
                    result.items.append(item)
                    prefsByItem.append([])
                }
                let id = result.items[position].id
                var p: Double? = o["preference"]?.doubleValue
                if let x = p, !(x.isFinite && x >= 1 && x <= 2) { p = nil }
                if flipped, let x = p { p = 3 - x }
                let pref: Preference? = p.map { $0 < 1.5 ? .a : ($0 > 1.5 ? .b : .tie) }
                let raw = o["preference"]?.textValue ?? ""
                let human = options.asLabels || isHuman(o["annotator"])
                if human {
                    guard let pref else {
                        abstainedLabels += 1
                        continue
                    }
                    let name: String
                    if let i = o["annotator_index"], !i.isNull {
                        name = "annotator\(i.textValue)"
                    } else if let a = o["annotator"], !a.isNull, !a.textValue.isEmpty {
                        name = a.textValue
                    } else {
                        name = "annotator\(result.items[position].labels.count + 1)"
                    }
                    result.items[position].labels.append(AnnotatorLabel(annotator: name, label: .pairwise(pref)))
                    prefsByItem[position].append(pref)
                } else {
                    let judge = o["annotator"]!.textValue
                    let order: Order = flipped ? .ba : .ab
                    let sk = "\(id)|\(judge)|\(order.rawValue)"
                    let sample = samples[sk, default: 0]
                    samples[sk] = sample + 1
                    var vote = Vote(item: id, judge: judge, protocol: .pairwise, order: order, sample: sample)
                    vote.raw = raw
                    if let pref, let x = p {
                        vote.verdict = pref
                        if x != 1 && x != 2 && x != 1.5 { vote.probs = ["A": 2 - x, "B": x - 1] }
                    } else {
                        vote.status = .abstain
                        vote.error = "preference is not in [1, 2]"
                        vote.reason = .unreadable
                    }
                    result.votes.append(vote)
                }
            }
        }
        for (i, prefs) in prefsByItem.enumerated() {
            if let m = ImportLabels.majority(prefs) { result.items[i].label = .pairwise(m) }
        }
        var note = "alpacaeval: \(result.items.count) items, \(prefsByItem.reduce(0) { $0 + $1.count }) human labels"
        if abstainedLabels > 0 { note += " (\(abstainedLabels) records without a readable preference skipped)" }
        result.notes.append(note)
        if !result.votes.isEmpty { result.notes.append("alpacaeval: \(ImportLabels.votesSummary(result.votes))") }
        return result
    }
}
