import Foundation
import JudgeStats

/// HANNA `hanna_metric_scores_llm.csv` (dig-team/hanna-benchmark-asg).
///
/// Layout: one row per story-generating system (11: Human, BertGeneration, CTRL, GPT, GPT-2 (tag), GPT-2, RoBERTa,
/// XLNet, Fusion, HINT, TD-VAE); every other cell is a Python-style list of 96 per-story values, position i being the
/// story for writing prompt i (the same prompt across systems). Columns used:
/// - `Relevance`, `Coherence`, ... `Complexity`: the mean of the three human ratings;
/// - `Human k XX` (k = 1..3, XX = RE CH EM SU EG CX): the k-th MTurk rater's integer 1–5 rating (a rater slot,
///   not the same person across stories);
/// - `<LLM> XX k` (LLM = Beluga-13B, OrcaPlatypus, Mistral-7B, Llama-13B, ChatGPT; k = prompt variant 1..4):
///   the LLM's rating, itself a mean over its sampled answers, in which a failed answer counts as −1.
/// Ignored: `Human Avg k XX` (leave-one-out means of the other two raters), `<LLM> AVG k`, automatic metrics.
///
/// Items are pointwise, one per story, id `hanna-<N>` (N = 1..1056, system-major), placeholders for the texts,
/// `model` = the system; labels = the three raters (`Human 1..3`), label = their mean. LLM ratings are score votes
/// of judge `<LLM>/p<k>`; a value outside 1–5 (contaminated by −1 failures) is an abstention with the value as `raw`.
enum HannaImporter {
    package static let criteria: [(name: String, code: String)] = [
        ("Relevance", "RE"), ("Coherence", "CH"), ("Empathy", "EM"), ("Surprise", "SU"), ("Engagement", "EG"),
        ("Complexity", "CX"),
    ]

    package static func run(sources: [String], options: ImportOptions) throws -> ImportResult {
        guard sources.count == 1 else {
            throw JudgePanelError.usage("import hanna: give exactly one csv (hanna_metric_scores_llm.csv)")
        }
        let path = sources[0]
        let wanted = (options.criterion ?? "Coherence").trimmingCharacters(in: .whitespaces).lowercased()
        guard let crit = criteria.first(where: { $0.name.lowercased() == wanted || $0.code.lowercased() == wanted })
        else {
            throw JudgePanelError.usage(
                "--criterion: unknown HANNA criterion '\(options.criterion ?? "")' (known: \(criteria.map(\.name).joined(separator: ", ")))"
            )
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw JudgePanelError.badInput("cannot read: \(error.localizedDescription)", file: path)
        }
        let rows = try parseCSV(text, path: path)
        guard let header = rows.first?.fields, rows.count > 1 else {
            throw JudgePanelError.badInput("empty csv", file: path)
        }
        guard let modelCol = header.firstIndex(of: "Model") else {
            throw JudgePanelError.badInput(
                "no \"Model\" column (is this hanna_metric_scores_llm.csv?)", file: path, line: 1)
        }
        guard let meanCol = header.firstIndex(of: crit.name) else {
            throw JudgePanelError.badInput("no \"\(crit.name)\" column", file: path, line: 1)
        }
        let raterCols: [(String, Int)] = (1...9).compactMap { k in
            header.firstIndex(of: "Human \(k) \(crit.code)").map { ("Human \(k)", $0) }
        }
        // LLM columns: "<LLM> <CODE> <k>", not starting with "Human".
        var judgeCols: [(String, Int)] = []
        for (i, h) in header.enumerated() where !h.hasPrefix("Human") {
            let parts = h.split(separator: " ")
            guard parts.count >= 3, parts[parts.count - 2] == Substring(crit.code), let k = Int(parts.last!) else {
                continue
            }
            judgeCols.append(("\(parts.dropLast(2).joined(separator: " "))/p\(k)", i))
        }
        var result = ImportResult()
        var storyCount: Int?
        var outOfScale: [String: Int] = [:]
        for row in rows.dropFirst() {
            if row.fields.allSatisfy({ $0.isEmpty }) { continue }
            guard row.fields.count == header.count else {
                throw JudgePanelError.badInput(
                    "\(row.fields.count) fields, the header has \(header.count)", file: path, line: row.line)
            }
            let system = row.fields[modelCol]
            func list(_ col: Int) throws -> [Double?] {
                let v = try parseList(row.fields[col], column: header[col], path: path, line: row.line)
                if let n = storyCount, v.count != n {
                    throw JudgePanelError.badInput(
                        "column \"\(header[col])\" has \(v.count) values, expected \(n)", file: path, line: row.line)
                }
                storyCount = v.count
                return v
            }
            let means = try list(meanCol)
            let raters = try raterCols.map { ($0.0, try list($0.1)) }
            let judges = try judgeCols.map { ($0.0, try list($0.1)) }
            for i in means.indices {
                let n = result.items.count + 1
                var item = Item(id: "hanna-\(n)", line: row.line)
                item.prompt = "(HANNA prompt \(i + 1), text not included)"
                item.response = "(HANNA story \(n), text not included)"
                item.model = system
                item.meta = [
                    "system": .string(system), "prompt_index": .number(Double(i + 1)),
                    "criterion": .string(crit.name),
                ]
                for (name, values) in raters {
                    if let v = values[i] { item.labels.append(AnnotatorLabel(annotator: name, label: .score(v))) }
                }
                if let m = means[i] { item.label = .score(m) }
                for (judge, values) in judges {
                    var vote = Vote(item: item.id, judge: judge, protocol: .pointwise)
                    if let v = values[i], v >= 1, v <= 5 {
                        vote.score = v
                    } else {
                        vote.status = .abstain
                        vote.raw = values[i].map { String($0) } ?? "null"
                        vote.error = "rating outside 1-5 (failed answers are scored -1 in the source)"
                        vote.reason = .unreadable
                        outOfScale[judge, default: 0] += 1
                        result.warnings.append(
                            ImportWarning(
                                .reinterpreted, file: path, place: "line \(row.line)",
                                "\(judge) rating \(vote.raw ?? "null") of story \(i + 1) is outside 1-5: an abstention")
                        )
                    }
                    result.votes.append(vote)
                }
                result.items.append(item)
            }
        }
        result.notes.append(
            "hanna: \(result.items.count) stories, criterion \(crit.name); \(raterCols.isEmpty ? "no per-rater columns: label is the mean human rating only" : "labels = \(raterCols.count) raters per story (rater slots, not fixed people), label = their mean")"
        )
        result.notes.append(
            "hanna: \(judgeCols.count) LLM judges (model/prompt variant); each rating is the source's mean over sampled answers, in which a failed answer counts as -1, so a mean inside 1-5 may still include a failure"
        )
        let abst = outOfScale.values.reduce(0, +)
        if abst > 0 {
            result.notes.append(
                "hanna: \(abst) ratings outside 1-5 kept as abstentions: "
                    + outOfScale.keys.sorted().map { "\($0) \(outOfScale[$0]!)" }.joined(separator: ", "))
        }
        return result
    }

