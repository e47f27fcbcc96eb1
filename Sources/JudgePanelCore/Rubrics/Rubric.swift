import Foundation
import JudgeStats
import Yams

/// How a judge is asked: one response scored, two compared, or a checklist answered.
public enum JudgingProtocol: String, Sendable, Codable, CaseIterable {
    /// One response scored on a scale.
    case pointwise
    /// Two responses compared.
    case pairwise
    /// One response (or two) graded by YES/NO questions.
    case checklist
}

/// How a rubric uses the item's `reference` answer.
public enum ReferenceUse: String, Sendable, Codable {
    /// The reference answer is not shown.
    case none
    /// Shown when the item has one.
    case optional
    /// Every item must have one.
    case required
}

/// How to read the judge's answer from its reply.
public enum OutputSpec: Sendable, Hashable {
    /// A regular expression; the last match in the reply counts, capture group 1 (or the whole match).
    case pattern(String)
    /// A field of a JSON object in the reply.
    case json(field: String)
}

/// A scoring scale for pointwise rubrics.
public struct Scale: Sendable, Hashable, Codable {
    /// The lowest score.
    public var min: Int
    /// The highest score.
    public var max: Int
    /// Optional level descriptions, e.g. `1: "Fails the task"`.
    public var levels: [Int: String]

    /// A scale from `min` to `max`, with optional descriptions of its levels.
    public init(min: Int, max: Int, levels: [Int: String] = [:]) {
        self.min = min
        self.max = max
        self.levels = levels
    }
}

/// What a checklist question is asked of.
public enum ChecklistUnit: String, Sendable, Hashable {
    /// The whole answer (the default).
    case item
    /// Each assistant turn of a conversation candidate: question × turn, `Turn k: …`.
    case turn
    /// Each assistant step of a trajectory candidate: question × step, `Step s: …`.
    case step
}

/// The checklist part of a rubric.
public struct ChecklistSpec: Sendable, Hashable {
    /// The fixed checklist questions (empty when they are generated per item).
    public var items: [String]
    /// Whether a judge writes per-prompt questions first (TICK).
    public var generate: Bool
    /// The prompt that generates questions per item, when they are generated.
    public var generator: String?
    /// The fewest questions a generated checklist may have.
    public var minQuestions: Int
    /// The most questions a generated checklist may have.
    public var maxQuestions: Int
    /// The pass-ratio difference under which a checklist-derived pairwise verdict is a tie.
    public var tieMargin: Double
    /// What each question is asked of: the whole answer, each assistant turn of a conversation, or each assistant
    /// step of a trajectory (`per: item | turn | step`).
    public var per: ChecklistUnit = .item

    /// A checklist specification from its parts.
    public init(
        items: [String] = [], generate: Bool = false, generator: String? = nil, minQuestions: Int = 2,
        maxQuestions: Int = 10, tieMargin: Double = 0.05
    ) {
        self.items = items
        self.generate = generate
        self.generator = generator
        self.minQuestions = minQuestions
        self.maxQuestions = maxQuestions
        self.tieMargin = tieMargin
    }
}

/// A rubric: what to ask a judge, and how to read its answer. Loaded from `rubrics/*.yaml`.
///
/// ```swift
/// let rubric = try Rubric.load(path: "rubrics/pairwise-mtbench.yaml")
/// print(rubric.id, rubric.kind)  // pairwise-mtbench pairwise
/// ```
public struct Rubric: Sendable, Hashable {
    /// The newest rubric file version this build reads.
    public static let supportedVersion = 1
    /// Variables a template may use.
    public static let templateVariables: Set<String> = [
        "prompt", "response", "response_a", "response_b", "reference", "checklist", "scale_min", "scale_max",
        "levels", "description",
        // Conversations and trajectories (README "Conversations, trajectories and images"): the candidate before its
        // final assistant message, that message, its step and tool-call counts, and the tool outputs cut.
        "context", "context_a", "context_b", "final", "final_a", "final_b", "steps", "steps_a", "steps_b",
        "tool_calls", "tool_calls_a", "tool_calls_b", "truncated",
    ]

