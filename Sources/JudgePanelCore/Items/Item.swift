import JudgeStats

/// One message of a chat conversation (or one step of an agent's trajectory).
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who speaks a message.
    public enum Role: String, Sendable, Hashable, Codable {
        /// Instructions for the model.
        case system
        /// The user's turn.
        case user
        /// The model's turn.
        case assistant
        /// A tool's result (trajectory steps only; never sent to a judge as a role).
        case tool
    }

    /// Who speaks.
    public var role: Role
    /// The message text. For a message with ``parts``, the text parts with each image as its `[image N]` marker.
    public var content: String
    /// The message's typed parts (text and images) in order, when the item gave its content as a list;
    /// nil for a plain-text message.
    public var parts: [ContentPart]?
    /// The tools an assistant step called (trajectories).
    public var toolCalls: [ToolCall]?
    /// The tool that produced a `tool` step's content (trajectories).
    public var name: String?

    /// A message from its parts.
    public init(
        role: Role, content: String, parts: [ContentPart]? = nil, toolCalls: [ToolCall]? = nil, name: String? = nil
    ) {
        self.role = role
        self.content = content
        self.parts = parts
        self.toolCalls = toolCalls
        self.name = name
    }

    /// The images among the message's parts, in order.
    public var images: [ImageContent] {
        (parts ?? []).compactMap { if case .image(let i) = $0 { return i } else { return nil } }
    }

    /// The message in the items-file format (typed parts as a list; tool calls and tool names kept).
    public var json: JSONValue {
        var o: [String: JSONValue] = ["role": .string(role.rawValue)]
        if let parts {
            o["content"] = .array(
                parts.map { part -> JSONValue in
                    switch part {
                    case .text(let t): return ["type": "text", "text": .string(t)]
                    case .image(let i):
                        var p: [String: JSONValue] = ["type": "image", "media_type": .string(i.mediaType)]
                        if let path = i.path {
                            p["path"] = .string(path)
                        } else if let u = i.url {
                            p["url"] = .string(u)
                        } else if let b = i.base64 {
                            p["data"] = .string(b)
                        }
                        return .object(p)
                    }
                })
        } else {
            o["content"] = .string(content)
        }
        if let toolCalls {
            o["tool_calls"] = .array(toolCalls.map { ["name": .string($0.name), "arguments": $0.arguments] })
        }
        if let name { o["name"] = .string(name) }
        return .object(o)
    }

    /// A system message.
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    /// A user message.
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    /// An assistant message.
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, content: text) }
}

/// A human label: a pairwise preference, a score, or a category.
public enum Label: Sendable, Hashable {
    /// Which response is better (`A`, `B` or `tie`).
    case pairwise(Preference)
    /// A score on the rubric's scale.
    case score(Double)
    /// A category name.
    case category(String)

    /// The preference, if this is a pairwise label.
    public var preference: Preference? {
        if case .pairwise(let p) = self { return p }
        return nil
    }

    /// The score, if this is a score label.
    public var score: Double? {
        if case .score(let s) = self { return s }
        return nil
    }

    /// A string form, used for category statistics.
    public var text: String {
        switch self {
        case .pairwise(let p): return p.rawValue
        case .score(let s): return s == s.rounded() ? String(Int(s)) : String(s)
        case .category(let c): return c
        }
    }

    /// The JSON form written back to items files.
    public var json: JSONValue {
        switch self {
        case .pairwise(let p): return .string(p.rawValue)
        case .score(let s): return .number(s)
        case .category(let c): return .string(c)
        }
    }
}

/// The kind of label a data set carries.
public enum LabelKind: String, Sendable, Codable {
    /// Preferences between two responses.
    case pairwise
    /// Numeric scores.
    case score
    /// Named categories.
    case category
}

/// One annotator's label on an item.
public struct AnnotatorLabel: Sendable, Hashable {
    /// Who gave the label.
    public var annotator: String
    /// The label.
    public var label: Label

    /// One annotator's label.
    public init(annotator: String, label: Label) {
        self.annotator = annotator
        self.label = label
    }
}

