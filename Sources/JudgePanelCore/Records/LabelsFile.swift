import Foundation
import JudgeStats

/// One human label from a labels file (`labels.jsonl`, written by `ui`/`label`, read with `--labels`).
///
/// ```swift
/// let r = LabelRecord(item: "q1", annotator: "ana", label: .pairwise(.a), shownOrder: .ba, selectedBy: "bpde",
///                     pSelect: 0.25)
/// ```
public struct LabelRecord: Sendable, Hashable {
    /// The item's id.
    public var item: String
    /// Who gave the label.
    public var annotator: String
    /// The label, in the dataset's orientation (`A` = `response_a`), as an item's `label`.
    public var label: Label
    /// The order the annotator saw the two candidates in (pairwise only).
    public var shownOrder: Order?
    /// The rule that selected the item: `bpde`, `disagreement`, `uncertainty`, `random`, `import`, ….
    public var selectedBy: String
    /// The probability with which the item was drawn (1 for a census, budget/n for a uniform draw), in (0, 1].
    public var pSelect: Double
    /// Seconds the annotator spent on the item, when known.
    public var seconds: Double?
    /// When the label was given (ISO 8601), when known.
    public var time: String?

    /// A label record from its fields.
    public init(
        item: String, annotator: String, label: Label, shownOrder: Order? = nil, selectedBy: String = "import",
        pSelect: Double = 1, seconds: Double? = nil, time: String? = nil
    ) {
        self.item = item
        self.annotator = annotator
        self.label = label
        self.shownOrder = shownOrder
        self.selectedBy = selectedBy
        self.pSelect = pSelect
        self.seconds = seconds
        self.time = time
    }

    /// The record as one JSON object, keys as DESIGN's labels file names them.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "item": .string(item), "annotator": .string(annotator), "label": label.json,
            "selected_by": .string(selectedBy), "p_select": .number(pSelect),
        ]
        if let shownOrder { o["shown_order"] = .string(shownOrder.rawValue) }
        if let seconds { o["seconds"] = .number(seconds) }
        if let time { o["time"] = .string(time) }
        return .object(o)
    }
}

/// The human labels of a labels file, grouped by item: several annotators on one item become its `labels`,
/// their majority (pairwise, category) or mean (score) its `label`.
public struct LabelSet: Sendable {
    /// Every record, in file order.
    public private(set) var records: [LabelRecord]
    /// Record indices per item id, in file order.
    private var byItem: [String: [Int]]

    /// A set of records.
    public init(_ records: [LabelRecord]) {
        self.records = records
        var byItem: [String: [Int]] = [:]
        for (i, r) in records.enumerated() { byItem[r.item, default: []].append(i) }
        self.byItem = byItem
    }

    /// The ids of the items that carry at least one label.
    public var itemIDs: Set<String> { Set(byItem.keys) }

    /// The records of one item, in file order.
    public func records(for item: String) -> [LabelRecord] { byItem[item]?.map { records[$0] } ?? [] }

    /// The probability with which the item was selected for labelling (the first record's; 1 when none).
    public func pSelect(for item: String) -> Double { byItem[item].map { records[$0[0]].pSelect } ?? 1 }

    /// The labels of one item, one per annotator: an annotator who labelled the item again (a correction) counts
    /// once, with their latest label; annotators in the order of their first label.
    public func latestPerAnnotator(for item: String) -> [LabelRecord] {
        var order: [String] = []
        var latest: [String: LabelRecord] = [:]
        for r in records(for: item) {
            if latest[r.annotator] == nil { order.append(r.annotator) }
            latest[r.annotator] = r
        }
        return order.compactMap { latest[$0] }  // every annotator in `order` has a latest label
    }

    /// The items with their human labels taken from this set: an item in the set gets every annotator's (latest)
    /// label as `labels` and no `label` (so its consensus is their majority or mean); an item not in the set is
    /// unlabelled. The items file's own labels are replaced either way: with `--labels`, the labels file is the
    /// human side.
    public func applied(to items: [Item]) -> [Item] {
        items.map { item in
            var it = item
            it.label = nil
            it.labels = latestPerAnnotator(for: item.id).map {
                AnnotatorLabel(annotator: $0.annotator, label: $0.label)
            }
            return it
        }
    }

