import Foundation
import JudgePanel
import JudgeStats

/// The Explore view's server side: filters and pages over a ``RunIndex`` (no text held), and one item's full detail
/// read from the files when it is opened.
package struct Explore: Sendable {
    package let index: RunIndex

    package init(index: RunIndex) { self.index = index }

    /// What the list shows (every condition given must hold).
    package struct Filter: Sendable {
        /// The panel's verdict differs from the human label (items with both).
        package var disagree = false
        /// Some judge's two orders disagreed (with `judge`: that judge's).
        package var flips = false
        /// The judges' reconciled verdicts differ.
        package var split = false
        /// Items this judge voted on.
        package var judge: String?
        /// Items with a vote of this `reason` (with `judge`: that judge's vote).
        package var reason: String?
        /// Items whose `meta[metaKey]` is `metaValue` (any value when nil).
        package var metaKey: String?
        package var metaValue: String?
        /// An id (that item alone), or text the item's line contains (case-sensitive, as written in the file: JSON
        /// escapes such as `\n` or `\"` are part of the line).
        package var query: String?
        /// Items without a human label.
        package var unlabelled = false

        package init(
            disagree: Bool = false, flips: Bool = false, split: Bool = false, judge: String? = nil,
            reason: String? = nil,
            metaKey: String? = nil, metaValue: String? = nil, query: String? = nil, unlabelled: Bool = false
        ) {
            self.disagree = disagree
            self.flips = flips
            self.split = split
            self.judge = judge
            self.reason = reason
            self.metaKey = metaKey
            self.metaValue = metaValue
            self.query = query
            self.unlabelled = unlabelled
        }
    }

    /// The run at a glance: counts, judges, reasons and meta keys (for the filter controls).
    package func summary() -> JSONValue {
        var metaKeys: [JSONValue] = []
        for (key, column) in index.meta.sorted(by: { $0.key < $1.key }) {
            let values = Set(column.compactMap { $0 })
            var o: [String: JSONValue] = ["key": .string(key), "distinct": .number(Double(values.count))]
            if values.count <= 200 { o["values"] = .array(values.sorted().map { .string($0) }) }
            metaKeys.append(.object(o))
        }
        return [
            "run": .string(index.dir), "items_file": .string(index.itemsPath),
            "n_items": .number(Double(index.items.count)),
            "n_votes": .number(Double(index.votes.count)), "protocol": .string(index.protocolKind.rawValue),
            "judges": .array(index.judges.map { .string($0) }),
            "reasons": .array(index.reasons.dropFirst().sorted().map { .string($0) }), "meta": .array(metaKeys),
            "labels_file": .string(index.labelsPath),
            "has_report": .bool(FileManager.default.fileExists(atPath: index.dir + "/report.html")),
        ]
    }

    /// The indices of the items that pass `filter`, in the items file's order. `humans` overrides the indexed human
    /// labels (labels written since the index was built).
    package func matching(_ filter: Filter, humans: [String: Preference?] = [:]) -> [Int] {
        let judge: UInt16? = filter.judge.flatMap { name in index.judges.firstIndex(of: name).map(UInt16.init) }
        if filter.judge != nil && judge == nil { return [] }
        var reason: UInt16?
        if let r = filter.reason {
            guard let x = index.reasons.firstIndex(of: r) else { return [] }
            reason = UInt16(x)
        }
        let metaColumn = filter.metaKey.map { index.meta[$0] ?? [] }
        if filter.metaKey != nil && metaColumn?.isEmpty == true { return [] }
        let query = filter.query?.trimmingCharacters(in: .whitespaces)
        // An exact id is that item alone; other text is searched in the items file's lines (case-sensitive).
        var textHits: Set<Int>?
        if let query, !query.isEmpty {
            if let exact = index.idIndex[query] {
                textHits = [Int(exact)]
            } else {
                textHits = Set(index.itemsContaining(Array(query.utf8)))
            }
        }
        let flipMask: UInt64 = judge.map { $0 < 64 ? 1 << UInt64($0) : 0 } ?? ~0
        var out: [Int] = []
        for i in index.items.indices {
            let e = index.items[i]
            var human = e.human
            if !humans.isEmpty, let h = humans[index.ids[i]] { human = RunIndex.code(h) }
            if filter.disagree && (human == 0 || e.panel == 0 || human == e.panel) { continue }
            if filter.unlabelled && human != 0 { continue }
            if filter.split && !e.split { continue }
            if filter.flips && e.flips & flipMask == 0 { continue }
            if judge != nil || reason != nil {
                var hit = false
                for n in e.votes {
                    let v = index.votes[Int(n)]
                    if let judge, v.judge != judge { continue }
                    if let reason, v.reason != reason { continue }
                    hit = true
                    break
                }
                if !hit { continue }
            }
            if let metaColumn {
                guard let value = metaColumn[i] else { continue }
                if let want = filter.metaValue, value != want { continue }
            }
            if let textHits, !textHits.contains(i) { continue }
            out.append(i)
        }
        return out
    }

    /// One page of the matching items, with a short summary of each.
    package func list(_ filter: Filter, page: Int, size: Int) throws -> JSONValue {
        let humans = try index.humanLabels(from: index.labelsPath)
        let all = matching(filter, humans: humans)
        let start = min(all.count, page * size)
        var rows: [JSONValue] = []
        for i in all[start..<min(all.count, start + size)] {
            let e = index.items[i]
            let item = try index.item(i)
            var human = e.human
            if let h = humans[index.ids[i]] { human = RunIndex.code(h) }
            let flips = index.judges.indices.filter { $0 < 64 && e.flips & (1 << UInt64($0)) != 0 }.map {
                JSONValue.string(index.judges[$0])
            }
            rows.append([
                "id": .string(item.id), "prompt": .string(String(item.promptText.prefix(240))),
                "panel": Self.json(RunIndex.preference(e.panel)), "human": Self.json(RunIndex.preference(human)),
                "split": .bool(e.split), "flips": .array(flips), "n_votes": .number(Double(e.votes.count)),
            ])
        }
        return [
            "total": .number(Double(all.count)), "page": .number(Double(page)), "size": .number(Double(size)),
            "items": .array(rows),
        ]
    }

    static func json(_ p: Preference?) -> JSONValue { p.map { .string($0.rawValue) } ?? .null }

    /// Everything about one item: its fields, every vote (raw reply included), the panel's verdict line and the
    /// human labels. nil for an unknown id.
    package func detail(id: String) throws -> JSONValue? {
        guard let i = index.idIndex[id].map(Int.init) else { return nil }
        let item = try index.item(i)
        var fields: [String: JSONValue] = ["id": .string(item.id)]
        fields["prompt"] = item.prompt.map { .string($0) } ?? .null
        // Conversations are shown generically, one message a block of text (a richer renderer hooks in here).
        if let messages = item.messages {
            fields["messages"] = .array(
                messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        }
        for (k, v) in [
            ("response", item.response), ("model", item.model), ("response_a", item.responseA),
            ("response_b", item.responseB),
            ("model_a", item.modelA), ("model_b", item.modelB), ("reference", item.reference),
        ] {
            if let v { fields[k] = .string(v) }
        }
        if let l = item.label { fields["label"] = l.json }
        if !item.meta.isEmpty { fields["meta"] = .object(item.meta) }
        var votes: [JSONValue] = []
        for n in index.items[i].votes {
            let v = try index.vote(Int(n))
            var o: [String: JSONValue] = [:]
            for k in [
                "judge", "order", "sample", "verdict", "score", "checks", "status", "reason", "error", "raw", "variant",
                "response", "cached", "latency_ms",
            ] {
                if let x = v[k] { o[k] = x }
            }
            votes.append(.object(o))
        }
        var labels: [JSONValue] = []
        if FileManager.default.fileExists(atPath: index.labelsPath) {
            for r in try LabelsFile.read(path: index.labelsPath, pairwise: index.protocolKind == .pairwise)
            where r.item == id {
                labels.append(r.json)
            }
        }
        return [
            "item": .object(fields), "votes": .array(votes), "verdict": try index.verdict(i) ?? .null,
            "labels": .array(labels),
        ]
    }
}
