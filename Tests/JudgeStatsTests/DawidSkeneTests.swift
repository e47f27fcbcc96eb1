// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (names mirror the keys of the Python reference scripts and provider JSON that generated or define them)

import Foundation
import Testing

@testable import JudgeStats

// MARK: - Shared loader for reference_aggregation.json (also used by BT and calibration tests)

struct AggregationFixture: Decodable {
    struct DSCase: Decodable {
        let name: String
        let n_items: Int
        let n_workers: Int
        let n_classes: Int
        let votes: [[Int]]
        let posteriors: [AggPair<[Double]>]
        let labels: [[Int]]
        let priors: [Double]
        let confusion: [AggPair<[[Double]]>]
        let worker_accuracy: [AggPair<Double>]
        let iterations: Int
        let loss_history: [Double]
    }
    struct BTCase: Decodable {
        let name: String
        let n_items: Int
        let alpha: Double
        let comparisons: [[Double]]
        let expanded_wins: [[Int]]
        let params_expanded: [Double]
        let params_half_win: [Double]
    }
    struct IsoCase: Decodable {
        let name: String
        let x: [Double]
        let y: [Double]
        let fitted: [Double]
        let t: [Double]
        let predicted: [Double]
        let x_thresholds: [Double]
        let y_thresholds: [Double]
        let linear_slope: Double
        let linear_intercept: Double
    }
    let dawid_skene: [DSCase]
    let bradley_terry: [BTCase]
    let isotonic: [IsoCase]

    static func load() throws -> AggregationFixture {
        let url = try #require(
            Bundle.module.url(
                forResource: "reference_aggregation", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(AggregationFixture.self, from: Data(contentsOf: url))
    }
}

/// A JSON pair `[index, value]`.
struct AggPair<T: Decodable>: Decodable {
    let index: Int
    let value: T
    init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        index = try c.decode(Int.self)
        value = try c.decode(T.self)
    }
}

// MARK: - Dawid–Skene

@Suite struct DawidSkeneTests {
    @Test func matchesCrowdKit() throws {
        let fixture = try AggregationFixture.load()
        #expect(fixture.dawid_skene.count >= 5)
        for c in fixture.dawid_skene {
            let votes = c.votes.map { (item: $0[0], worker: $0[1], label: $0[2]) }
            let r = DawidSkene.fit(
                votes: votes, nItems: c.n_items, nWorkers: c.n_workers, nClasses: c.n_classes)
            #expect(r.iterations == c.iterations, "\(c.name)")
            for (a, b) in zip(r.lossHistory, c.loss_history) {
                #expect(abs(a - b) < 1e-6, "\(c.name) loss")
            }
            for p in c.posteriors {
                for k in 0..<c.n_classes {
                    #expect(abs(r.posteriors[p.index][k] - p.value[k]) < 1e-6, "\(c.name) item \(p.index)")
                }
            }
            var voted = Set<Int>()
            for l in c.labels {
                voted.insert(l[0])
                #expect(r.labels[l[0]] == l[1], "\(c.name) label \(l[0])")
            }
            for i in 0..<c.n_items where !voted.contains(i) {
                #expect(r.labels[i] == nil)
            }
            for k in 0..<c.n_classes { #expect(abs(r.priors[k] - c.priors[k]) < 1e-6, "\(c.name) prior") }
            var seenWorkers = Set<Int>()
            for a in c.worker_accuracy {
                seenWorkers.insert(a.index)
                let got = try #require(r.workerAccuracy[a.index])
                #expect(abs(got - a.value) < 1e-6, "\(c.name) accuracy \(a.index)")
            }
            for w in 0..<c.n_workers where !seenWorkers.contains(w) {
                #expect(r.workerAccuracy[w] == nil)
            }
            for m in c.confusion {
                for o in 0..<c.n_classes {
                    for t in 0..<c.n_classes {
                        #expect(abs(r.confusion[m.index][o][t] - m.value[o][t]) < 1e-6, "\(c.name) confusion")
                    }
                }
            }
            for p in r.posteriors { #expect(p.allSatisfy { $0.isFinite }) }
        }
    }

    @Test func recoversWorkerOrdering() {
        // Workers with accuracy 0.95, 0.8, 0.6 and one at 0.3 (worse than chance) on a binary task.
        var rng = SeededGenerator(seed: 7)
        let accuracies = [0.95, 0.8, 0.6, 0.3]
        var votes: [(item: Int, worker: Int, label: Int)] = []
        var truth: [Int] = []
        for i in 0..<300 {
            let t = rng.nextUnit() < 0.5 ? 0 : 1
            truth.append(t)
            for (w, a) in accuracies.enumerated() {
                votes.append((item: i, worker: w, label: rng.nextUnit() < a ? t : 1 - t))
            }
        }
        let r = DawidSkene.fit(votes: votes, nItems: 300, nWorkers: 4, nClasses: 2)
        let acc = r.workerAccuracy.map { $0 ?? -1 }
        #expect(acc[0] > acc[1] && acc[1] > acc[2] && acc[2] > acc[3])
        #expect(abs(acc[0] - 0.95) < 0.05)
        let correct = zip(r.labels, truth).filter { $0.0 == $0.1 }.count
        #expect(correct > 280)
    }

    @Test func degenerateInputsDoNotCrash() {
        let empty = DawidSkene.fit(votes: [], nItems: 3, nWorkers: 2, nClasses: 2)
        #expect(empty.labels == [nil, nil, nil])
        #expect(empty.workerAccuracy == [nil, nil])
        #expect(empty.iterations == 0)

        let nothing = DawidSkene.fit(votes: [], nItems: 0, nWorkers: 0, nClasses: 0)
        #expect(nothing.posteriors.isEmpty)

        // One class only, one worker, an unused class and a silent worker and item.
        let one = DawidSkene.fit(
            votes: [(item: 0, worker: 0, label: 1), (item: 1, worker: 0, label: 1), (item: 9, worker: 5, label: 7)],
            nItems: 3, nWorkers: 2, nClasses: 3)
        #expect(one.labels == [1, 1, nil])
        #expect(one.workerAccuracy[1] == nil)
        #expect(one.posteriors.allSatisfy { $0.allSatisfy { $0.isFinite } })
        #expect(one.confusion.allSatisfy { $0.allSatisfy { $0.allSatisfy { $0.isFinite } } })
        #expect(one.priors[0] == 0 && one.priors[2] == 0)

        // A perfect tie between two workers: argmax goes to the smaller class.
        let tie = DawidSkene.fit(
            votes: [(item: 0, worker: 0, label: 0), (item: 0, worker: 1, label: 1)],
            nItems: 1, nWorkers: 2, nClasses: 2)
        #expect(tie.labels == [0])
    }
}
