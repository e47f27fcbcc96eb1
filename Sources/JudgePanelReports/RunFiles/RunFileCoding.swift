import Foundation
import JudgePanelCore

/// A JSON object key by name: the run files' values read and write their keys through it, so that keys this
/// build does not know are kept (``RunConfig/extra``, ``RunFacts/extra``) rather than dropped or refused.
package struct RunFileKey: CodingKey, Hashable {
    package let stringValue: String
    package var intValue: Int? { nil }

    package init(_ name: String) { stringValue = name }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == RunFileKey {
    /// The value under `key`; nil when the key is missing or null (older run files lack keys added since).
    package func field<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        try decodeIfPresent(T.self, forKey: RunFileKey(key))
    }

    /// The members whose keys are not in `known`, as they were.
    package func extra(known: Set<String>) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            out[key.stringValue] = try decode(JSONValue.self, forKey: key)
        }
        return out
    }
}

extension KeyedEncodingContainer where K == RunFileKey {
    /// Writes `value` under `key`, or nothing when it is nil (a key the writer leaves out when it does not apply).
    package mutating func put<T: Encodable>(_ value: T?, _ key: String) throws {
        try encodeIfPresent(value, forKey: RunFileKey(key))
    }

    /// Writes `value` under `key`, `null` when it is nil (a key the writer always writes).
    mutating func putNullable<T: Encodable>(_ value: T?, _ key: String) throws {
        if let value { try encode(value, forKey: RunFileKey(key)) } else { try encodeNil(forKey: RunFileKey(key)) }
    }

    /// Writes the members kept from the file that this build does not know.
    package mutating func put(extra: [String: JSONValue]) throws {
        for (k, v) in extra { try encode(v, forKey: RunFileKey(k)) }
    }
}

/// The one reader and writer of a run directory's typed files (config.json): JSON only here, at the file edge.
///
/// Files are written as the project writes every JSON document (pretty, keys sorted, via ``JSONValue``), so the
/// bytes are those the untyped writer produced, with `schema_version` added.
package enum RunFiles {
    /// The path of `name` in the run directory `dir`.
    package static func path(_ dir: String, _ name: String) -> String {
        URL(fileURLWithPath: dir).appendingPathComponent(name).path
    }

    /// Decodes a run file of a `schema_version`ed type: `nil` when there is no file at `path`. A file that is not
    /// JSON, whose values have the wrong types, or whose `schema_version` is newer than `current` is refused
    /// (``/JudgePanelCore/JudgePanelError/badInput(_:file:line:)``, exit 2) naming the file.
    package static func read<T: Decodable>(_ type: T.Type, path: String, current: Int, what: String) throws -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let json: JSONValue
        do {
            json = try JSONValue(jsonData: data)
        } catch {
            throw JudgePanelError.badInput("not JSON: \(error)", file: path)
        }
        guard case .object(let o) = json else { throw JudgePanelError.badInput("not a JSON object", file: path) }
        if let v = o["schema_version"] {
            guard let version = v.intValue, version >= 1 else {
                throw JudgePanelError.badInput("schema_version is \(v.compactString), not a version number", file: path)
            }
            if version > current {
                throw JudgePanelError.badInput(
                    "\(what) has schema_version \(version), but this judgepanel reads up to schema_version \(current): "
                        + "read it with a newer judgepanel", file: path)
            }
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            let key = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".")
            throw JudgePanelError.badInput(
                "\(key.isEmpty ? "" : "\(key): ")unreadable value (\(context.debugDescription))", file: path)
        } catch {
            throw JudgePanelError.badInput("unreadable: \(error)", file: path)
        }
    }

    /// The JSON value of a run file's type, as it is written (keys sorted when printed).
    package static func json<T: Encodable>(_ value: T, what: String, file: String? = nil) throws -> JSONValue {
        try RecordEncoding.value(value, record: what, file: file)
    }
}
