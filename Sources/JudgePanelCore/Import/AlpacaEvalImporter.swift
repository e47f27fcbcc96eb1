import Foundation
import JudgeStats

/// alpaca_eval annotations (JSON array, or JSONL): `{instruction, [input], output_1, output_2, generator_1,
/// generator_2, annotator, preference}`.
///
/// Records of the same comparison — same instruction, input, generators and outputs — form one item, id `ae-` + the
/// first 12 hex digits of SHA-256 over instruction, input, generator_1, generator_2, output_1 and output_2 (stable
/// across files and runs). Records from different generators are never merged, even when their outputs are
/// identical. A record with the two sides the other way round (generators and outputs swapped) is folded into the
/// orientation first seen (its preference p becomes 3 − p), with a warning.
///
/// `meta.index` is the record's 0-based position among its file's records of the same two generators (alpaca_eval's
/// `index` column: the instruction's position in AlpacaEval's evaluation set, for a model's annotations in their
/// published order).
///
/// Preferences follow alpaca_eval's own reading (`metrics/helpers.py`): 1 → A, 2 → B, 1.5 or 0 → a draw (tie);
/// a float p in [1, 2]: p < 1.5 → A, p > 1.5 → B. Every readable preference p (0 read as 1.5) keeps `probs`
/// {"A": 2 − p, "B": p − 1}, so an exact 1, 1.5 or 2 carries P = 1, ½ or 0. Anything else (null, NaN, out of
/// range) is an abstention: an abstained vote for a judge, a skipped label (with a warning) for a human.
///
/// Who is human: an `annotator` that is absent, a number, or named `human*` / `annotator*` is a human (with
/// `annotator_index` naming the annotator when present); any other `annotator` is a model annotator config
/// (e.g. `alpaca_eval_gpt4_turbo_fn`) and becomes a vote of that judge, unless `asLabels` makes every record a label.
enum AlpacaEvalImporter {
    package static func isHuman(_ annotator: JSONValue?) -> Bool {
        guard let a = annotator, !a.isNull else { return true }
        guard case .string(let s) = a else { return true }
        let l = s.lowercased()
        return l.isEmpty || l.hasPrefix("human") || l.hasPrefix("annotator") || Int(l) != nil
    }

    /// The preference on alpaca_eval's [1, 2] scale (0 → 1.5, a draw), or nil when unreadable.
    package static func preference(_ v: JSONValue?) -> Double? {
        guard let x = v?.doubleValue, x.isFinite else { return nil }
        if x == 0 { return 1.5 }
        return x >= 1 && x <= 2 ? x : nil
    }

    package static func run(sources: [String], options: ImportOptions) throws -> ImportResult {
        var result = ImportResult()
        var index: [String: Int] = [:]
        var prefsByItem: [[Preference]] = []
        var samples: [String: Int] = [:]
        var labelNames: Set<String> = []
        var skippedLabels = 0
        var zeros = 0
        for path in sources {
            var pairPositions: [String: Int] = [:]
            for (r, o) in try ImportIO.objects(path: path) {
                let instruction = try ImportIO.string(o, "instruction", r, path)
                let input = ImportIO.optionalString(o, "input") ?? ""
                let o1 = try ImportIO.string(o, "output_1", r, path)
                let o2 = try ImportIO.string(o, "output_2", r, path)
                let g1 = ImportIO.optionalString(o, "generator_1") ?? ""
                let g2 = ImportIO.optionalString(o, "generator_2") ?? ""
                let pairKey = "\(g1)\u{0}\(g2)"
                let positionInPair = pairPositions[pairKey, default: 0]
                pairPositions[pairKey] = positionInPair + 1
                let key = ContentHash.hex([instruction, input, g1, g2, o1, o2].joined(separator: "\u{0}"))
                let flippedKey = ContentHash.hex([instruction, input, g2, g1, o2, o1].joined(separator: "\u{0}"))
                var flipped = false
                let position: Int
                if let p = index[key] {
                    position = p
                } else if let p = index[flippedKey] {
                    position = p
                    flipped = true
                    result.warn(
                        .merged, r, path,
                        "the same comparison with the sides swapped (\(g1.isEmpty ? "?" : g1) vs \(g2.isEmpty ? "?" : g2)) is folded into item \(result.items[p].id); its preference is mirrored"
                    )
                } else {
                    var item = Item(id: "ae-" + key.prefix(12), line: r.line ?? 0)
                    item.prompt = input.isEmpty ? instruction : instruction + "\n\n" + input
                    item.responseA = o1
                    item.responseB = o2
                    item.modelA = g1.isEmpty ? nil : g1
                    item.modelB = g2.isEmpty ? nil : g2
                    if let d = o["dataset"], !d.isNull { item.meta["dataset"] = d }
                    // alpaca_eval's `index`, the instruction's position in the evaluation set (what
                    // `rank --length-control --glm-data` looks instruction difficulty up by): the record's position
                    // among this file's records of the same two generators.
                    item.meta["index"] = .number(Double(positionInPair))
                    position = result.items.count
                    index[key] = position
                    result.items.append(item)
                    prefsByItem.append([])
                }
                let id = result.items[position].id
                var p = preference(o["preference"])
                if o["preference"]?.doubleValue == 0 { zeros += 1 }
                if flipped, let x = p { p = 3 - x }
                let pref: Preference? = p.map { $0 < 1.5 ? .a : ($0 > 1.5 ? .b : .tie) }
                let raw = o["preference"]?.textValue ?? ""
                let human = options.asLabels || isHuman(o["annotator"])
                if human {
                    guard let pref else {
                        skippedLabels += 1
                        result.warn(
                            .skipped, r, path,
                            "preference \(raw.isEmpty ? "missing" : raw) is not a readable preference; no label")
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
                    if !labelNames.insert("\(id)\u{0}\(name)").inserted {
                        result.warn(
                            .merged, r, path, "a second label by \(name) on item \(id); both count in the majority")
                    }
                    result.items[position].labels.append(AnnotatorLabel(annotator: name, label: .pairwise(pref)))
                    prefsByItem[position].append(pref)
                } else {
                    let judge = o["annotator"]!.textValue
                    let order: Order = flipped ? .ba : .ab
                    let sample = result.nextSample(
                        &samples, item: id, judge: judge, order: order, what: "annotation", r, path)
                    var vote = Vote(item: id, judge: judge, protocol: .pairwise, order: order, sample: sample)
                    vote.raw = raw
                    if let pref, let x = p {
                        vote.verdict = pref
                        vote.probs = ["A": 2 - x, "B": x - 1]
                    } else {
                        vote.status = .abstain
                        vote.error = "preference is not 0 or in [1, 2]"
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
        if skippedLabels > 0 { note += " (\(skippedLabels) records without a readable preference skipped)" }
        result.notes.append(note)
        if zeros > 0 {
            result.notes.append("alpacaeval: \(zeros) preferences of 0 read as draws (alpaca_eval maps 0 to 1.5)")
        }
        if !result.votes.isEmpty { result.notes.append("alpacaeval: \(ImportLabels.votesSummary(result.votes))") }
        return result
    }
}
