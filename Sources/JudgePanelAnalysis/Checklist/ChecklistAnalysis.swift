import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Per-question analysis of checklist votes: pass rates across responses and models, agreement between judges per
/// question, and questions the judges do not answer consistently (flagged).
///
/// A *response* is one graded answer: a pointwise item, or one side (A or B) of a pairwise item. A judge's answer to
/// a question on a response is YES, NO or UNSURE (its first ok vote by sample). Questions are named by their text
/// when the checklists (or the rubric's fixed items) are given, otherwise by position (`Q1`, `Q2`, …).
///
/// ```swift
/// let a = ChecklistAnalysis.analyze(items: items, votes: votes, checklists: lists)
/// for q in a.questions where q.flagged { print(q.question, q.reasons) }
/// ```
package struct ChecklistAnalysis: Sendable, Hashable, Codable {
    package struct Question: Sendable, Hashable, Codable {
        /// The question text, or `Qn` when unknown.
        package var question: String
        /// 1-based position(s) of the question in its checklist.
        package var position: Int
        /// Items whose checklist holds the question.
        package var nItems: Int
        /// Responses graded on it.
        package var nResponses: Int
        /// Judge answers (YES, NO, UNSURE) counted.
        var nAnswers: Int
        /// YES over YES + NO, all judges; null when every answer is UNSURE.
        package var passRate: Double?
        /// Share of answers that are UNSURE.
        package var unsureRate: Double?
        /// Share of responses answered by two or more judges where all gave the same answer (null: never two).
        package var agreement: Double?
        /// Cohen's κ (YES/NO/UNSURE) when the panel has exactly two judges.
        package var cohenKappa: Double?
        /// Cohen's κ per judge pair `a|b` (defined values only).
        var pairwiseKappa: [String: Double]
        /// Pass rate per judge.
        package var byJudge: [String: Double]
        /// Pass rate per model that wrote the responses.
        package var byModel: [String: Double]
        package var flagged: Bool
        package var reasons: [String]

        package enum CodingKeys: String, CodingKey {
            case question, position
            case nItems = "n_items"
            case nResponses = "n_responses"
            case nAnswers = "n_answers"
            case passRate = "pass_rate"
            case unsureRate = "unsure_rate"
            case agreement
            case cohenKappa = "cohen_kappa"
            case pairwiseKappa = "pairwise_kappa"
            case byJudge = "by_judge"
            case byModel = "by_model"
            case flagged, reasons
        }
    }

    package var judges: [String]
    package var nResponses: Int
    package var questions: [Question]
    package var agreementThreshold: Double
    package var unsureThreshold: Double

    package enum CodingKeys: String, CodingKey {
        case judges
        case nResponses = "n_responses"
        case questions
        case agreementThreshold = "agreement_threshold"
        case unsureThreshold = "unsure_threshold"
    }

    package enum Answer: String, Comparable {
        case yes = "YES"
        case no = "NO"
        case unsure = "UNSURE"
        package static func < (l: Answer, r: Answer) -> Bool { l.rawValue < r.rawValue }
        package init(_ b: Bool?) { self = b.map { $0 ? .yes : .no } ?? .unsure }
    }

    /// Analyses ok checklist votes. `checklists` names each item's questions, `fixed` the rubric's fixed ones.
    /// A question is flagged when its agreement is below `agreementThreshold` or more than `unsureThreshold` of its
    /// answers are UNSURE.
    package static func analyze(
        items: [Item], votes: [Vote], checklists: [String: [String]] = [:], fixed: [String] = [],
        agreementThreshold: Double = 0.6, unsureThreshold: Double = 0.5
    ) -> ChecklistAnalysis {
        let itemByID = Dictionary(items.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let ok = votes.filter { $0.isOK && $0.checks != nil && $0.variant == nil }.sorted { $0.sample < $1.sample }
        var judges: [String] = []
        // response key -> judge -> first vote
        struct Response: Hashable {
            var item: String
            var side: Preference?
        }
        var responses: [Response] = []
        var answers: [Response: [String: [Bool?]]] = [:]
        for v in ok {
            if !judges.contains(v.judge) { judges.append(v.judge) }
            let r = Response(item: v.item, side: v.side)
            if answers[r] == nil { responses.append(r) }
            if answers[r, default: [:]][v.judge] == nil { answers[r, default: [:]][v.judge] = v.checks ?? [] }
        }
        struct Acc {
            var position: Int
            var items = Set<String>()
            var responses = 0
            var yes = 0, no = 0, unsure = 0
            var agreeN = 0, agreeYes = 0
            var perJudge: [String: [Response: Answer]] = [:]
            var judgeYes: [String: (Int, Int)] = [:]
            var modelYes: [String: (Int, Int)] = [:]
        }
        var order: [String] = []
        var acc: [String: Acc] = [:]
        for r in responses {
            let byJudge = answers[r, default: [:]]
            let width = byJudge.values.map(\.count).max() ?? 0
            let item = itemByID[r.item]
            let model: String? =
                r.side == nil ? item?.model : (r.side == .a ? item?.modelA : (r.side == .b ? item?.modelB : nil))
            for i in 0..<width {
                let text =
                    checklists[r.item].flatMap { i < $0.count ? $0[i] : nil } ?? (i < fixed.count ? fixed[i] : nil)
                let key = text ?? "Q\(i + 1)"
                if acc[key] == nil { order.append(key) }
                var a = acc[key] ?? Acc(position: i + 1)
                a.items.insert(r.item)
                a.responses += 1
                var given: [Answer] = []
                for j in judges {
                    guard let checks = byJudge[j] else { continue }
                    let ans = Answer(i < checks.count ? checks[i] : nil)
                    given.append(ans)
                    a.perJudge[j, default: [:]][r] = ans
                    switch ans {
                    case .yes: a.yes += 1
                    case .no: a.no += 1
                    case .unsure: a.unsure += 1
                    }
                    if ans != .unsure {
                        var t = a.judgeYes[j] ?? (0, 0)
                        t.1 += 1
                        if ans == .yes { t.0 += 1 }
                        a.judgeYes[j] = t
                        if let model {
                            var m = a.modelYes[model] ?? (0, 0)
                            m.1 += 1
                            if ans == .yes { m.0 += 1 }
                            a.modelYes[model] = m
                        }
                    }
                }
                if given.count >= 2 {
                    a.agreeN += 1
                    if Set(given).count == 1 { a.agreeYes += 1 }
                }
                acc[key] = a
            }
        }
        var out: [Question] = []
        for key in order {
            guard let a = acc[key] else { continue }  // every key of `order` was added to `acc`
            let total = a.yes + a.no + a.unsure
            var pk: [String: Double] = [:]
            var kappa2: Double?
            for x in 0..<judges.count {
                for y in (x + 1)..<max(judges.count, x + 1) where y < judges.count {
                    let (j1, j2) = (judges[x], judges[y])
                    guard let m1 = a.perJudge[j1], let m2 = a.perJudge[j2] else { continue }
                    let both = m1.keys.compactMap { r in m1[r].flatMap { x in m2[r].map { (x, $0) } } }
                    let k = cohenKappa(both.map(\.0), both.map(\.1))
                    if let v = k.value {
                        pk["\(j1)|\(j2)"] = v
                        if judges.count == 2 { kappa2 = v }
                    }
                }
            }
            let agreement = a.agreeN > 0 ? Double(a.agreeYes) / Double(a.agreeN) : nil
            let unsure = total > 0 ? Double(a.unsure) / Double(total) : nil
            var reasons: [String] = []
            if let agreement, agreement < agreementThreshold {
                reasons.append(
                    String(
                        format: "judges agree on %.0f%% of responses (< %.0f%%)", agreement * 100,
                        agreementThreshold * 100))
            }
            if let unsure, unsure > unsureThreshold {
                reasons.append(
                    String(format: "%.0f%% of answers are UNSURE (> %.0f%%)", unsure * 100, unsureThreshold * 100))
            }
            out.append(
                Question(
                    question: key, position: a.position, nItems: a.items.count, nResponses: a.responses,
                    nAnswers: total,
                    passRate: a.yes + a.no > 0 ? Double(a.yes) / Double(a.yes + a.no) : nil, unsureRate: unsure,
                    agreement: agreement, cohenKappa: kappa2, pairwiseKappa: pk,
                    byJudge: a.judgeYes.filter { $0.value.1 > 0 }.mapValues { Double($0.0) / Double($0.1) },
                    byModel: a.modelYes.filter { $0.value.1 > 0 }.mapValues { Double($0.0) / Double($0.1) },
                    flagged: !reasons.isEmpty, reasons: reasons))
        }
        return ChecklistAnalysis(
            judges: judges, nResponses: responses.count, questions: out, agreementThreshold: agreementThreshold,
            unsureThreshold: unsureThreshold)
    }

    /// A plain-text table: one row a question.
    package var table: String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "—" }
        let rows = questions.map { q -> [String] in
            let text = q.question.count > 60 ? String(q.question.prefix(57)) + "…" : q.question
            return [
                text, String(q.nResponses), f(q.passRate), f(q.unsureRate), f(q.agreement),
                f(
                    q.cohenKappa
                        ?? (q.pairwiseKappa.isEmpty
                            ? nil : q.pairwiseKappa.values.reduce(0, +) / Double(q.pairwiseKappa.count))),
                q.flagged ? "FLAG" : "",
            ]
        }
        let flagged = questions.filter(\.flagged).count
        return TextTable.plain(header: ["question", "responses", "pass", "unsure", "agree", "κ", ""], rows: rows)
            + "\n\(questions.count) questions, \(nResponses) responses, judges: \(judges.joined(separator: ", ")); "
            + "\(flagged) flagged (agreement < \(agreementThreshold) or UNSURE > \(Int(unsureThreshold * 100))%)"
    }
}