    /// The rubric's id (its file name without `.yaml`).
    public var id: String
    /// The judging protocol: pairwise, pointwise or checklist.
    public var kind: JudgingProtocol
    /// What the rubric judges, in a sentence.
    public var description: String
    /// Whether a pairwise judge may answer tie.
    public var allowTie: Bool
    /// The score scale (pointwise).
    public var scale: Scale?
    /// Whether and how an item's reference answer is shown.
    public var reference: ReferenceUse
    /// The system message, if any.
    public var system: String?
    /// The user message template.
    public var template: Template
    /// How the answer is read from the reply.
    public var output: OutputSpec
    /// The checklist (checklist rubrics).
    public var checklist: ChecklistSpec?
    /// The message sent when a reply cannot be read (one repair re-ask).
    public var repair: String?
    /// Where the rubric was loaded from.
    public var source: String?
    /// The line of `template:` in the source file (1-based), for error messages.
    public var templateLine: Int

    /// A rubric from its parts (``load(path:)`` reads one from a file).
    public init(
        id: String, kind: JudgingProtocol, description: String = "", allowTie: Bool = true, scale: Scale? = nil,
        reference: ReferenceUse = .none, system: String? = nil, template: Template, output: OutputSpec,
        checklist: ChecklistSpec? = nil, repair: String? = nil, source: String? = nil, templateLine: Int = 0
    ) {
        self.id = id
        self.kind = kind
        self.description = description
        self.allowTie = allowTie
        self.scale = scale
        self.reference = reference
        self.system = system
        self.template = template
        self.output = output
        self.checklist = checklist
        self.repair = repair
        self.source = source
        self.templateLine = templateLine
    }

    /// Loads and validates a rubric file.
    public static func load(path: String) throws -> Rubric {
        try parse(map: YAMLMap.load(path: path, context: "rubric"))
    }

    /// Parses rubric YAML text; `file` names it in errors.
    public static func parse(yaml: String, file: String = "<rubric>") throws -> Rubric {
        try parse(map: YAMLMap.parse(text: yaml, file: file, context: "rubric"))
    }

