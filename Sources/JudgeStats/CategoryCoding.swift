/// Internal helper: maps values of a `Hashable & Comparable` type to dense integer codes.
///
/// Small category sets (the common case: A/B/tie, 1–10 scores) are found by binary search over a
/// sorted array, without hashing; large ones fall back to a dictionary.
@usableFromInline
struct CategoryCoder<T: Hashable & Comparable> {
    /// Distinct values seen so far, sorted, and the code each got at first sight.
    @usableFromInline var sortedValues: [T] = []
    @usableFromInline var sortedCodes: [Int] = []
    @usableFromInline var dictionary: [T: Int]? = nil
    /// Distinct values in order of first sight (index = code).
    @usableFromInline var values: [T] = []

    @inlinable init() {}

    @inlinable static var linearLimit: Int { 64 }

    /// The code of `value`, assigning a new one at first sight.
    @inlinable
    mutating func code(_ value: T) -> Int {
        if var dictionary {
            if let c = dictionary[value] { return c }
            let c = values.count
            values.append(value)
            dictionary[value] = c
            self.dictionary = dictionary
            return c
        }
        if values.count <= 8 {
            // A handful of categories: a linear scan by equality beats ordered comparisons.
            for i in values.indices where values[i] == value { return i }
        }
        var lo = 0
        var hi = sortedValues.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = sortedValues[mid]
            if v == value { return sortedCodes[mid] }
            if v < value { lo = mid + 1 } else { hi = mid }
        }
        let c = values.count
        values.append(value)
        if values.count > Self.linearLimit {
            var d = [T: Int](minimumCapacity: values.count * 2)
            for (i, v) in values.enumerated() { d[v] = i }
            dictionary = d
            sortedValues = []
            sortedCodes = []
        } else {
            sortedValues.insert(value, at: lo)
            sortedCodes.insert(c, at: lo)
        }
        return c
    }

    /// The code of `value` if already seen.
    @inlinable
    func existingCode(_ value: T) -> Int? {
        if let dictionary { return dictionary[value] }
        var lo = 0
        var hi = sortedValues.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = sortedValues[mid]
            if v == value { return sortedCodes[mid] }
            if v < value { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// For each code, its index in the sorted list of distinct values; and that sorted list.
    @inlinable
    func sortedRemap() -> (remap: [Int], sortedValues: [T]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var remap = [Int](repeating: 0, count: values.count)
        for (rank, code) in order.enumerated() { remap[code] = rank }
        return (remap, order.map { values[$0] })
    }
}

/// A category type with a small fixed set of values, numbered densely in sort order: κ and friends
/// count such values straight into a matrix, with no coding pass.
public protocol DenseCategory: Hashable, Comparable {
    /// How many values the type has.
    static var denseCount: Int { get }
    /// This value's number in `0..<denseCount`; increasing with `<`.
    var denseIndex: Int { get }
}

extension Preference: DenseCategory {
    public static var denseCount: Int { 3 }
    @inlinable public var denseIndex: Int {
        switch self {
        case .a: return 0
        case .b: return 1
        case .tie: return 2
        }
    }
}
