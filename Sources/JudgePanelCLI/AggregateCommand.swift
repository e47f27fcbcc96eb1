import ArgumentParser
import Foundation
import JudgePanel
import JudgeStats

struct AggregateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate", abstract: "Reconcile recorded votes into verdicts JSONL (no model calls).")

    @Argument(help: "Votes file (JSONL).") var votes: String
    @Option(help: "majority | mean | median | weighted | dawid-skene") var method: AggregationMethod = .majority
    @Option(help: "Items file (to include items without votes).") var items: String?
    @Option(help: "Flip policy (tie | abstain).") var flip: FlipPolicy = .tie
    @Option(help: "Judge weights for 'weighted': name=w,name=w.") var weights: String?
    @Option(
        name: .customLong("calibrate-on"),
        help: "Labelled items to learn 'weighted' weights from (log-odds of each judge's accuracy).")
    var calibrateOn: String?
    @Option(name: .customLong("calibrate-votes"), help: "The judges' votes on the --calibrate-on items.")
    var calibrateVotes: String?

    func run() async throws {
        try await runMapped {
            // The votes are streamed (VoteDigest), never all decoded at once: memory ∝ items × judges.
            let itemList: ItemColumns
            if let items {
                itemList = try ItemColumns.read(path: items, loader: ItemLoader(), clusterKey: nil)
            } else {
                itemList = ItemColumns(ids: try MetaAnalysis.itemIDs(votesPath: votes))
            }
            var w: [String: Double] = [:]
            for part in (weights ?? "").split(separator: ",") {
                let kv = part.split(separator: "=")
                guard kv.count == 2, let x = Double(kv[1]) else {
                    throw JudgePanelError.usage("--weights expects name=number,...")
                }
                w[String(kv[0])] = x
            }
            if let learned = try learnedWeights(calibrateOn: calibrateOn, calibrateVotes: calibrateVotes, flip: flip) {
                for (k, v) in learned.weights where w[k] == nil { w[k] = v }
            }
            let analysis = MetaAnalysis(options: MetaAnalysis.Options(flip: flip, aggregate: method, weights: w))
            // Each panel verdict is printed as it is aggregated, never all held.
            let encoder = JSONEncoder.compactSorted
            let rec = try analysis.reconcile(items: itemList, votesPath: votes) { v in
                say(String(decoding: try encoder.encode(v), as: UTF8.self))
            }
            // A joint method (dawid-skene) estimates each judge's accuracy; the per-item methods estimate nothing.
            for name in rec.judges where rec.estimatedAccuracy.keys.contains(name) {
                let acc = rec.estimatedAccuracy[name] ?? nil
                printErr(
                    "\(method.rawValue) estimated accuracy \(name): \(acc.map { String(format: "%.4f", $0) } ?? "n/a")")
            }
        }
    }
}

/// Learns `weighted` weights from a labelled calibration set (`--calibrate-on ITEMS --calibrate-votes VOTES`),
/// printing them to stderr; nil when no set is given.
func learnedWeights(calibrateOn: String?, calibrateVotes: String?, flip: FlipPolicy) throws -> LearnedWeights? {
    guard let calibrateOn else {
        if calibrateVotes != nil { throw JudgePanelError.usage("--calibrate-votes needs --calibrate-on ITEMS") }
        return nil
    }
    guard let calibrateVotes else { throw JudgePanelError.usage("--calibrate-on needs --calibrate-votes VOTES") }
    let items = try ItemLoader().load(path: calibrateOn)
    let learned = LearnedWeights.learn(items: items, votes: try VotesFile.load(path: calibrateVotes), flip: flip)
    guard learned.entries.contains(where: { $0.n > 0 }) else {
        throw JudgePanelError.badInput("no labelled item with votes to learn weights from", file: calibrateOn)
    }
    for e in learned.entries {
        printErr(
            "learned weight \(e.judge): \(String(format: "%.4f", e.weight)) (accuracy \(e.accuracy.map { String(format: "%.4f", $0) } ?? "n/a") on \(e.n) labelled items)"
        )
    }
    return learned
}

extension JSONEncoder {
    static var compactSorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
