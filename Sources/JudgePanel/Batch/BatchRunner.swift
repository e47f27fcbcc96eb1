import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// The batch phase of `score --batch`: sends the calls of `openai`, `anthropic` and `gemini` judges through the providers'
/// batch APIs and journals their votes; the live runner then does the rest (other judges, cache hits and — with
/// `--batch-fallback live` — the requests a batch failed).
///
/// **Never twice.** Every step is written to the run's ``BatchLedger`` (fsynced) the moment its result exists:
/// the chunk and its input file before upload, the file id before the batch is created, the intent to create just
/// before the create request, the batch id as soon as it is answered. A resumed run therefore
/// - re-uploads a chunk that has no file id (an orphan upload costs nothing),
/// - for a chunk whose create was sent but whose id was never journaled, first looks for the batch: OpenAI by the
///   `metadata` (`judgepanel_run`, `judgepanel_chunk`) it was created with, Gemini by its `display_name`
///   (`judgepanel {run} {chunk}`); Anthropic (no metadata) by a batch
///   created after the intent with the chunk's request count that no other chunk owns — one match is adopted,
///   several stop the run with their ids, none means the create never arrived and it is sent again,
/// - polls every journaled batch id and never plans a call that a chunk already holds.
///
/// Calls are planned item by item straight into the chunk files (one open file per judge), so memory does not
/// grow with the number of calls beyond one bit per call (and a few bytes an item: see ``callOffsets(_:)``). `custom_id` is `c{index}_{fingerprint prefix}` — the
/// call's index in plan order (items × judges × orders × samples) and the first 16 hex digits of its call
/// fingerprint — which fits Anthropic's `^[a-zA-Z0-9_-]{1,64}$`; results are mapped back by recomputing the call at
/// that index and checking the fingerprint, and a line that maps to nothing is reported (stderr and the ledger).
package struct BatchRunner {
    package let job: ScoreJob
    package let dir: RunDirectory
    package let journal: VoteJournal
    package let options: BatchOptions
    package let counters: RunCounters

    package var rubric: Rubric { job.rubric }
    package var panel: Panel { job.panel }

    package func say(_ text: String) { options.progress?(text) }

    /// Runs the batch phase; returns where the batch votes the live runner must treat as finished are
    /// (``BatchCollected``: one sorted votes file per collected batch, read back as the runner reaches each item).
    package func run(completed: [String: Vote]) async throws -> BatchCollected {
        try await RunTransport.with(job.options.transport, judges: panel.judges, environment: job.options.environment) {
            try await run(completed: completed, transport: $0)
        }
    }

    /// ``run(completed:)`` over `transport`.
    private func run(completed: [String: Vote], transport: any HTTPTransport) async throws -> BatchCollected {
        let batchJudges = Set(panel.judges.indices.filter { panel.judges[$0].provider.supportsBatch })
        guard !batchJudges.isEmpty else {
            say("batch: no openai, anthropic or gemini judge in the panel; every call runs live")
            return BatchCollected()
        }
        let ledger = try BatchLedger(dir: dir)
        defer { ledger.close() }
        var backends: [String: any BatchBackend] = [:]
        for j in batchJudges {
            let judge = panel.judges[j]
            backends[judge.name] = try BatchBackends.make(
                judge: judge, environment: job.options.environment, transport: transport,
                geminiInlineBytes: options.geminiInlineBytes)
        }
        let keys = panel.judges.flatMap { $0.keyVariables.compactMap { job.options.environment[$0] } }

        // Global call indices: the first index of every item (8 bytes an item), and, for items read from their
        // file, where each item's line starts (``ItemPositions``: 12 bytes an item) to map results back.
        let (offsets, positions) = try Self.callOffsets(job)
        let total = offsets.last ?? 0
        var covered = BitSet(count: total)
        for chunk in ledger.snapshot { for r in chunk.ranges where r.upperBound <= total { covered.insert(r) } }

        // Everything already journaled (errors too): the batch's own failures stay final unless falling back.
        var journaled: [String: Vote] = [:]
        if FileManager.default.fileExists(atPath: dir.journalPath) {
            for v in try VotesFile.load(path: dir.journalPath, tolerateTruncatedTail: true) { journaled[v.key] = v }
        }
        let context = Context(
            job: job, offsets: offsets, positions: positions, backends: backends, keys: keys, transport: transport,
            discount: { judge in judge.batchDiscount })
        context.runID = ledger.runID

        // Batches an earlier session collected: their votes are checked against the current inputs when reused.
        let collectedBefore = Set(ledger.snapshot.filter(\.collected).map(\.label))

        // 1. Chunks of an earlier session that never got a batch id.
        for chunk in ledger.snapshot where chunk.batchID == nil {
            guard let backend = backends[chunk.judge] else { throw Self.notBatchJudge(chunk, ledger: ledger) }
            try await submit(chunk, backend: backend, ledger: ledger, resumed: true)
        }

        // 2. Plan the calls no chunk holds, straight into chunk files, submitting each chunk as it fills.
        let planned = try await plan(
            batchJudges: batchJudges, offsets: offsets, covered: covered, completed: completed, journaled: journaled,
            backends: backends, firstSequence: ledger.snapshot.count, runID: ledger.runID
        ) { chunk, backend in
            try await submit(chunk, backend: backend, ledger: ledger, resumed: false)
        }
        if planned > 0 { say("batch: \(planned) requests planned into batches this session") }

        // 3. Poll every batch not yet collected, with backoff, and collect each as it ends.
        var interval = options.pollInterval
        while true {
            let pending = ledger.snapshot.filter { !$0.collected && $0.batchID != nil }
            if pending.isEmpty { break }
            var ended = 0
            for chunk in pending {
                guard let backend = backends[chunk.judge] else { throw Self.notBatchJudge(chunk, ledger: ledger) }
                let status: BatchStatus
                do {
                    status = try await backend.retrieve(chunk.batchID!)
                } catch let e as ProviderError where e.isRetryable {
                    // A batch runs for hours: a failed poll is tried again at the next round, not fatal.
                    say(
                        "batch \(chunk.label): status poll failed (\(BatchScrub.scrub(e.message, keys: keys))); trying again"
                    )
                    continue
                } catch let e as ProviderError where e.status == 404 {
                    // The provider no longer knows the batch (deleted, another account's key, results purged): an
                    // environment failure (exit 3), not bad input and not a finished run.
                    throw JudgePanelError.io(
                        "batch \(chunk.label) [\(chunk.judge)] \(chunk.batchID!): the provider no longer knows this batch (HTTP 404: "
                            + "\(BatchScrub.scrub(e.message, keys: keys))); check the key and account, or remove its chunk from "
                            + "\(ledger.path) to plan its calls again", file: ledger.path)
                }
                say("batch \(chunk.label) [\(chunk.judge)] \(status.id): \(status.state) — \(status.countsText)")
                if status.ended {
                    try await collect(
                        chunk, status: status, backend: backend, context: context, ledger: ledger, journaled: journaled)
                    ended += 1
                }
            }
            if ended == pending.count { continue }
            try await Task.sleep(for: .seconds(interval))
            interval = min(options.maxPollInterval, interval * 1.5)
        }
        var collected = BatchCollected(dropErrors: options.fallback == .live)
        var failed = 0
        for chunk in ledger.snapshot where chunk.collected {
            let path = dir.url.appendingPathComponent(BatchCollected.votesFile(of: chunk)).path
            if !FileManager.default.fileExists(atPath: path) {
                // Collected by a judgepanel that kept batch votes in memory: its votes are in the journal.
                try rebuildVotesFile(chunk, path: path, context: context, journaled: journaled)
            }
            collected.files.append(path)
            if collectedBefore.contains(chunk.label) { collected.earlier.insert(path) }
            failed += chunk.errors ?? 0
        }
        if options.fallback == .live, failed > 0 {
            say("batch: \(failed) failed, expired or canceled requests will be sent live (--batch-fallback live)")
        }
        return collected
    }

    /// The first call index of every item (and the total last), and — for a job that reads its items from the
    /// file — where each item's line starts, from one pass over the items.
    static func callOffsets(_ job: ScoreJob) throws -> ([Int], ItemPositions?) {
        var offsets: [Int] = []
        var total = 0
        var positions: ItemPositions?
        if let source = job.itemsSource {
            offsets.reserveCapacity(source.count + 1)
            positions = try ItemPositions(path: job.itemsPath, loader: source.loader, keep: job.itemFilter) { i, item in
                offsets.append(total)
                total += Call.plan(itemIndex: i, item: item, rubric: job.rubric, panel: job.panel).count
            }
            guard positions?.count == source.count else { throw ScoreJob.itemsChanged(job.itemsPath) }
        } else {
            offsets.reserveCapacity(job.items.count + 1)
            for (i, item) in job.items.enumerated() {
                offsets.append(total)
                total += Call.plan(itemIndex: i, item: item, rubric: job.rubric, panel: job.panel).count
            }
        }
        offsets.append(total)
        return (offsets, positions)
    }

    /// Writes the votes file of a chunk collected without one, from the journal (every collected call was
    /// journaled before the chunk was marked collected).
    private func rebuildVotesFile(_ chunk: BatchChunk, path: String, context: Context, journaled: [String: Vote]) throws
    {
        var entries: [(index: Int, line: String)] = []
        for range in chunk.ranges {
            for index in range {
                guard let (call, item) = try context.call(at: index) else { continue }
                let key = call.key(itemID: item.id, judgeName: panel.judges[call.judge].name)
                if let v = journaled[key], v.fingerprint == context.fingerprint(call: call, item: item) {
                    entries.append((index, try VotesFile.line(v)))
                }
            }
        }
        try BatchCollected.write(entries, to: path)
    }

    /// Streams the items once and writes every call that needs a batch into its judge's chunk file, handing each
    /// full (and finally each last) chunk to `send`; returns how many requests it planned.
    package func plan(
        batchJudges: Set<Int>, offsets: [Int], covered: BitSet, completed: [String: Vote], journaled: [String: Vote],
        backends: [String: any BatchBackend], firstSequence: Int, runID: String = "",
        send: (BatchChunk, any BatchBackend) async throws -> Void
    ) async throws -> Int {
        var writers: [String: ChunkWriter] = [:]
        var sequence = firstSequence
        var planned = 0
        var i = -1
        for try await item in try job.itemSequence() {
            i += 1
            let calls = Call.plan(itemIndex: i, item: item, rubric: rubric, panel: panel)
            let checklist = job.options.checklists[item.id]
            for (n, call) in calls.enumerated() where batchJudges.contains(call.judge) {
                let index = offsets[i] + n
                let judge = panel.judges[call.judge]
                let key = call.key(itemID: item.id, judgeName: judge.name)
                if completed[key] != nil { continue }
                let request = CallExecutor.request(
                    call: call, item: item, judge: judge, rubric: rubric, checklist: checklist)
                let fingerprint = RunFingerprint.call(request: request, judge: judge, rubric: rubric, call: call)
                if let old = journaled[key], old.status == .error, let reason = old.reason,
                    VoteReason.batchReasons.contains(reason),
                    old.fingerprint == fingerprint
                {
                    // The batch's final word (its chunk's votes file holds it), or — falling back — asked live.
                    continue
                }
                if covered.contains(index) { continue }
                if let cache = job.options.cache,
                    cache.get(ResponseCache.key(judge: judge, request: request, sample: call.sample)) != nil
                {
                    continue  // the live runner answers it from the cache
                }
                // `backends` holds every judge of `batchJudges` (built together by the caller).
                guard let backend = backends[judge.name] else { continue }
                let line = try backend.line(
                    customID: Self.customID(index: index, fingerprint: fingerprint, runID: runID), request: request)
                if let w = writers[judge.name],
                    !w.fits(line.count, backend: backend, limit: options.maxRequestsPerBatch)
                {
                    writers[judge.name] = nil
                    try await send(try w.finish(), backend)
                }
                // Taken out of the dictionary while it grows, so no second reference copies its buffer.
                var writer: ChunkWriter
                if let open = writers.removeValue(forKey: judge.name) {
                    writer = open
                } else {
                    sequence += 1
                    writer = try ChunkWriter(dir: dir, label: "b\(sequence)-\(Self.safe(judge.name))", judge: judge)
                }
                try writer.append(line, index: index)
                writers[judge.name] = writer
                planned += 1
            }
        }
        guard i + 1 == offsets.count - 1 else { throw ScoreJob.itemsChanged(job.itemsPath) }
        for (name, writer) in writers.sorted(by: { $0.key < $1.key }) {
            guard let backend = backends[name] else { continue }  // a writer is opened only with its backend
            try await send(try writer.finish(), backend)
        }
        return planned
    }

    /// Plans every batch call of `job` into chunk files under `dir` without sending anything (the planning
    /// benchmark); `onChunk` sees each finished chunk's file, requests and bytes (and may delete the file).
    package static func planOnly(
        job: ScoreJob, dir: String, maxRequestsPerBatch: Int? = nil, onChunk: (String, Int, Int) throws -> Void
    ) async throws -> (requests: Int, chunks: Int) {
        let run = RunDirectory(path: dir)
        try run.create()
        let journal = try VoteJournal(path: run.journalPath)
        let runner = BatchRunner(
            job: job, dir: run, journal: journal, options: BatchOptions(maxRequestsPerBatch: maxRequestsPerBatch),
            counters: RunCounters())
        // Planning sends nothing, but the backends are built with a transport like a real run's.
        let (requests, chunks) = try await RunTransport.with(
            job.options.transport, judges: job.panel.judges, environment: [:]
        ) {
            transport -> (Int, Int) in
            let judges = Set(job.panel.judges.indices.filter { job.panel.judges[$0].provider.supportsBatch })
            var backends: [String: any BatchBackend] = [:]
            for j in judges {
                let judge = job.panel.judges[j]
                backends[judge.name] = try BatchBackends.make(judge: judge, environment: [:], transport: transport)
            }
            let (offsets, _) = try callOffsets(job)
            var chunks = 0
            let requests = try await runner.plan(
                batchJudges: judges, offsets: offsets, covered: BitSet(count: offsets.last ?? 0), completed: [:],
                journaled: [:],
                backends: backends, firstSequence: 0
            ) { chunk, _ in
                chunks += 1
                try onChunk(run.url.appendingPathComponent(chunk.file).path, chunk.requests, chunk.bytes)
            }
            return (requests, chunks)
        }
        await journal.close()
        return (requests, chunks)
    }

    /// A journaled chunk whose judge is no longer a batch judge of the panel.
    static func notBatchJudge(_ chunk: BatchChunk, ledger: BatchLedger) -> JudgePanelError {
        .usage("\(ledger.path): batch \(chunk.label) belongs to judge '\(chunk.judge)', who is no longer a batch judge")
    }

    package static func safe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(24))
    }

    /// Uploads (when needed), then creates — or, for a create sent by an earlier session, finds — the chunk's batch,
    /// journaling each id as it comes.
    package func submit(_ chunk: BatchChunk, backend: any BatchBackend, ledger: BatchLedger, resumed: Bool) async throws
    {
        if !resumed { try ledger.addChunk(chunk) }
        var chunk = chunk
        let file = dir.url.appendingPathComponent(chunk.file)
        if resumed, let at = chunk.creatingAt,
            let found = try await findCreated(chunk, at: at, backend: backend, ledger: ledger)
        {
            try ledger.update(
                chunk.label,
                event: ["event": "created", "label": .string(chunk.label), "batch_id": .string(found), "adopted": true]
            ) {
                $0.batchID = found
            }
            say(
                "batch \(chunk.label): found batch \(found), created before the interruption but not journaled; not submitting again"
            )
            return
        }
        if chunk.fileID == nil, let id = try await backend.upload(file: file, label: chunk.label) {
            try ledger.update(
                chunk.label, event: ["event": "uploaded", "label": .string(chunk.label), "file_id": .string(id)]
            ) { $0.fileID = id }
            chunk.fileID = id
        }
        let now = Date().timeIntervalSince1970
        try ledger.update(chunk.label, event: ["event": "creating", "label": .string(chunk.label), "at": .number(now)])
        { $0.creatingAt = now }
        let status = try await backend.create(
            file: file, fileID: chunk.fileID,
            metadata: ["judgepanel_run": ledger.runID, "judgepanel_chunk": chunk.label])
        try ledger.update(
            chunk.label, event: ["event": "created", "label": .string(chunk.label), "batch_id": .string(status.id)]
        ) {
            $0.batchID = status.id
        }
        say(
            "batch \(chunk.label) [\(chunk.judge)]: created \(status.id) with \(chunk.requests) requests (\(status.state))"
        )
    }

    /// The `custom_id` of the call at `index`: `c{index}_{first 16 hex digits of its fingerprint}`, then `_{run}` (the
    /// ledger's run id) when known — 1 to 64 characters of `[a-zA-Z0-9_-]`, as Anthropic requires, and unique to this
    /// run directory, so a batch's results prove whose requests it holds.
    /// How far the provider's clock may be behind ours when a batch's `created_at` is compared with the moment our
    /// create request was sent: generous, since a batch wrongly counted as a candidate only costs a wait for its
    /// results, while one wrongly left out would be paid twice.
    static let clockSkew = 60.0

    package static func customID(index: Int, fingerprint: String, runID: String) -> String {
        "c\(index)_\(fingerprint.prefix(16))" + (runID.isEmpty ? "" : "_\(runID)")
    }

    /// A batch this run created for `chunk` but did not journal, if the provider has one; nil when the create
    /// request provably never made a batch (then it is sent again).
    ///
    /// With metadata (OpenAI, Gemini) the batch names its run and chunk. Anthropic's Message Batches carry none: list
    /// gives each batch's `created_at` and `request_counts` only, and a batch's requests show only in its results,
    /// once it has ended (https://docs.anthropic.com/en/api/listing-message-batches,
    /// https://docs.anthropic.com/en/api/retrieving-message-batch-results). So a candidate is a batch created after
    /// our create request was about to be sent (less ``clockSkew`` for the provider's clock) with the chunk's request count that no
    /// chunk owns, and it is proven ours only by its results: exactly the `custom_id`s of the chunk's input file
    /// (which carry this run's id). Candidates still running are waited for (polled as batches are); candidates
    /// whose results are someone else's are left alone. Nothing is ever resubmitted while a candidate could be ours,
    /// and no one is asked to cancel a batch.
    func findCreated(_ chunk: BatchChunk, at: Double, backend: any BatchBackend, ledger: BatchLedger)
        async throws -> String?
    {
        let owned = Set(ledger.snapshot.compactMap(\.batchID))
        let listed = try await backend.list()
        if backend.listsMetadata {
            return listed.first {
                $0.metadata["judgepanel_run"] == ledger.runID && $0.metadata["judgepanel_chunk"] == chunk.label
            }?.id
        }
        var candidates = listed.filter { s in
            guard !owned.contains(s.id), let created = s.createdAt, s.total == chunk.requests else { return false }
            return created >= at - Self.clockSkew
        }
        guard !candidates.isEmpty else { return nil }
        let ours = try chunkCustomIDs(chunk)
        var interval = options.pollInterval
        var said = false
        while true {
            var pending: [BatchStatus] = []
            for candidate in candidates {
                var status = candidate
                if !status.ended { status = try await backend.retrieve(candidate.id) }
                guard status.ended else {
                    pending.append(status)
                    continue
                }
                let ids = Set(try await backend.results(status).map(\.customID))
                if !ours.isEmpty && ours.isSubset(of: ids) { return status.id }
            }
            if pending.isEmpty { return nil }  // every candidate's results are someone else's: ours was never created
            if !said {
                say(
                    "batch \(chunk.label): its create request was sent but its id was never journaled; waiting for "
                        + "\(pending.count) batch(es) created since (\(pending.map(\.id).joined(separator: ", "))) to end, "
                        + "to tell from their results which is this run's (nothing is submitted again meanwhile)")
                said = true
            }
            try await Task.sleep(for: .seconds(interval))
            interval = min(options.maxPollInterval, interval * 1.5)
            candidates = pending
        }
    }

    /// The `custom_id`s of a chunk's input file.
    func chunkCustomIDs(_ chunk: BatchChunk) throws -> Set<String> {
        let path = dir.url.appendingPathComponent(chunk.file).path
        var ids = Set<String>()
        let reader = try LineReader(path: path)
        while let id = try reader.nextBytes({ number, bytes -> String? in
            guard let json = try? JSONValue(jsonData: Data(bytes)) else {
                throw JudgePanelError.badInput("not a JSON line of a batch input", file: path, line: number)
            }
            return json["custom_id"]?.stringValue ?? json["key"]?.stringValue
        }) {
            if let id { ids.insert(id) }
        }
        return ids
    }

    /// Reads an ended batch's results into votes (journaled one by one), reports lines that map to no call, and
    /// gives every call of the chunk without a line an error vote.
    package func collect(
        _ chunk: BatchChunk, status: BatchStatus, backend: any BatchBackend, context: Context, ledger: BatchLedger,
        journaled: [String: Vote]
    ) async throws {
        // This chunk's votes (call index, line), written sorted to its votes file before it is marked collected.
        var entries: [(index: Int, line: String)] = []
        var errors = 0
        func keep(_ index: Int, _ vote: Vote) throws {
            entries.append((index, try VotesFile.line(vote)))
            if vote.status == .error { errors += 1 }
        }
        let lines = status.phase == .failed ? [] : try await backend.results(status)
        var seen = Set<Int>()
        var succeeded = 0
        var failed = 0
        for line in lines {
            guard let (index, call, item) = try context.locate(line.customID, chunk: chunk) else {
                let detail =
                    "custom_id \(line.customID) maps to no call of this batch (unknown index, other judge, or changed inputs)"
                say("batch \(chunk.label): \(detail)")
                try ledger.append([
                    "event": "unmapped", "label": .string(chunk.label), "custom_id": .string(line.customID),
                    "detail": .string(detail),
                ])
                continue
            }
            guard seen.insert(index).inserted else {
                say("batch \(chunk.label): custom_id \(line.customID) answered twice; the first answer is kept")
                try ledger.append([
                    "event": "unmapped", "label": .string(chunk.label), "custom_id": .string(line.customID),
                    "detail": "duplicate line",
                ])
                continue
            }
            let judge = panel.judges[call.judge]
            let key = call.key(itemID: item.id, judgeName: judge.name)
            if let old = journaled[key], old.fingerprint == context.fingerprint(call: call, item: item),
                old.status != .error || old.reason.map(VoteReason.batchReasons.contains) == true
            {
                try keep(index, old)  // journaled by an earlier session before it was killed
                continue
            }
            let vote = try await context.vote(call: call, item: item, outcome: line.outcome, counters: counters)
            if vote.status == .error { failed += 1 } else { succeeded += 1 }
            try await journal.append(vote)
            try keep(index, vote)
        }
        // Calls the results do not mention.
        let missingReason: VoteReason =
            switch status.phase {
            case .expired: .expired
            case .cancelled: .canceled
            case .running, .cancelling, .ended, .failed: .batchFailed
            }
        for range in chunk.ranges {
            for index in range where !seen.contains(index) {
                guard let (call, item) = try context.call(at: index) else { continue }
                let judge = panel.judges[call.judge]
                let key = call.key(itemID: item.id, judgeName: judge.name)
                if let old = journaled[key], old.fingerprint == context.fingerprint(call: call, item: item),
                    old.status != .error || old.reason.map(VoteReason.batchReasons.contains) == true
                {
                    try keep(index, old)
                    continue
                }
                let why =
                    status.failure.map { "the batch failed: \(BatchScrub.scrub($0, keys: context.keys))" }
                    ?? "no result line for this request (batch \(status.id) ended \(status.state))"
                var vote = context.errorVote(call: call, item: item, reason: missingReason, message: why)
                vote.fingerprint = context.fingerprint(call: call, item: item)
                counters.record(vote)
                failed += 1
                try await journal.append(vote)
                try keep(index, vote)
            }
        }
        try BatchCollected.write(entries, to: dir.url.appendingPathComponent(BatchCollected.votesFile(of: chunk)).path)
        try ledger.update(
            chunk.label,
            event: [
                "event": "collected", "label": .string(chunk.label), "state": .string(status.state),
                "succeeded": .number(Double(succeeded)), "failed": .number(Double(failed)),
                "errors": .number(Double(errors)),
            ]
        ) {
            $0.collected = true
            $0.errors = errors
            $0.finalState = status.state
        }
        say("batch \(chunk.label) [\(chunk.judge)] \(status.id): collected \(succeeded) answers, \(failed) failed")
    }
}

