import Foundation
import JudgeStats
import Synchronization

/// One typed part of a message's content: text or an image.
public enum ContentPart: Sendable, Hashable, Codable {
    /// A run of text.
    case text(String)
    /// An image.
    case image(ImageContent)
}

/// An image in an item: its bytes (base64, read once from a file or given inline) or a URL, its media type, and
/// the SHA-256 that enters the call fingerprint and the response-cache key in place of the bytes.
public struct ImageContent: Sendable, Hashable, Codable, CanonicalJSONConvertible {
    /// Where the image's bytes are.
    public enum Source: Sendable, Hashable, Codable {
        /// The bytes, base64-encoded (standard alphabet, padded).
        case base64(String)
        /// A URL the provider fetches itself (judgepanel never downloads it).
        case url(String)
    }

    /// The media type (`image/png`, `image/jpeg`, `image/gif`, `image/webp`).
    public var mediaType: String
    /// The bytes or the URL.
    public var source: Source
    /// Lowercase hex SHA-256 of the decoded bytes (of the URL's text for a URL image).
    public var sha256: String
    /// The decoded size in bytes (0 for a URL image).
    public var byteCount: Int
    /// The `path` the items file gave, as written (written back by ``Item/json``).
    public var path: String?

    /// An image from its parts.
    public init(mediaType: String, source: Source, sha256: String, byteCount: Int, path: String? = nil) {
        self.mediaType = mediaType
        self.source = source
        self.sha256 = sha256
        self.byteCount = byteCount
        self.path = path
    }

    /// An inline image from its bytes.
    public init(mediaType: String, bytes: [UInt8], path: String? = nil) {
        self.init(
            mediaType: mediaType, source: .base64(Data(bytes).base64EncodedString()),
            sha256: ContentHash.hex(bytes: bytes),
            byteCount: bytes.count, path: path)
    }

    /// The base64 bytes, when the image is inline.
    public var base64: String? { if case .base64(let b) = source { return b } else { return nil } }
    /// The URL, when the image is given by URL.
    public var url: String? { if case .url(let u) = source { return u } else { return nil } }
    /// A `data:` URL of the bytes (OpenAI's `image_url`), or the URL itself.
    public var dataURL: String {
        switch source {
        case .base64(let b): return "data:\(mediaType);base64,\(b)"
        case .url(let u): return u
        }
    }

    /// What keys a cache entry or fingerprint: the media type, the hash and the URL — never the bytes themselves.
    package var canonicalJSON: JSONValue {
        var o: [String: JSONValue] = ["media_type": .string(mediaType), "sha256": .string(sha256)]
        if let url { o["url"] = .string(url) }
        return .object(o)
    }
}

/// One tool call of an assistant step in a trajectory.
public struct ToolCall: Sendable, Hashable, Codable {
    /// The tool's name.
    public var name: String
    /// The arguments as given (an object, or a string of JSON text as OpenAI's `function.arguments`).
    public var arguments: JSONValue

    /// A tool call from its parts.
    public init(name: String, arguments: JSONValue) {
        self.name = name
        self.arguments = arguments
    }
}

/// What a candidate is: a text answer, a whole conversation, or an agent's trajectory.
public enum Candidate: Sendable, Hashable {
    /// A text answer (`response`, `response_a`, `response_b`).
    case text(String)
    /// A conversation (`conversation`, `conversation_a`, `conversation_b`): the messages, ending with the
    /// assistant turn graded.
    case conversation([ChatMessage])
    /// A trajectory (`trajectory`, `trajectory_a`, `trajectory_b`): assistant steps with tool calls and tool results.
    case trajectory([ChatMessage])

    /// The items-file key stem (`response`, `conversation`, `trajectory`).
    public var kind: String {
        switch self {
        case .text: return "response"
        case .conversation: return "conversation"
        case .trajectory: return "trajectory"
        }
    }

    /// The messages of a conversation or trajectory (empty for text).
    public var messages: [ChatMessage] {
        switch self {
        case .text: return []
        case .conversation(let m), .trajectory(let m): return m
        }
    }
}

/// How item content is rendered for a judge: the tool-output cut and the image size limit.
public struct ItemContentLimits: Sendable, Hashable {
    /// The default largest image, in bytes: 5 MiB, Anthropic's per-image limit
    /// (https://docs.anthropic.com/en/docs/build-with-claude/vision), the smallest of the four providers'.
    public static let defaultMaxImageBytes = 5 * 1024 * 1024
    /// The default longest tool output shown in a trajectory, in characters.
    public static let defaultMaxToolOutputChars = 2000

