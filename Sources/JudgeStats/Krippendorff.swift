// Krippendorff's α, equal to Python `krippendorff.alpha` (v0.9.0).

/// Stevens' level of measurement, which picks the distance used by Krippendorff's α.
public enum MeasurementLevel: String, Sendable, Hashable, Codable, CaseIterable {
    /// Categories: distance 1 when different, 0 when equal.
    case nominal
    /// Ranks: distance from the marginal counts between the two ranks.
    case ordinal
    /// Numbers: squared difference.
    case interval
    /// Positive numbers: squared difference over the sum.
    case ratio
}

/// Krippendorff's α for reliability data whose rows are coders and columns units; `nil` (or NaN) is missing.
///
/// Equal to Python `krippendorff.alpha(reliability_data=..., level_of_measurement=...)` v0.9.0.
/// `valueDomain` defaults to the sorted distinct values; when given, its order is the rank order for
/// `.ordinal`, and a value outside it makes the result undefined (Python raises). Units with fewer
/// than two values are not pairable and are ignored. Undefined when rows differ in length, the domain
/// has fewer than two values, no unit is pairable, or the expected disagreement is 0.
/// O(coders × units + V²): values are coded once and counted into a V×V coincidence matrix.
public func krippendorffAlpha(
    _ reliabilityData: [[Double?]], level: MeasurementLevel, valueDomain: [Double]? = nil
) -> MetricValue {
    guard let units = reliabilityData.first?.count else { return .undefined("no coders") }
    guard reliabilityData.allSatisfy({ $0.count == units }) else { return .undefined("rows differ in length") }

    // The domain, in its own order, and a sorted view of it for binary search.
    let domain: [Double]
    if let valueDomain {
        guard valueDomain.allSatisfy({ $0.isFinite }) else { return .undefined("non-finite value in the domain") }
        domain = valueDomain
    } else {
        domain = distinctSortedValues(reliabilityData)
    }
    let order = domain.indices.sorted { domain[$0] < domain[$1] }
    let sortedDomain = order.map { domain[$0] }
    for i in sortedDomain.indices.dropFirst() where sortedDomain[i] == sortedDomain[i - 1] {
        return .undefined("duplicate values in the domain")
    }
    var codes: [[Int32]] = []
    codes.reserveCapacity(reliabilityData.count)
    for row in reliabilityData {
        var out = [Int32](repeating: -1, count: units)
        for u in 0..<units {
            guard let v = row[u], !v.isNaN else { continue }
            guard let s = binarySearch(sortedDomain, v) else { return .undefined("value outside the domain") }
            out[u] = Int32(truncatingIfNeeded: order[s])
        }
        codes.append(out)
    }
    return krippendorffAlpha(codes: codes, domain: domain, level: level)
}

/// Krippendorff's α for categorical reliability data (rows: coders, columns: units; `nil` is missing).
///
/// Categories are coded by their sorted order: for `.nominal` (the usual choice) this is Python's
/// nominal α on the same labels, for `.ordinal` its α with `value_domain` = the sorted categories, and
/// for `.interval`/`.ratio` the rank 0, 1, 2, … stands for the value.
@inlinable
public func krippendorffAlpha<T: Hashable & Comparable>(categories: [[T?]], level: MeasurementLevel = .nominal)
    -> MetricValue
{
    guard let units = categories.first?.count else { return .undefined("no coders") }
    guard categories.allSatisfy({ $0.count == units }) else { return .undefined("rows differ in length") }
    var coder = CategoryCoder<T>()
    var raw: [[Int32]] = categories.map { row in
        row.map { v in v.map { Int32(truncatingIfNeeded: coder.code($0)) } ?? -1 }
    }
    let remap = coder.sortedRemap().remap
    for r in raw.indices {
        for u in raw[r].indices where raw[r][u] >= 0 { raw[r][u] = Int32(truncatingIfNeeded: remap[Int(raw[r][u])]) }
    }
    return krippendorffAlpha(codes: raw, domain: (0..<remap.count).map(Double.init), level: level)
}

