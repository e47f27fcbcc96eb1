/// An error from judgepanel: what went wrong, and where (file and line) when it comes from input.
///
/// Bad input (a malformed items line, an unknown rubric field) maps to exit code 2 in the CLI;
/// the message names the file and line.
///
/// ```swift
/// do { _ = try ItemLoader().load(path: "items.jsonl") }
/// catch let e as JudgePanelError { print(e.description) }  // items.jsonl:3: missing "id"
/// ```
public struct JudgePanelError: Error, Sendable, CustomStringConvertible, Equatable {
    package enum Code: String, Sendable {
        case badInput
        case usage
        case provider
        case io
        case cancelled
    }

    package let code: Code
    /// A human-readable message.
    public let message: String
    /// The input file the problem is in, when there is one.
    public let file: String?
    /// The 1-based line in `file`, when known.
    public let line: Int?

    /// Bad input data: items, rubric, panel, votes.
    public static func badInput(_ message: String, file: String? = nil, line: Int? = nil) -> JudgePanelError {
        JudgePanelError(code: .badInput, message: message, file: file, line: line)
    }

    /// A command-line usage problem.
    public static func usage(_ message: String) -> JudgePanelError {
        JudgePanelError(code: .usage, message: message, file: nil, line: nil)
    }

    /// A provider fault that could not be recovered.
    public static func provider(_ message: String) -> JudgePanelError {
        JudgePanelError(code: .provider, message: message, file: nil, line: nil)
    }

    /// A file-system problem.
    public static func io(_ message: String, file: String? = nil) -> JudgePanelError {
        JudgePanelError(code: .io, message: message, file: file, line: nil)
    }

    /// The run was cancelled.
    public static let cancelled = JudgePanelError(code: .cancelled, message: "cancelled", file: nil, line: nil)

    /// Whether this is bad input or usage (exit code 2).
    public var isInputError: Bool { code == .badInput || code == .usage }

    /// Whether this is an I/O or environment failure (exit code 3): a file that cannot be written (a full disk, a
    /// read-only directory), a batch the provider no longer knows.
    public var isEnvironmentError: Bool { code == .io }

    /// The message shown to the user, naming the file and line where known.
    public var description: String {
        switch (file, line) {
        case (let f?, let l?): return "\(f):\(l): \(message)"
        case (let f?, nil): return "\(f): \(message)"
        default: return message
        }
    }
}
