import Foundation

/// A value's stored properties as JSON, by reflection: what the response cache keys on, so a field added to a
/// request type is part of the key without anyone remembering to add it.
///
/// Structs and classes become objects of their stored properties (an absent optional is left out, so adding an
/// optional field keeps old keys valid while it is unset); raw-value enums their raw value; other enums their case
/// (and payload); arrays arrays; dictionaries objects; sets sorted arrays; ``JSONValue`` itself.
package enum CanonicalJSON {
    package static func value(_ any: Any) -> JSONValue? {
        switch any {
        case let v as JSONValue: return v
        case let v as any CanonicalJSONConvertible: return v.canonicalJSON
        case let v as String: return .string(v)
        case let v as Bool: return .bool(v)
        case let v as Int: return .number(Double(v))
        case let v as Double: return v.isFinite ? .number(v) : .string(String(v))
        case let v as Float: return value(Double(v))
        case let v as URL: return .string(v.absoluteString)
        case let v as any RawRepresentable: return value(v.rawValue)
        default: break
        }
        let mirror = Mirror(reflecting: any)
        switch mirror.displayStyle {
        case .optional:
            guard let some = mirror.children.first else { return nil }
            return value(some.value)
        case .collection:
            return .array(mirror.children.map { value($0.value) ?? .null })
        case .set:
            return .array(mirror.children.map { value($0.value) ?? .null }.sorted { $0.sortKey < $1.sortKey })
        case .dictionary:
            var o: [String: JSONValue] = [:]
            for child in mirror.children {
                let pair = Array(Mirror(reflecting: child.value).children)
                guard pair.count == 2 else { continue }
                o[String(describing: pair[0].value)] = value(pair[1].value) ?? .null
            }
            return .object(o)
        case .struct, .class:
            var o: [String: JSONValue] = [:]
            for child in mirror.children {
                guard let label = child.label, let v = value(child.value) else { continue }
                o[label] = v
            }
            return .object(o)
        case .enum:
            guard let payload = mirror.children.first else { return .string(String(describing: any)) }
            return .object([payload.label ?? String(describing: any): value(payload.value) ?? .null])
        case .tuple:
            return .array(mirror.children.map { value($0.value) ?? .null })
        default:
            return .string(String(describing: any))
        }
    }
}

/// A value that states its own canonical form (an image keys on its hash, not on its megabytes of base64).
protocol CanonicalJSONConvertible {
    var canonicalJSON: JSONValue { get }
}

extension JSONValue {
    /// Compact JSON text, for ordering set members.
    fileprivate var sortKey: String { String(decoding: data, as: UTF8.self) }
}