    /// The largest image an item may carry (`--max-image-bytes`); a larger one is an error naming file and line.
    public var maxImageBytes: Int
    /// Tool outputs longer than this are cut, with a visible marker, and counted (`--max-tool-output-chars`).
    public var maxToolOutputChars: Int

    /// Limits from their parts.
    public init(maxImageBytes: Int = defaultMaxImageBytes, maxToolOutputChars: Int = defaultMaxToolOutputChars) {
        self.maxImageBytes = maxImageBytes
        self.maxToolOutputChars = maxToolOutputChars
    }
}

/// Renders conversations and trajectories compactly as text for a judge's template, numbering images.
///
/// A conversation renders as `[Turn 1] User:` / `[Turn 1] Assistant:` blocks; a trajectory as numbered steps,
/// `Step 2 · assistant:` with `→ call name(arguments)` lines and `Step 3 · tool name:` results, a tool output
/// longer than the limit cut with `… [truncated N characters]`. An image shows as `[image N]`, numbered across
/// the item (prompt first, then candidate A, then B); the judge receives the image itself after the text.
package enum ContentRendering {
    /// The marker an image shows as in rendered text.
    package static func marker(_ n: Int) -> String { "[image \(n)]" }

    /// The text of a message's parts with images as markers numbered from `images.count + 1` (appended to `images`).
    package static func text(of parts: [ContentPart], images: inout [ImageContent]) -> String {
        var out: [String] = []
        for part in parts {
            switch part {
            case .text(let t): out.append(t)
            case .image(let i):
                images.append(i)
                out.append(marker(images.count))
            }
        }
        return out.joined(separator: "\n")
    }

    /// Messages with their `content` recomputed from their parts (numbering images into `images`).
    package static func numbered(_ messages: [ChatMessage], images: inout [ImageContent]) -> [ChatMessage] {
        messages.map { m in
            guard let parts = m.parts else { return m }
            var out = m
            out.content = text(of: parts, images: &images)
            return out
        }
    }

    /// A conversation as turn-tagged blocks; a turn starts at each user message.
    package static func conversation(_ messages: [ChatMessage]) -> String {
        var turn = 0
        var blocks: [String] = []
        for m in messages {
            if m.role == .user { turn += 1 }
            let who: String
            switch m.role {
            case .system: who = "System"
            case .user: who = "User"
            case .assistant: who = "Assistant"
            case .tool: who = "Tool" + (m.name.map { " \($0)" } ?? "")
            }
            let tag = m.role == .system ? "" : "[Turn \(max(turn, 1))] "
            blocks.append("\(tag)\(who):\n\(m.content)")
        }
        return blocks.joined(separator: "\n\n")
    }

    /// A trajectory as numbered steps, long tool outputs cut; returns the text and how many outputs were cut.
    package static func trajectory(_ steps: [ChatMessage], maxToolOutputChars: Int) -> (text: String, truncated: Int) {
        var lines: [String] = []
        var truncated = 0
        for (i, s) in steps.enumerated() {
            let n = i + 1
            switch s.role {
            case .tool:
                var content = s.content
                if content.count > maxToolOutputChars {
                    let cut = content.count - maxToolOutputChars
                    content = String(content.prefix(maxToolOutputChars)) + " … [truncated \(cut) characters]"
                    truncated += 1
                }
                lines.append("Step \(n) · tool\(s.name.map { " \($0)" } ?? ""): \(content)")
            default:
                var line = "Step \(n) · \(s.role.rawValue):"
                if !s.content.isEmpty { line += " \(s.content)" }
                lines.append(line)
                for c in s.toolCalls ?? [] {
                    lines.append("  → call \(c.name)(\(c.arguments.stringValue ?? c.arguments.compactString))")
                }
            }
        }
        return (lines.joined(separator: "\n"), truncated)
    }
}

