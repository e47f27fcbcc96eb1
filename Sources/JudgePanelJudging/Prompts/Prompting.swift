import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// Renders the messages a judge sees for one item, in one order.
///
/// ```swift
/// let messages = Prompting.messages(rubric: rubric, item: item, order: .ba)
/// ```
package enum Prompting {
    /// Template values for `item` as shown in `order` (pairwise answers swapped for `.ba`).
    package static func values(rubric: Rubric, item: Item, order: Order?, checklist: [String]? = nil) -> [String:
        String]
    {
        var v: [String: String] = ["prompt": item.promptText, "description": rubric.description]
        if let r = item.response { v["response"] = r }
        for (key, value) in parts(item.candidate ?? item.response.map(Candidate.text), item: item) { v[key] = value }
        if let a = item.responseA, let b = item.responseB {
            // A swap moves each candidate whole: its text, its context, its final answer and its counts.
            let first = order == .ba ? (b, item.candidateB) : (a, item.candidateA)
            let second = order == .ba ? (a, item.candidateA) : (b, item.candidateB)
            v["response_a"] = first.0
            v["response_b"] = second.0
            for (key, value) in parts(first.1 ?? .text(first.0), item: item) { v[key + "_a"] = value }
            for (key, value) in parts(second.1 ?? .text(second.0), item: item) { v[key + "_b"] = value }
        }
        if item.truncatedToolOutputs > 0 { v["truncated"] = String(item.truncatedToolOutputs) }
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

    /// A candidate's `context` (everything before its final assistant message, rendered as the whole is),
    /// `final` (that message), and for a trajectory its `steps` and `tool_calls` counts.
    static func parts(_ candidate: Candidate?, item: Item) -> [String: String] {
        switch candidate {
        case nil: return [:]
        case .text(let t)?: return ["final": t, "context": ""]
        case .conversation(let m)?:
            guard let last = m.lastIndex(where: { $0.role == .assistant }) else { return [:] }
            return ["final": m[last].content, "context": ContentRendering.conversation(Array(m[..<last]))]
        case .trajectory(let m)?:
            var out = [
                "steps": String(m.count), "tool_calls": String(m.reduce(0) { $0 + ($1.toolCalls?.count ?? 0) }),
            ]
            if let last = m.lastIndex(where: { $0.role == .assistant }) {
                out["final"] = m[last].content
                out["context"] =
                    ContentRendering.trajectory(
                        Array(m[..<last]), maxToolOutputChars: item.contentLimits.maxToolOutputChars
                    ).text
            }
            return out
        }
    }

    /// The system and user messages for one call.
    package static func messages(rubric: Rubric, item: Item, order: Order?, checklist: [String]? = nil) -> [ChatMessage]
    {
        var out: [ChatMessage] = []
        if let system = rubric.system, !system.isEmpty { out.append(.system(system)) }
        let text = rubric.template.render(values(rubric: rubric, item: item, order: order, checklist: checklist))
        out.append(withImages(text, images: item.images))
        return out
    }

    /// The user message for `text`, with the images whose `[image N]` markers it shows attached after it, each
    /// after its own marker, in the order the text shows them (so a swap moves a candidate's images with it).
    /// Without markers (or images) the message is plain text.
    static func withImages(_ text: String, images: [ImageContent]) -> ChatMessage {
        guard !images.isEmpty else { return .user(text) }
        var shown: [Int] = []
        var seen = Set<Int>()
        var rest = Substring(text)
        while let open = rest.range(of: "[image ") {
            let after = rest[open.upperBound...]
            let digits = after.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, after.dropFirst(digits.count).first == "]", let n = Int(digits),
                (1...images.count).contains(n),
                seen.insert(n).inserted
            {
                shown.append(n)
            }
            rest = after
        }
        guard !shown.isEmpty else { return .user(text) }
        var parts: [ContentPart] = [.text(text)]
        for n in shown {
            parts.append(.text(ContentRendering.marker(n) + ":"))
            parts.append(.image(images[n - 1]))
        }
        return ChatMessage(role: .user, content: text, parts: parts)
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
            return
                "Your reply could not be read. Reply with only one line per question: the number, then YES, NO or UNSURE."
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
