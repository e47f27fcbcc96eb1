// Accuracy, Cohen's κ (scikit-learn semantics) and Fleiss' κ (statsmodels semantics).

/// The share of items whose prediction equals the truth, over items whose truth is present;
/// a missing prediction (an abstention) counts as a miss.
///
/// Items whose truth is `nil` are skipped. Undefined when the lengths differ or no truth is present.
@inlinable
public func accuracy<T: Equatable>(_ predicted: [T?], _ truth: [T?]) -> MetricValue {
    guard predicted.count == truth.count else { return .undefined("length mismatch") }
    var n = 0
    var hits = 0
    for i in truth.indices {
        guard let t = truth[i] else { continue }
        n += 1
        if let p = predicted[i], p == t { hits += 1 }
    }
    guard n > 0 else { return .undefined("no items with a truth value") }
    return .defined(Double(hits) / Double(n))
}

/// The share of answered items (prediction and truth both present) whose prediction equals the truth.
///
/// Undefined when the lengths differ or nothing was answered.
@inlinable
public func answeredAccuracy<T: Equatable>(_ predicted: [T?], _ truth: [T?]) -> MetricValue {
    guard predicted.count == truth.count else { return .undefined("length mismatch") }
    var n = 0
    var hits = 0
    for i in truth.indices {
        guard let t = truth[i], let p = predicted[i] else { continue }
        n += 1
        if p == t { hits += 1 }
    }
    guard n > 0 else { return .undefined("no answered items with a truth value") }
    return .defined(Double(hits) / Double(n))
}

/// The share of items with a truth value whose prediction is present (not abstained).
///
/// Undefined when the lengths differ or no truth is present.
@inlinable
public func coverage<T>(_ predicted: [T?], _ truth: [T?]) -> MetricValue {
    guard predicted.count == truth.count else { return .undefined("length mismatch") }
    var n = 0
    var answered = 0
    for i in truth.indices where truth[i] != nil {
        n += 1
        if predicted[i] != nil { answered += 1 }
    }
    guard n > 0 else { return .undefined("no items with a truth value") }
    return .defined(Double(answered) / Double(n))
}

/// Disagreement weights for Cohen's κ, by distance between label indices.
public enum KappaWeights: String, Sendable, Hashable, Codable, CaseIterable {
    /// Unweighted: every disagreement weighs 1.
    case none
    /// Weight |i − j|.
    case linear
    /// Weight (i − j)².
    case quadratic
}

/// Cohen's κ between two raters, with scikit-learn's `cohen_kappa_score` semantics.
///
/// `labels` defaults to the sorted union of observed values; when given, its order defines the
/// weight distances and pairs with a value outside it are ignored. Undefined when the lengths differ,
/// no pair remains, `labels` has duplicates, or the expected disagreement is 0 (e.g. both raters use
/// one single identical class). O(n + k²): values are coded once, then counted in a k×k matrix.
@inlinable
public func cohenKappa<T: Hashable & Comparable>(
    _ y1: [T], _ y2: [T], labels: [T]? = nil, weights: KappaWeights = .none
) -> MetricValue {
    guard y1.count == y2.count else { return .undefined("length mismatch") }
    guard !y1.isEmpty else { return .undefined("no items") }
    var coder = CategoryCoder<T>()
    if let labels {
        for l in labels {
            if coder.existingCode(l) != nil { return .undefined("duplicate labels") }
            _ = coder.code(l)
        }
        let k = labels.count
        guard k > 0 else { return .undefined("no labels") }
        var confusion = [Int](repeating: 0, count: k * k)
        for i in y1.indices {
            guard let a = coder.existingCode(y1[i]), let b = coder.existingCode(y2[i]) else { continue }
            confusion[a * k + b] += 1
        }
        return kappa(confusion: confusion, k: k, weights: weights)
    }
    // Few categories (the usual case): count straight into a small matrix indexed by first-sight codes.
    let small = CategoryCoder<T>.linearLimit
    var direct = [Int](repeating: 0, count: small * small)
    var fits = true
    for i in y1.indices {
        let a = coder.code(y1[i])
        let b = coder.code(y2[i])
        if a >= small || b >= small {
            fits = false
            break
        }
        direct[a * small + b] += 1
    }
    if fits {
        let remap = coder.sortedRemap().remap
        let k = remap.count
        var confusion = [Int](repeating: 0, count: k * k)
        for a in 0..<k { for b in 0..<k { confusion[remap[a] * k + remap[b]] = direct[a * small + b] } }
        return kappa(confusion: confusion, k: k, weights: weights)
    }
    var c1 = [Int32](repeating: 0, count: y1.count)
    var c2 = [Int32](repeating: 0, count: y1.count)
    for i in y1.indices {
        c1[i] = Int32(truncatingIfNeeded: coder.code(y1[i]))
        c2[i] = Int32(truncatingIfNeeded: coder.code(y2[i]))
    }
    let remap = coder.sortedRemap().remap
    let k = remap.count
    var byCode = [Int](repeating: 0, count: k * k)
    for i in c1.indices { byCode[Int(c1[i]) * k + Int(c2[i])] += 1 }
    var confusion = [Int](repeating: 0, count: k * k)
    for a in 0..<k { for b in 0..<k { confusion[remap[a] * k + remap[b]] = byCode[a * k + b] } }
    return kappa(confusion: confusion, k: k, weights: weights)
}

