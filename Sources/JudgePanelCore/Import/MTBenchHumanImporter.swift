import Foundation
import JudgeStats

/// MT-Bench human judgments and GPT-4 pair judgments, in the published schema (FastChat `llm_judge`; the Hugging
/// Face data set `lmsys/mt_bench_human_judgments`, splits `human` and `gpt4_pair`, exported as JSONL or a JSON
/// array, and its `human_judgments.json` / `gpt4_pair_judgments.json`):
/// `{question_id, model_a, model_b, winner, judge, turn, conversation_a, conversation_b}`, and FastChat's own
/// pairwise judge output (`gen_judgment.py --mode pairwise-*`, `data/mt_bench/model_judgment/gpt-4_pair.jsonl`):
/// `{question_id, model_1, model_2, g1_winner, g2_winner, judge: [model, prompt name], turn, ...}`.
///
/// One item per (question_id, model pair, turn), id `<question_id>/<model_a>/<model_b>/t<turn>` in the orientation
/// first seen; a record with the two models the other way round is read into it (its winner mirrored). The prompt
/// is the user turns up to `turn` from conversation_a (joined with turn headers when `turn` > 1), response_a/b the
/// assistant replies at that turn. `winner` model_a → A, model_b → B, tie → tie; `tie (bothbad)` (and any other
/// `tie (…)`) → tie, with a warning.
///
/// Who is human: a `judge` string named `author_*`, `expert_*` or `human*` is a human annotator (a `labels` entry;
/// a second label by the same annotator on the same item is kept, with a warning). Any other judge (`gpt4_pair`,
/// a list such as `["gpt-4", "pair-v2"]`, read as `gpt-4/pair-v2`) is a model: a one-winner record is a vote
/// without an order (the published winner already combines both orders); a `g1_winner`/`g2_winner` record gives an
/// `AB` vote (g1: model_1 shown first) and a `BA` vote (g2: model_2 shown first; FastChat already maps its winner
/// back to model names), `error` being an abstention. Those records carry no conversation: their item must come
/// from a record with conversations in any of the sources, or the record is skipped with a warning.
package enum MTBenchHumanImporter {
    package static func isHuman(_ judge: String) -> Bool {
        let j = judge.lowercased()
        return j.hasPrefix("author_") || j.hasPrefix("expert_") || j.hasPrefix("human")
    }

    /// The judge's name: a string as is, a list (FastChat's `[model, prompt name]`) joined with `/`.
    package static func judgeName(_ o: [String: JSONValue], _ r: ImportRecord, _ path: String) throws -> String {
        if let list = o["judge"]?.arrayValue {
            let parts = list.map(\.textValue)
            guard !parts.isEmpty else { throw ImportIO.fail("\"judge\" is an empty list", r, path) }
            return parts.joined(separator: "/")
        }
        return try ImportIO.string(o, "judge", r, path)
    }

    package struct Pending {
        package var record: ImportRecord
        package var object: [String: JSONValue]
        package var path: String
    }

    package static func run(sources: [String]) throws -> ImportResult {
        var result = ImportResult()
        var index: [String: Int] = [:]  // canonical key -> item position
        var prefsByItem: [[Preference]] = []
        var samples: [String: Int] = [:]
        var labelled: Set<String> = []
        var bothBad = 0
        var pairRecords: [Pending] = []

        func locate(_ qid: String, _ ma: String, _ mb: String, _ turn: Int) -> (Int, Bool)? {
            if let p = index["\(qid)\u{0}\(ma)\u{0}\(mb)\u{0}\(turn)"] { return (p, false) }
            if let p = index["\(qid)\u{0}\(mb)\u{0}\(ma)\u{0}\(turn)"] { return (p, true) }
            return nil
        }

        for path in sources {
            for (r, o) in try ImportIO.objects(path: path) {
                if o["g1_winner"] != nil || o["model_1"] != nil {
                    pairRecords.append(Pending(record: r, object: o, path: path))
                    continue
                }
                let fail = { (m: String) in ImportIO.fail(m, r, path) }
                guard let qv = o["question_id"], !qv.isNull else { throw fail("missing \"question_id\"") }
                let qid = qv.textValue
                let ma = try ImportIO.string(o, "model_a", r, path)
                let mb = try ImportIO.string(o, "model_b", r, path)
                let judge = try judgeName(o, r, path)
                let turn = o["turn"]?.intValue ?? 1
                guard turn >= 1 else { throw fail("\"turn\" must be 1 or more") }
                let winnerText = try ImportIO.string(o, "winner", r, path)
                var pref: Preference
                switch winnerText.lowercased() {
                case "model_a": pref = .a
                case "model_b": pref = .b
                case "tie": pref = .tie
                case let w where w.hasPrefix("tie (") && w.hasSuffix(")"):
                    pref = .tie
                    if w == "tie (bothbad)" { bothBad += 1 }
                    result.warn(.reinterpreted, r, path, "winner \(winnerText.debugDescription) read as tie")
                default:
                    throw fail(
                        "\"winner\" must be model_a, model_b, tie or tie (bothbad) (got \(winnerText.debugDescription))"
                    )
                }
                let position: Int
                var flipped = false
                if let (p, f) = locate(qid, ma, mb, turn) {
                    position = p
                    flipped = f
                } else {
                    let convA = try conversation(o, "conversation_a", r, path)
                    let convB = try conversation(o, "conversation_b", r, path)
                    let users = convA.filter { $0.role == "user" }.map(\.content)
                    let repliesA = convA.filter { $0.role == "assistant" }.map(\.content)
                    let repliesB = convB.filter { $0.role == "assistant" }.map(\.content)
                    guard users.count >= turn, repliesA.count >= turn, repliesB.count >= turn else {
                        throw fail("the conversations have fewer than \(turn) turns")
                    }
                    var item = Item(id: "\(qid)/\(ma)/\(mb)/t\(turn)", line: r.line ?? 0)
                    item.prompt =
                        turn == 1
                        ? users[0]
                        : users.prefix(turn).enumerated().map { "[Turn \($0.offset + 1)]\n\($0.element)" }.joined(
                            separator: "\n\n")
                    item.responseA = repliesA[turn - 1]
                    item.responseB = repliesB[turn - 1]
                    item.modelA = ma
                    item.modelB = mb
                    item.meta = ["question_id": qv, "turn": .number(Double(turn))]
                    position = result.items.count
                    index["\(qid)\u{0}\(ma)\u{0}\(mb)\u{0}\(turn)"] = position
                    result.items.append(item)
                    prefsByItem.append([])
                }
                if flipped { pref = pref == .a ? .b : (pref == .b ? .a : .tie) }
                let id = result.items[position].id
                if isHuman(judge) {
                    if !labelled.insert("\(id)\u{0}\(judge)").inserted {
                        result.warn(
                            .merged, r, path, "a second label by \(judge) on item \(id); both count in the majority")
                    }
                    result.items[position].labels.append(AnnotatorLabel(annotator: judge, label: .pairwise(pref)))
                    prefsByItem[position].append(pref)
                } else {
                    let sample = result.nextSample(
                        &samples, item: id, judge: judge, order: nil, what: "verdict", r, path)
                    var vote = Vote(
                        item: id, judge: judge, protocol: .pairwise, order: nil, sample: sample, verdict: pref)
                    vote.raw = winnerText
                    result.votes.append(vote)
                }
            }
        }
        // FastChat pair judgments: both orders, onto items that came with conversations.
        for pending in pairRecords {
            let (r, o, path) = (pending.record, pending.object, pending.path)
            guard let qv = o["question_id"], !qv.isNull else { throw ImportIO.fail("missing \"question_id\"", r, path) }
            let m1 = try ImportIO.string(o, "model_1", r, path)
            let m2 = try ImportIO.string(o, "model_2", r, path)
            let judge = try judgeName(o, r, path)
            let turn = o["turn"]?.intValue ?? 1
            guard let (position, flipped) = locate(qv.textValue, m1, m2, turn) else {
                result.warn(
                    .skipped, r, path,
                    "no conversation for question \(qv.textValue), \(m1) vs \(m2), turn \(turn) in the sources (pass the human judgments file too)"
                )
                continue
            }
            let id = result.items[position].id
            for (key, shownFirst) in [("g1_winner", m1), ("g2_winner", m2)] {
                let text = try ImportIO.string(o, key, r, path)
                // Shown-first side in dataset orientation: model_1 is A unless the item holds the pair the other way.
                let firstIsA = (shownFirst == m1) != flipped
                let order: Order = firstIsA ? .ab : .ba
                let sample = result.nextSample(&samples, item: id, judge: judge, order: order, what: key, r, path)
                var vote = Vote(item: id, judge: judge, protocol: .pairwise, order: order, sample: sample)
                vote.raw = text
                switch text {
                case "model_1": vote.verdict = flipped ? .b : .a
                case "model_2": vote.verdict = flipped ? .a : .b
                case "tie": vote.verdict = .tie
                case "error":
                    vote.status = .abstain
                    vote.error = "the judge's reply held no verdict (FastChat: error)"
                    vote.reason = .unparsed
                default:
                    throw ImportIO.fail(
                        "\"\(key)\" must be model_1, model_2, tie or error (got \(text.debugDescription))", r, path)
                }
                result.votes.append(vote)
            }
        }
        for (i, prefs) in prefsByItem.enumerated() {
            if let m = ImportLabels.majority(prefs) { result.items[i].label = .pairwise(m) }
        }
        let nLabels = prefsByItem.reduce(0) { $0 + $1.count }
        result.notes.append(
            "mtbench-human: \(result.items.count) items, \(nLabels) human labels (\(bothBad) \"tie (bothbad)\" read as tie); judges named author_*/expert_*/human* are human, others are votes"
        )
        if !result.votes.isEmpty { result.notes.append("mtbench-human: \(ImportLabels.votesSummary(result.votes))") }
        return result
    }

    package static func conversation(_ o: [String: JSONValue], _ key: String, _ r: ImportRecord, _ path: String) throws
        -> [(role: String, content: String)]
    {
        guard let arr = o[key]?.arrayValue else {
            throw ImportIO.fail("missing \"\(key)\" (an array of turns)", r, path)
        }
        return try arr.map { m in
            guard let role = m["role"]?.stringValue, let content = m["content"]?.stringValue else {
                throw ImportIO.fail("each \"\(key)\" turn needs role and content", r, path)
            }
            return (role.lowercased(), content)
        }
    }
}
