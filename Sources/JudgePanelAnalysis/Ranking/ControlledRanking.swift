import Foundation
import JudgePanelCore
import JudgeStats

/// Rankings controlled for length and style (`rank --length-control`, `--style-control`): AlpacaEval 2's
/// length-controlled win rate and arena-hard-auto's style-controlled Bradley–Terry, side by side with the raw
/// figures, each model's mean answer length, and Kendall τ between the raw and the controlled orders.
package struct RankControl: Sendable {
    package enum Kind: String, Sendable {
        case length = "length-control"
        case style = "style-control"
    }

    package struct Row: Sendable {
        package var model: String
        /// The raw figure (the ranking's strength).
        package var raw: Double
        /// The controlled figure: the length-controlled win rate, or the style-controlled strength; nil with
        /// `failure` when it could not be computed.
        package var controlled: Double?
        package var standardError: Double?
        /// Mean answer length of the model in Unicode code points over the comparisons used.
        var meanLength: Double?
        package var failure: String?
        /// Length control: the GLM's coefficients and the chosen C.
        package var coefficients: [String: Double]?
        package var c: Double?
    }

    package var kind: Kind
    /// What was fitted, in one sentence (formula, data, length unit).
    package var description: String
    /// Best raw first.
    package var rows: [Row]
    /// Style control: the covariates' coefficients by name.
    package var styleCoefficients: [String: Double]?
    /// Kendall τ-b between the raw and the controlled figures over the models with both.
    package var tau: MetricValue

    package func row(_ model: String) -> Row? { rows.first { $0.model == model } }

    /// Controlled rank (1 = best) per model; ties share the better rank.
    var controlledRanks: [String: Int] {
        let values = rows.compactMap { r in r.controlled.map { (r.model, $0) } }
        var out: [String: Int] = [:]
        for (m, v) in values { out[m] = 1 + values.filter { $0.1 > v }.count }
        return out
    }

    static func tau(_ rows: [Row]) -> MetricValue {
        let both = rows.filter { $0.controlled != nil }
        return kendallTauB(both.map(\.raw), both.map { $0.controlled! })
    }
}

