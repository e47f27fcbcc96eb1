import Foundation
import JudgeStats

/// Auto-J pairwise test set: JSONL `{scenario, label: 0 first better / 1 second better / 2 tie, prompt,
/// "response 1", "response 2"}`; item ids are the 0-based record numbers.
///
/// `--predictions FILE` (original order) and `--exchanged FILE` (responses exchanged) are line-aligned JSONL of
/// `{"output": 0/1/2}` (a bare number also reads). An exchanged 0 (first shown = response 2) maps back to `B`,
/// 1 to `A`, and the vote is marked `BA`. Other outputs are abstentions. Judge name `--judge` (default `autoj`).
enum AutoJImporter {
    package static func run(sources: [String], options: ImportOptions) throws -> ImportResult {
        var result = ImportResult()
        var ids: [String] = []
        let multi = sources.count > 1
        for (s, path) in sources.enumerated() {
            for (r, o) in try ImportIO.objects(path: path) {
                let id = multi ? "\(s)-\(r.index)" : String(r.index)
                var item = Item(id: id, line: r.line ?? 0)
                item.prompt = try ImportIO.string(o, "prompt", r, path)
                item.responseA = try ImportIO.string(o, "response 1", r, path)
                item.responseB = try ImportIO.string(o, "response 2", r, path)
                if let l = o["label"], !l.isNull {
                    guard let p = pref(l, exchanged: false) else {
                        throw ImportIO.fail(
                            "\"label\" must be 0, 1 or 2 (got \(l.textValue.debugDescription))", r, path)
                    }
                    item.label = .pairwise(p)
                }
                if let sc = o["scenario"], !sc.isNull { item.meta["scenario"] = sc }
                ids.append(id)
                result.items.append(item)
            }
        }
        let judge = options.judge ?? "autoj"
        for (file, order) in [(options.predictions, Order.ab), (options.exchanged, Order.ba)] {
            guard let file else { continue }
            guard FileManager.default.fileExists(atPath: file) else {
                throw JudgePanelError.badInput("no such file", file: file)
            }
            let recs = try ImportIO.records(path: file)
            guard recs.count == ids.count else {
                throw JudgePanelError.badInput(
                    "\(recs.count) predictions for \(ids.count) test records (they must be line-aligned)", file: file)
            }
            var votes: [Vote] = []
            for r in recs {
                let value = r.value["output"] ?? r.value
                var vote = Vote(item: ids[r.index], judge: judge, protocol: .pairwise, order: order)
                vote.raw = value.textValue
                if let p = pref(value, exchanged: order == .ba) {
                    vote.verdict = p
                } else {
                    vote.status = .abstain
                    vote.error = "unreadable output"
                    vote.reason = .unreadable
                }
                votes.append(vote)
            }
            result.notes.append(
                "autoj: \((file as NSString).lastPathComponent) (\(order.rawValue)): \(ImportLabels.votesSummary(votes))"
            )
            result.votes += votes
        }
        return result
    }

    /// 0 = first better, 1 = second better, 2 = tie; `exchanged` maps the shown positions back.
    package static func pref(_ v: JSONValue, exchanged: Bool) -> Preference? {
        let t: String
        switch v {
        case .number(let d) where d == d.rounded(): t = String(Int(d))
        case .string(let s): t = s.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
        switch t {
        case "0": return exchanged ? .b : .a
        case "1": return exchanged ? .a : .b
        case "2": return .tie
        default: return nil
        }
    }
}
