import Foundation

/// Items read from their file in passes instead of held in memory (issue 13: a score run's memory must not grow
/// with the number of items). Each pass parses the file again with the same ``ItemLoader`` (mapping, line limit).
extension ItemLoader {
    /// The items with only what the analysis reads (id, labels, models, meta, line): the prompt, the conversation,
    /// the responses and the reference are dropped as each item is read. A report is computed from these alone
    /// (no metric reads the texts), so `report DIR` and the end of a `score` run never hold the items' texts.
    /// With `keep`, only the items it accepts (a shard's).
    package func loadForAnalysis(path: String, keep: ((Item) -> Bool)? = nil) throws -> [Item] {
        var items: [Item] = []
        try forEach(path: path) { if keep?($0) ?? true { items.append($0.analysisColumns) } }
        return items
    }
}

extension Item {
    /// This item without its texts (prompt, messages, response(s), reference): what the analysis reads. A response
    /// that is present is kept as an empty string (no storage), so the item's shape — pairwise, or one response —
    /// still gives its plan of calls (a scheduled run's rebuilt summary counts the full panel's calls per item).
    var analysisColumns: Item {
        Item(
            id: id, response: response.map { _ in "" }, model: model, responseA: responseA.map { _ in "" },
            responseB: responseB.map { _ in "" }, modelA: modelA, modelB: modelB, label: label, labels: labels,
            meta: meta,
            line: line)
    }
}

/// An items file as an async sequence of items, parsed one line at a time (for the runner's window of items in
/// flight). The file was validated before (ids unique, every item valid for the rubric): this pass only parses.
package struct ItemFileSequence: AsyncSequence {
    package typealias Element = Item
    package let path: String
    package let loader: ItemLoader
    /// Only the items this accepts are handed out (a shard's items); nil hands out every item.
    package let keep: (@Sendable (Item) -> Bool)?
    private let reader: LineReader

    package init(path: String, loader: ItemLoader, keep: (@Sendable (Item) -> Bool)? = nil) throws {
        self.path = path
        self.loader = loader
        self.keep = keep
        reader = try LineReader(path: path, maxLineBytes: loader.maxLineBytes)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        package let path: String
        package let loader: ItemLoader
        package let reader: LineReader
        package let keep: (@Sendable (Item) -> Bool)?

        package mutating func next() async throws -> Item? {
            while let parsed = try reader.nextBytes({ number, bytes -> Item? in
                ItemLoader.isBlank(bytes) ? nil : try loader.parse(bytes: bytes, file: path, number: number)
            }) {
                if let item = parsed, keep?(item) ?? true { return item }
            }
            return nil
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, loader: loader, reader: reader, keep: keep)
    }
}

/// Random access to the items of a file without holding them: where each item's line starts (8 bytes an item)
/// and its line number (4 bytes an item), recorded in one pass; ``item(at:)`` seeks to the line and parses it
/// again. `score --batch` maps each result line back to its item this way (results come per batch, in any order).
package final class ItemPositions {
    package let path: String
    package let loader: ItemLoader
    private var offsets: [Int] = []
    private var lines: [UInt32] = []
    private var handle: FileHandle?
    /// The last item read (a batch's consecutive results usually share an item).
    private var last: (Int, Item)?

    /// Reads `path` once, recording the items `keep` accepts (every item when nil) and handing each, with its
    /// position among the kept items, to `body`. The file was validated before: this pass only parses.
    package init(
        path: String, loader: ItemLoader, keep: ((Item) -> Bool)? = nil,
        _ body: (Int, Item) throws -> Void = { _, _ in }
    ) throws {
        self.path = path
        self.loader = loader
        let reader = try LineReader(path: path, maxLineBytes: loader.maxLineBytes)
        while let parsed = try reader.nextBytes({ number, bytes -> (Int, Item)? in
            ItemLoader.isBlank(bytes) ? nil : (number, try loader.parse(bytes: bytes, file: path, number: number))
        }) {
            guard let (number, item) = parsed, keep?(item) ?? true else { continue }
            guard number <= Int(UInt32.max) else {
                throw JudgePanelError.badInput("more than 2^32 lines", file: path, line: number)
            }
            try body(offsets.count, item)
            offsets.append(reader.lastLineOffset)
            lines.append(UInt32(number))
        }
    }

    deinit { try? handle?.close() }

    /// The number of items recorded.
    package var count: Int { offsets.count }

    /// The item at `position` (0-based among the recorded items), parsed again from its line.
    package func item(at position: Int) throws -> Item {
        if let (p, item) = last, p == position { return item }
        guard offsets.indices.contains(position) else {
            throw JudgePanelError.badInput(
                "no item at position \(position) (the file holds \(offsets.count))", file: path)
        }
        if handle == nil {
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw JudgePanelError.badInput("cannot open file", file: path)
            }
            handle = h
        }
        let h = handle!
        var line = Data()
        do {
            try h.seek(toOffset: UInt64(offsets[position]))
            while true {
                guard let piece = try h.read(upToCount: 1 << 16), !piece.isEmpty else { break }
                if let nl = piece.firstIndex(of: 10) {
                    line.append(piece[piece.startIndex..<nl])
                    break
                }
                line.append(piece)
                if line.count > loader.maxLineBytes { break }
            }
        } catch {
            throw JudgePanelError.io("read failed: \(error.localizedDescription)", file: path)
        }
        if line.last == 13 { line.removeLast() }
        let number = Int(lines[position])
        let item = try line.withUnsafeBytes { raw in
            try loader.parse(bytes: raw.bindMemory(to: UInt8.self), file: path, number: number)
        }
        last = (position, item)
        return item
    }
}