extension Item {
    /// Numbers the item's images and renders its structured candidates into the text fields judges see
    /// (`response`, `response_a`, `response_b`), cutting long tool outputs (counted in ``truncatedToolOutputs``).
    ///
    /// The loader calls it; code that builds an item with ``messages``, ``candidate``, ``candidateA`` or
    /// ``candidateB`` calls it once before judging.
    public mutating func prepareContent(limits: ItemContentLimits = ItemContentLimits()) {
        var images: [ImageContent] = []
        truncatedToolOutputs = 0
        if let m = messages { messages = ContentRendering.numbered(m, images: &images) }
        func render(_ c: Candidate?) -> (Candidate?, String?) {
            guard let c else { return (nil, nil) }
            switch c {
            case .text(let t): return (c, t)
            case .conversation(let m):
                let numbered = ContentRendering.numbered(m, images: &images)
                return (.conversation(numbered), ContentRendering.conversation(numbered))
            case .trajectory(let m):
                let numbered = ContentRendering.numbered(m, images: &images)
                let r = ContentRendering.trajectory(numbered, maxToolOutputChars: limits.maxToolOutputChars)
                truncatedToolOutputs += r.truncated
                return (.trajectory(numbered), r.text)
            }
        }
        if candidate != nil { (candidate, response) = render(candidate) }
        if candidateA != nil { (candidateA, responseA) = render(candidateA) }
        if candidateB != nil { (candidateB, responseB) = render(candidateB) }
        self.images = images
        contentLimits = limits
    }

    /// The structured candidate on `side` (`nil`: the pointwise one).
    package func candidateOf(_ side: Preference?) -> Candidate? {
        switch side {
        case .a: return candidateA
        case .b: return candidateB
        default: return candidate
        }
    }

    /// Appends `text` to the final assistant answer of the candidate on `side` — the last assistant message of a
    /// conversation or trajectory, re-rendered — or to a text answer. Returns false when there is no candidate.
    package mutating func appendToFinalAnswer(_ side: Preference?, _ text: String) -> Bool {
        func extend(_ c: Candidate) -> Candidate? {
            switch c {
            case .text(let t): return .text(t + text)
            case .conversation(var m), .trajectory(var m):
                guard let i = m.lastIndex(where: { $0.role == .assistant }) else { return nil }
                m[i].content += text
                if m[i].parts != nil { m[i].parts!.append(.text(text)) }
                if case .conversation = c { return .conversation(m) }
                return .trajectory(m)
            }
        }
        switch side {
        case .a:
            guard let c = candidateA ?? responseA.map(Candidate.text), let n = extend(c) else { return false }
            candidateA = n
        case .b:
            guard let c = candidateB ?? responseB.map(Candidate.text), let n = extend(c) else { return false }
            candidateB = n
        default:
            guard let c = candidate ?? response.map(Candidate.text), let n = extend(c) else { return false }
            candidate = n
        }
        prepareContent(limits: contentLimits)
        return true
    }
}

/// Image files read by one loader, by resolved path: each file is read (and hashed) once however many items name it.
package final class ImageFileCache: Sendable {
    private let entries = Mutex<[String: ImageContent]>([:])

    package init() {}

    package func image(at path: String, read: () throws -> ImageContent) throws -> ImageContent {
        if let hit = entries.withLock({ $0[path] }) { return hit }
        let image = try read()
        entries.withLock { $0[path] = image }
        return image
    }

    /// How many distinct files were read.
    package var count: Int { entries.withLock { $0.count } }
}

/// Reads the typed content parts, conversations and trajectories of an items-file line.
struct ContentReader {
    let file: String
    let line: Int
    let limits: ItemContentLimits
    let cache: ImageFileCache

    /// Media types every provider documents for image input.
    package static let mediaTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    func fail(_ message: String) -> JudgePanelError { JudgePanelError.badInput(message, file: file, line: line) }

    /// A message's `content`: a string, or a list of typed parts.
    func content(_ value: JSONValue?, where context: String) throws -> (String, [ContentPart]?) {
        guard let value, !value.isNull else { throw fail("\(context): missing \"content\"") }
        if let s = value.stringValue { return (s, nil) }
        guard let arr = value.arrayValue else {
            throw fail("\(context): \"content\" must be a string or a list of parts")
        }
        var parts: [ContentPart] = []
        for (i, p) in arr.enumerated() {
            let at = "\(context), part \(i + 1)"
            guard case .object(let o) = p else { throw fail("\(at): a part must be an object with \"type\"") }
            switch o["type"]?.stringValue {
            case "text":
                guard let t = o["text"]?.stringValue else { throw fail("\(at): a text part needs \"text\" (a string)") }
                try only(o, ["type", "text"], at)
                parts.append(.text(t))
            case "image":
                try only(o, ["type", "path", "url", "data", "media_type"], at)
                parts.append(.image(try image(o, at)))
            case let other:
                throw fail("\(at): unknown part type \((other ?? "none").debugDescription) (known: text, image)")
            }
        }
        guard !parts.isEmpty else { throw fail("\(context): \"content\" is an empty list") }
        let text = parts.compactMap { if case .text(let t) = $0 { return t } else { return nil } }.joined(
            separator: "\n")
        return (text, parts)
    }