/// The gamed-baseline data of AlpacaEval's length-controlled GLM (`df_gamed.csv` on its hub: columns `index`,
/// `preference`, `std_delta_len`, `instruction_difficulty`, `not_gamed_baseline`, any others ignored).
package struct GLMDataFile: Sendable {
    package var rows: [LengthControlledWinRate.GamedRow]
    /// Instruction difficulty by instruction index (its first row's).
    package var difficulty: [Int: Double]
    package var path: String

    /// Reads the CSV; a clear error naming file and line for anything unreadable. alpaca_eval looks the
    /// difficulty of instruction g up by the row label of g's first row, so the first rows must list the indexes
    /// 0, 1, 2, … in order (as the hub file does); a file that does not is refused rather than read differently.
    package static func read(path: String) throws -> GLMDataFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw JudgePanelError.badInput("cannot read the GLM data file: \(error.localizedDescription)", file: path)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        while lines.last == "" { lines.removeLast() }
        guard let header = lines.first else { throw JudgePanelError.badInput("empty GLM data file", file: path) }
        let names = try fields(header, path: path, line: 1)
        func column(_ n: String) throws -> Int {
            guard let k = names.firstIndex(of: n) else {
                throw JudgePanelError.badInput(
                    "no column \"\(n)\" (alpaca_eval's df_gamed.csv has index, preference, std_delta_len, instruction_difficulty, not_gamed_baseline)",
                    file: path, line: 1)
            }
            return k
        }
        let ci = try column("index")
        let cp = try column("preference")
        let cs = try column("std_delta_len")
        let cd = try column("instruction_difficulty")
        let cn = try column("not_gamed_baseline")
        var out = GLMDataFile(rows: [], difficulty: [:], path: path)
        for (k, line) in lines.enumerated().dropFirst() {
            let n = k + 1
            let f = try fields(line, path: path, line: n)
            guard f.count == names.count else {
                throw JudgePanelError.badInput("\(f.count) fields, the header has \(names.count)", file: path, line: n)
            }
            func number(_ c: Int, _ what: String, optional: Bool = false) throws -> Double? {
                let s = f[c].trimmingCharacters(in: .whitespaces)
                if optional && (s.isEmpty || s.lowercased() == "nan") { return nil }
                guard let x = Double(s), x.isFinite else {
                    throw JudgePanelError.badInput("\(what) \(s.debugDescription) is not a number", file: path, line: n)
                }
                return x
            }
            guard let indexValue = try number(ci, "index"), indexValue >= 0, indexValue == indexValue.rounded() else {
                throw JudgePanelError.badInput(
                    "index \(f[ci].debugDescription) is not a non-negative integer", file: path, line: n)
            }
            let index = Int(indexValue)
            let pref = try number(cp, "preference", optional: true)
            if let pref, !(0...1).contains(pref) {
                throw JudgePanelError.badInput("preference \(pref) is outside [0, 1]", file: path, line: n)
            }
            let notGamed: Bool
            switch f[cn].trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "1", "1.0": notGamed = true
            case "false", "0", "0.0": notGamed = false
            default:
                throw JudgePanelError.badInput(
                    "not_gamed_baseline \(f[cn].debugDescription) is not True or False", file: path, line: n)
            }
            let difficulty = try number(cd, "instruction_difficulty")!
            let row = LengthControlledWinRate.GamedRow(
                index: index, preference: pref, stdDeltaLength: try number(cs, "std_delta_len")!,
                difficulty: difficulty, notGamed: notGamed)
            if out.difficulty[index] == nil {
                guard index == k - 1 else {
                    throw JudgePanelError.badInput(
                        "the first row of instruction index \(index) is data row \(k - 1): alpaca_eval reads an instruction's difficulty by row position, so the first rows must list the indexes 0, 1, 2, … in order",
                        file: path, line: n)
                }
                out.difficulty[index] = difficulty
            }
            out.rows.append(row)
        }
        guard !out.rows.isEmpty else { throw JudgePanelError.badInput("no data rows", file: path) }
        return out
    }

    /// One CSV record's fields (RFC 4180 quoting; a record spans one line).
    static func fields(_ line: String, path: String, line n: Int) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        cur.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cur.append(c)
                }
            } else if c == "\"" && cur.isEmpty {
                quoted = true
            } else if c == "," {
                out.append(cur)
                cur = ""
            } else {
                cur.append(c)
            }
        }
        guard !quoted else { throw JudgePanelError.badInput("unterminated quoted field", file: path, line: n) }
        out.append(cur)
        return out
    }
}