    package struct Row {
        package var fields: [String]
        package var line: Int
    }

    /// RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes.
    static func parseCSV(_ text: String, path: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var rowStart = 1
        var afterQuote = false
        let bytes = Array(text.utf8)
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            afterQuote = false
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: ","): endField()
                case 0x0D: break
                case 0x0A:
                    endField()
                    rows.append(Row(fields: fields, line: rowStart))
                    fields = []
                    line += 1
                    rowStart = line
                case UInt8(ascii: "\""):
                    guard field.isEmpty, !afterQuote else {
                        throw JudgePanelError.badInput("stray quote in an unquoted field", file: path, line: line)
                    }
                    inQuotes = true
                default:
                    if afterQuote {
                        throw JudgePanelError.badInput("text after a closing quote", file: path, line: line)
                    }
                    field.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw JudgePanelError.badInput("unterminated quoted field", file: path, line: rowStart) }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            rows.append(Row(fields: fields, line: rowStart))
        }
        return rows
    }

    /// A Python-style list of numbers: `[1.0, 2.5, nan, None]` (nan / None read as missing).
    static func parseList(_ cell: String, column: String, path: String, line: Int) throws -> [Double?] {
        let t = cell.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("["), t.hasSuffix("]") else {
            throw JudgePanelError.badInput("column \"\(column)\": expected a list of numbers", file: path, line: line)
        }
        let inner = t.dropFirst().dropLast()
        if inner.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        return try inner.split(separator: ",").map { part in
            let s = part.trimmingCharacters(in: .whitespaces)
            switch s.lowercased() {
            case "nan", "none", "null", "": return nil
            default:
                guard let d = Double(s), d.isFinite else {
                    throw JudgePanelError.badInput(
                        "column \"\(column)\": not a number: \(s.debugDescription)", file: path, line: line)
                }
                return d
            }
        }
    }
}
