// Seeded percentile bootstrap: a generic version over resampled indices and fast paths for means and accuracy.

// The C library only, so that libm (sqrt, floor, used by the standard library's floating-point
// operations) is linked into clients that import neither Foundation nor Glibc.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Draws uniform indices in `0..<bound` without bias: two 32-bit Lemire draws per 64-bit random number
/// when `bound` fits in 32 bits, otherwise `SeededGenerator.nextIndex(below:)`.
struct IndexDrawer {
    var rng: SeededGenerator
    let bound: Int
    private let b32: UInt64
    private let threshold: UInt32
    private let small: Bool

    init(seed: UInt64, bound: Int) {
        rng = SeededGenerator(seed: seed)
        self.bound = bound
        small = bound <= Int(UInt32.max)
        let b = UInt32(truncatingIfNeeded: bound)
        b32 = UInt64(b)
        threshold = small && b > 0 ? (0 &- b) % b : 0
    }

    @inline(__always)
    private mutating func from32(_ r: UInt32) -> Int {
        var m = UInt64(r) &* b32
        while UInt32(truncatingIfNeeded: m) < threshold {
            m = UInt64(UInt32(truncatingIfNeeded: rng.next())) &* b32
        }
        return Int(truncatingIfNeeded: m >> 32)
    }

    /// Fills `out` with `out.count` uniform indices.
    @inline(__always)
    mutating func fill(_ out: UnsafeMutableBufferPointer<Int>) {
        let n = out.count
        guard small else {
            for i in 0..<n { out[i] = rng.nextIndex(below: bound) }
            return
        }
        var i = 0
        while i + 1 < n {
            let r = rng.next()
            out[i] = from32(UInt32(truncatingIfNeeded: r))
            out[i + 1] = from32(UInt32(truncatingIfNeeded: r >> 32))
            i += 2
        }
        if i < n { out[i] = from32(UInt32(truncatingIfNeeded: rng.next())) }
    }
}

/// The distribution Binomial(n, k/n) as a cumulative table over the range where its mass is not
/// negligible (weights below 1e-30 of the mode's are dropped), for inverse-CDF sampling.
struct BinomialTable {
    let lo: Int
    let cdf: [Double]

    init(n: Int, k: Int) {
        precondition(n > 0 && k >= 0 && k <= n)
        if k == 0 || k == n {
            lo = k
            cdf = [1]
            return
        }
        let odds = Double(k) / Double(n - k)  // p / (1 − p)
        let mode = min(n, (n + 1) * k / n)
        var up: [Double] = [1]  // weights at mode, mode+1, …
        var x = mode
        var w = 1.0
        while x < n {
            w *= Double(n - x) / Double(x + 1) * odds
            if w < 1e-30 { break }
            up.append(w)
            x += 1
        }
        var down: [Double] = []  // weights at mode−1, mode−2, …
        x = mode
        w = 1.0
        while x > 0 {
            w *= Double(x) / Double(n - x + 1) / odds
            if w < 1e-30 { break }
            down.append(w)
            x -= 1
        }
        let weights = down.reversed() + up
        let total = weights.reduce(0, +)
        var c = [Double](repeating: 0, count: weights.count)
        var running = 0.0
        for i in weights.indices {
            running += weights[i]
            c[i] = running / total
        }
        c[c.count - 1] = 1
        lo = mode - down.count
        cdf = c
    }

    /// The smallest x whose cumulative probability exceeds `u` ∈ [0, 1).
    func quantile(_ u: Double) -> Int {
        var a = 0
        var b = cdf.count - 1
        while a < b {
            let mid = (a + b) >> 1
            if cdf[mid] > u { b = mid } else { a = mid + 1 }
        }
        return lo + a
    }
}

/// Items grouped by cluster, in compressed form: `items[start[c]..<start[c+1]]` belong to cluster c.
struct ClusterIndex {
    var start: [Int]
    var items: [Int]
    var count: Int { start.count - 1 }

