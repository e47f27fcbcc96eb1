/// A Mustache-style prompt template: `{{name}}` (or `{{{name}}}`) variables,
/// `{{#name}}…{{/name}}` sections shown when the value is non-empty, `{{^name}}…{{/name}}` when empty.
///
/// ```swift
/// let t = try Template("Q: {{prompt}}{{#reference}}\nRef: {{reference}}{{/reference}}")
/// t.render(["prompt": "2+2?"])  // "Q: 2+2?"
/// ```
public struct Template: Sendable, Hashable {
    package indirect enum Node: Sendable, Hashable {
        case text(String)
        case variable(String, line: Int)
        case section(String, inverted: Bool, children: [Node], line: Int)
    }

    /// The template's source text.
    public let source: String
    let nodes: [Node]

    /// Parses a template; throws on unbalanced sections, with the 0-based line offset within the template.
    public init(_ source: String) throws {
        self.source = source
        var stack: [(name: String, inverted: Bool, nodes: [Node], line: Int)] = [("", false, [], 0)]
        var rest = Substring(source)
        var line = 0
        while let open = rest.range(of: "{{") {
            let text = rest[..<open.lowerBound]
            if !text.isEmpty { stack[stack.count - 1].nodes.append(.text(String(text))) }
            line += text.filter { $0 == "\n" }.count
            var afterOpen = rest[open.upperBound...]
            var closer = "}}"
            if afterOpen.hasPrefix("{") {
                afterOpen = afterOpen.dropFirst()
                closer = "}}}"
            }
            guard let close = afterOpen.range(of: closer) else {
                throw TemplateError(message: "unclosed '{{'", line: line)
            }
            let tag = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = afterOpen[close.upperBound...]
            guard let first = tag.first else { throw TemplateError(message: "empty tag '{{}}'", line: line) }
            switch first {
            case "#", "^":
                let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                stack.append((name, first == "^", [], line))
            case "/":
                let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                guard stack.count > 1, stack[stack.count - 1].name == name else {
                    throw TemplateError(message: "'{{/\(name)}}' closes no open section", line: line)
                }
                let done = stack.removeLast()
                stack[stack.count - 1].nodes.append(
                    .section(done.name, inverted: done.inverted, children: done.nodes, line: done.line))
            case "!":
                continue
            default:
                stack[stack.count - 1].nodes.append(.variable(tag, line: line))
            }
        }
        if !rest.isEmpty { stack[stack.count - 1].nodes.append(.text(String(rest))) }
        guard stack.count == 1 else {
            throw TemplateError(message: "section '{{#\(stack.last!.name)}}' is never closed", line: stack.last!.line)
        }
        nodes = stack[0].nodes
    }

    /// Every variable name the template uses, with the 0-based line of its first use.
    public var variables: [(name: String, line: Int)] {
        var out: [(String, Int)] = []
        func walk(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .text: break
                case .variable(let name, let line): out.append((name, line))
                case .section(let name, _, let children, let line):
                    out.append((name, line))
                    walk(children)
                }
            }
        }
        walk(nodes)
        return out
    }

    /// Variables used outside any section guarding them: the item must have these.
    public var requiredVariables: Set<String> {
        var out = Set<String>()
        func walk(_ nodes: [Node], guarded: Set<String>) {
            for n in nodes {
                switch n {
                case .text: break
                case .variable(let name, _): if !guarded.contains(name) { out.insert(name) }
                case .section(let name, _, let children, _): walk(children, guarded: guarded.union([name]))
                }
            }
        }
        walk(nodes, guarded: [])
        return out
    }

    /// Renders with the given values; a missing value renders empty.
    public func render(_ values: [String: String]) -> String {
        var out = ""
        func walk(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .text(let t): out += t
                case .variable(let name, _): out += values[name] ?? ""
                case .section(let name, let inverted, let children, _):
                    let present = !(values[name] ?? "").isEmpty
                    if present != inverted { walk(children) }
                }
            }
        }
        walk(nodes)
        return out
    }
}

/// A template syntax error at a 0-based line offset within the template.
struct TemplateError: Error, Sendable {
    package let message: String
    package let line: Int
}