/// Krippendorff's α from coded data: `codes[coder][unit]` indexes `domain` (in rank order), −1 is missing.
@usableFromInline
func krippendorffAlpha(codes: [[Int32]], domain: [Double], level: MeasurementLevel) -> MetricValue {
    let valueCount = domain.count
    guard valueCount > 1 else { return .undefined("fewer than two values in the domain") }
    guard let units = codes.first?.count else { return .undefined("no coders") }
    var o = [Double](repeating: 0, count: valueCount * valueCount)
    var pairable = 0
    if codes.count == 2 {
        // Two coders: each pairable unit adds one ordered pair each way, weight 1/(2−1).
        var counts = [Int](repeating: 0, count: valueCount * valueCount)
        let r0 = codes[0]
        let r1 = codes[1]
        for u in 0..<units {
            let a = Int(r0[u])
            let b = Int(r1[u])
            if a < 0 || b < 0 { continue }
            counts[a * valueCount + b] += 1
            counts[b * valueCount + a] += 1
        }
        for i in 0..<(valueCount * valueCount) { o[i] = Double(counts[i]) }
        pairable = counts.reduce(0, +)
    } else {
        var n = [Int](repeating: 0, count: valueCount)
        var touched: [Int] = []
        touched.reserveCapacity(codes.count)
        for u in 0..<units {
            var m = 0
            for r in codes.indices {
                let c = Int(codes[r][u])
                if c < 0 { continue }
                if n[c] == 0 { touched.append(c) }
                n[c] += 1
                m += 1
            }
            if m >= 2 {
                pairable += m
                let w = 1 / Double(m - 1)
                for a in touched {
                    for b in touched {
                        let pairs = a == b ? n[a] * (n[a] - 1) : n[a] * n[b]
                        if pairs != 0 { o[a * valueCount + b] += Double(pairs) * w }
                    }
                }
            }
            for a in touched { n[a] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
    }
    guard pairable > 0 else { return .undefined("no unit with values from at least two coders") }
    var nv = [Double](repeating: 0, count: valueCount)
    for a in 0..<valueCount { for b in 0..<valueCount { nv[b] += o[a * valueCount + b] } }
    let total = nv.reduce(0, +)
    // Ordinal distances use cumulative marginal counts.
    var cumulative = [Double](repeating: 0, count: valueCount + 1)
    for g in 0..<valueCount { cumulative[g + 1] = cumulative[g] + nv[g] }
    var observed = 0.0
    var expected = 0.0
    for a in 0..<valueCount {
        for b in 0..<valueCount {
            let d: Double
            switch level {
            case .nominal:
                d = a == b ? 0 : 1
            case .ordinal:
                let i1 = min(a, b)
                let i2 = max(a, b)
                var between = 0.0
                for g in i1...i2 { between += nv[g] }
                let x = between - (nv[i1] + nv[i2]) / 2
                d = x * x
            case .interval:
                let x = domain[a] - domain[b]
                d = x * x
            case .ratio:
                let s = domain[a] + domain[b]
                let x = s != 0 ? (domain[a] - domain[b]) / s : 0
                d = x * x
            }
            if d == 0 { continue }
            observed += o[a * valueCount + b] * d
            let e = (nv[a] * nv[b] - (a == b ? nv[a] : 0)) / (total - 1)
            expected += e * d
        }
    }
    guard expected > 0 else { return .undefined("expected disagreement is 0") }
    return .defined(1 - observed / expected)
}

private func binarySearch(_ a: [Double], _ v: Double) -> Int? {
    var lo = 0
    var hi = a.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        let x = a[mid]
        if x == v { return mid }
        if x < v { lo = mid + 1 } else { hi = mid }
    }
    return nil
}

/// Sorted distinct non-missing values: a small sorted set with binary search, or a full sort when large.
private func distinctSortedValues(_ data: [[Double?]]) -> [Double] {
    var small: [Double] = []
    for row in data {
        for case let v? in row where !v.isNaN {
            var lo = 0
            var hi = small.count
            var found = false
            while lo < hi {
                let mid = (lo + hi) >> 1
                if small[mid] == v {
                    found = true
                    break
                }
                if small[mid] < v { lo = mid + 1 } else { hi = mid }
            }
            if found { continue }
            small.insert(v, at: lo)
            if small.count > 256 {
                var all = data.flatMap { $0.compactMap { $0 }.filter { !$0.isNaN } }
                all.sort()
                var out: [Double] = []
                for x in all where out.last != x { out.append(x) }
                return out
            }
        }
    }
    return small
}