    /// nil when `clusters.count != count`.
    init?(_ clusters: [Int], count: Int) {
        guard clusters.count == count else { return nil }
        var dense = [Int: Int]()
        var ids = [Int](repeating: 0, count: count)
        var sizes: [Int] = []
        for i in 0..<count {
            let d: Int
            if let x = dense[clusters[i]] {
                d = x
            } else {
                d = sizes.count
                dense[clusters[i]] = d
                sizes.append(0)
            }
            ids[i] = d
            sizes[d] += 1
        }
        start = [Int](repeating: 0, count: sizes.count + 1)
        for c in sizes.indices { start[c + 1] = start[c] + sizes[c] }
        var fill = start
        items = [Int](repeating: 0, count: count)
        for i in 0..<count {
            items[fill[ids[i]]] = i
            fill[ids[i]] += 1
        }
    }
}

/// A percentile bootstrap confidence interval for a statistic of `count` items.
///
/// Each of `resamples` resamples draws `count` item indices with replacement (or, with `clusters`,
/// where `clusters[i]` is item i's cluster id, draws as many cluster ids as there are clusters, with
/// replacement, and takes all items of each) and passes them to `statistic`; resamples where it
/// returns `nil` are skipped. The interval is the (1 − level)/2 and (1 + level)/2 percentiles with
/// linear interpolation (numpy's default). Seeded and deterministic. The index array passed to
/// `statistic` is one buffer reused across resamples: read it, don't keep it.
/// nil when `count < 2`, `clusters` has the wrong length or fewer than two clusters, `level` is not
/// in (0, 1), or fewer than half of the resamples are defined.
public func bootstrapPercentileCI(
    count: Int, resamples: Int = 1000, seed: UInt64 = 0, level: Double = 0.95,
    clusters: [Int]? = nil, statistic: ([Int]) -> Double?
) -> (lo: Double, hi: Double)? {
    guard count >= 2, resamples > 0, level > 0, level < 1 else { return nil }
    var stats: [Double] = []
    stats.reserveCapacity(resamples)
    if let clusters {
        guard let index = ClusterIndex(clusters, count: count), index.count >= 2 else { return nil }
        var drawer = IndexDrawer(seed: seed, bound: index.count)
        var picks = [Int](repeating: 0, count: index.count)
        var buffer: [Int] = []
        buffer.reserveCapacity(count * 2)
        for _ in 0..<resamples {
            picks.withUnsafeMutableBufferPointer { drawer.fill($0) }
            buffer.removeAll(keepingCapacity: true)
            for c in picks { buffer.append(contentsOf: index.items[index.start[c]..<index.start[c + 1]]) }
            if let s = statistic(buffer), s.isFinite { stats.append(s) }
        }
    } else {
        var drawer = IndexDrawer(seed: seed, bound: count)
        var buffer = [Int](repeating: 0, count: count)
        for _ in 0..<resamples {
            buffer.withUnsafeMutableBufferPointer { drawer.fill($0) }
            if let s = statistic(buffer), s.isFinite { stats.append(s) }
        }
    }
    return percentileInterval(&stats, resamples: resamples, level: level)
}

/// A percentile bootstrap confidence interval for the mean of `values` (fast path: no index buffer).
///
/// Same resampling scheme and nil cases as `bootstrapPercentileCI`; with `clusters` the statistic is
/// the mean over all items of the drawn clusters. Non-finite values make it nil.
public func bootstrapMeanCI(
    _ values: [Double], resamples: Int = 1000, seed: UInt64 = 0, level: Double = 0.95, clusters: [Int]? = nil
) -> (lo: Double, hi: Double)? {
    let n = values.count
    guard n >= 2, resamples > 0, level > 0, level < 1, values.allSatisfy({ $0.isFinite }) else { return nil }
    var stats = [Double]()
    stats.reserveCapacity(resamples)
    if let clusters {
        guard let index = ClusterIndex(clusters, count: n), index.count >= 2 else { return nil }
        let sums = (0..<index.count).map { c in
            index.items[index.start[c]..<index.start[c + 1]].reduce(0.0) { $0 + values[$1] }
        }
        let sizes = (0..<index.count).map { index.start[$0 + 1] - index.start[$0] }
        return clusterRatioCI(sums: sums, sizes: sizes, resamples: resamples, seed: seed, level: level)
    }
    var drawer = IndexDrawer(seed: seed, bound: n)
    var buffer = [Int](repeating: 0, count: min(n, 4096))
    values.withUnsafeBufferPointer { v in
        buffer.withUnsafeMutableBufferPointer { buf in
            for _ in 0..<resamples {
                var sum = 0.0
                var done = 0
                while done < n {
                    let chunk = UnsafeMutableBufferPointer(rebasing: buf[0..<min(buf.count, n - done)])
                    drawer.fill(chunk)
                    for i in chunk { sum += v[i] }
                    done += chunk.count
                }
                stats.append(sum / Double(n))
            }
        }
    }
    return percentileInterval(&stats, resamples: resamples, level: level)
}

