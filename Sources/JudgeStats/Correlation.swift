// Pearson, Spearman and Kendall τ-b correlations, equal to scipy's pearsonr, spearmanr, kendalltau.

/// Pearson's r, as scipy `pearsonr`. Undefined for n < 2, constant input, unequal lengths or non-finite values.
public func pearson(_ x: [Double], _ y: [Double]) -> MetricValue {
    if let problem = correlationInputProblem(x, y) { return .undefined(problem) }
    return .defined(pearsonUnchecked(x, y))
}

/// Spearman's ρ (Pearson's r on average ranks, so ties get the mean of their ranks), as scipy `spearmanr`.
/// Undefined for n < 2, constant input, unequal lengths or non-finite values.
public func spearman(_ x: [Double], _ y: [Double]) -> MetricValue {
    if let problem = correlationInputProblem(x, y) { return .undefined(problem) }
    return .defined(pearsonUnchecked(averageRanks(x), averageRanks(y)))
}

/// Kendall's τ-b (ties adjusted), as scipy `kendalltau` (default variant "b"). O(n log n).
/// Undefined for n < 2, constant input, unequal lengths or non-finite values.
public func kendallTauB(_ x: [Double], _ y: [Double]) -> MetricValue {
    if let problem = correlationInputProblem(x, y) { return .undefined(problem) }
    let n = x.count
    // Dense ranks of y, then sort by (x, y) lexicographically.
    let yRank = denseRanks(y)
    let xRank = denseRanks(x)
    var order = Array(0..<n)
    order.sort { xRank[$0] != xRank[$1] ? xRank[$0] < xRank[$1] : yRank[$0] < yRank[$1] }
    var ys = order.map { yRank[$0] }
    let xs = order.map { xRank[$0] }
    // Joint ties and ties in x, from runs in the sorted order.
    var jointTies = 0
    var xTies = 0
    var runJoint = 1
    var runX = 1
    for i in 1..<n {
        if xs[i] == xs[i - 1] {
            runX += 1
            if ys[i] == ys[i - 1] {
                runJoint += 1
            } else {
                jointTies += runJoint * (runJoint - 1) / 2
                runJoint = 1
            }
        } else {
            xTies += runX * (runX - 1) / 2
            runX = 1
            jointTies += runJoint * (runJoint - 1) / 2
            runJoint = 1
        }
    }
    xTies += runX * (runX - 1) / 2
    jointTies += runJoint * (runJoint - 1) / 2
    var yCounts = [Int](repeating: 0, count: (yRank.max() ?? 0) + 1)
    for r in yRank { yCounts[r] += 1 }
    let yTies = yCounts.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
    // Discordant pairs = strict inversions of y in (x, y) order, by merge sort.
    var buffer = [Int](repeating: 0, count: n)
    let discordant = countInversions(&ys, &buffer)
    let total = n * (n - 1) / 2
    if xTies == total || yTies == total { return .undefined("constant input") }
    let conMinusDis = total - xTies - yTies + jointTies - 2 * discordant
    let tau = Double(conMinusDis) / Double(total - xTies).squareRoot() / Double(total - yTies).squareRoot()
    return .defined(min(1, max(-1, tau)))
}

/// Average ranks (1-based; ties get the mean of the ranks they span), as scipy `rankdata`.
public func averageRanks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var ranks = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
        let r = Double(i + j + 2) / 2
        for t in i...j { ranks[order[t]] = r }
        i = j + 1
    }
    return ranks
}

private func correlationInputProblem(_ x: [Double], _ y: [Double]) -> String? {
    if x.count != y.count { return "length mismatch" }
    if x.count < 2 { return "fewer than two items" }
    if !x.allSatisfy({ $0.isFinite }) || !y.allSatisfy({ $0.isFinite }) { return "non-finite value" }
    if x.allSatisfy({ $0 == x[0] }) || y.allSatisfy({ $0 == y[0] }) { return "constant input" }
    return nil
}

private func pearsonUnchecked(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    var sx = 0.0
    var sy = 0.0
    for i in x.indices {
        sx += x[i]
        sy += y[i]
    }
    let mx = sx / n
    let my = sy / n
    var sxx = 0.0
    var syy = 0.0
    var sxy = 0.0
    for i in x.indices {
        let dx = x[i] - mx
        let dy = y[i] - my
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    }
    let r = sxy / (sxx.squareRoot() * syy.squareRoot())
    return min(1, max(-1, r))
}

private func denseRanks(_ x: [Double]) -> [Int] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var ranks = [Int](repeating: 0, count: x.count)
    var r = 0
    for (k, i) in order.enumerated() {
        if k > 0 && x[i] != x[order[k - 1]] { r += 1 }
        ranks[i] = r
    }
    return ranks
}

/// Number of pairs i < j with a[i] > a[j]; sorts `a`.
private func countInversions(_ a: inout [Int], _ buffer: inout [Int]) -> Int {
    let n = a.count
    var inversions = 0
    var width = 1
    while width < n {
        var lo = 0
        while lo < n {
            let mid = min(lo + width, n)
            let hi = min(lo + 2 * width, n)
            var i = lo
            var j = mid
            var k = lo
            while i < mid && j < hi {
                if a[j] < a[i] {
                    buffer[k] = a[j]
                    j += 1
                    inversions += mid - i
                } else {
                    buffer[k] = a[i]
                    i += 1
                }
                k += 1
            }
            while i < mid {
                buffer[k] = a[i]
                i += 1
                k += 1
            }
            while j < hi {
                buffer[k] = a[j]
                j += 1
                k += 1
            }
            lo = hi
        }
        swap(&a, &buffer)
        width *= 2
    }
    return inversions
}
