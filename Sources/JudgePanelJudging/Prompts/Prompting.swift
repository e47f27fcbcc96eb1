import Foundation
import JudgeStats
import JudgePanelCore
import JudgePanelProviders

/// Renders the messages a judge sees for one item, in one order.
///
/// ```swift
/// let messages = Prompting.messages(rubric: rubric, item: item, order: .ba)
/// ```
package enum Prompting {
    /// Template values for `item` as shown in `order` (pairwise answers swapped for `.ba`).
    package static func values(rubric: Rubric, item: Item, order: Order?, checklist: [String]? = nil) -> [String: String] {
        var v: [String: String] = ["prompt": item.promptText, "description": rubric.description]
        if let r = item.response { v["response"] = r }
        if let a = item.responseA, let b = item.responseB {
            if order == .ba {
                v["response_a"] = b
                v["response_b"] = a
            } else {
                v["response_a"] = a
                v["response_b"] = b
            }
        }
        if rubric.reference != .none, let ref = item.reference, !ref.isEmpty { v["reference"] = ref }
        if let s = rubric.scale {
            v["scale_min"] = String(s.min)
            v["scale_max"] = String(s.max)
            if !s.levels.isEmpty {
                v["levels"] = s.levels.keys.sorted().map { "\($0): \(s.levels[$0]!)" }.joined(separator: "\n")
            }
        }
        let questions = checklist ?? rubric.checklist?.items ?? []
        if !questions.isEmpty {
            v["checklist"] = questions.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
        }
        return v
    }

    /// The system and user messages for one call.
    package static func messages(rubric: Rubric, item: Item, order: Order?, checklist: [String]? = nil) -> [ChatMessage] {
        var out: [ChatMessage] = []
        if let system = rubric.system, !system.isEmpty { out.append(.system(system)) }
        out.append(.user(rubric.template.render(values(rubric: rubric, item: item, order: order, checklist: checklist))))
        return out
    }

    /// The message for the one repair re-ask after an unreadable reply.
    package static func repairMessage(rubric: Rubric, structured: Bool) -> String {
        if let r = rubric.repair { return r }
        if structured { return "Your reply could not be read. Reply with only the JSON object." }
        switch (rubric.kind, rubric.output) {
        case (_, .json(let field)):
            return "Your reply could not be read. Reply with only a JSON object with the field \"\(field)\"."
        case (.pairwise, _):
            return rubric.allowTie
                ? "Your reply could not be read. Reply with only your verdict: [[A]], [[B]] or [[C]] for a tie."
                : "Your reply could not be read. Reply with only your verdict: [[A]] or [[B]]."
        case (.pointwise, _):
            let s = rubric.scale ?? Scale(min: 1, max: 10)
            return "Your reply could not be read. Reply with only your rating as [[N]], N from \(s.min) to \(s.max)."
        case (.checklist, _):
            return "Your reply could not be read. Reply with only one line per question: the number, then YES, NO or UNSURE."
        }
    }

    /// The JSON schema for structured output, derived from the rubric.
    package static func schema(rubric: Rubric, questions: Int = 0) -> JSONValue {
        switch rubric.kind {
        case .pairwise:
            let options: [JSONValue] = rubric.allowTie ? ["A", "B", "tie"] : ["A", "B"]
            return [
                "type": "object",
                "properties": ["verdict": ["type": "string", "enum": .array(options)]],
                "required": ["verdict"],
                "additionalProperties": false,
            ]
        case .pointwise:
            let s = rubric.scale ?? Scale(min: 1, max: 10)
            let values = (s.min...s.max).map { JSONValue.number(Double($0)) }
            return [
                "type": "object",
                "properties": ["score": ["type": "integer", "enum": .array(values)]],
                "required": ["score"],
                "additionalProperties": false,
            ]
        case .checklist:
            return [
                "type": "object",
                "properties": [
                    "answers": [
                        "type": "array",
                        "items": ["type": "string", "enum": ["YES", "NO", "UNSURE"]],
                        "minItems": .number(Double(questions)), "maxItems": .number(Double(questions)),
                    ]
                ],
                "required": ["answers"],
                "additionalProperties": false,
            ]
        }
    }
}
