#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(ucrt)
    import ucrt
#endif

/// Dawid–Skene aggregation: expectation–maximisation over one confusion matrix per worker
/// (per judge), giving a posterior over the true class of every item and an estimate of
/// how accurate each worker is.
///
/// The algorithm mirrors crowd-kit 1.4.x `crowdkit.aggregation.DawidSkene(n_iter=100,
/// tol=1e-5)` step for step, and the test suite checks it against crowd-kit's output
/// (`Tests/JudgeStatsTests/Fixtures/reference_aggregation.json`) within 1e-6:
///
/// * initialisation: majority-vote probabilities per item (vote shares), priors = their
///   mean, then one M-step;
/// * E-step in log2 space, each row shifted by its maximum before exponentiating,
///   priors clipped below at 1e-10;
/// * M-step: `errors[w][observed][true]` = sum of the posteriors of the items `w` labelled
///   `observed`, clipped below at 1e-10, normalised over the labels `w` actually gave
///   (rows for labels a worker never gave are absent in crowd-kit, and 0 here);
/// * stopping: after each iteration the evidence lower bound per vote is computed; the
///   loop stops when it improves by less than `tolerance` (signed, as crowd-kit does), or
///   after `maxIterations` iterations;
/// * as in crowd-kit, the returned posteriors and priors are the ones clipped below at
///   1e-10 by the last bound computation (not re-normalised);
/// * labels are the argmax of the posterior, ties going to the smallest class index.
///
/// Beyond crowd-kit (which only sees the labels and tasks present in the data):
/// classes nobody used get posterior 0, prior 0 and a zero confusion column; items with no
/// votes get the priors as their posterior and a `nil` label; workers with no votes get a
/// zero confusion matrix and a `nil` accuracy. No NaN is ever produced.
///
/// ```swift
/// let r = DawidSkene.fit(votes: [(item: 0, worker: 0, label: 1), (item: 0, worker: 1, label: 1)],
///                        nItems: 1, nWorkers: 2, nClasses: 2)
/// print(r.labels[0] ?? -1, r.posteriors[0], r.workerAccuracy)
/// ```
public enum DawidSkene {
    /// The probability floor crowd-kit uses (`_EPS = 10 ** -10`).
    public static let epsilon: Double = 1e-10

    /// Fits Dawid–Skene by EM.
    ///
    /// - Parameters:
    ///   - votes: one entry per vote; `item` in `0..<nItems`, `worker` in `0..<nWorkers`,
    ///     `label` in `0..<nClasses`. Votes with an index out of range are ignored.
    ///   - maxIterations: crowd-kit's `n_iter` (default 100).
    ///   - tolerance: crowd-kit's `tol` (default 1e-5) on the per-vote evidence lower bound.
    public static func fit(
        votes: [(item: Int, worker: Int, label: Int)],
        nItems: Int,
        nWorkers: Int,
        nClasses: Int,
        maxIterations: Int = 100,
        tolerance: Double = 1e-5
    ) -> DawidSkeneResult {
        let nItems = max(nItems, 0)
        let nWorkers = max(nWorkers, 0)
        let nClasses = max(nClasses, 0)
        let valid = votes.filter {
            (0..<nItems).contains($0.item) && (0..<nWorkers).contains($0.worker)
                && (0..<nClasses).contains($0.label)
        }

        // Classes present in the data, ascending (crowd-kit's column order).
        var classUsed = [Bool](repeating: false, count: nClasses)
        for v in valid { classUsed[v.label] = true }
        let used = (0..<nClasses).filter { classUsed[$0] }
        let k = used.count
        var col = [Int](repeating: -1, count: nClasses)
        for (j, c) in used.enumerated() { col[c] = j }

        // Items with votes, compact indices.
        var itemHasVotes = [Bool](repeating: false, count: nItems)
        for v in valid { itemHasVotes[v.item] = true }
        let votedItems = (0..<nItems).filter { itemHasVotes[$0] }
        var row = [Int](repeating: -1, count: nItems)
        for (r, i) in votedItems.enumerated() { row[i] = r }
        let m = votedItems.count

        guard m > 0, k > 0 else {
            let uniform = nClasses > 0 ? [Double](repeating: 1 / Double(nClasses), count: nClasses) : []
            return DawidSkeneResult(
                posteriors: Array(repeating: uniform, count: nItems),
                labels: Array(repeating: nil, count: nItems),
                workerAccuracy: Array(repeating: nil, count: nWorkers),
                confusion: Array(
                    repeating: Array(repeating: Array(repeating: 0, count: nClasses), count: nClasses),
                    count: nWorkers),
                priors: uniform,
                iterations: 0,
                lossHistory: [])
        }

        // Compact votes: (row, worker, observed column).
        let cv = valid.map { (r: row[$0.item], w: $0.worker, o: col[$0.label]) }
        // present[w][o]: worker w gave label o at least once.
        var present = [[Bool]](repeating: [Bool](repeating: false, count: k), count: nWorkers)
        for v in cv { present[v.w][v.o] = true }

        // Initialisation: majority-vote probabilities.
        var probas = [[Double]](repeating: [Double](repeating: 0, count: k), count: m)
        for v in cv { probas[v.r][v.o] += 1 }
        for r in 0..<m {
            let s = probas[r].reduce(0, +)
            for j in 0..<k { probas[r][j] /= s }
        }
        var priors = columnMeans(probas, k)
        var errors = mStep(cv, probas, present, nWorkers, k)

        var loss = -Double.infinity
        var history: [Double] = []
        for _ in 0..<max(maxIterations, 0) {
            probas = eStep(cv, priors, errors, m, k)
            priors = columnMeans(probas, k)
            errors = mStep(cv, probas, present, nWorkers, k)
            // Evidence lower bound per vote (clips priors and probas in place, as crowd-kit).
            for j in 0..<k { priors[j] = max(priors[j], epsilon) }
            var joint = 0.0
            for v in cv {
                for j in 0..<k {
                    joint += probas[v.r][j] * (log(errors[v.w][v.o][j]) + log(priors[j]))
                }
            }
            var entropy = 0.0
            for r in 0..<m {
                for j in 0..<k {
                    let p = max(probas[r][j], epsilon)
                    probas[r][j] = p
                    entropy -= p * log(p)
                }
            }
            let newLoss = (joint + entropy) / Double(cv.count)
            history.append(newLoss)
            if newLoss - loss < tolerance { break }
            loss = newLoss
        }

        // Expand back to full class / item / worker indices.
        var fullPriors = [Double](repeating: 0, count: nClasses)
        for (j, c) in used.enumerated() { fullPriors[c] = priors[j] }
        var posteriors = [[Double]](repeating: fullPriors, count: nItems)
        var labels = [Int?](repeating: nil, count: nItems)
        for (r, i) in votedItems.enumerated() {
            var p = [Double](repeating: 0, count: nClasses)
            for (j, c) in used.enumerated() { p[c] = probas[r][j] }
            posteriors[i] = p
            var best = 0
            for j in 1..<k where probas[r][j] > probas[r][best] { best = j }
            labels[i] = used[best]
        }
        var confusion = [[[Double]]](
            repeating: Array(repeating: Array(repeating: 0, count: nClasses), count: nClasses),
            count: nWorkers)
        var accuracy = [Double?](repeating: nil, count: nWorkers)
        for w in 0..<nWorkers where present[w].contains(true) {
            var acc = 0.0
            for (o, co) in used.enumerated() where present[w][o] {
                for (j, cj) in used.enumerated() { confusion[w][co][cj] = errors[w][o][j] }
                acc += priors[o] * errors[w][o][o]
            }
            accuracy[w] = acc
        }
        return DawidSkeneResult(
            posteriors: posteriors, labels: labels, workerAccuracy: accuracy,
            confusion: confusion, priors: fullPriors, iterations: history.count,
            lossHistory: history)
    }