extension BatchRunner {
    /// What mapping results back needs: the plan, the judges' providers (for the repair re-ask), prices.
    package final class Context: @unchecked Sendable {
        package let job: ScoreJob
        package let offsets: [Int]
        /// Where a streamed job's items are in their file (nil: `job.items` holds them).
        package let positions: ItemPositions?
        let backends: [String: any BatchBackend]
        package let keys: [String]
        /// What the repair re-asks are sent through.
        package let transport: any HTTPTransport
        package let discount: (JudgeConfig) -> Double
        private var runtimes: [String: JudgeRuntime] = [:]
        /// The run's id (the ledger's), which custom ids written since carry; empty: not checked.
        var runID = ""
        private var scrubbers: [String: SecretScrubber] = [:]

        /// The judge's secrets and the process's, as its live calls are scrubbed (made once per judge).
        package func scrubber(_ judge: JudgeConfig) -> SecretScrubber {
            if let s = scrubbers[judge.name] { return s }
            let s = SecretScrubber(secrets: judge.secrets(environment: job.options.environment)).withRegistered()
            scrubbers[judge.name] = s
            return s
        }

        package init(
            job: ScoreJob, offsets: [Int], positions: ItemPositions? = nil, backends: [String: any BatchBackend],
            keys: [String],
            transport: any HTTPTransport, discount: @escaping (JudgeConfig) -> Double
        ) {
            self.job = job
            self.offsets = offsets
            self.positions = positions
            self.backends = backends
            self.keys = keys
            self.transport = transport
            self.discount = discount
        }

        package func call(at index: Int) throws -> (Call, Item)? {
            guard index >= 0, index < offsets.last ?? 0 else { return nil }
            // The last item whose first index is <= index.
            var lo = 0
            var hi = offsets.count - 2
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if offsets[mid] <= index { lo = mid } else { hi = mid - 1 }
            }
            let item = try positions?.item(at: lo) ?? job.items[lo]
            let calls = Call.plan(itemIndex: lo, item: item, rubric: job.rubric, panel: job.panel)
            let n = index - offsets[lo]
            guard calls.indices.contains(n) else { return nil }
            return (calls[n], item)
        }