/// Cohen's κ for a `DenseCategory` type (e.g. `Preference`): the same semantics as the generic version —
/// labels default to the sorted union of observed values, given `labels` set the order and filter
/// pairs — but values are counted straight into a matrix by `denseIndex`, with no coding pass.
@inlinable
public func cohenKappa<T: DenseCategory>(
    _ y1: [T], _ y2: [T], labels: [T]? = nil, weights: KappaWeights = .none
) -> MetricValue {
    guard y1.count == y2.count else { return .undefined("length mismatch") }
    guard !y1.isEmpty else { return .undefined("no items") }
    let width = T.denseCount
    var full = [Int](repeating: 0, count: width * width)
    full.withUnsafeMutableBufferPointer { f in
        y1.withUnsafeBufferPointer { a in
            y2.withUnsafeBufferPointer { b in
                for i in 0..<a.count { f[a[i].denseIndex * width + b[i].denseIndex] += 1 }
            }
        }
    }
    // Position of each dense index in the label list (−1: not a label).
    var position = [Int](repeating: -1, count: width)
    var k = 0
    if let labels {
        for l in labels {
            if position[l.denseIndex] >= 0 { return .undefined("duplicate labels") }
            position[l.denseIndex] = k
            k += 1
        }
        guard k > 0 else { return .undefined("no labels") }
    } else {
        for c in 0..<width {
            var seen = false
            for d in 0..<width where full[c * width + d] > 0 || full[d * width + c] > 0 {
                seen = true
                break
            }
            if seen {
                position[c] = k
                k += 1
            }
        }
    }
    var confusion = [Int](repeating: 0, count: k * k)
    for c in 0..<width where position[c] >= 0 {
        for d in 0..<width where position[d] >= 0 { confusion[position[c] * k + position[d]] += full[c * width + d] }
    }
    return kappa(confusion: confusion, k: k, weights: weights)
}

/// Cohen's κ from integer codes `0..<categoryCount` (the fast path: no hashing at all).
///
/// Codes outside the range are ignored, as labels outside `labels` are by scikit-learn.
public func cohenKappa(codes y1: [Int], _ y2: [Int], categoryCount k: Int, weights: KappaWeights = .none) -> MetricValue
{
    guard y1.count == y2.count else { return .undefined("length mismatch") }
    guard k > 0 else { return .undefined("no categories") }
    var confusion = [Int](repeating: 0, count: k * k)
    for i in y1.indices {
        let a = y1[i]
        let b = y2[i]
        guard a >= 0, a < k, b >= 0, b < k else { continue }
        confusion[a * k + b] += 1
    }
    return kappa(confusion: confusion, k: k, weights: weights)
}

/// Cohen's κ from a k×k confusion matrix (rows: rater 1, columns: rater 2).
public func cohenKappa(confusion: [[Int]], weights: KappaWeights = .none) -> MetricValue {
    let k = confusion.count
    guard k > 0, confusion.allSatisfy({ $0.count == k }) else { return .undefined("confusion matrix is not square") }
    return cohenKappa(flatConfusion: confusion.flatMap { $0 }, categoryCount: k, weights: weights)
}