    package static func parse(map: YAMLMap) throws -> Rubric {
        let file = map.file
        try map.rejectUnknown(
            [
                "version", "id", "protocol", "description", "allow_tie", "scale", "reference", "system", "template",
                "output", "checklist", "repair",
            ], context: "rubric")
        let version = try map.int("version") ?? 1
        guard version <= supportedVersion, version >= 1 else {
            throw map.error(
                "version",
                "rubric version \(version) is not supported (this judgepanel reads version \(supportedVersion))")
        }
        let id = try map.requiredString("id", context: "rubric")
        let protoText = try map.requiredString("protocol", context: "rubric")
        guard let kind = JudgingProtocol(rawValue: protoText) else {
            throw map.error("protocol", "unknown protocol '\(protoText)' (pointwise | pairwise | checklist)")
        }
        var scale: Scale?
        if let s = try map.map("scale") {
            try s.rejectUnknown(["min", "max", "levels"], context: "scale")
            guard let lo = try s.int("min"), let hi = try s.int("max"), lo < hi else {
                throw map.error("scale", "scale needs integer min < max")
            }
            var levels: [Int: String] = [:]
            if let lv = try s.map("levels") {
                for key in lv.keys {
                    guard let k = Int(key), let text = try lv.string(key) else {
                        throw lv.error(key, "scale levels must map integers to text")
                    }
                    guard (lo...hi).contains(k) else {
                        throw lv.error(key, "scale level \(k) is outside \(lo)...\(hi)")
                    }
                    levels[k] = text
                }
            }
            scale = Scale(min: lo, max: hi, levels: levels)
        }
        if kind == .pointwise && scale == nil {
            throw map.error("protocol", "a pointwise rubric needs 'scale: {min, max}'")
        }
        let refText = try map.string("reference") ?? "none"
        guard let reference = ReferenceUse(rawValue: refText) else {
            throw map.error("reference", "reference must be none, optional or required")
        }
        let templateText = try map.requiredString("template", context: "rubric")
        let templateLine = map.lineOf("template") ?? 1
        // A block scalar's mark is on the `|` line; its content starts on the next line.
        let contentLine =
            templateLine
            + (map.node("template")?.scalar?.style == .literal
                || map.node("template")?.scalar?.style == .folded ? 1 : 0)
        let template: Template
        do {
            template = try Template(templateText)
        } catch let e as TemplateError {
            throw JudgePanelError.badInput("template: \(e.message)", file: file, line: contentLine + e.line)
        }
        for (name, line) in template.variables where !templateVariables.contains(name) {
            throw JudgePanelError.badInput(
                "template variable '{{\(name)}}' does not exist (known: \(templateVariables.sorted().joined(separator: ", ")))",
                file: file, line: contentLine + line)
        }
        let used = Set(template.variables.map(\.name))
        switch kind {
        case .pairwise:
            // The final answers alone (with their context) also show both candidates (MT-Bench turn 2).
            guard used.contains("response_a") || used.contains("final_a"),
                used.contains("response_b") || used.contains("final_b")
            else {
                throw map.error(
                    "template",
                    "a pairwise template must use {{response_a}} and {{response_b}} (or {{final_a}} and {{final_b}})")
            }
        case .pointwise, .checklist:
            guard used.contains("response") || used.contains("final") else {
                throw map.error("template", "a \(kind.rawValue) template must use {{response}} (or {{final}})")
            }
        }
        if reference == .none, used.contains("reference") {
            throw map.error("template", "the template uses {{reference}} but 'reference' is none")
        }
        let output: OutputSpec
        if let o = try map.map("output") {
            try o.rejectUnknown(["pattern", "json"], context: "output")
            if let p = try o.string("pattern") {
                do {
                    _ = try NSRegularExpression(pattern: p)
                } catch {
                    throw o.error("pattern", "output pattern is not a valid regular expression")
                }
                if let problem = PatternSafety.problem(in: p) {
                    throw o.error(
                        "pattern", "output pattern rejected: \(problem); write it without the nested repetition")
                }
                output = .pattern(p)
            } else if let j = try o.map("json") {
                output = .json(field: try j.requiredString("field", context: "output.json"))
            } else {
                throw map.error("output", "output needs 'pattern' or 'json: {field: ...}'")
            }
        } else {
            output = kind == .pairwise ? .pattern("\\[\\[(A|B|C)\\]\\]") : .pattern("\\[\\[(\\d+(?:\\.\\d+)?)\\]\\]")
        }
        var checklist: ChecklistSpec?
        if let c = try map.map("checklist") {
            try c.rejectUnknown(
                ["items", "generate", "generator", "min_questions", "max_questions", "tie_margin", "per"],
                context: "checklist")
            checklist = ChecklistSpec(
                items: try c.stringList("items") ?? [], generate: try c.bool("generate") ?? false,
                generator: try c.string("generator"), minQuestions: try c.int("min_questions") ?? 2,
                maxQuestions: try c.int("max_questions") ?? 10, tieMargin: try c.double("tie_margin") ?? 0.05)
            if let perText = try c.string("per") {
                guard let unit = ChecklistUnit(rawValue: perText) else {
                    throw c.error("per", "per must be item, turn or step (got '\(perText)')")
                }
                checklist?.per = unit
            }
            if let cl = checklist {
                guard cl.minQuestions >= 1 else { throw c.error("min_questions", "min_questions must be at least 1") }
                guard cl.maxQuestions >= cl.minQuestions else {
                    throw c.error("max_questions", "max_questions must be at least min_questions (\(cl.minQuestions))")
                }
                guard cl.tieMargin.isFinite, cl.tieMargin >= 0, cl.tieMargin <= 1 else {
                    throw c.error("tie_margin", "tie_margin must be a number from 0 to 1 (got \(cl.tieMargin))")
                }
            }
        }
        if kind == .checklist {
            guard let cl = checklist, cl.generate || !cl.items.isEmpty else {
                throw map.error("protocol", "a checklist rubric needs 'checklist: {items: [...]}' or 'generate: true'")
            }
            guard used.contains("checklist") else {
                throw map.error("template", "a checklist template must use {{checklist}}")
            }
        }
        return Rubric(
            id: id, kind: kind, description: try map.string("description") ?? "",
            allowTie: try map.bool("allow_tie") ?? true, scale: scale, reference: reference,
            system: try map.string("system"), template: template, output: output, checklist: checklist,
            repair: try map.string("repair"), source: file, templateLine: contentLine)
    }

