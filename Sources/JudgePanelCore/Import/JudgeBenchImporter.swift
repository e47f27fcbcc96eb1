import Foundation
import JudgeStats

/// JudgeBench (ScalerLab/JudgeBench): JSONL pair files `data/dataset=judgebench,response_model=M.jsonl`
/// (`{pair_id, original_id, source, question, response_model, response_A, response_B, label}`) and recorded judge
/// outputs `outputs/dataset=judgebench,response_model=M,judge_name=J,judge_model=X.jsonl` (the same fields plus
/// `judge_name` and `judgments`).
///
/// One item per `pair_id` (files may repeat a pair; their labels must agree): prompt `question`, `response_A/B`,
/// label `A>B` → A, `B>A` → B (`A=B` → tie). Meta: `source`, `category` (JudgeBench's reporting group: `mmlu-pro`,
/// `livebench-reasoning`, `livebench-math`, `livecodebench`), `original_id`, `response_model`.
///
/// `judgments[0]` was asked with the pair as stored (`AB`), `judgments[1]` with the responses swapped (`BA`): its
/// decision names the positions shown, so `A>B` there maps back to `B` (JudgeBench's `flip_judgment`). Decisions
/// `A>B` / `B>A` are verdicts A / B. An `A=B` decision is an abstention with reason `no_preference` (its raw
/// answer kept): JudgeBench's pairs all have a correct answer, and its metric (`utils/metrics.py`,
/// `compute_final_metrics`) scores `A=B` exactly as it scores no decision — neither for nor against the label —
/// so `A=B` in one order with the right answer in the other is a correct pair. Recorded as a tie, the two orders
/// would disagree and reconcile to a tie (a miss) instead. With `A=B` an abstention, `meta`'s `accuracy` (under
/// either flip policy) and `accuracy_net` both equal JudgeBench's score. A null decision (no verdict parsed) is an
/// abstention, a null judgment (the call failed) an error; any other decision string is an abstention, with a
/// warning. The judge is `judge_name/judge_model` (`judgment.judge_model`, else the file name's `judge_model=`).
package enum JudgeBenchImporter {
    package static let categories = ["mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench"]
    /// The reason of an `A=B` decision's abstention.
    package static let noPreference = VoteReason("no_preference")

    /// A decision in dataset orientation: `.some(nil)` when there is no decision, nil when it is not readable.
    package static func decision(_ text: String?, swapped: Bool) -> Preference?? {
        guard let text else { return .some(nil) }
        switch text.trimmingCharacters(in: .whitespaces) {
        case "A>B": return swapped ? .b : .a
        case "B>A": return swapped ? .a : .b
        case "A=B": return .tie
        default: return nil
        }
    }

    package static func run(sources: [String]) throws -> ImportResult {
        var result = ImportResult()
        var index: [String: Int] = [:]
        var seenVotes: Set<String> = []
        for path in sources {
            let fileJudgeModel = (path as NSString).lastPathComponent.components(separatedBy: "judge_model=")
                .dropFirst()
                .first.map { $0.hasSuffix(".jsonl") ? String($0.dropLast(6)) : $0 }
            for (r, o) in try ImportIO.objects(path: path) {
                let pairID = try ImportIO.string(o, "pair_id", r, path)
                let labelText = try ImportIO.string(o, "label", r, path)
                guard let label = decision(labelText, swapped: false) ?? nil else {
                    throw ImportIO.fail(
                        "\"label\" must be A>B, B>A or A=B (got \(labelText.debugDescription))", r, path)
                }
                if let p = index[pairID] {
                    guard result.items[p].label == .pairwise(label) else {
                        throw ImportIO.fail(
                            "pair \(pairID) has label \(labelText) here and another label in an earlier record", r, path
                        )
                    }
                } else {
                    var item = Item(id: pairID, line: r.line ?? 0)
                    item.prompt = try ImportIO.string(o, "question", r, path)
                    item.responseA = try ImportIO.string(o, "response_A", r, path)
                    item.responseB = try ImportIO.string(o, "response_B", r, path)
                    item.label = .pairwise(label)
                    if let s = ImportIO.optionalString(o, "source") {
                        item.meta["source"] = .string(s)
                        item.meta["category"] = .string(categories.first { s.hasPrefix($0) } ?? s)
                    }
                    for key in ["original_id", "response_model"] { if let v = o[key], !v.isNull { item.meta[key] = v } }
                    index[pairID] = result.items.count
                    result.items.append(item)
                }
                guard let judgmentsValue = o["judgments"], !judgmentsValue.isNull else { continue }
                guard let judgments = judgmentsValue.arrayValue, (1...2).contains(judgments.count) else {
                    throw ImportIO.fail("\"judgments\" must be an array of one or two judgments", r, path)
                }
                let judgeName = ImportIO.optionalString(o, "judge_name") ?? "judge"
                let model =
                    judgments.lazy.compactMap { $0["judgment"]?["judge_model"]?.stringValue }.first ?? fileJudgeModel
                    ?? "unknown"
                let judge = "\(judgeName)/\(model)"
                for (k, j) in judgments.enumerated() {
                    let order: Order = k == 0 ? .ab : .ba
                    guard seenVotes.insert("\(pairID)|\(judge)|\(order.rawValue)").inserted else {
                        result.warn(
                            .skipped, r, path,
                            "a second \(judge) judgment of pair \(pairID) (\(order.rawValue)); the first is kept")
                        continue
                    }
                    var vote = Vote(item: pairID, judge: judge, protocol: .pairwise, order: order)
                    if j.isNull {
                        vote.status = .error
                        vote.error = "no judgment recorded (the judge call failed)"
                        vote.reason = VoteReason("judge_failed")
                    } else {
                        guard let jo = j.objectValue else {
                            throw ImportIO.fail("judgment \(k + 1) must be an object or null", r, path)
                        }
                        let text = jo["decision"].flatMap { $0.isNull ? nil : $0.textValue }
                        if let scores = jo["judgment"]?["scores"], !scores.isNull {
                            vote.raw = scores.textValue
                        } else {
                            vote.raw = jo["judgment"]?["response"]?.stringValue ?? text
                        }
                        switch decision(text, swapped: order == .ba) {
                        case .some(.some(.tie)):
                            vote.status = .abstain
                            vote.error = "A=B: no preference (JudgeBench scores it as no decision)"
                            vote.reason = noPreference
                            vote.raw = vote.raw ?? text
                        case .some(.some(let p)): vote.verdict = p
                        case .some(.none):
                            vote.status = .abstain
                            vote.error = "no decision parsed"
                            vote.reason = .unparsed
                        case .none:
                            vote.status = .abstain
                            vote.error = "unreadable decision \(text.map { $0.debugDescription } ?? "null")"
                            vote.reason = .unreadable
                            result.warn(
                                .reinterpreted, r, path,
                                "decision \(text.map { $0.debugDescription } ?? "null") of \(judge) is not A>B, B>A or A=B: an abstention (JudgeBench scores it 0)"
                            )
                        }
                    }
                    result.votes.append(vote)
                }
            }
        }
        result.notes.append("judgebench: \(result.items.count) pairs")
        if !result.votes.isEmpty { result.notes.append("judgebench: \(ImportLabels.votesSummary(result.votes))") }
        return result
    }
}