package enum ControlledRanking {
    /// Length in Unicode code points (Python's `len`, what alpaca_eval and WildBench count).
    package static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// AlpacaEval 2's length-controlled win rate of every model compared with `baseline` (alpaca_eval 0.6.6's
    /// `get_length_controlled_winrate`; ``LengthControlledWinRate``). `outcomes` are each item's share of a win
    /// for `model_a`; a model's comparisons are taken in item order (alpaca_eval's annotation order, which the
    /// folds of its cross-validation follow), each with the instruction position `meta.index` (written by
    /// `import alpacaeval`) when `glm` is given.
    package static func lengthControl(
        items: [Item], outcomes: [Double?], baseline: String, figure: SliceRanking.Figure, glm: GLMDataFile?,
        file: String? = nil
    ) throws -> RankControl {
        var byModel: [String: [LengthControlledWinRate.Row]] = [:]
        var lengths: [String: [Int]] = [:]
        var order: [String] = []
        for (item, outcome) in zip(items, outcomes) {
            guard let a = item.modelA, let b = item.modelB, a != b, a == baseline || b == baseline else { continue }
            let model = a == baseline ? b : a
            guard let ra = item.responseA, let rb = item.responseB else {
                throw JudgePanelError.badInput(
                    "item \(item.id) has no response_a/response_b text: --length-control needs the answers' lengths",
                    file: file, line: item.line)
            }
            let (lm, lb) = a == baseline ? (length(rb), length(ra)) : (length(ra), length(rb))
            var index: Int?
            if let v = item.meta["index"], case .number(let x) = v, x >= 0, x == x.rounded() { index = Int(x) }
            if glm != nil && index == nil {
                throw JudgePanelError.badInput(
                    "item \(item.id) has no meta.index (the instruction's position in AlpacaEval's evaluation set, written by `import alpacaeval`): --glm-data needs it",
                    file: file, line: item.line)
            }
            if byModel[model] == nil { order.append(model) }
            let p = outcome.map { a == baseline ? 1 - $0 : $0 }
            byModel[model, default: []].append(.init(preference: p, deltaLength: Double(lb - lm), index: index))
            lengths[model, default: []].append(lm)
            lengths[baseline, default: []].append(lb)
        }
        var rows: [RankControl.Row] = []
        for r in figure.rows {
            let mean = lengths[r.model].map { Double($0.reduce(0, +)) / Double($0.count) }
            var row = RankControl.Row(model: r.model, raw: r.strength, meanLength: mean)
            if r.model == baseline {
                row.controlled = 0.5  // alpaca_eval: the baseline against itself, 0.5 by construction
            } else if let data = byModel[r.model] {
                do {
                    let res = try LengthControlledWinRate.compute(
                        rows: data, gamed: glm?.rows, difficulty: glm?.difficulty ?? [:])
                    row.controlled = res.winRate
                    row.standardError = res.standardError
                    row.coefficients = res.coefficients
                    row.c = res.c
                } catch {
                    row.failure = error.description
                }
            }
            rows.append(row)
        }
        let description =
            glm == nil
            ? "length-controlled win rate against \(baseline) (alpaca_eval 0.6.6 GLM, reduced formula tanh(std_delta_len) + not_gamed_baseline − 1 without instruction difficulty or regularisation: no --glm-data given; lengths in Unicode code points; L1 logistic regression, C by 5-fold GroupKFold; predicted at zero length difference)"
            : "length-controlled win rate against \(baseline) (alpaca_eval 0.6.6 GLM length_controlled_v1: tanh(std_delta_len) + instruction_difficulty + not_gamed_baseline − 1, regularised towards the gamed baselines of \(glm!.path) with λ = 0.2; lengths in Unicode code points; L1 logistic regression, C by 5-fold GroupKFold; predicted at zero length difference)"
        return RankControl(
            kind: .length, description: description, rows: rows, styleCoefficients: nil, tau: RankControl.tau(rows))
    }
}

