import Foundation
import JudgeStats

/// A data-set format `judgepanel import` understands.
package enum ImportFormat: String, Sendable, CaseIterable {
    /// PandaLM test set (`testset-v1.json`) plus optional gpt-3.5-turbo / PandaLM-7B result files.
    case pandalm
    /// LLMBar `dataset.json` plus `evaluators/<EVALUATOR>/<STRATEGY>/result.json`.
    case llmbar
    /// Auto-J pairwise test JSONL plus `--predictions` / `--exchanged` output files.
    case autoj
    /// MT-Bench human judgments (JSONL or JSON array).
    case mtbenchHuman = "mtbench-human"
    /// alpaca_eval annotations (JSON array).
    case alpacaeval
    /// HANNA `hanna_metric_scores_llm.csv`.
    case hanna
    /// JudgeBench pair files and recorded judge outputs (`outputs/*.jsonl`, both orders).
    case judgebench
    /// A Label Studio JSON export of tasks written by `label --export label-studio`: read into a labels file
    /// (``LabelStudio/labels(export:file:annotator:)``), not items.
    case labelStudio = "label-studio"
}

/// Options some formats read.
package struct ImportOptions: Sendable, Hashable {
    /// HANNA: the criterion whose ratings become labels and votes (name or two-letter code; default Coherence).
    package var criterion: String?
    /// Auto-J: predictions for the original order (JSONL of `{"output": 0/1/2}`, line-aligned).
    package var predictions: String?
    /// Auto-J: predictions for the exchanged order (0/1 refer to the exchanged positions).
    package var exchanged: String?
    /// Auto-J: the judge name for the predictions (default `autoj`).
    package var judge: String?
    /// alpaca_eval: treat every preference as a human label instead of a judge vote.
    package var asLabels: Bool

    package init(
        criterion: String? = nil, predictions: String? = nil, exchanged: String? = nil, judge: String? = nil,
        asLabels: Bool = false
    ) {
        self.criterion = criterion
        self.predictions = predictions
        self.exchanged = exchanged
        self.judge = judge
        self.asLabels = asLabels
    }
}

/// A record an importer skipped, merged into another, or read other than at face value (`judgepanel import`
/// prints each on stderr and counts them).
package struct ImportWarning: Sendable, Hashable {
    /// What happened to the record.
    package enum Kind: String, Sendable, CaseIterable {
        /// Not imported.
        case skipped
        /// Folded into an item (or vote) made from another record.
        case merged
        /// Imported, but its value was read other than at face value.
        case reinterpreted
    }

    package var kind: Kind
    /// The source file.
    package var file: String
    /// Where in the file: `line N` or `element N`.
    package var place: String
    package var message: String

    package init(_ kind: Kind, file: String, place: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.place = place
        self.message = message
    }

    /// `FILE:PLACE: KIND: MESSAGE`.
    package var text: String { "\(file):\(place): \(kind.rawValue): \(message)" }
}

