import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// `judgepanel merge`: joins the run directories of `score --shard I/N` into one run directory whose
/// verdicts.jsonl, report.json, report.md and report.html equal those of one `score` run of the same inputs.
///
/// The merge refuses (``/JudgePanelCore/JudgePanelError``, exit 2) shards of different inputs (items file content, rubric, panel,
/// analysis options, item mapping — everything in config.json but the shard identity and the run's facts), a missing
/// or duplicated shard index, an unfinished shard, and a votes file whose items are not the shard's items in the
/// items file's order. Votes are written in the canonical order a single run writes: the items file's order, and
/// within an item the call plan's order (judge, order, sample) — copied line by line from the shards, streaming.
///
/// What legitimately differs from a single run: `run.started` and `run.wall_s` in config.json and report.json, and
/// the `date:` / `wall time:` line of report.md and the date of report.html (the merged run starts with its earliest
/// shard and lasts until its last shard ended); in votes.jsonl, each call's `latency_ms` and `cached`; and
/// `run.http_calls` / `run.cached` when the shards met another cache state or retried other calls than one run would.
///
/// ```swift
/// let outcome = try MergeJob(shardDirs: ["shards/0", "shards/1"]).run(outDir: "runs/merged")
/// print(outcome.votes)
/// ```
package struct MergeJob: Sendable {
    /// The shard run directories, in any order.
    package var shardDirs: [String]
    /// Reads the items from here instead of the path recorded in the shards' config.json (its content must be the same).
    package var itemsPath: String?

    /// A merge of `shardDirs`; nothing is read before ``run(outDir:)``.
    package init(shardDirs: [String], itemsPath: String? = nil) {
        self.shardDirs = shardDirs
        self.itemsPath = itemsPath
    }

    /// What a merge wrote.
    package struct Outcome: Sendable {
        /// The merged run's report.
        package var report: MetaReport
        /// Items in the merged run.
        package var items: Int
        /// Votes in the merged votes.jsonl.
        package var votes: Int
        /// Error votes among them.
        package var errors: Int
        /// How many shards were merged.
        package var shards: Int
    }

    package struct ShardRun {
        package var dir: String
        package var shard: Shard
        package var config: RunConfig
        package var configPath: String
    }

    /// Checks the shards and writes the merged run directory `outDir` (locked while it is written; each shard is
    /// locked too, so a shard still being written is refused).
    package func run(outDir: String) throws -> Outcome {
        guard !shardDirs.isEmpty else { throw JudgePanelError.usage("merge: name the shard run directories to merge") }
        let outURL = URL(fileURLWithPath: outDir).standardizedFileURL
        var runs: [ShardRun] = []
        for dir in shardDirs {
            if URL(fileURLWithPath: dir).standardizedFileURL == outURL {
                throw JudgePanelError.usage("merge: --out \(outDir) is one of the shards; choose another directory")
            }
            runs.append(try Self.readShard(dir))
        }
        var locks: [RunLock] = []
        defer { for l in locks { l.release() } }
        for r in runs { locks.append(try RunLock.acquire(dir: r.dir, command: "merge")) }
        let ordered = try Self.checkCoverage(runs)
        try Self.checkSameInputs(ordered)
        let reference = ordered[0]

        // The items, read as the shards read them, and checked against the content they ran on.
        let config = reference.config
        guard let path = itemsPath ?? config.items else {
            throw JudgePanelError.badInput("no items file recorded (pass --items)", file: reference.configPath)
        }
        if let recorded = config.itemsSHA256 {
            guard let now = try ScoreJob.fileHash(path) else {
                throw JudgePanelError.badInput("no such file", file: path)
            }
            if now != recorded {
                throw JudgePanelError.badInput(
                    "this items file (SHA-256 \(now.prefix(12))…) is not the one the shards ran on (\(recorded.prefix(12))…)",
                    file: path)
            }
        }
        let mapping = config.mapping
        // Only the ids are kept here; the analysis reads the file again into its columns, as `report DIR` does.
        let loader = ItemLoader(mapping: mapping)
        let items = try ItemColumns.read(path: path, loader: loader, clusterKey: nil).ids
        let n = ordered.count
        var owned = [Int](repeating: 0, count: n)
        for id in items { owned[Shard.index(of: id, count: n)] += 1 }
        for r in ordered {
            let recorded = r.config.shard?["items"]?.intValue
            let total = r.config.shard?["items_total"]?.intValue
            if recorded != owned[r.shard.index] || total != items.count {
                throw JudgePanelError.badInput(
                    "shard \(r.shard) ran \(recorded.map(String.init) ?? "?") of \(total.map(String.init) ?? "?") items, "
                        + "but \(path) gives it \(owned[r.shard.index]) of \(items.count)", file: r.configPath)
            }
        }

        // Each shard's votes.jsonl must be the one it finished with: the SHA-256 of its bytes and its vote count, as
        // the shard recorded them (a file cut short, edited or copied from elsewhere is refused, nothing written).
        for r in ordered {
            let votesPath = RunDirectory(path: r.dir).votesPath
            if let recorded = r.config.shard?["votes_sha256"]?.stringValue {
                let now = try ContentHash.hexOfFile(votesPath)
                if now != recorded {
                    throw JudgePanelError.badInput(
                        "shard \(r.shard)'s votes.jsonl (SHA-256 \(now.prefix(12))…) is not the one it finished with "
                            + "(\(recorded.prefix(12))…, \(r.config.shard?["votes"]?.intValue.map(String.init) ?? "?") votes): "
                            + "it was cut short, edited or replaced; rerun that shard", file: votesPath)
                }
            }
        }
        // --out: new, empty, or the merged run of these same inputs (its config.json, less the run's facts, is the one
        // this merge writes); nothing is written into anything else, not even the lock.
        var expected = config
        expected.shard = nil
        expected.run = nil
        try OutputDirectory.check(outDir, kind: .merge) { url in
            var recorded = try RunConfig.read(dir: url.path)
            recorded?.run = nil
            return recorded == expected ? nil : "a merge of other inputs"
        }
        let out = RunDirectory(path: outDir)
        let outLock = try RunLock.acquire(dir: outDir, command: "merge")
        defer { outLock.release() }
        if FileManager.default.fileExists(atPath: out.journalPath) {
            throw JudgePanelError.usage("\(outDir) holds a score run (journal.jsonl): merge into another --out")
        }
        let tmpVotes = out.url.appendingPathComponent(".votes.jsonl.merge-\(getpid())").path
        let counts: (merged: VoteCounts, perShard: [VoteCounts])
        do {
            counts = try Self.streamVotes(ordered, ids: items, to: tmpVotes)
        } catch {
            try? FileManager.default.removeItem(atPath: tmpVotes)  // best effort: the error below is what matters
            throw error
        }

        for (s, r) in ordered.enumerated() {
            // The count each shard recorded (its own `votes`, else its run facts') against the votes merged from it.
            let recorded = r.config.shard?["votes"]?.intValue ?? r.config.run?.votes
            if let recorded, recorded != counts.perShard[s].votes {
                try? FileManager.default.removeItem(atPath: tmpVotes)  // best effort: the error below is what matters
                throw JudgePanelError.badInput(
                    "shard \(r.shard) recorded \(recorded) votes, its votes.jsonl holds \(counts.perShard[s].votes): "
                        + "the file was cut short or edited; rerun that shard",
                    file: RunDirectory(path: r.dir).votesPath)
            }
        }
        var mergedConfig = config
        mergedConfig.shard = nil
        mergedConfig.run = try Self.facts(ordered, counts: counts)
        let built: RunReports.ScoreFiles
        do {
            if rename(tmpVotes, out.votesPath) != 0 {
                throw JudgePanelError.io(
                    "cannot rename \(tmpVotes): \(String(cString: strerror(errno)))", file: out.votesPath)
            }
            // The reports are computed in a pass over the merged votes.jsonl, as a single run's are.
            built = try RunReports.writeScoreRun(
                out, config: mergedConfig, source: .file(path: path, loader: loader, count: items.count))
        } catch {
            // best effort: the error below is what matters
            try? FileManager.default.removeItem(atPath: tmpVotes)
            try? FileManager.default.removeItem(atPath: out.votesPath)
            throw error
        }
        try mergedConfig.write(to: out)
        try out.writeJSON(
            "merge.json",
            JSONValue.object([
                "schema_version": .number(Double(RunConfig.currentSchemaVersion)),
                "shards": .array(
                    ordered.map { r in
                        [
                            "index": .number(Double(r.shard.index)), "count": .number(Double(r.shard.count)),
                            "dir": .string(r.dir),
                            "run": try r.config.run?.json ?? .null,
                        ]
                    }),
                "scheme": .string(Shard.scheme),
            ]))
        return Outcome(
            report: built.report, items: items.count, votes: counts.merged.votes, errors: counts.merged.errors,
            shards: n)
    }

    /// A finished shard's config.json and shard identity.
    static func readShard(_ dir: String) throws -> ShardRun {
        let configPath = URL(fileURLWithPath: dir).appendingPathComponent("config.json").path
        guard let config = try RunConfig.read(dir: dir) else {
            throw JudgePanelError.badInput("not a run directory (no config.json)", file: dir)
        }
        guard let shard = try Shard.recorded(in: config, file: configPath) else {
            throw JudgePanelError.badInput(
                "not a shard run (no `shard` in config.json; run it with score --shard I/N)", file: configPath)
        }
        guard config.run != nil, FileManager.default.fileExists(atPath: RunDirectory(path: dir).votesPath) else {
            throw JudgePanelError.usage(
                "shard \(shard) in \(dir) has not finished (no votes.jsonl yet): finish it with score --resume")
        }
        return ShardRun(dir: dir, shard: shard, config: config, configPath: configPath)
    }

    /// The shards sorted by index; throws naming a duplicated or missing index or a disagreeing count.
    static func checkCoverage(_ runs: [ShardRun]) throws -> [ShardRun] {
        let first = runs[0]
        for r in runs where r.shard.count != first.shard.count {
            throw JudgePanelError.usage(
                "merge: \(r.dir) is shard \(r.shard) but \(first.dir) is shard \(first.shard): the shards come from different splits"
            )
        }
        var byIndex: [Int: ShardRun] = [:]
        for r in runs {
            if let other = byIndex[r.shard.index] {
                throw JudgePanelError.usage("merge: shard \(r.shard) given twice: \(other.dir) and \(r.dir)")
            }
            byIndex[r.shard.index] = r
        }
        let missing = (0..<first.shard.count).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            throw JudgePanelError.usage(
                "merge: missing shard" + (missing.count == 1 ? " " : "s ")
                    + missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")
                    + " (got \(byIndex.keys.sorted().map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")))")
        }
        return byIndex.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Every shard's config.json must equal shard 0's apart from the shard identity and the run's facts.
    static func checkSameInputs(_ ordered: [ShardRun]) throws {
        let reference = ordered[0]
        func inputs(_ config: RunConfig) throws -> [String: JSONValue] {
            (try config.json.objectValue ?? [:]).filter { $0.key != "shard" && $0.key != "run" }
        }
        let ref = try inputs(reference.config)
        for r in ordered.dropFirst() {
            let mine = try inputs(r.config)
            let keys = Set(ref.keys).union(mine.keys).filter { ref[$0] != mine[$0] }.sorted()
            guard !keys.isEmpty else { continue }
            var what: [String] = []
            for key in keys {
                switch key {
                case "items_sha256": what.append("the items file's content (items_sha256)")
                case "fingerprint":
                    let changes = RunFingerprint.changes(recorded: ref[key] ?? .null, current: mine[key] ?? .null)
                    what.append(changes.isEmpty ? "the run fingerprint" : changes.joined(separator: "; "))
                default: what.append(key)
                }
            }
            throw JudgePanelError.usage(
                "merge: shard \(r.shard) (\(r.dir)) was run with other inputs than shard \(reference.shard) (\(reference.dir)): "
                    + what.joined(separator: "; "))
        }
    }

    /// Copies the shards' votes into `path` in the canonical order (items file order; within an item, the order the
    /// shard wrote them, which is the call plan's) and returns their counts, added in that order. A k-way merge: each
    /// shard's file is already in its items' order, so only one pending line per shard is held, never the votes. A
    /// vote that is not for the owning shard's next item fails naming its file and line.
    static func streamVotes(_ ordered: [ShardRun], ids items: [String], to path: String) throws -> (
        merged: VoteCounts, perShard: [VoteCounts]
    ) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw JudgePanelError.io("cannot create", file: path)
        }
        defer { try? handle.close() }  // closing a file we finished writing (or are abandoning after an error)
        var buffer = Data()
        buffer.reserveCapacity(1 << 20)
        func flush() throws {
            do {
                try handle.write(contentsOf: buffer)
            } catch {
                throw JudgePanelError.io("write failed: \(error.localizedDescription)", file: path)
            }
            buffer.removeAll(keepingCapacity: true)
        }
        struct Pending {
            var line: Int
            var bytes: [UInt8]
            var vote: Vote
        }
        let decoder = JSONDecoder()
        let files = ordered.map { RunDirectory(path: $0.dir).votesPath }
        let readers = try files.map { try LineReader(path: $0) }
        var pending = [Pending?](repeating: nil, count: ordered.count)
        func peek(_ s: Int) throws -> Pending? {
            if let p = pending[s] { return p }
            // nil: end of file; .some(nil): a blank line.
            while let got = try readers[s].nextBytes({ number, bytes -> Pending? in
                guard let vote = try VoteDigest.vote(bytes, decoder: decoder, path: files[s], line: number) else {
                    return nil
                }
                return Pending(line: number, bytes: Array(bytes), vote: vote)
            }) {
                if let p = got {
                    pending[s] = p
                    return p
                }
            }
            return nil
        }
        var counts = VoteCounts()
        var perShard = [VoteCounts](repeating: VoteCounts(), count: ordered.count)
        let n = ordered.count
        for id in items {
            let s = Shard.index(of: id, count: n)
            while let p = try peek(s), p.vote.item == id {
                counts.add(p.vote)
                perShard[s].add(p.vote)
                buffer.append(contentsOf: p.bytes)
                buffer.append(0x0A)
                pending[s] = nil
                if buffer.count >= 1 << 20 { try flush() }
            }
        }
        for s in 0..<n {
            if let p = try peek(s) {
                throw JudgePanelError.badInput(
                    "vote for item '\(p.vote.item)' does not follow shard \(ordered[s].shard)'s items in the items file's order "
                        + "(an item of another shard, one not in the items file, or votes out of order)",
                    file: files[s], line: p.line)
            }
        }
        try flush()
        return (counts, perShard)
    }

    /// The merged run's facts, with the same keys as a single run's: counts recomputed from the merged votes (in the
    /// same order, so sums are the same doubles), per-process counters summed, `started` the earliest shard's start,
    /// `wall_s` from that start to the latest shard's end.
    package static func facts(_ ordered: [ShardRun], counts all: (merged: VoteCounts, perShard: [VoteCounts])) throws
        -> RunFacts
    {
        let counts = all.merged
        let reference = ordered[0]
        guard let base = reference.config.run else {
            throw JudgePanelError.badInput("no run facts", file: reference.configPath)
        }
        var o = base
        func sum(_ key: KeyPath<RunFacts, Int>) -> Int {
            ordered.reduce(0) { $0 + ($1.config.run?[keyPath: key] ?? 0) }
        }
        o.reusedFromJournal = sum(\.reusedFromJournal)
        o.reasked = sum(\.reasked)
        o.droppedFromJournal = sum(\.droppedFromJournal)
        o.httpCalls = sum(\.httpCalls)
        o.cached = sum(\.cached)
        // Calls of unknown cost (no or implausible usage): as one run counts them, present only when some are.
        let unknown = ordered.reduce(0) { $0 + ($1.config.run?.costUnknownCalls ?? 0) }
        o.costUnknownCalls = unknown > 0 ? unknown : nil
        let parser = ISO8601DateFormatter()
        var start: Date?
        var end: Date?
        for r in ordered {
            guard let s = r.config.run?.started, let d = parser.date(from: s) else {
                throw JudgePanelError.badInput("run.started is missing or not an ISO 8601 date", file: r.configPath)
            }
            let e = d.addingTimeInterval(r.config.run?.wallSeconds ?? 0)
            start = min(start ?? d, d)
            end = max(end ?? e, e)
        }
        if let start, let end {
            o.started = parser.string(from: start)
            o.wallSeconds = (end.timeIntervalSince(start) * 1000).rounded() / 1000
        }
        // The same counts, added in the same order, as a single run's (`VoteCounts` over its votes file).
        o.record(counts.totals)
        // Notes as one run writes them: the runner's adjustments (each shard's notes less its own logprob notes,
        // first appearance first), then the logprob notes of all votes; judges stopped by a quota in any shard.
        let judges = base.judges
        var adjustments: [String] = []
        var stopped: [String: String] = [:]
        for (s, r) in ordered.enumerated() {
            let own = Set(all.perShard[s].logprobNotes(judges: judges))
            for note in r.config.run?.notes ?? [] where !own.contains(note) && !adjustments.contains(note) {
                adjustments.append(note)
            }
            for (judge, why) in r.config.run?.stoppedJudges ?? [:] where stopped[judge] == nil {
                stopped[judge] = why
            }
        }
        let notes = adjustments + counts.logprobNotes(judges: judges)
        o.notes = notes.isEmpty ? nil : notes
        o.stoppedJudges = stopped.isEmpty ? nil : stopped
        o.quotaUnsent = stopped.isEmpty ? nil : counts.quotaUnsent
        // The model versions the providers reported, counted over all shards' votes as one run counts them.
        o.modelVersions = counts.modelVersions.isEmpty ? nil : counts.modelVersions
        o.systemFingerprints = counts.systemFingerprints.isEmpty ? nil : counts.systemFingerprints
        return o
    }
}