    /// Item fields the rubric needs (for validation before any call).
    public var requiredFields: Set<String> {
        var fields = template.requiredVariables.intersection([
            "prompt", "response", "response_a", "response_b", "reference",
        ])
        if reference == .required { fields.insert("reference") }
        if kind == .pairwise { fields.formUnion(["response_a", "response_b"]) }
        if kind == .pointwise || kind == .checklist { fields.insert("response") }
        return fields
    }

    /// Checks that `item` has every field this rubric needs.
    public func validate(_ item: Item, file: String) throws {
        for field in requiredFields.sorted() {
            let present: Bool
            switch field {
            case "prompt": present = item.prompt != nil || item.messages != nil
            // A checklist grades each answer of a pairwise item on its own (one call per side).
            case "response": present = item.response != nil || (kind == .checklist && item.isPairwise)
            case "response_a": present = item.responseA != nil
            case "response_b": present = item.responseB != nil
            case "reference": present = !(item.reference ?? "").isEmpty
            default: present = true
            }
            if !present {
                throw JudgePanelError.badInput(
                    "item '\(item.id)' lacks '\(field)', which rubric '\(id)' needs", file: file, line: item.line)
            }
        }
        // A human score outside the rubric's scale would be compared with the judges' scores as it is (a 420 on a
        // 1–10 scale moves every correlation): refused, naming the item's line.
        if kind == .pointwise, let scale {
            let range = Double(scale.min)...Double(scale.max)
            let scores = [item.label?.score].compactMap { $0 } + item.labels.compactMap { $0.label.score }
            if let bad = scores.first(where: { !range.contains($0) }) {
                let shown = bad == bad.rounded() && abs(bad) < 1e15 ? String(Int(bad)) : String(bad)
                throw JudgePanelError.badInput(
                    "item '\(item.id)' has the human label \(shown), outside rubric '\(id)''s scale \(scale.min)–\(scale.max)",
                    file: file, line: item.line)
            }
        }
    }
}

extension ChecklistSpec {
    /// The questions asked of `item`'s candidate (``Item/candidate``, the side a call shows): `base` as they are,
    /// or once per assistant turn (`per: turn`) or assistant step (`per: step`), each prefixed with where it applies.
    /// A text candidate has one turn and one step.
    package func questions(_ base: [String], for item: Item) -> [String] {
        guard per != .item else { return base }
        var units: [String] = []
        switch item.candidate {
        case .conversation(let m)?:
            var turn = 0
            for message in m {
                if message.role == .user { turn += 1 }
                if message.role == .assistant { units.append("Turn \(max(turn, 1))") }
            }
        case .trajectory(let m)?:
            for (i, step) in m.enumerated() where step.role == .assistant { units.append("Step \(i + 1)") }
        case .text?, nil:
            units = [per == .turn ? "Turn 1" : "Step 1"]
        }
        if units.isEmpty { return base }
        return units.flatMap { u in base.map { "\(u): \($0)" } }
    }
}