/// What an importer produced: items (with human labels), recorded judge votes, and notes on what it decided.
package struct ImportResult: Sendable {
    package var items: [Item]
    package var votes: [Vote]
    package var notes: [String]
    /// Every record skipped, merged or reinterpreted, in file order.
    package var warnings: [ImportWarning]

    package init(items: [Item] = [], votes: [Vote] = [], notes: [String] = [], warnings: [ImportWarning] = []) {
        self.items = items
        self.votes = votes
        self.notes = notes
        self.warnings = warnings
    }

    /// Warnings per kind, every kind present (0 when none).
    package var warningCounts: [ImportWarning.Kind: Int] {
        var c = Dictionary(uniqueKeysWithValues: ImportWarning.Kind.allCases.map { ($0, 0) })
        for w in warnings { c[w.kind, default: 0] += 1 }
        return c
    }

    package mutating func warn(_ kind: ImportWarning.Kind, _ r: ImportRecord, _ path: String, _ message: String) {
        warnings.append(ImportWarning(kind, file: path, place: r.place, message))
    }

    /// The sample index of a further vote by `judge` on `item` in `order` (nil: single-order), counted in `samples`;
    /// a second one is kept as another sample and warned about (`what` names it: "annotation", "g1_winner", …).
    mutating func nextSample(
        _ samples: inout [String: Int], item: String, judge: String, order: Order?, what: String, _ r: ImportRecord,
        _ path: String
    ) -> Int {
        let key = "\(item)|\(judge)|\(order?.rawValue ?? "-")"
        let sample = samples[key, default: 0]
        samples[key] = sample + 1
        if sample > 0 {
            let shown = order.map { " (\($0.rawValue))" } ?? ""
            warn(.merged, r, path, "another \(judge) \(what) on item \(item)\(shown): kept as sample \(sample)")
        }
        return sample
    }

    /// Items carrying a consensus `label`.
    package var labelledItemCount: Int { items.filter { $0.label != nil }.count }

    /// Per-annotator labels over all items.
    package var annotatorLabelCount: Int { items.reduce(0) { $0 + $1.labels.count } }

    /// Votes per judge: (judge, ok, abstained), judges sorted by name.
    package var votesPerJudge: [(judge: String, ok: Int, abstained: Int)] {
        var counts: [String: (Int, Int)] = [:]
        for v in votes {
            var c = counts[v.judge] ?? (0, 0)
            if v.isOK { c.0 += 1 } else { c.1 += 1 }
            counts[v.judge] = c
        }
        return counts.sorted { $0.key < $1.key }.map { (judge: $0.key, ok: $0.value.0, abstained: $0.value.1) }
    }

    /// The items file text: one compact, key-sorted JSON object a line.
    var itemsText: String {
        items.map { $0.json.textValue + "\n" }.joined()
    }

    /// The votes file text: one `VotesFile.line` a line.
    ///
    /// - Throws: ``JudgePanelError`` naming a vote that cannot be encoded.
    var votesText: String {
        get throws { try votes.map { try VotesFile.line($0) + "\n" }.joined() }
    }

    /// Writes `items.jsonl` (and `votes.jsonl` when there are votes) into `dir`, creating it if needed.
    /// Each file is written to a temporary file beside it and renamed into place, so a reader never sees half a file.
    /// Returns the paths written.
    @discardableResult
    /// Writes items.jsonl (and votes.jsonl) into `dir`. With `format` (the CLI's way), `dir` must be new, empty or
    /// an import directory of the same format (``OutputDirectory``), and an `import.json` manifest proves what it is;
    /// a re-import that has no votes removes the earlier import's votes.jsonl.
    package func write(to dir: String, format: String? = nil) throws -> [String] {
        if let format {
            try OutputDirectory.check(dir, kind: .importSet) { url in
                let data = FileManager.default.contents(atPath: url.appendingPathComponent("import.json").path)
                let recorded = data.flatMap { try? JSONValue(jsonData: $0) }?["format"]?.stringValue
                return recorded == format ? nil : "an import of \(recorded ?? "?"), not \(format)"
            }
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw JudgePanelError.io("not a directory", file: dir) }
        } else {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw JudgePanelError.io("cannot create directory: \(error.localizedDescription)", file: dir)
            }
        }
        var written: [String] = []
        let itemsPath = (dir as NSString).appendingPathComponent("items.jsonl")
        try Self.atomicWrite(itemsText, to: itemsPath)
        written.append(itemsPath)
        if !votes.isEmpty {
            let votesPath = (dir as NSString).appendingPathComponent("votes.jsonl")
            try Self.atomicWrite(try votesText, to: votesPath)
            written.append(votesPath)
        } else if format != nil {
            let stale = (dir as NSString).appendingPathComponent("votes.jsonl")
            if fm.fileExists(atPath: stale) {
                do { try fm.removeItem(atPath: stale) } catch {
                    throw JudgePanelError.io(
                        "cannot remove the earlier import's votes: \(error.localizedDescription)", file: stale)
                }
            }
        }
        if let format {
            let manifest: JSONValue = [
                "kind": "import", "format": .string(format), "items": .number(Double(items.count)),
                "votes": .number(Double(votes.count)), "schema_version": 1,
            ]
            let path = (dir as NSString).appendingPathComponent("import.json")
            try Self.atomicWrite(
                String(
                    decoding: try RecordEncoding.data(
                        manifest, record: "the import manifest", file: path, pretty: true), as: UTF8.self) + "\n",
                to: path)
            written.append(path)
        }
        return written
    }

    static func atomicWrite(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(
            ".\(name).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: path)
        }
        if rename(tmp, path) != 0 {
            let code = errno
            try? FileManager.default.removeItem(atPath: tmp)
            throw JudgePanelError.io("cannot rename into place: \(String(cString: strerror(code)))", file: path)
        }
    }
}

/// Turns known human-annotated data sets (and recorded judge verdicts on them) into an items file and a votes file.
///
/// ```swift
/// let result = try Importer.run(format: .pandalm, sources: ["testset-v1.json", "pandalm-7b-testset-v1.json"])
/// try result.write(to: "out")
/// ```
package enum Importer {
    package static func run(format: ImportFormat, sources: [String], options: ImportOptions = ImportOptions()) throws
        -> ImportResult
    {
        guard !sources.isEmpty else { throw JudgePanelError.usage("import \(format.rawValue): no source given") }
        for s in sources where !FileManager.default.fileExists(atPath: s) {
            throw JudgePanelError.badInput("no such file", file: s)
        }
        var result: ImportResult
        switch format {
        case .pandalm: result = try PandaLMImporter.run(sources: sources)
        case .llmbar: result = try LLMBarImporter.run(sources: sources)
        case .autoj: result = try AutoJImporter.run(sources: sources, options: options)
        case .mtbenchHuman: result = try MTBenchHumanImporter.run(sources: sources)
        case .alpacaeval: result = try AlpacaEvalImporter.run(sources: sources, options: options)
        case .hanna: result = try HannaImporter.run(sources: sources, options: options)
        case .judgebench: result = try JudgeBenchImporter.run(sources: sources)
        case .labelStudio:
            throw JudgePanelError.usage(
                "a Label Studio export becomes labels, not items: LabelStudio.labels(export:file:annotator:)")
        }
        var seen: Set<String> = []
        for item in result.items where !seen.insert(item.id).inserted {
            throw JudgePanelError.badInput("duplicate item id '\(item.id)' across sources")
        }
        return result
    }
}