        package func fingerprint(call: Call, item: Item) -> String {
            CallExecutor.fingerprint(
                call: call, item: item, judge: job.panel.judges[call.judge], rubric: job.rubric,
                checklist: job.options.checklists[item.id])
        }

        /// The call a `custom_id` names, if it is one of `chunk`'s and its fingerprint still matches.
        package func locate(_ customID: String, chunk: BatchChunk) throws -> (Int, Call, Item)? {
            guard customID.hasPrefix("c") else { return nil }
            // `c{index}_{fingerprint}` or, since runs prove their Anthropic batches by it, `c{index}_{fingerprint}_{run}`.
            var parts = customID.dropFirst().split(separator: "_", omittingEmptySubsequences: false)
            if parts.count == 3 {
                guard runID.isEmpty || parts[2] == runID else { return nil }
                parts.removeLast()
            }
            guard parts.count == 2, let index = Int(parts[0]), chunk.contains(index),
                let (call, item) = try self.call(at: index),
                job.panel.judges[call.judge].name == chunk.judge,
                fingerprint(call: call, item: item).hasPrefix(parts[1])
            else { return nil }
            return (index, call, item)
        }

        package func errorVote(call: Call, item: Item, reason: VoteReason, message: String) -> Vote {
            var vote = Vote(
                item: item.id, judge: job.panel.judges[call.judge].name, protocol: job.rubric.kind, order: call.order,
                sample: call.sample)
            vote.variant = call.variant
            vote.side = call.side
            vote.status = .error
            vote.reason = reason
            vote.error = message
            vote.attempts = 1
            vote.cached = false
            return vote
        }

