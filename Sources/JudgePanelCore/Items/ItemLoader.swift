import Foundation
import JudgeStats

/// How to read items from files that use other field names and label values.
///
/// `fieldMap["prompt"] = "instruction"` reads `prompt` from the source key `instruction`
/// (dotted paths reach into nested objects); `labelMap["1"] = "A"` rewrites label values.
public struct ItemMapping: Sendable, Hashable {
    /// Item field name → the file's field name.
    public var fieldMap: [String: String]
    /// Label value in the file → `A`, `B` or `tie`.
    public var labelMap: [String: String]

    /// A mapping; empty maps read the file's fields as named.
    public init(fieldMap: [String: String] = [:], labelMap: [String: String] = [:]) {
        self.fieldMap = fieldMap
        self.labelMap = labelMap
    }

    /// Parses CLI options: `--map prompt=instruction` (repeatable) and `--label-map 1=A,2=B,0=tie`.
    public init(mapOptions: [String], labelMapOptions: [String]) throws {
        var fm: [String: String] = [:]
        for option in mapOptions {
            for part in option.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map {
                    String($0).trimmingCharacters(in: .whitespaces)
                }
                guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                    throw JudgePanelError.usage("--map expects field=source, got '\(part)'")
                }
                guard ItemLoader.knownFields.contains(kv[0]) else {
                    throw JudgePanelError.usage(
                        "--map: unknown field '\(kv[0])' (known: \(ItemLoader.knownFields.sorted().joined(separator: ", ")))"
                    )
                }
                fm[kv[0]] = kv[1]
            }
        }
        var lm: [String: String] = [:]
        for option in labelMapOptions {
            for part in option.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map {
                    String($0).trimmingCharacters(in: .whitespaces)
                }
                guard kv.count == 2, !kv[0].isEmpty else {
                    throw JudgePanelError.usage("--label-map expects value=label, got '\(part)'")
                }
                if let earlier = lm[kv[0]], earlier != kv[1] {
                    throw JudgePanelError.usage(
                        "--label-map maps '\(kv[0])' twice, to '\(earlier)' and to '\(kv[1])'")
                }
                lm[kv[0]] = kv[1]
            }
        }
        self.init(fieldMap: fm, labelMap: lm)
    }
}

/// Loads items from a JSONL file (one object a line), validating as it goes.
///
/// ```swift
/// let items = try ItemLoader().load(path: "fixtures/pandalm-50.jsonl")
/// ```
public struct ItemLoader: Sendable {
    /// How the file's fields map to an item's.
    public var mapping: ItemMapping
    /// The longest line read, in bytes (`--max-line-bytes`); a longer line is an error naming it.
    public var maxLineBytes: Int = LineReader.defaultMaxLineBytes

    /// The image size limit and the tool-output cut (`--max-image-bytes`, `--max-tool-output-chars`).
    public var limits = ItemContentLimits()
    /// Image files this loader has read, each once.
    package let imageFiles = ImageFileCache()

    static let knownFields: Set<String> = [
        "id", "prompt", "messages", "response", "model", "response_a", "response_b", "model_a", "model_b",
        "reference", "label", "labels", "meta", "conversation", "conversation_a", "conversation_b", "trajectory",
        "trajectory_a", "trajectory_b",
    ]

    /// The id hash used by the duplicate check (tests inject a colliding one).
    package let idHash: @Sendable (String) -> Int

    /// A loader with `mapping`.
    public init(mapping: ItemMapping = ItemMapping()) {
        self.init(mapping: mapping, idHash: { $0.hashValue })
    }

    package init(mapping: ItemMapping, idHash: @escaping @Sendable (String) -> Int) {
        self.mapping = mapping
        self.idHash = idHash
    }

    /// Loads every item; fails on the first malformed line, naming file and line.
    public func load(path: String) throws -> [Item] {
        var items: [Item] = []
        try forEach(path: path) { items.append($0) }
        return items
    }

    /// Streams items one at a time, checking ids for duplicates.
    ///
    /// Items are not kept. The duplicate check keeps one 64-bit hash per id (≈ 16 bytes an item with the
    /// table's slack, whatever the ids' length); a repeated hash is confirmed by re-reading the earlier
    /// lines, so a hash collision never reports a false duplicate.
    public func forEach(path: String, _ body: (Item) throws -> Void) throws {
        let reader = try LineReader(path: path, maxLineBytes: maxLineBytes)
        var seen = Set<Int>()
        // Each line's bytes go to JSONDecoder as they are (no String copy of the line); a line it refuses for
        // invalid UTF-8 is named with the byte.
        while let parsed = try reader.nextBytes({ number, bytes -> (Int, Item?) in
            Self.isBlank(bytes) ? (number, nil) : (number, try parse(bytes: bytes, file: path, number: number))
        }) {
            guard let item = parsed.1 else { continue }
            let number = parsed.0
            if !seen.insert(idHash(item.id)).inserted,
                let first = try firstLine(of: item.id, before: number, path: path)
            {
                throw JudgePanelError.badInput(
                    "duplicate id '\(item.id)' (first on line \(first))", file: path, line: number)
            }
            try body(item)
        }
    }

