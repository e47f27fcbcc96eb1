/// The result of a statistic: a finite number, or `nil` with the reason it is undefined.
///
/// Degenerate inputs (one class, constant scores, fewer than two items, all values missing)
/// never produce NaN: they produce an undefined value that says why.
///
/// ```swift
/// let k = cohenKappa(["A", "B"], ["A", "B"])
/// if let v = k.value { print(v) } else { print(k.reason ?? "") }
/// ```
public struct MetricValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The value, always finite when present.
    public let value: Double?
    /// Why the value is undefined; `nil` when it is defined.
    public let reason: String?

    /// A defined value. A non-finite number becomes undefined.
    public static func defined(_ value: Double) -> MetricValue {
        value.isFinite ? MetricValue(value: value, reason: nil) : MetricValue(value: nil, reason: "not finite")
    }

    /// An undefined value with its reason.
    public static func undefined(_ reason: String) -> MetricValue {
        MetricValue(value: nil, reason: reason)
    }

    public var isDefined: Bool { value != nil }

    public var description: String {
        if let value { return String(value) }
        return "null (\(reason ?? "undefined"))"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .undefined("undefined")
        } else {
            self = .defined(try c.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }

    private init(value: Double?, reason: String?) {
        self.value = value
        self.reason = reason
    }
}