// MARK: - Shared helpers

/// One record of a source file: its value, and where it is (1-based JSONL line, or 0-based array index).
package struct ImportRecord {
    package var value: JSONValue
    /// The JSONL line (1-based) when known.
    package var line: Int?
    /// The 0-based position among the file's records.
    package var index: Int

    /// "line N" or "element N", for messages.
    package var place: String { line.map { "line \($0)" } ?? "element \(index)" }
}

enum ImportIO {
    /// Reads a JSON array file or a JSONL file (chosen by the first non-blank character).
    package static func records(path: String) throws -> [ImportRecord] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw JudgePanelError.badInput("cannot read: \(error.localizedDescription)", file: path)
        }
        let first = data.first {
            !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF)
        }
        if first == UInt8(ascii: "[") {
            let value: JSONValue
            do {
                value = try JSONValue(jsonData: data)
            } catch {
                throw JudgePanelError.badInput("invalid JSON: \(ItemLoader.describe(error))", file: path)
            }
            guard let arr = value.arrayValue else {
                throw JudgePanelError.badInput("expected a JSON array", file: path)
            }
            return arr.enumerated().map { ImportRecord(value: $0.element, line: nil, index: $0.offset) }
        }
        var out: [ImportRecord] = []
        let text = String(decoding: data, as: UTF8.self)
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                out.append(
                    ImportRecord(value: try JSONValue(jsonData: Data(line.utf8)), line: number, index: out.count))
            } catch {
                throw JudgePanelError.badInput("invalid JSON: \(ItemLoader.describe(error))", file: path, line: number)
            }
        }
        return out
    }

    /// Records that must all be JSON objects.
    package static func objects(path: String) throws -> [(ImportRecord, [String: JSONValue])] {
        try records(path: path).map { r in
            guard let o = r.value.objectValue else {
                throw JudgePanelError.badInput("\(r.place): expected a JSON object", file: path, line: r.line)
            }
            return (r, o)
        }
    }

    package static func fail(_ message: String, _ r: ImportRecord, _ path: String) -> JudgePanelError {
        JudgePanelError.badInput(r.line == nil ? "\(r.place): \(message)" : message, file: path, line: r.line)
    }

    /// A required string field (numbers and booleans are read as their JSON text: `true`, `12`).
    package static func string(_ o: [String: JSONValue], _ key: String, _ r: ImportRecord, _ path: String) throws
        -> String
    {
        switch o[key] {
        case .string(let s)?: return s
        case .number(let n)?: return JSONValue.number(n).textValue
        case .bool(let b)?: return JSONValue.bool(b).textValue
        case nil, .null?: throw fail("missing \"\(key)\"", r, path)
        default: throw fail("\"\(key)\" must be a string", r, path)
        }
    }

    static func optionalString(_ o: [String: JSONValue], _ key: String) -> String? {
        guard let v = o[key], !v.isNull else { return nil }
        return v.textValue
    }
}

enum ImportLabels {
    /// The most frequent preference; a tie between the top counts gives `tie`.
    package static func majority(_ prefs: [Preference]) -> Preference? {
        guard !prefs.isEmpty else { return nil }
        var counts: [Preference: Int] = [:]
        for p in prefs { counts[p, default: 0] += 1 }
        let top = counts.values.max() ?? 0  // `prefs` is not empty (the guard above)
        let leaders = counts.filter { $0.value == top }.map(\.key)
        return leaders.count == 1 ? leaders[0] : .tie
    }

    /// Reads a 1/2 (and optionally 0 = tie) preference from a number or string.
    static func oneTwo(_ v: JSONValue?, zeroIsTie: Bool, tieWords: Bool = false) -> Preference? {
        guard let v else { return nil }
        let t: String
        switch v {
        case .number(let d):
            guard d == d.rounded() else { return nil }
            t = String(Int(d))
        case .string(let s): t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        default: return nil
        }
        switch t {
        case "1": return .a
        case "2": return .b
        case "0" where zeroIsTie: return .tie
        case "tie" where tieWords: return .tie
        default: return nil
        }
    }

    static func votesSummary(_ votes: [Vote]) -> String {
        ImportResult(votes: votes).votesPerJudge.map { "\($0.judge): \($0.ok) ok, \($0.abstained) abstained" }
            .joined(separator: "; ")
    }
}