    private static func columnMeans(_ probas: [[Double]], _ k: Int) -> [Double] {
        var s = [Double](repeating: 0, count: k)
        for p in probas { for j in 0..<k { s[j] += p[j] } }
        return s.map { $0 / Double(probas.count) }
    }

    /// errors[w][o][j]: probability that worker w says o when the truth is j.
    private static func mStep(
        _ cv: [(r: Int, w: Int, o: Int)], _ probas: [[Double]], _ present: [[Bool]],
        _ nWorkers: Int, _ k: Int
    ) -> [[[Double]]] {
        var e = [[[Double]]](
            repeating: Array(repeating: Array(repeating: 0, count: k), count: k), count: nWorkers)
        for v in cv { for j in 0..<k { e[v.w][v.o][j] += probas[v.r][j] } }
        for w in 0..<nWorkers {
            var colSum = [Double](repeating: 0, count: k)
            for o in 0..<k where present[w][o] {
                for j in 0..<k {
                    e[w][o][j] = max(e[w][o][j], epsilon)
                    colSum[j] += e[w][o][j]
                }
            }
            for o in 0..<k where present[w][o] {
                for j in 0..<k { e[w][o][j] /= colSum[j] }
            }
        }
        return e
    }

    private static func eStep(
        _ cv: [(r: Int, w: Int, o: Int)], _ priors: [Double], _ errors: [[[Double]]], _ m: Int, _ k: Int
    ) -> [[Double]] {
        var ll = [[Double]](repeating: [Double](repeating: 0, count: k), count: m)
        for v in cv { for j in 0..<k { ll[v.r][j] += log2(errors[v.w][v.o][j]) } }
        let logPriors = priors.map { log2(max($0, epsilon)) }
        for r in 0..<m {
            for j in 0..<k { ll[r][j] += logPriors[j] }
            let mx = ll[r].max() ?? 0  // k ≥ 1 classes: never empty
            var s = 0.0
            for j in 0..<k {
                ll[r][j] = exp2(ll[r][j] - mx)
                s += ll[r][j]
            }
            for j in 0..<k { ll[r][j] /= s }
        }
        return ll
    }
}

/// The output of ``DawidSkene/fit(votes:nItems:nWorkers:nClasses:maxIterations:tolerance:)``.
public struct DawidSkeneResult: Sendable, Hashable, Codable {
    /// `posteriors[item][class]`: posterior probability of each true class (the priors for
    /// items without votes).
    public var posteriors: [[Double]]
    /// The most probable class per item (ties to the smallest index); `nil` without votes.
    public var labels: [Int?]
    /// Each worker's estimated accuracy, `Σ_c prior(c) · confusion[w][c][c]`;
    /// `nil` for a worker without votes.
    public var workerAccuracy: [Double?]
    /// `confusion[worker][observed][true]`: probability that the worker gives `observed`
    /// when the truth is `true`. Each column over the labels the worker gave sums to 1;
    /// rows of labels the worker never gave, and columns of unused classes, are 0.
    public var confusion: [[[Double]]]
    /// Estimated class priors (0 for classes nobody used).
    public var priors: [Double]
    /// EM iterations run (crowd-kit's `len(loss_history_)`).
    public var iterations: Int
    /// Evidence lower bound per vote after each iteration (crowd-kit's `loss_history_`).
    public var lossHistory: [Double]
}