/// An answer's style as arena-hard-auto counts it (`utils/add_markdown_info.py`), with the length in Unicode code
/// points instead of its gpt-4o token count (judgepanel has no tokenizer): code blocks' contents are removed
/// first (its `remove_pattern` on ```…```), then markdown headers (lines starting with exactly 1–6 `#` and a
/// space), list items (`^\s*\d+\.\s` and `^\s*[-*+]\s`, multi-line) and bold spans (`**…**`, `__…__` on one line)
/// are counted. Python's and ICU's regular expressions agree on these patterns except for a lone carriage return,
/// which ICU also takes as a line end.
package struct StyleFeatures: Sendable, Equatable {
    package var length: Int
    package var headers: Int
    package var listItems: Int
    package var bold: Int

    package static let names = ["length", "headers", "list_items", "bold"]

    private static func regex(_ p: String, lines: Bool) -> NSRegularExpression {
        // The patterns are constants (checked by the tests that run every style feature): it cannot fail.
        try! NSRegularExpression(pattern: p, options: lines ? [.anchorsMatchLines] : [])
    }

    private static let codeBlock = regex("```([^`]*)```", lines: false)
    private static let headerPatterns = (1...6).map { regex("^#{\($0)}\\s", lines: true) }
    private static let ordered = regex("^\\s*\\d+\\.\\s", lines: true)
    private static let unordered = regex("^\\s*[-*+]\\s", lines: true)
    private static let boldStars = regex("\\*\\*[^*\\n]+\\*\\*", lines: false)
    private static let boldUnderscores = regex("__[^_\\n]+__", lines: false)

    private static func count(_ r: NSRegularExpression, _ s: String) -> Int {
        r.numberOfMatches(in: s, range: NSRange(s.startIndex..., in: s))
    }

    package init(length: Int, headers: Int, listItems: Int, bold: Int) {
        self.length = length
        self.headers = headers
        self.listItems = listItems
        self.bold = bold
    }

    package init(_ answer: String) {
        var text = answer
        let ns = answer as NSString
        let blocks = Self.codeBlock.matches(in: answer, range: NSRange(location: 0, length: ns.length)).map {
            ns.substring(with: $0.range(at: 1))
        }
        for b in blocks where !b.isEmpty { text = text.replacingOccurrences(of: b, with: "") }
        length = ControlledRanking.length(answer)
        headers = Self.headerPatterns.reduce(0) { $0 + Self.count($1, text) }
        listItems = Self.count(Self.ordered, text) + Self.count(Self.unordered, text)
        bold = Self.count(Self.boldStars, text) + Self.count(Self.boldUnderscores, text)
    }

    /// arena-hard-auto's covariates of a battle, before normalisation: the relative length difference
    /// (m − b)/(m + b), then for headers, list items and bold the markdown densities d = count/(length + 1)
    /// compared as (d_m − d_b)/(d_m + d_b + 1).
    package static func difference(_ m: StyleFeatures, _ b: StyleFeatures) -> [Double] {
        let lm = Double(m.length)
        let lb = Double(b.length)
        var out = [lm + lb == 0 ? 0 : (lm - lb) / (lm + lb)]
        for (cm, cb) in [(m.headers, b.headers), (m.listItems, b.listItems), (m.bold, b.bold)] {
            let dm = Double(cm) / (lm + 1)
            let db = Double(cb) / (lb + 1)
            out.append((dm - db) / (dm + db + 1))
        }
        return out
    }
}