    /// Item ids the set names that are not among `items` (a labels file of another run).
    public func unknownItems(among items: [Item]) -> [String] {
        let known = Set(items.map(\.id))
        return byItem.keys.filter { !known.contains($0) }.sorted()
    }
}

/// Reads and appends labels files (JSONL, one ``LabelRecord`` a line).
public enum LabelsFile {
    /// Reads a labels file; a malformed line is an error naming the file and line.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - pairwise: whether labels are preferences (`A`/`B`/`tie`); otherwise scores or categories.
    public static func read(path: String, pairwise: Bool) throws -> [LabelRecord] {
        let reader: LineReader
        do { reader = try LineReader(path: path) } catch {
            throw JudgePanelError.badInput("cannot read labels file: \(error)", file: path)
        }
        var out: [LabelRecord] = []
        while let (number, line) = try reader.next() {
            if line.allSatisfy(\.isWhitespace) { continue }
            out.append(try parse(line: String(line), pairwise: pairwise, file: path, number: number))
        }
        return out
    }

    /// Reads several labels files into one set (`--labels` is repeatable).
    public static func read(paths: [String], pairwise: Bool) throws -> LabelSet {
        var all: [LabelRecord] = []
        for p in paths { all += try read(path: p, pairwise: pairwise) }
        return LabelSet(all)
    }

    /// Parses one line of a labels file.
    public static func parse(line: String, pairwise: Bool, file: String, number: Int) throws -> LabelRecord {
        let value: JSONValue
        do { value = try JSONValue(jsonData: Data(line.utf8)) } catch {
            throw JudgePanelError.badInput("not JSON: \(error.description)", file: file, line: number)
        }
        guard value.objectValue != nil else {
            throw JudgePanelError.badInput("a labels line must be a JSON object", file: file, line: number)
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = value[key], !v.isNull else {
                if required { throw JudgePanelError.badInput("missing \"\(key)\"", file: file, line: number) }
                return nil
            }
            guard let s = v.stringValue ?? v.doubleValue.map({ _ in v.textValue }) else {
                throw JudgePanelError.badInput("\"\(key)\" must be a string", file: file, line: number)
            }
            return s
        }
        let item = try string("item", required: true)!
        let annotator = try string("annotator", required: false) ?? "anonymous"
        guard let raw = value["label"], !raw.isNull else {
            throw JudgePanelError.badInput("missing \"label\"", file: file, line: number)
        }
        let label = try ItemLoader().parseLabel(raw, pairwise: pairwise, file: file, line: number)
        var shown: Order?
        if let s = try string("shown_order", required: false) {
            guard let o = Order(rawValue: s) else {
                throw JudgePanelError.badInput(
                    "\"shown_order\" must be \"AB\" or \"BA\" (got \(s.debugDescription))", file: file, line: number)
            }
            shown = o
        }
        var p = 1.0
        if let v = value["p_select"], !v.isNull {
            guard let d = v.doubleValue, d > 0, d <= 1 else {
                throw JudgePanelError.badInput(
                    "\"p_select\" must be a number in (0, 1] (got \(v.textValue))", file: file, line: number)
            }
            p = d
        }
        var seconds: Double?
        if let v = value["seconds"], !v.isNull {
            guard let d = v.doubleValue, d.isFinite, d >= 0 else {
                throw JudgePanelError.badInput("\"seconds\" must be a number ≥ 0", file: file, line: number)
            }
            seconds = d
        }
        return LabelRecord(
            item: item, annotator: annotator, label: label, shownOrder: shown,
            selectedBy: try string("selected_by", required: false) ?? "import", pSelect: p, seconds: seconds,
            time: try string("time", required: false))
    }

    /// Appends one record to a labels file and syncs it to disk before returning, so a label once acknowledged
    /// survives a crash; the file is created if it does not exist.
    public static func append(_ record: LabelRecord, to path: String) throws {
        var data = try record.json.compactData()
        data.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw JudgePanelError.io("cannot open labels file: \(String(cString: strerror(errno)))", file: path)
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            throw JudgePanelError.io("cannot write labels file: \(String(cString: strerror(errno)))", file: path)
        }
    }
}
