import Foundation
import JudgeStats

/// MT-Bench human judgments (JSONL or a JSON array): `{question_id, model_a, model_b, winner, judge, turn,
/// conversation_a, conversation_b}`.
///
/// One item per (question_id, model pair, turn), id `<question_id>/<model_a>/<model_b>/t<turn>` in the orientation
/// first seen; a record with the two models the other way round is flipped into it. The prompt is the user turns up
/// to `turn` from conversation_a (joined with turn headers when `turn` > 1), response_a/b the assistant replies at
/// that turn. `winner` model_a → A, model_b → B, tie / tie (bothbad) → tie.
///
/// Who is human: a judge named `author_*`, `expert_*` or `human*` is a human annotator (a `labels` entry); any other
/// judge (gpt4_pair, gpt-4, claude-v1, ...) is a model and becomes a vote (order AB, or BA for a flipped record).
enum MTBenchHumanImporter {
    static func isHuman(_ judge: String) -> Bool {
        let j = judge.lowercased()
        return j.hasPrefix("author_") || j.hasPrefix("expert_") || j.hasPrefix("human")
    }

    static func run(sources: [String]) throws -> ImportResult {
        var result = ImportResult()
        var index: [String: Int] = [:]  // canonical key -> item position
        var prefsByItem: [[Preference]] = []
        var samples: [String: Int] = [:]
        var bothBad = 0
        for path in sources {
            for (r, o) in try ImportIO.objects(path: path) {
                let fail = { (m: String) in ImportIO.fail(m, r, path) }
                guard let qv = o["question_id"], !qv.isNull else { throw fail("missing \"question_id\"") }
                let qid = qv.textValue
                let ma = try ImportIO.string(o, "model_a", r, path)
                let mb = try ImportIO.string(o, "model_b", r, path)
                let judge = try ImportIO.string(o, "judge", r, path)
                let turn = o["turn"]?.intValue ?? 1
                guard turn >= 1 else { throw fail("\"turn\" must be 1 or more") }
                let winnerText = try ImportIO.string(o, "winner", r, path)
                var pref: Preference
                switch winnerText.lowercased() {
                case "model_a": pref = .a
                case "model_b": pref = .b
                case "tie": pref = .tie
                case "tie (bothbad)":
                    pref = .tie
                    bothBad += 1
                default: throw fail("\"winner\" must be model_a, model_b, tie or tie (bothbad) (got \(winnerText.debugDescription))")
                }
                let key = "\(qid)\u{0}\(ma)\u{0}\(mb)\u{0}\(turn)"
                let flippedKey = "\(qid)\u{0}\(mb)\u{0}\(ma)\u{0}\(turn)"
                var flipped = false
                let position: Int
                if let p = index[key] {
                    position = p
                } else if let p = index[flippedKey] {
                    position = p
                    flipped = true
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
                    index[key] = position
                    result.items.append(item)
                    prefsByItem.append([])
                }
                if flipped { pref = pref == .a ? .b : (pref == .b ? .a : .tie) }
                let id = result.items[position].id
                if isHuman(judge) {
                    result.items[position].labels.append(AnnotatorLabel(annotator: judge, label: .pairwise(pref)))
                    prefsByItem[position].append(pref)
                } else {
                    let order: Order = flipped ? .ba : .ab
                    let sk = "\(id)|\(judge)|\(order.rawValue)"
                    let sample = samples[sk, default: 0]
                    samples[sk] = sample + 1
                    var vote = Vote(
                        item: id, judge: judge, protocol: .pairwise, order: order, sample: sample, verdict: pref)
                    vote.raw = winnerText
                    result.votes.append(vote)
                }
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

    static func conversation(_ o: [String: JSONValue], _ key: String, _ r: ImportRecord, _ path: String) throws
        -> [(role: String, content: String)]
    {
        guard let arr = o[key]?.arrayValue else { throw ImportIO.fail("missing \"\(key)\" (an array of turns)", r, path) }
        return try arr.map { m in
            guard let role = m["role"]?.stringValue, let content = m["content"]?.stringValue else {
                throw ImportIO.fail("each \"\(key)\" turn needs role and content", r, path)
            }
            return (role.lowercased(), content)
        }
    }
}
