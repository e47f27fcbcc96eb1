import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// What the batch phase of `score --batch` leaves for the live runner: the votes of every collected batch, one
/// file per batch (`batches/{label}.votes.jsonl`, written when the batch is collected, lines `{call index}\t{vote}`
/// sorted by call index), read back in plan order by ``BatchVoteReader`` as the runner reaches each item. The
/// votes are never all held: memory is one line per batch file.
package struct BatchCollected: Sendable {
    /// The votes files of the collected batches (absolute paths).
    package var files: [String] = []
    /// Those of `files` collected by an earlier session of the run (`--resume`): their votes are reused only while
    /// their call's inputs are unchanged, and their error votes only when the batch gave them (as the journal's).
    package var earlier: Set<String> = []
    /// `--batch-fallback live`: a batch's error votes are left out, so the live runner asks those calls again.
    package var dropErrors = false

    package init(files: [String] = [], dropErrors: Bool = false) {
        self.files = files
        self.dropErrors = dropErrors
    }

    /// The votes file of a chunk whose input file is `batches/{label}.jsonl` (relative to the run directory).
    package static func votesFile(of chunk: BatchChunk) -> String {
        chunk.file.hasSuffix(".jsonl") ? String(chunk.file.dropLast(6)) + ".votes.jsonl" : chunk.file + ".votes.jsonl"
    }

    /// Writes a chunk's votes sorted by call index, atomically (a temporary file renamed into place), so that a
    /// chunk journaled as collected always has its whole votes file.
    package static func write(_ entries: [(index: Int, line: String)], to path: String) throws {
        var data = Data()
        for e in entries.sorted(by: { $0.index < $1.index }) {
            data.append(contentsOf: "\(e.index)\t".utf8)
            data.append(contentsOf: e.line.utf8)
            data.append(10)
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        do {
            try data.write(to: partial)
            let h = try FileHandle(forWritingTo: partial)
            try h.synchronize()
            try h.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: partial, to: url)
        } catch {
            throw JudgePanelError.io("cannot write the batch's votes: \(error.localizedDescription)", file: path)
        }
    }
}

/// Reads the collected batches' votes files together in call-index order (a k-way merge: one pending line per
/// file), handing the live runner each item's batch votes as it reaches the item.
package final class BatchVoteReader {
    private struct Head {
        var index: Int
        var vote: Vote
        var source: Int
    }
    private var isEarlier: [Bool] = []

    private let collected: BatchCollected
    private var readers: [LineReader] = []
    private var lastIndex: [Int] = []
    /// A binary min-heap on (call index, source).
    private var heap: [Head] = []
    /// Error votes left out for `--batch-fallback live`.
    package private(set) var droppedErrors = 0

    package init(_ collected: BatchCollected) throws {
        self.collected = collected
        for path in collected.files {
            readers.append(try LineReader(path: path, chunkSize: 1 << 16))
            lastIndex.append(-1)
            isEarlier.append(collected.earlier.contains(path))
        }
        for source in readers.indices {
            if let head = try read(source) { push(head) }
        }
    }

    /// The batch votes of the calls with index below `end` not yet handed out, keyed by call key
    /// (``/JudgePanelCore/Vote/key``); a vote of a batch collected by an earlier session only when `reuse` accepts
    /// it. Calls must be asked for in increasing index order.
    package func votes(before end: Int, reuse: (Vote) -> Bool = { _ in true }) throws -> [String: Vote] {
        var out: [String: Vote] = [:]
        while let top = heap.first, top.index < end {
            pop()
            if collected.dropErrors && top.vote.status == .error {
                droppedErrors += 1
            } else if !isEarlier[top.source] || reuse(top.vote) {
                out[top.vote.key] = top.vote
            }
            if let next = try read(top.source) { push(next) }
        }
        return out
    }

    /// Whether every file was read to its end.
    package var isExhausted: Bool { heap.isEmpty }

    private func read(_ source: Int) throws -> Head? {
        let path = collected.files[source]
        let parsed = try readers[source].nextBytes { number, bytes -> (Int, Vote) in
            guard let tab = bytes.firstIndex(of: 9),
                let index = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[..<tab]), as: UTF8.self))
            else {
                throw JudgePanelError.badInput(
                    "not a batch vote line ({call index}<TAB>{vote})", file: path, line: number)
            }
            let rest = UnsafeBufferPointer(rebasing: bytes[(tab + 1)...])
            do {
                return (index, try JSONDecoder().decode(Vote.self, from: Data(rest)))
            } catch {
                throw JudgePanelError.badInput("invalid vote: \(VotesFile.describe(error))", file: path, line: number)
            }
        }
        guard let (index, vote) = parsed else { return nil }
        guard index > lastIndex[source] else {
            throw JudgePanelError.badInput(
                "batch votes out of call order (index \(index) after \(lastIndex[source]))", file: path)
        }
        lastIndex[source] = index
        return Head(index: index, vote: vote, source: source)
    }

    private static func less(_ a: Head, _ b: Head) -> Bool { (a.index, a.source) < (b.index, b.source) }

    private func push(_ h: Head) {
        heap.append(h)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private func pop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count, Self.less(heap[l], heap[m]) { m = l }
            if r < heap.count, Self.less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}

extension ScoreJob {
    /// Each item's finished votes for the live runner of a `score --batch` run: the item's batch votes (read in
    /// call order from the collected batches' votes files) under the journal's `completed` votes, which win as
    /// they did when both were held. A vote of a batch collected by an earlier session is reused only while its
    /// fingerprint matches the call's (`--resume-changed` re-asks the rest live) and, if an error, only when the batch
    /// gave it (`batch_failed`, `expired`, `canceled`): other errors are asked again like the journal's.
    /// Called once per item, in item order.
    func batchVoteLookup(
        _ collected: BatchCollected, completed: [String: Vote]
    ) throws -> (Int, Item) throws -> [String: Vote] {
        let reader = try BatchVoteReader(collected)
        var nextCall = 0
        let rubric = rubric
        let panel = panel
        let checklists = options.checklists
        return { i, item in
            let calls = Call.plan(itemIndex: i, item: item, rubric: rubric, panel: panel)
            nextCall += calls.count
            let checklist = checklists[item.id]
            var done = try reader.votes(before: nextCall) { vote in
                guard vote.status != .error || vote.reason.map(VoteReason.batchReasons.contains) == true,
                    let call = calls.first(where: {
                        $0.key(itemID: item.id, judgeName: panel.judges[$0.judge].name) == vote.key
                    })
                else { return false }
                return vote.fingerprint
                    == CallExecutor.fingerprint(
                        call: call, item: item, judge: panel.judges[call.judge], rubric: rubric, checklist: checklist)
            }
            for call in calls {
                let key = call.key(itemID: item.id, judgeName: panel.judges[call.judge].name)
                if let v = completed[key] { done[key] = v }
            }
            return done
        }
    }
}
