import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// One shard of a run split over several processes or machines (`score --shard I/N`).
///
/// An item belongs to shard `I` of `N` when the first 8 bytes of the SHA-256 of its id's UTF-8 bytes, read as a
/// big-endian unsigned integer, are `I` modulo `N`. The assignment depends on the id alone — not on the item's
/// position, the process or the machine — so appending items to the file never moves an old item to another shard,
/// and every shard process computes the same partition. `I` is 0-based (0 ..< N), like Kubernetes'
/// `JOB_COMPLETION_INDEX` and a Slurm array declared `--array=0-(N-1)`.
///
/// ```swift
/// let shard = try Shard.parse("2/8")
/// let mine = items.filter { shard.contains($0.id) }
/// ```
package struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// This shard's index, 0 ..< `count`.
    package let index: Int
    /// How many shards the run is split into.
    package let count: Int

    /// The name of the partition recipe recorded in config.json; ``MergeJob`` refuses shards of another recipe.
    package static let scheme = "sha256(id utf8)[0..<8] big-endian mod count"

    /// A shard; throws a usage error unless `0 <= index < count`.
    package init(index: Int, count: Int) throws {
        guard count >= 1 else {
            throw JudgePanelError.usage("--shard: the shard count must be at least 1 (got \(count))")
        }
        guard index >= 0, index < count else {
            throw JudgePanelError.usage("--shard: the index must be 0 ..< \(count) (0-based), got \(index)")
        }
        self.index = index
        self.count = count
    }

    /// Reads `I/N` (e.g. `0/4` … `3/4`).
    package static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let n = Int(parts[1].trimmingCharacters(in: .whitespaces))
        else {
            throw JudgePanelError.usage("--shard expects I/N with 0 <= I < N (e.g. 0/4), got '\(text)'")
        }
        return try Shard(index: i, count: n)
    }

    /// The shard (0 ..< `count`) that the item `id` belongs to.
    package static func index(of id: String, count: Int) -> Int {
        let digest = ContentHash.digest(Array(id.utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int(value % UInt64(count))
    }

    /// Whether the item `id` belongs to this shard.
    package func contains(_ id: String) -> Bool { Self.index(of: id, count: count) == index }

    /// `I/N`.
    package var description: String { "\(index)/\(count)" }

    /// The shard identity written under `shard` in config.json.
    package func config(items: Int, itemsTotal: Int) -> JSONValue {
        [
            "index": .number(Double(index)), "count": .number(Double(count)), "scheme": .string(Self.scheme),
            "items": .number(Double(items)), "items_total": .number(Double(itemsTotal)),
        ]
    }

    /// The shard recorded in a config.json (nil when the run is not a shard).
    package static func recorded(in config: RunConfig, file: String) throws -> Shard? {
        guard let s = config.shard, s != .null else { return nil }
        guard s["scheme"]?.stringValue == scheme else {
            throw JudgePanelError.badInput(
                "shard.scheme is '\(s["scheme"]?.textValue ?? "missing")', this judgepanel partitions by '\(scheme)'",
                file: file)
        }
        guard let i = s["index"]?.intValue, let n = s["count"]?.intValue else {
            throw JudgePanelError.badInput("shard.index / shard.count are missing or not integers", file: file)
        }
        do {
            return try Shard(index: i, count: n)
        } catch let e as JudgePanelError {
            throw JudgePanelError.badInput(e.message, file: file)
        }
    }
}

extension ScoreJob {
    /// Keeps only this shard's items (in the items file's order) and records the shard in config.json.
    /// Every item was already validated by the initializer, so all shards refuse the same bad input.
    /// A shard may hold no items (few items, many shards): it then writes an empty run that ``MergeJob`` accepts.
    ///
    /// A streamed job (``init(streamingItemsPath:rubricPath:panelPath:loader:options:analysis:)``) keeps no items:
    /// one more pass over the file counts the shard's items and calls, and every later pass (the run, a resume
    /// check, batches, the analysis) reads the file again and keeps only this shard's items as it goes.
    package mutating func restrict(to shard: Shard) throws {
        guard var source = itemsSource else {
            let total = items.count
            items = items.filter { shard.contains($0.id) }
            self.shard = ShardAssignment(shard: shard, itemsTotal: total)
            return
        }
        let total = source.count
        var count = 0
        var planned = 0
        try source.loader.forEach(path: itemsPath) { item in
            guard shard.contains(item.id) else { return }
            planned += Call.plan(itemIndex: count, item: item, rubric: rubric, panel: panel).count
            count += 1
        }
        source.count = count
        source.plannedCalls = planned
        source.shard = shard
        itemsSource = source
        self.shard = ShardAssignment(shard: shard, itemsTotal: total)
    }

    /// Which items of the file a streamed job reads: its shard's (nil: every item).
    var itemFilter: (@Sendable (Item) -> Bool)? {
        guard let shard = itemsSource?.shard else { return nil }
        return { shard.contains($0.id) }
    }

    /// The job's items in order as an async sequence: `items`, or the file read line by line for a streamed job.
    func itemSequence() throws -> JobItemSequence {
        guard let source = itemsSource else { return JobItemSequence(held: items, file: nil) }
        return JobItemSequence(
            held: [], file: try ItemFileSequence(path: itemsPath, loader: source.loader, keep: itemFilter))
    }
}

/// A job's items, held or read from their file (see ``ScoreJob/itemSequence()``).
struct JobItemSequence: AsyncSequence {
    package typealias Element = Item
    let held: [Item]
    let file: ItemFileSequence?

    package struct AsyncIterator: AsyncIteratorProtocol {
        var held: IndexingIterator<[Item]>
        var file: ItemFileSequence.AsyncIterator?
        package mutating func next() async throws -> Item? {
            if file != nil { return try await file!.next() }
            return held.next()
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(held: held.makeIterator(), file: file?.makeAsyncIterator())
    }
}

/// A job's shard and the number of items in the whole file (recorded in config.json).
package struct ShardAssignment: Sendable, Hashable {
    /// The shard this job runs.
    package var shard: Shard
    /// Items in the whole items file (all shards together).
    package var itemsTotal: Int
}
