import Foundation
import Yams

/// A YAML mapping read with positions, so that every configuration error names its file and line.
package struct YAMLMap {
    package let node: Node
    package let file: String
    private let mapping: Node.Mapping

    package init(node: Node, file: String, context: String) throws {
        guard let m = node.mapping else {
            throw JudgePanelError.badInput("\(context) must be a mapping", file: file, line: node.mark?.line)
        }
        self.node = node
        self.file = file
        self.mapping = m
    }

    /// Parses a YAML document's root mapping.
    package static func load(path: String, context: String) throws -> YAMLMap {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw JudgePanelError.badInput("is a directory, not a file", file: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JudgePanelError.badInput("no such file", file: path)
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            // Name the line of the first bad byte rather than read U+FFFD into a prompt or a name.
            let valid = data.withUnsafeBytes { LineReader.firstInvalidUTF8($0.bindMemory(to: UInt8.self)) }
            let line = 1 + data.prefix(valid).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw JudgePanelError.badInput("invalid UTF-8", file: path, line: line)
        }
        return try parse(text: text, file: path, context: context)
    }

    package static func parse(text: String, file: String, context: String) throws -> YAMLMap {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw JudgePanelError.badInput("invalid YAML: \(e)", file: file, line: Self.line(of: e))
        } catch {
            throw JudgePanelError.badInput("invalid YAML: \(error)", file: file)
        }
        guard let root else { throw JudgePanelError.badInput("empty file", file: file, line: 1) }
        return try YAMLMap(node: root, file: file, context: context)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return nil
        }
    }

    package var line: Int? { node.mark?.line }

    package var keys: [String] { mapping.keys.compactMap { $0.string } }

    package func node(_ key: String) -> Node? { mapping[key] }

    func lineOf(_ key: String) -> Int? {
        for (k, v) in mapping where k.string == key { return v.mark?.line ?? k.mark?.line }
        return line
    }

    /// Fails on keys outside `allowed` (catches typos like `tempertaure`).
    func rejectUnknown(_ allowed: Set<String>, context: String) throws {
        for (k, _) in mapping {
            guard let name = k.string else { continue }
            if !allowed.contains(name) {
                throw JudgePanelError.badInput(
                    "unknown key '\(name)' in \(context) (allowed: \(allowed.sorted().joined(separator: ", ")))",
                    file: file, line: k.mark?.line)
            }
        }
    }

    package func error(_ key: String, _ message: String) -> JudgePanelError {
        JudgePanelError.badInput(message, file: file, line: lineOf(key))
    }

    package func string(_ key: String) throws -> String? {
        guard let n = mapping[key] else { return nil }
        if n.null != nil && n.scalar?.style == .plain && n.scalar?.string == "" { return nil }
        guard let s = n.scalar?.string else { throw error(key, "'\(key)' must be a string") }
        if n.null != nil && (s == "null" || s == "~") { return nil }
        return s
    }

    func requiredString(_ key: String, context: String) throws -> String {
        guard let s = try string(key), !s.isEmpty else {
            throw JudgePanelError.badInput("\(context) needs '\(key)'", file: file, line: line)
        }
        return s
    }

    package func int(_ key: String) throws -> Int? {
        guard let n = mapping[key] else { return nil }
        guard let v = n.int else { throw error(key, "'\(key)' must be an integer") }
        return v
    }

    package func double(_ key: String) throws -> Double? {
        guard let n = mapping[key] else { return nil }
        guard let v = n.float ?? n.int.map(Double.init) else { throw error(key, "'\(key)' must be a number") }
        return v
    }

    package func bool(_ key: String) throws -> Bool? {
        guard let n = mapping[key] else { return nil }
        guard let v = n.bool else { throw error(key, "'\(key)' must be true or false") }
        return v
    }

    package func map(_ key: String) throws -> YAMLMap? {
        guard let n = mapping[key] else { return nil }
        return try YAMLMap(node: n, file: file, context: "'\(key)'")
    }

    package func sequence(_ key: String) throws -> [Node]? {
        guard let n = mapping[key] else { return nil }
        guard let s = n.sequence else { throw error(key, "'\(key)' must be a list") }
        return Array(s)
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let n = mapping[key] else { return nil }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { throw error(key, "'\(key)' must be a string or a list of strings") }
        return try seq.map { e in
            guard let s = e.scalar?.string else {
                throw JudgePanelError.badInput("'\(key)' entries must be strings", file: file, line: e.mark?.line)
            }
            return s
        }
    }
}