    func only(_ o: [String: JSONValue], _ keys: Set<String>, _ at: String) throws {
        if let extra = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail("\(at): unknown key \"\(extra)\" (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func image(_ o: [String: JSONValue], _ at: String) throws -> ImageContent {
        let sources = ["path", "url", "data"].filter { o[$0].map { !$0.isNull } ?? false }
        guard sources.count == 1 else {
            throw fail("\(at): an image part needs exactly one of \"path\", \"url\" or \"data\" (got \(sources.count))")
        }
        var declared: String?
        if let m = o["media_type"], !m.isNull {
            guard let s = m.stringValue, Self.mediaTypes.contains(s.lowercased()) else {
                throw fail(
                    "\(at): media_type must be one of \(Self.mediaTypes.joined(separator: ", ")) (got \(m.textValue.debugDescription))"
                )
            }
            declared = s.lowercased()
        }
        let limit = limits.maxImageBytes
        switch sources[0] {
        case "url":
            guard let u = o["url"]?.stringValue, let parsed = URL(string: u), let scheme = parsed.scheme?.lowercased(),
                scheme == "https" || scheme == "http"
            else { throw fail("\(at): \"url\" must be an http(s) URL") }
            guard let type = declared ?? Self.mediaType(extension: parsed.pathExtension) else {
                throw fail("\(at): an image url needs \"media_type\" (its extension does not say)")
            }
            return ImageContent(mediaType: type, source: .url(u), sha256: ContentHash.hex(u), byteCount: 0)
        case "data":
            guard let b = o["data"]?.stringValue else { throw fail("\(at): \"data\" must be a base64 string") }
            // Checked before decoding: base64 holds 3 bytes per 4 characters.
            if b.utf8.count / 4 * 3 > limit + 2 {
                throw fail("\(at): the image is larger than the limit of \(limit) bytes (--max-image-bytes)")
            }
            guard let data = Data(base64Encoded: b) else { throw fail("\(at): \"data\" is not valid base64") }
            return try inline([UInt8](data), declared: declared, path: nil, at)
        default:
            guard let p = o["path"]?.stringValue, !p.isEmpty else { throw fail("\(at): \"path\" must be a file path") }
            let resolved =
                p.hasPrefix("/")
                ? p : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(p).path
            let image = try cache.image(at: resolved) {
                let size: Int
                do {
                    size = try URL(fileURLWithPath: resolved).resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
                } catch {
                    throw fail("\(at): cannot read image file \(p) (\(resolved))")
                }
                if size > limit {
                    throw fail(
                        "\(at): image file \(p) has \(size) bytes, over the limit of \(limit) (--max-image-bytes)")
                }
                guard let data = FileManager.default.contents(atPath: resolved) else {
                    throw fail("\(at): cannot read image file \(p) (\(resolved))")
                }
                return try inline([UInt8](data), declared: nil, path: p, at)
            }
            if let declared, declared != image.mediaType {
                throw fail("\(at): media_type says \(declared) but \(p) holds \(image.mediaType)")
            }
            return image
        }
    }

    func inline(_ bytes: [UInt8], declared: String?, path: String?, _ at: String) throws -> ImageContent {
        if bytes.count > limits.maxImageBytes {
            throw fail(
                "\(at): the image has \(bytes.count) bytes, over the limit of \(limits.maxImageBytes) (--max-image-bytes)"
            )
        }
        guard let sniffed = Self.sniff(bytes) else {
            throw fail("\(at): the image bytes are not PNG, JPEG, GIF or WebP")
        }
        if let declared, declared != sniffed {
            throw fail("\(at): media_type says \(declared) but the bytes are \(sniffed)")
        }
        return ImageContent(mediaType: sniffed, bytes: bytes, path: path)
    }

    /// The media type the file signature says.
    static func sniff(_ b: [UInt8]) -> String? {
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)) { return "image/gif" }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) {
            return "image/webp"
        }
        return nil
    }

    static func mediaType(extension ext: String) -> String? {
        switch ext.lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        default: return nil
        }
    }

    /// A list of chat messages (`messages`, `conversation*`).
    func messages(_ value: JSONValue, field: String, roles: Set<ChatMessage.Role>) throws -> [ChatMessage] {
        guard let arr = value.arrayValue else { throw fail("\"\(field)\" must be a list of messages") }
        guard !arr.isEmpty else { throw fail("\"\(field)\" is empty") }
        return try arr.enumerated().map { i, m in
            let at = "\(field)[\(i)]"
            guard case .object(let o) = m else {
                throw fail("\(at): a message must be an object with role and content")
            }
            let names = roles.map(\.rawValue).sorted().joined(separator: "/")
            guard let r = o["role"]?.stringValue, let role = ChatMessage.Role(rawValue: r), roles.contains(role) else {
                throw fail(
                    "\(at): \"role\" must be \(names) (got \((o["role"]?.textValue ?? "none").debugDescription))")
            }
            let (text, parts) = try content(o["content"], where: at)
            return ChatMessage(role: role, content: text, parts: parts)
        }
    }

    /// A conversation candidate: messages ending with the assistant turn judged.
    func conversation(_ value: JSONValue, field: String) throws -> [ChatMessage] {
        let m = try messages(value, field: field, roles: [.system, .user, .assistant])
        guard m.last?.role == .assistant else {
            throw fail("\"\(field)\" must end with the assistant message judged")
        }
        return m
    }

    /// A trajectory candidate: user/assistant steps with tool calls, and tool results.
    func trajectory(_ value: JSONValue, field: String) throws -> [ChatMessage] {
        guard let arr = value.arrayValue else { throw fail("\"\(field)\" must be a list of steps") }
        guard !arr.isEmpty else { throw fail("\"\(field)\" is empty") }
        return try arr.enumerated().map { i, step in
            let at = "\(field)[\(i)]"
            guard case .object(let o) = step else { throw fail("\(at): a step must be an object with \"role\"") }
            guard let r = o["role"]?.stringValue, let role = ChatMessage.Role(rawValue: r), role != .system else {
                throw fail(
                    "\(at): \"role\" must be assistant, tool or user (got \((o["role"]?.textValue ?? "none").debugDescription))"
                )
            }
            switch role {
            case .tool:
                try only(o, ["role", "name", "content", "tool_call_id"], at)
                guard let name = o["name"]?.stringValue, !name.isEmpty else {
                    throw fail("\(at): a tool step needs \"name\"")
                }
                let content: String
                switch o["content"] {
                case .string(let s)?: content = s
                case nil, .null?: throw fail("\(at): a tool step needs \"content\"")
                case let v?: content = v.compactString  // a structured tool result, shown as compact JSON
                }
                return ChatMessage(role: .tool, content: content, name: name)
            default:
                try only(o, ["role", "content", "tool_calls"], at)
                var text = ""
                var parts: [ContentPart]?
                if let c = o["content"], !c.isNull { (text, parts) = try content(c, where: at) }
                var calls: [ToolCall]?
                if let tc = o["tool_calls"], !tc.isNull {
                    guard role == .assistant, let list = tc.arrayValue else {
                        throw fail("\(at): \"tool_calls\" must be a list, on an assistant step")
                    }
                    calls = try list.enumerated().map { j, c in
                        guard case .object(let co) = c, let name = co["name"]?.stringValue, !name.isEmpty else {
                            throw fail("\(at).tool_calls[\(j)]: a tool call needs \"name\" and \"arguments\"")
                        }
                        try only(co, ["name", "arguments", "id"], "\(at).tool_calls[\(j)]")
                        return ToolCall(name: name, arguments: co["arguments"] ?? .object([:]))
                    }
                }
                if text.isEmpty && (calls ?? []).isEmpty {
                    throw fail("\(at): an \(role.rawValue) step needs \"content\" or \"tool_calls\"")
                }
                return ChatMessage(role: role, content: text, parts: parts, toolCalls: calls)
            }
        }
    }
}
