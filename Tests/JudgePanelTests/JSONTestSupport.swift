import Foundation

@testable import JudgePanelCore

extension JSONValue {
    /// Test shorthand: ``JSONValue/init(jsonData:)`` on JSON text (the suites read reports and lines this way).
    static func parse(_ text: String) throws -> JSONValue { try JSONValue(jsonData: Data(text.utf8)) }

    /// Test shorthand: ``JSONValue/init(jsonData:)``.
    static func parse(_ data: Data) throws -> JSONValue { try JSONValue(jsonData: data) }
}
