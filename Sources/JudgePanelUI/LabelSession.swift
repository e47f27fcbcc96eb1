import Foundation
import JudgePanel
import JudgeStats

/// The Label view's state for one annotator: a queue of items (a selection, or every item), the labels already in
/// the labels file (so a restart resumes where the annotator stopped), and the order each item's candidates are
/// shown in — a seeded function of (seed, annotator, item), so the same annotator sees the same item the same way
/// after a restart, and two annotators see independent orders.
package actor LabelSession {
    /// One queued item and how it was selected.
    package struct Entry: Sendable {
        package var item: Int
        package var selectedBy: String
        package var pSelect: Double

        package init(item: Int, selectedBy: String, pSelect: Double) {
            self.item = item
            self.selectedBy = selectedBy
            self.pSelect = pSelect
        }
    }

    package let index: RunIndex
    package let annotator: String
    package let labelsPath: String
    package let seed: UInt64
    private let queue: [Entry]
    /// Items (run indices) this annotator has labelled, from the labels file and this session.
    private var labelled: Set<Int>
    /// The records this session appended, newest last (what undo may take back).
    private var appended: [LabelRecord] = []
    /// When each item was first shown (for `seconds`).
    private var shownAt: [Int: Date] = [:]

    package init(index: RunIndex, annotator: String, labelsPath: String, queue: [Entry], seed: UInt64) throws {
        self.index = index
        self.annotator = annotator
        self.labelsPath = labelsPath
        self.queue = queue
        self.seed = seed
        var done = Set<Int>()
        if FileManager.default.fileExists(atPath: labelsPath) {
            for r in try LabelsFile.read(path: labelsPath, pairwise: index.protocolKind == .pairwise)
            where r.annotator == annotator {
                if let i = index.idIndex[r.item] { done.insert(Int(i)) }
            }
        }
        labelled = done
    }

    /// The order item `item`'s candidates are shown to this annotator in.
    package nonisolated func shownOrder(item: String) -> Order {
        Self.shownOrder(seed: seed, annotator: annotator, item: item)
    }

    /// `BA` for about half the (seed, annotator, item) triples: a 64-bit FNV-1a of the three, finished by SplitMix64.
    package static func shownOrder(seed: UInt64, annotator: String, item: String) -> Order {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(seed)\u{1F}\(annotator)\u{1F}\(item)".utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        var g = SeededGenerator(seed: h)
        return g.next() >> 63 == 1 ? .ba : .ab
    }

    /// What the page shows: progress and the next unlabelled item, blind (prompt and the two candidates in the shown
    /// order, or the one response; no id, model, vote or verdict).
    package func next() throws -> JSONValue {
        let remaining = queue.filter { !labelled.contains($0.item) }
        var out: [String: JSONValue] = [
            "total": .number(Double(queue.count)), "done": .number(Double(queue.count - remaining.count)),
            "can_undo": .bool(!appended.isEmpty), "annotator": .string(annotator),
        ]
        guard let entry = remaining.first else {
            out["finished"] = .bool(true)
            return .object(out)
        }
        let item = try index.item(entry.item)
        var shown: [String: JSONValue] = ["key": .number(Double(entry.item)), "prompt": .string(item.promptText)]
        if let a = item.responseA, let b = item.responseB {
            let o = shownOrder(item: item.id)
            shown["kind"] = "pairwise"
            shown["first"] = .string(o == .ab ? a : b)
            shown["second"] = .string(o == .ab ? b : a)
        } else {
            shown["kind"] = .string(index.protocolKind == .checklist ? "checklist" : "pointwise")
            shown["response"] = .string(item.response ?? "")
        }
        if shownAt[entry.item] == nil { shownAt[entry.item] = Date() }
        out["item"] = .object(shown)
        return .object(out)
    }

    /// Records a label for the queued item `key`: `choice` is what the annotator pressed — `1`/`A` (the first shown),
    /// `2`/`B` (the second shown), `T`/`tie`, a number (pointwise), `Y`/`N` (checklist). The label is mapped to the
    /// dataset's orientation, appended to the labels file and synced before this returns.
    package func label(key: Int, choice: String) throws {
        guard let entry = queue.first(where: { $0.item == key }) else {
            throw JudgePanelError.usage("item \(key) is not in this session's queue")
        }
        guard !labelled.contains(key) else { throw JudgePanelError.usage("item already labelled") }
        let id = index.ids[key]
        let item = try index.item(key)
        var label: Label
        var shown: Order?
        if item.isPairwise {
            let o = shownOrder(item: id)
            shown = o
            let seen: Preference
            switch choice.uppercased() {
            case "1", "A": seen = .a
            case "2", "B": seen = .b
            case "T", "TIE": seen = .tie
            default: throw JudgePanelError.usage("a pairwise label is A, B or T (got \(choice.debugDescription))")
            }
            label = .pairwise(LabelStudio.map(seen, shown: o))
        } else if index.protocolKind == .checklist {
            switch choice.uppercased() {
            case "Y", "YES": label = .category("yes")
            case "N", "NO": label = .category("no")
            default: throw JudgePanelError.usage("a checklist label is Y or N (got \(choice.debugDescription))")
            }
        } else {
            guard let s = Double(choice), s.isFinite else {
                throw JudgePanelError.usage("a score label is a number (got \(choice.debugDescription))")
            }
            label = .score(s)
        }
        let started = shownAt[key] ?? Date()
        let record = LabelRecord(
            item: id, annotator: annotator, label: label, shownOrder: shown, selectedBy: entry.selectedBy,
            pSelect: entry.pSelect, seconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000,
            time: ISO8601DateFormatter().string(from: Date()))
        try LabelsFile.append(record, to: labelsPath)
        labelled.insert(key)
        appended.append(record)
        shownAt[key] = nil
    }

    /// Takes back this session's last label: the labels file loses its last line, which must be that record.
    package func undo() throws {
        guard let last = appended.last else { throw JudgePanelError.usage("nothing to undo") }
        try LabelsFileTail.removeLast(matching: last, path: labelsPath)
        appended.removeLast()
        if let i = index.idIndex[last.item] { labelled.remove(Int(i)) }
    }
}

/// Removing the last line of a labels file (undo): the file is append-only otherwise.
enum LabelsFileTail {
    /// Truncates `path` before its last line, provided that line is `record` (same item and annotator); syncs.
    static func removeLast(matching record: LabelRecord, path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else {
            throw JudgePanelError.io("cannot open labels file: \(String(cString: strerror(errno)))", file: path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JudgePanelError.io("cannot stat labels file", file: path) }
        let size = Int(st.st_size)
        let window = min(size, 1 << 20)
        var buf = [UInt8](repeating: 0, count: window)
        let got = pread(fd, &buf, window, off_t(size - window))
        guard got == window else { throw JudgePanelError.io("cannot read labels file", file: path) }
        var end = window
        while end > 0 && (buf[end - 1] == 0x0A || buf[end - 1] == 0x20) { end -= 1 }
        var start = end
        while start > 0 && buf[start - 1] != 0x0A { start -= 1 }
        let line = String(decoding: buf[start..<end], as: UTF8.self)
        let last = try LabelsFile.parse(line: line, pairwise: record.label.preference != nil, file: path, number: 0)
        guard last.item == record.item, last.annotator == record.annotator else {
            throw JudgePanelError.usage(
                "the labels file's last line is not this session's last label (another writer?)")
        }
        guard ftruncate(fd, off_t(size - window + start)) == 0, fsync(fd) == 0 else {
            throw JudgePanelError.io("cannot truncate labels file: \(String(cString: strerror(errno)))", file: path)
        }
    }
}