/// A percentile bootstrap confidence interval for accuracy from per-item correctness (fast path).
///
/// Resampling n items with replacement, the number of correct ones follows Binomial(n, k/n) exactly
/// (k = correct items), so each resample draws that count by inverse CDF from one seeded uniform:
/// O(n) once plus O(log n) per resample. Equal in distribution (not draw for draw) to
/// `bootstrapPercentileCI` with the accuracy statistic. With `clusters`, whole clusters are resampled
/// (O(clusters) per resample) and accuracy is pooled over their items.
public func bootstrapAccuracyCI(
    correct: [Bool], resamples: Int = 1000, seed: UInt64 = 0, level: Double = 0.95, clusters: [Int]? = nil
) -> (lo: Double, hi: Double)? {
    let n = correct.count
    guard n >= 2, resamples > 0, level > 0, level < 1 else { return nil }
    if let clusters {
        guard let index = ClusterIndex(clusters, count: n), index.count >= 2 else { return nil }
        let sums = (0..<index.count).map { c in
            Double(index.items[index.start[c]..<index.start[c + 1]].reduce(0) { $0 + (correct[$1] ? 1 : 0) })
        }
        let sizes = (0..<index.count).map { index.start[$0 + 1] - index.start[$0] }
        return clusterRatioCI(sums: sums, sizes: sizes, resamples: resamples, seed: seed, level: level)
    }
    var k = 0
    for c in correct where c { k += 1 }
    let table = BinomialTable(n: n, k: k)
    var rng = SeededGenerator(seed: seed)
    var stats = [Double]()
    stats.reserveCapacity(resamples)
    for _ in 0..<resamples { stats.append(Double(table.quantile(rng.nextUnit())) / Double(n)) }
    return percentileInterval(&stats, resamples: resamples, level: level)
}

private func clusterRatioCI(sums: [Double], sizes: [Int], resamples: Int, seed: UInt64, level: Double) -> (
    lo: Double, hi: Double
)? {
    let c = sums.count
    var drawer = IndexDrawer(seed: seed, bound: c)
    var picks = [Int](repeating: 0, count: c)
    var stats = [Double]()
    stats.reserveCapacity(resamples)
    for _ in 0..<resamples {
        picks.withUnsafeMutableBufferPointer { drawer.fill($0) }
        var s = 0.0
        var m = 0
        for p in picks {
            s += sums[p]
            m += sizes[p]
        }
        if m > 0 { stats.append(s / Double(m)) }
    }
    return percentileInterval(&stats, resamples: resamples, level: level)
}

func percentileInterval(_ stats: inout [Double], resamples: Int, level: Double) -> (lo: Double, hi: Double)? {
    guard !stats.isEmpty, stats.count * 2 >= resamples else { return nil }
    stats.sort()
    let tail = (1 - level) / 2 * 100
    return (sortedPercentile(stats, tail), sortedPercentile(stats, 100 - tail))
}

/// The q-th percentile (0…100) of `values` with linear interpolation, as `numpy.percentile`'s default.
/// nil for empty input, q outside 0…100, or non-finite values.
public func percentile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty, q >= 0, q <= 100, values.allSatisfy({ $0.isFinite }) else { return nil }
    return sortedPercentile(values.sorted(), q)
}

private func sortedPercentile(_ sorted: [Double], _ q: Double) -> Double {
    let virtualIndex = q / 100 * Double(sorted.count - 1)
    let below = max(0, min(sorted.count - 1, Int(virtualIndex.rounded(.down))))
    let above = min(sorted.count - 1, below + 1)
    let t = virtualIndex - Double(below)
    let a = sorted[below]
    let b = sorted[above]
    let diff = b - a
    // numpy's _lerp: a + diff·t, or b − diff·(1 − t) when t ≥ 0.5.
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}