        package func runtime(_ judge: JudgeConfig) throws -> JudgeRuntime {
            if let r = runtimes[judge.name] { return r }
            let provider = try ProviderFactory.make(
                judge: judge, baseURLs: judge.baseURLs, environment: job.options.environment, transport: transport)
            let r = JudgeRuntime(config: judge, provider: provider)
            runtimes[judge.name] = r
            return r
        }

        /// The vote for one result line: the provider's body is read by the provider's own parser and the answer by
        /// the same ``AnswerParser`` as a live call (an unreadable answer gets the live repair re-ask).
        package func vote(call: Call, item: Item, outcome: BatchLineOutcome, counters: RunCounters) async throws -> Vote
        {
            let judge = job.panel.judges[call.judge]
            let checklist = job.options.checklists[item.id]
            let request = CallExecutor.request(
                call: call, item: item, judge: judge, rubric: job.rubric, checklist: checklist)
            let fingerprint = RunFingerprint.call(request: request, judge: judge, rubric: job.rubric, call: call)
            func failure(_ reason: VoteReason, _ text: String) -> Vote {
                var v = errorVote(call: call, item: item, reason: reason, message: BatchScrub.scrub(text, keys: keys))
                v.fingerprint = fingerprint
                counters.record(v)
                return v
            }
            let data: Data
            switch outcome {
            case .failed(let m): return failure(.batchFailed, "batch_failed: " + m)
            case .expired(let m): return failure(.expired, "expired: " + m)
            case .canceled(let m): return failure(.canceled, "canceled: " + m)
            case .response(let d): data = d
            }
            let response: CompletionResponse
            do {
                let parsed: CompletionResponse
                switch judge.provider {
                case .anthropic: parsed = try AnthropicProvider.parse(data)
                case .gemini: parsed = try GeminiProvider.parse(data)
                default: parsed = try OpenAIProvider.parse(data)
                }
                // Scrubbed before it reaches the vote or the cache, as a live reply is.
                response = scrubber(judge).scrubbed(parsed)
            } catch let e as ProviderError {
                return failure(.batchFailed, "batch_failed: " + e.message)
            }
            let batchPrice = judge.price.map { p in
                Price(
                    inputPerMTok: p.inputPerMTok * (1 - discount(judge)),
                    outputPerMTok: p.outputPerMTok * (1 - discount(judge)))
            }
            let executor = CallExecutor(
                rubric: job.rubric, cache: job.options.cache, retry: job.options.retry, stats: counters)
            var vote = try await BatchVotes.vote(
                call: call, item: item, judge: judge, rubric: job.rubric, request: request, first: response,
                questionCount: CallExecutor.questions(
                    rubric: job.rubric, shown: CallExecutor.shown(item, call: call), checklist: checklist)?.count
                    ?? job.rubric.checklist?.items.count ?? 0, batchPrice: batchPrice
            ) { repair in
                try await executor.send(repair, sample: call.sample, judge: try self.runtime(judge))
            }
            vote.fingerprint = fingerprint
            if let cache = job.options.cache {
                cache.put(ResponseCache.key(judge: judge, request: request, sample: call.sample), response)
            }
            counters.record(vote)
            return vote
        }
    }
}