extension ControlledRanking {
    /// arena-hard-auto's style control (`show_result.py`, `print_leaderboard_with_style_features`): a Bradley–Terry
    /// model over the battles with the four covariates of ``StyleFeatures/difference(_:_:)``, each normalised over
    /// the battles to mean 0 and sample standard deviation 1, fitted unpenalised by maximum likelihood. With a
    /// baseline every battle is oriented as model − baseline (arena-hard's orientation) and a model's controlled
    /// strength is its win probability against the baseline with the normalised covariates at zero
    /// (`to_winrate_probabilities`); without one battles keep the items' orientation (model_a − model_b) and the
    /// strengths are the log-strengths centred to mean 0. Each item with an outcome is one battle (arena-hard-auto
    /// explodes a judgment into one battle per game, three for a strong verdict: give it such items to match).
    /// A covariate constant over the battles (its standard deviation 0) is left out and reported as such.
    package static func styleControl(
        items: [Item], outcomes: [Double?], baseline: String?, figure: SliceRanking.Figure, file: String? = nil
    ) throws -> RankControl {
        var models: [String] = figure.rows.map(\.model)
        var index: [String: Int] = [:]
        for (k, m) in models.enumerated() { index[m] = k }
        var raw: [(i: Int, j: Int, y: Double, f: [Double])] = []
        var lengths: [String: [Int]] = [:]
        var cache: [String: StyleFeatures] = [:]
        func features(_ s: String) -> StyleFeatures {
            if let f = cache[s] { return f }
            let f = StyleFeatures(s)
            cache[s] = f
            return f
        }
        for (item, outcome) in zip(items, outcomes) {
            guard let a = item.modelA, let b = item.modelB, a != b, let y = outcome else { continue }
            if let baseline, a != baseline, b != baseline { continue }
            guard let ra = item.responseA, let rb = item.responseB else {
                throw JudgePanelError.badInput(
                    "item \(item.id) has no response_a/response_b text: --style-control needs the answers",
                    file: file, line: item.line)
            }
            let fa = features(ra)
            let fb = features(rb)
            lengths[a, default: []].append(fa.length)
            lengths[b, default: []].append(fb.length)
            func indexOf(_ m: String) -> Int {
                if let known = index[m] { return known }
                index[m] = models.count
                models.append(m)
                return models.count - 1
            }
            let (ia, ib) = (indexOf(a), indexOf(b))
            if let baseline, a == baseline {
                raw.append((ib, ia, 1 - y, StyleFeatures.difference(fb, fa)))
            } else {
                raw.append((ia, ib, y, StyleFeatures.difference(fa, fb)))
            }
        }
        let n = raw.count
        // Normalise each covariate over the battles (torch.std: n − 1).
        var keep: [Int] = []
        var mean = [Double](repeating: 0, count: 4)
        var sd = [Double](repeating: 0, count: 4)
        for k in 0..<4 {
            let xs = raw.map { $0.f[k] }
            mean[k] = xs.reduce(0, +) / Double(max(n, 1))
            sd[k] = n > 1 ? (xs.reduce(0) { $0 + ($1 - mean[k]) * ($1 - mean[k]) } / Double(n - 1)).squareRoot() : 0
            if sd[k] > 0 && sd[k].isFinite { keep.append(k) }
        }
        let battles = raw.map { r in
            StyleControlledBradleyTerry.Battle(
                i: r.i, j: r.j, outcome: r.y, covariates: keep.map { (r.f[$0] - mean[$0]) / sd[$0] })
        }
        let reference = baseline.flatMap { index[$0] } ?? 0
        var rows = figure.rows.map { r in
            RankControl.Row(
                model: r.model, raw: r.strength,
                meanLength: lengths[r.model].map { Double($0.reduce(0, +)) / Double($0.count) })
        }
        var coefficients: [String: Double] = [:]
        var failure: String?
        do {
            let fit = try StyleControlledBradleyTerry.fit(
                battles: battles, nModels: models.count, nCovariates: keep.count, reference: reference)
            for (k, c) in zip(keep, fit.coefficients) { coefficients[StyleFeatures.names[k]] = c }
            let beta = fit.strengths
            let centre = beta.reduce(0, +) / Double(beta.count)
            for k in rows.indices {
                guard let i = index[rows[k].model] else { continue }
                if let baseline, let bi = index[baseline] {
                    rows[k].controlled = L1Logistic.sigmoid(beta[i] - beta[bi])
                } else {
                    rows[k].controlled = beta[i] - centre
                }
            }
        } catch {
            failure = error.description
            for k in rows.indices { rows[k].failure = error.description }
        }
        let dropped = (0..<4).filter { !keep.contains($0) }.map { StyleFeatures.names[$0] }
        var description =
            "style-controlled Bradley–Terry (arena-hard-auto's style control: covariates length in Unicode code points, "
            + "markdown headers, list items and bold spans, normalised over \(n) battles; "
            + (baseline.map { "strength = win probability against \($0) with the covariates at their mean" }
                ?? "strength = log-strength centred to mean 0, covariates at their mean")
            + ")"
        if !dropped.isEmpty {
            description += "; left out (constant over the battles): " + dropped.joined(separator: ", ")
        }
        if let failure { description += "; not fitted: \(failure)" }
        return RankControl(
            kind: .style, description: description, rows: rows, styleCoefficients: failure == nil ? coefficients : nil,
            tau: RankControl.tau(rows))
    }
}
