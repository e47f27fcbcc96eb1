import Foundation
import JudgeStats

/// LLMBar: `dataset.json` (`{input, output_1, output_2, label: 1|2}`) plus every
/// `evaluators/<EVALUATOR>/<STRATEGY>/result.json` beside it.
///
/// Item ids are `<subset>/<index>` (the subset is the dataset's folder name, e.g. `Natural`, `Neighbor`).
/// A result element's `results` array ends with `{"swap = False": {completion, winner}, "swap = True": {...}}`;
/// `winner` is already in the dataset's orientation, so swap = False is an `AB` vote and swap = True a `BA` vote
/// with the same mapping. A winner other than 1 / 2 is an abstention.
enum LLMBarImporter {
    package static func run(sources: [String]) throws -> ImportResult {
        var result = ImportResult()
        for source in sources {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: source, isDirectory: &isDir)
            let datasetPath = isDir.boolValue ? (source as NSString).appendingPathComponent("dataset.json") : source
            guard FileManager.default.fileExists(atPath: datasetPath) else {
                throw JudgePanelError.badInput("no dataset.json in this folder", file: source)
            }
            let folder = (datasetPath as NSString).deletingLastPathComponent
            let subsetName = ((folder.isEmpty ? FileManager.default.currentDirectoryPath : folder) as NSString)
                .standardizingPath
            let subset = (subsetName as NSString).lastPathComponent
            let recs = try ImportIO.objects(path: datasetPath)
            var ids: [String] = []
            for (r, o) in recs {
                let id = "\(subset)/\(r.index)"
                var item = Item(id: id, line: r.line ?? 0)
                item.prompt = try ImportIO.string(o, "input", r, datasetPath)
                item.responseA = try ImportIO.string(o, "output_1", r, datasetPath)
                item.responseB = try ImportIO.string(o, "output_2", r, datasetPath)
                if let l = o["label"], !l.isNull {
                    guard let p = ImportLabels.oneTwo(l, zeroIsTie: false) else {
                        throw ImportIO.fail(
                            "\"label\" must be 1 or 2 (got \(l.textValue.debugDescription))", r, datasetPath)
                    }
                    item.label = .pairwise(p)
                }
                item.meta["subset"] = .string(subset)
                ids.append(id)
                result.items.append(item)
            }
            result.notes.append("llmbar: \(subset): \(recs.count) items from \(datasetPath)")
            for (judge, path) in try resultFiles(folder: folder.isEmpty ? "." : folder) {
                let votes = try readResults(path: path, judge: judge, ids: ids, into: &result)
                result.notes.append("llmbar: \(subset): \(judge): \(ImportLabels.votesSummary(votes))")
                result.votes += votes
            }
        }
        return result
    }

    /// `(EVALUATOR/STRATEGY, path)` for every `evaluators/*/*/result.json` under `folder`, sorted.
    static func resultFiles(folder: String) throws -> [(String, String)] {
        let fm = FileManager.default
        let root = (folder as NSString).appendingPathComponent("evaluators")
        guard let evaluators = try? fm.contentsOfDirectory(atPath: root) else { return [] }
        var out: [(String, String)] = []
        for e in evaluators.sorted() where !e.hasPrefix(".") {
            let eDir = (root as NSString).appendingPathComponent(e)
            guard let strategies = try? fm.contentsOfDirectory(atPath: eDir) else { continue }
            for s in strategies.sorted() where !s.hasPrefix(".") {
                let p = ((eDir as NSString).appendingPathComponent(s) as NSString).appendingPathComponent("result.json")
                if fm.fileExists(atPath: p) { out.append(("\(e)/\(s)", p)) }
            }
        }
        return out
    }

    static func readResults(path: String, judge: String, ids: [String], into result: inout ImportResult) throws
        -> [Vote]
    {
        let recs = try ImportIO.records(path: path)
        guard recs.count == ids.count else {
            throw JudgePanelError.badInput(
                "\(recs.count) results for \(ids.count) dataset items (they must be aligned)", file: path)
        }
        var votes: [Vote] = []
        for r in recs {
            guard let results = r.value["results"]?.arrayValue, let last = results.last?.objectValue else {
                throw ImportIO.fail("missing a non-empty \"results\" array", r, path)
            }
            for (key, order) in [("swap = False", Order.ab), ("swap = True", Order.ba)] {
                guard let entry = last[key] else {
                    result.warn(.skipped, r, path, "no \"\(key)\" entry: no \(order.rawValue) vote for \(ids[r.index])")
                    continue
                }
                guard let eo = entry.objectValue else { throw ImportIO.fail("\"\(key)\" must be an object", r, path) }
                var vote = Vote(item: ids[r.index], judge: judge, protocol: .pairwise, order: order)
                let winner = eo["winner"] ?? .null
                vote.raw = eo["completion"].map { $0.textValue } ?? winner.textValue
                if let p = ImportLabels.oneTwo(winner, zeroIsTie: false) {
                    vote.verdict = p
                } else {
                    vote.status = .abstain
                    vote.error = "unreadable winner \(winner.textValue.debugDescription)"
                    vote.reason = .unreadable
                }
                votes.append(vote)
            }
        }
        return votes
    }
}