/// The input file of one chunk, written line by line.
struct ChunkWriter {
    package let label: String
    package let judge: JudgeConfig
    package let relative: String
    package let handle: FileHandle
    package var ranges: [Range<Int>] = []
    package var requests = 0
    package var bytes = 0

    package init(dir: RunDirectory, label: String, judge: JudgeConfig) throws {
        self.label = label
        self.judge = judge
        relative = "batches/\(label).jsonl"
        let folder = dir.url.appendingPathComponent("batches")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = dir.url.appendingPathComponent(relative).path
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path)
        else {
            throw JudgePanelError.io("cannot create batch input", file: path)
        }
        handle = h
    }

    package func fits(_ lineBytes: Int, backend: any BatchBackend, limit: Int?) -> Bool {
        let most = min(backend.maxRequests, limit ?? .max)
        // Anthropic's body wraps the lines in {"requests":[...]} with commas: a few bytes more than the file.
        return requests + 1 <= most && bytes + lineBytes + 1 + 64 <= backend.maxBytes
    }

    package mutating func append(_ line: Data, index: Int) throws {
        try handle.write(contentsOf: line + Data([10]))
        requests += 1
        bytes += line.count + 1
        if let last = ranges.last, last.upperBound == index {
            ranges[ranges.count - 1] = last.lowerBound..<(index + 1)
        } else {
            ranges.append(index..<(index + 1))
        }
    }

    package func finish() throws -> BatchChunk {
        try handle.synchronize()
        try handle.close()
        return BatchChunk(
            label: label, judge: judge.name, provider: judge.provider.rawValue, ranges: ranges, requests: requests,
            bytes: bytes,
            file: relative)
    }
}

/// One bit per call.
package struct BitSet {
    private var words: [UInt64]
    package init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }
    package func contains(_ i: Int) -> Bool { i / 64 < words.count && words[i / 64] & (1 << UInt64(i % 64)) != 0 }
    package mutating func insert(_ r: Range<Int>) {
        for i in r where i / 64 < words.count { words[i / 64] |= 1 << UInt64(i % 64) }
    }
}
