import Foundation

/// Items read from their file in passes instead of held in memory (issue 13: a score run's memory must not grow
/// with the number of items). Each pass parses the file again with the same ``ItemLoader`` (mapping, line limit).
extension ItemLoader {
    /// The items with only what the analysis reads (id, labels, models, meta, line): the prompt, the conversation,
    /// the responses and the reference are dropped as each item is read. A report is computed from these alone
    /// (no metric reads the texts), so `report DIR` and the end of a `score` run never hold the items' texts.
    package func loadForAnalysis(path: String) throws -> [Item] {
        var items: [Item] = []
        try forEach(path: path) { items.append($0.analysisColumns) }
        return items
    }
}

extension Item {
    /// This item without its texts (prompt, messages, response(s), reference): what the analysis reads. A response
    /// that is present is kept as an empty string (no storage), so the item's shape — pairwise, or one response —
    /// still gives its plan of calls (a scheduled run's rebuilt summary counts the full panel's calls per item).
    package var analysisColumns: Item {
        Item(
            id: id, response: response.map { _ in "" }, model: model, responseA: responseA.map { _ in "" },
            responseB: responseB.map { _ in "" }, modelA: modelA, modelB: modelB, label: label, labels: labels, meta: meta,
            line: line)
    }
}

/// An items file as an async sequence of items, parsed one line at a time (for the runner's window of items in
/// flight). The file was validated before (ids unique, every item valid for the rubric): this pass only parses.
package struct ItemFileSequence: AsyncSequence {
    package typealias Element = Item
    package let path: String
    package let loader: ItemLoader
    private let reader: LineReader

    package init(path: String, loader: ItemLoader) throws {
        self.path = path
        self.loader = loader
        reader = try LineReader(path: path, maxLineBytes: loader.maxLineBytes)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        package let path: String
        package let loader: ItemLoader
        package let reader: LineReader

        package mutating func next() async throws -> Item? {
            while let parsed = try reader.nextBytes({ number, bytes -> Item? in
                ItemLoader.isBlank(bytes) ? nil : try loader.parse(bytes: bytes, file: path, number: number)
            }) {
                if let item = parsed { return item }
            }
            return nil
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, loader: loader, reader: reader) }
}