    /// Lines of spaces and tabs only are skipped, not parsed.
    package static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    /// The first line before `limit` whose item has `id`, or nil (the hashes collided).
    private func firstLine(of id: String, before limit: Int, path: String) throws -> Int? {
        let reader = try LineReader(path: path, maxLineBytes: maxLineBytes)
        while let found = try reader.nextBytes({ number, bytes -> Int? in
            if number >= limit { return -1 }
            if Self.isBlank(bytes) { return nil }
            return try parse(bytes: bytes, file: path, number: number).id == id ? number : nil
        }) {
            if found == -1 { return nil }
            if let found { return found }
        }
        return nil
    }

    /// Parses one JSONL line into an item.
    public func parse(line: String, file: String, number: Int) throws -> Item {
        var line = line
        return try line.withUTF8 { try parse(bytes: $0, file: file, number: number) }
    }

    /// Parses one JSONL line, given as UTF-8 bytes, into an item; invalid UTF-8 is an error naming the line.
    ///
    /// The line is read with Foundation's `JSONDecoder` (``JSONValue/init(jsonData:)``) straight from the
    /// reader's buffer (no copy of the line); a numeric id is read a second time as a `Decimal` (exact to 38
    /// digits, as ``Vote`` reads a numeric `item`), so distinct long numeric ids stay distinct.
    package func parse(bytes: UnsafeBufferPointer<UInt8>, file: String, number: Int) throws -> Item {
        let value: JSONValue
        let idKey = mapping.fieldMap["id"] ?? "id"
        var numericID: String?
        do {
            let data =
                bytes.baseAddress.map {
                    Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none)
                } ?? Data()
            value = try JSONValue(jsonData: data)
            if case .number? = value[idKey] {
                numericID = try Self.decimalText(data, path: [idKey])
            } else if value[idKey] == nil, idKey.utf8.contains(UInt8(ascii: ".")) {
                let path = idKey.split(separator: ".").map(String.init)
                var current: JSONValue? = value
                for part in path { current = current?[part] }
                if case .number? = current { numericID = try Self.decimalText(data, path: path) }
            }
        } catch {
            if LineReader.firstInvalidUTF8(bytes) < bytes.count {
                throw JudgePanelError.badInput(
                    "invalid UTF-8 at byte \(LineReader.firstInvalidUTF8(bytes) + 1) of the line", file: file,
                    line: number)
            }
            throw JudgePanelError.badInput("invalid JSON: \(Self.describe(error))", file: file, line: number)
        }
        guard case .object = value else {
            throw JudgePanelError.badInput("expected a JSON object", file: file, line: number)
        }
        func field(_ name: String) -> JSONValue? {
            let key = mapping.fieldMap[name] ?? name
            var current: JSONValue? = value
            if current?[key] != nil { return current?[key] }
            // A dotted path; a plain key that is absent is absent (no split per missing field and line).
            guard key.utf8.contains(UInt8(ascii: ".")) else { return nil }
            for part in key.split(separator: ".") { current = current?[String(part)] }
            return current
        }
        func text(_ name: String) throws -> String? {
            guard let v = field(name), !v.isNull else { return nil }
            switch v {
            case .string(let s): return s
            case .number, .bool: return v.textValue
            default:
                throw JudgePanelError.badInput("field '\(name)' must be a string", file: file, line: number)
            }
        }
        guard let idValue = field("id"), !idValue.isNull else {
            throw JudgePanelError.badInput("missing \"id\"", file: file, line: number)
        }
        let id: String
        switch idValue {
        case .string(let s) where !s.isEmpty: id = s
        case .number: id = numericID ?? idValue.textValue
        default: throw JudgePanelError.badInput("\"id\" must be a non-empty string or number", file: file, line: number)
        }
        var item = Item(id: id, line: number)
        item.prompt = try text("prompt")
        let content = ContentReader(file: file, line: number, limits: limits, cache: imageFiles)
        if let m = field("messages"), !m.isNull {
            guard m.arrayValue != nil else {
                throw JudgePanelError.badInput("\"messages\" must be an array", file: file, line: number)
            }
            item.messages = try content.messages(m, field: "messages", roles: [.system, .user, .assistant])
        }
        // A candidate is text, a conversation or a trajectory: exactly one form per side.
        func candidate(_ suffix: String) throws -> Candidate? {
            var found: [Candidate] = []
            if let t = try text("response" + suffix) { found.append(.text(t)) }
            if let c = field("conversation" + suffix), !c.isNull {
                found.append(.conversation(try content.conversation(c, field: "conversation" + suffix)))
            }
            if let t = field("trajectory" + suffix), !t.isNull {
                found.append(.trajectory(try content.trajectory(t, field: "trajectory" + suffix)))
            }
            guard found.count <= 1 else {
                throw JudgePanelError.badInput(
                    "give one of \"response\(suffix)\", \"conversation\(suffix)\" or \"trajectory\(suffix)\", not \(found.count)",
                    file: file, line: number)
            }
            return found.first
        }
        item.candidate = try candidate("")
        item.candidateA = try candidate("_a")
        item.candidateB = try candidate("_b")
        item.prepareContent(limits: limits)
        item.model = try text("model")
        item.modelA = try text("model_a")
        item.modelB = try text("model_b")
        item.reference = try text("reference")
        let pairwise = item.isPairwise
        if let l = field("label"), !l.isNull {
            item.label = try parseLabel(l, pairwise: pairwise, file: file, line: number)
        }
        if let ls = field("labels"), !ls.isNull {
            guard let arr = ls.arrayValue else {
                throw JudgePanelError.badInput("\"labels\" must be an array", file: file, line: number)
            }
            for (i, entry) in arr.enumerated() {
                if case .object(let o) = entry, let lv = o["label"] {
                    let name = o["annotator"]?.textValue ?? "annotator\(i + 1)"
                    if lv.isNull { continue }
                    item.labels.append(
                        AnnotatorLabel(
                            annotator: name, label: try parseLabel(lv, pairwise: pairwise, file: file, line: number)))
                } else if !entry.isNull {
                    item.labels.append(
                        AnnotatorLabel(
                            annotator: "annotator\(i + 1)",
                            label: try parseLabel(entry, pairwise: pairwise, file: file, line: number)))
                }
            }
        }
        if let m = field("meta"), !m.isNull {
            guard let o = m.objectValue else {
                throw JudgePanelError.badInput("\"meta\" must be an object", file: file, line: number)
            }
            item.meta = o
        }
        // A conversation carries its own user turns; a text answer or a trajectory needs the prompt (the task).
        let conversations = [item.candidate, item.candidateA, item.candidateB].contains {
            if case .conversation? = $0 { return true } else { return false }
        }
        if item.prompt == nil && item.messages == nil && !conversations {
            throw JudgePanelError.badInput("missing \"prompt\" (or \"messages\")", file: file, line: number)
        }
        if (item.responseA == nil) != (item.responseB == nil) {
            throw JudgePanelError.badInput(
                "pairwise items need both candidates (response_a/_b, conversation_a/_b or trajectory_a/_b)", file: file,
                line: number)
        }
        return item
    }

    /// The exact decimal value (`1.50` → `1.5`, 23 digits kept) of the number at `path` in the JSON object `data`,
    /// read with `JSONDecoder` as a `Decimal` (as ``FlexibleString`` reads a numeric `item` in a votes file).
    static func decimalText(_ data: Data, path: [String]) throws -> String {
        let decoder = JSONDecoder()
        decoder.userInfo[DecimalAtPath.pathKey] = path
        return "\(try decoder.decode(DecimalAtPath.self, from: data).value)"
    }

    /// Reads a label value, after the label map, in the context of the item's kind.
    func parseLabel(_ raw: JSONValue, pairwise: Bool, file: String, line: Int) throws -> Label {
        var value = raw
        if let mapped = mapping.labelMap[raw.textValue] {
            value = .string(mapped)
        }
        if pairwise {
            if let p = Self.preference(value.textValue) { return .pairwise(p) }
            throw JudgePanelError.badInput(
                "pairwise label must be \"A\", \"B\" or \"tie\" (got \(raw.textValue.debugDescription); use --label-map)",
                file: file, line: line)
        }
        switch value {
        case .number(let d): return .score(d)
        case .string(let s):
            if let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite { return .score(d) }
            return .category(s)
        case .bool(let b): return .category(String(b))
        default:
            throw JudgePanelError.badInput("label must be a string or number", file: file, line: line)
        }
    }

    /// Reads "A", "B", "tie" (any case; "C" also means tie).
    public static func preference(_ text: String) -> Preference? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "a": return .a
        case "b": return .b
        case "tie", "c": return .tie
        default: return nil
        }
    }

    package static func describe(_ error: any Error) -> String {
        if let e = error as? JSONReadError { return e.description }
        if let e = error as? DecodingError {
            switch e {
            case .dataCorrupted(let c):
                return c.underlyingError.map { "\($0.localizedDescription)" } ?? c.debugDescription
            default: return "\(e)"
            }
        }
        return error.localizedDescription
    }
}

/// The `Decimal` at a key path (`JSONDecoder.userInfo[pathKey]`, object keys from the root) of a JSON object.
struct DecimalAtPath: Decodable {
    static let pathKey = CodingUserInfoKey(rawValue: "judgepanel.decimalPath")!
    package let value: Decimal

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        let path = decoder.userInfo[Self.pathKey] as? [String] ?? []
        guard let last = path.last else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no key path to a number"))
        }
        var container = try decoder.container(keyedBy: Key.self)
        for key in path.dropLast() {
            container = try container.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: key))
        }
        value = try container.decode(Decimal.self, forKey: Key(stringValue: last))
    }
}