/// One item to judge: a prompt with one response (pointwise) or two (pairwise), and optional human labels.
///
/// ```swift
/// let item = Item(id: "q1", prompt: "2+2?", responseA: "4", responseB: "5", label: .pairwise(.a))
/// ```
public struct Item: Sendable, Hashable {
    /// The item's id, unique in its file.
    public var id: String
    /// The question (or use `messages`).
    public var prompt: String?
    /// A conversation instead of a single prompt.
    public var messages: [ChatMessage]?
    /// The response judged (pointwise, checklist).
    public var response: String?
    /// The model that wrote `response`.
    public var model: String?
    /// The first response (pairwise).
    public var responseA: String?
    /// The second response (pairwise).
    public var responseB: String?
    /// The model that wrote `responseA`.
    public var modelA: String?
    /// The model that wrote `responseB`.
    public var modelB: String?
    /// A reference answer.
    public var reference: String?
    /// The human label.
    public var label: Label?
    /// Labels from several annotators.
    public var labels: [AnnotatorLabel]
    /// Other fields of the item, kept as given.
    public var meta: [String: JSONValue]
    /// The 1-based line the item came from, 0 when built in code.
    public var line: Int
    /// The pointwise candidate as given (`response`, `conversation` or `trajectory`); ``response`` holds its
    /// rendered text (``prepareContent(limits:)``).
    public var candidate: Candidate?
    /// The first pairwise candidate as given; ``responseA`` holds its rendered text.
    public var candidateA: Candidate?
    /// The second pairwise candidate as given; ``responseB`` holds its rendered text.
    public var candidateB: Candidate?
    /// The item's images, numbered as their `[image N]` markers (prompt first, then candidates A and B).
    public var images: [ImageContent] = []
    /// How many tool outputs were cut when the trajectories were rendered.
    public var truncatedToolOutputs = 0
    /// The limits the content was last rendered with (a probe's edit re-renders with the same).
    public var contentLimits = ItemContentLimits()

    /// An item from its fields.
    public init(
        id: String, prompt: String? = nil, messages: [ChatMessage]? = nil, response: String? = nil,
        model: String? = nil, responseA: String? = nil, responseB: String? = nil, modelA: String? = nil,
        modelB: String? = nil, reference: String? = nil, label: Label? = nil, labels: [AnnotatorLabel] = [],
        meta: [String: JSONValue] = [:], line: Int = 0
    ) {
        self.id = id
        self.prompt = prompt
        self.messages = messages
        self.response = response
        self.model = model
        self.responseA = responseA
        self.responseB = responseB
        self.modelA = modelA
        self.modelB = modelB
        self.reference = reference
        self.label = label
        self.labels = labels
        self.meta = meta
        self.line = line
    }

    /// Whether the item carries two candidates.
    public var isPairwise: Bool { responseA != nil && responseB != nil }

    /// The instruction as text: `prompt`, or the conversation rendered as role-tagged turns.
    public var promptText: String {
        if let prompt { return prompt }
        guard let messages else { return "" }
        if messages.count == 1 { return messages[0].content }
        return messages.map { "\($0.role.rawValue): \($0.content)" }.joined(separator: "\n\n")
    }

    /// The item as a JSON object in the items-file format.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["id": .string(id)]
        if let prompt { o["prompt"] = .string(prompt) }
        if let messages { o["messages"] = .array(messages.map(\.json)) }
        func put(_ c: Candidate?, _ text: String?, _ suffix: String) {
            switch c {
            case .conversation(let m)?: o["conversation" + suffix] = .array(m.map(\.json))
            case .trajectory(let m)?: o["trajectory" + suffix] = .array(m.map(\.json))
            case .text?, nil: if let text { o["response" + suffix] = .string(text) }
            }
        }
        put(candidate, response, "")
        if let model { o["model"] = .string(model) }
        put(candidateA, responseA, "_a")
        put(candidateB, responseB, "_b")
        if let modelA { o["model_a"] = .string(modelA) }
        if let modelB { o["model_b"] = .string(modelB) }
        if let reference { o["reference"] = .string(reference) }
        if let label { o["label"] = label.json }
        if !labels.isEmpty {
            o["labels"] = .array(labels.map { ["annotator": .string($0.annotator), "label": $0.label.json] })
        }
        if !meta.isEmpty { o["meta"] = .object(meta) }
        return .object(o)
    }
}