@inline(__always)
private func kappaWeight(_ i: Int, _ j: Int, _ weights: KappaWeights) -> Double {
    switch weights {
    case .none: return i == j ? 0 : 1
    case .linear: return Double(abs(i - j))
    case .quadratic: return Double((i - j) * (i - j))
    }
}

@usableFromInline
func kappa(confusion: [Int], k: Int, weights: KappaWeights) -> MetricValue {
    var rowSum = [Int](repeating: 0, count: k)
    var colSum = [Int](repeating: 0, count: k)
    var total = 0
    for i in 0..<k {
        for j in 0..<k {
            let c = confusion[i * k + j]
            rowSum[i] += c
            colSum[j] += c
            total += c
        }
    }
    guard total > 0 else { return .undefined("no items with a label in common") }
    let n = Double(total)
    var numerator = 0.0
    var denominator = 0.0
    for i in 0..<k {
        for j in 0..<k {
            let w = kappaWeight(i, j, weights)
            numerator += w * Double(confusion[i * k + j])
            // scikit-learn: expected = outer(sum0, sum1) / sum(sum0), sum0 = column sums.
            denominator += w * (Double(colSum[i]) * Double(rowSum[j]) / n)
        }
    }
    guard denominator > 0 else { return .undefined("expected disagreement is 0 (a single category in common)") }
    return .defined(1 - numerator / denominator)
}

/// Fleiss' κ from an items × categories table of counts, as statsmodels
/// `fleiss_kappa(table, method="fleiss")`.
///
/// statsmodels requires the same number of raters on every item; with unequal counts this uses the
/// usual per-item generalisation: item agreement Pᵢ = (Σⱼ nᵢⱼ² − nᵢ) / (nᵢ(nᵢ − 1)) with each item's own
/// nᵢ, category shares pooled over the items used, and items with fewer than two ratings skipped.
/// With equal counts it is exactly statsmodels' formula. Undefined when no item has two ratings,
/// rows differ in length, a count is negative, or all ratings fall in one category.
public func fleissKappa(table: [[Int]]) -> MetricValue {
    guard let k = table.first?.count, k > 0 else { return .undefined("empty table") }
    guard table.allSatisfy({ $0.count == k }) else { return .undefined("rows differ in length") }
    var categoryTotals = [Int](repeating: 0, count: k)
    var items = 0
    var total = 0
    var agreementSum = 0.0
    for row in table {
        var ni = 0
        var squares = 0
        for c in row {
            if c < 0 { return .undefined("negative count") }
            ni += c
            squares += c * c
        }
        guard ni >= 2 else { continue }
        items += 1
        total += ni
        for j in 0..<k { categoryTotals[j] += row[j] }
        agreementSum += Double(squares - ni) / (Double(ni) * (Double(ni) - 1))
    }
    guard items > 0 else { return .undefined("no item with at least two ratings") }
    let pMean = agreementSum / Double(items)
    var pExpected = 0.0
    for t in categoryTotals {
        let p = Double(t) / Double(total)
        pExpected += p * p
    }
    guard 1 - pExpected > 0 else { return .undefined("all ratings fall in one category") }
    return .defined((pMean - pExpected) / (1 - pExpected))
}

/// Builds the items × categories count table for `fleissKappa(table:)` from per-item rater lists.
///
/// Categories are the sorted union of observed values; `nil` (missing) ratings are skipped, so an
/// item with no ratings becomes a row of zeros (which `fleissKappa` skips).
@inlinable
public func fleissTable<T: Hashable & Comparable>(ratings: [[T?]]) -> (table: [[Int]], categories: [T]) {
    var coder = CategoryCoder<T>()
    for item in ratings { for case let r? in item { _ = coder.code(r) } }
    let (remap, categories) = coder.sortedRemap()
    var table = [[Int]](repeating: [Int](repeating: 0, count: categories.count), count: ratings.count)
    for (i, item) in ratings.enumerated() {
        // Every rating was coded in the first pass.
        for case let r? in item { if let c = coder.existingCode(r) { table[i][remap[c]] += 1 } }
    }
    return (table, categories)
}
