import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats
import Synchronization

/// Options for a panel run.
public struct RunOptions: Sendable {
    /// The response cache; nil (the default) makes no cache: a library run writes nothing to disk unless asked
    /// (the CLI passes `ResponseCache(directory: ResponseCache.defaultDirectory())` unless `--no-cache`).
    public var cache: ResponseCache?
    /// How failed calls are retried.
    public var retry: RetryPolicy
    /// Environment for API keys and paths (keys are read, never written anywhere).
    public var environment: [String: String]
    /// An injected transport for every judge (tests; its owner shuts it down); nil makes one
    /// ``/JudgePanelProviders/AsyncHTTPClientTransport`` per run, sized to the judges' concurrency, with proxies from `environment`, and
    /// shuts it down when the run ends.
    public var transport: (any HTTPTransport)?
    /// Overrides the panel's aggregation method.
    public var aggregate: AggregationMethod?
    /// Overrides the panel's flip policy.
    public var flip: FlipPolicy?
    /// Pre-generated checklists per item id (checklist rubrics).
    public var checklists: [String: [String]]
    /// The provider factories by kind (``/JudgePanelProviders/ProviderRegistry/standard`` unless a library user adds or replaces one).
    public var providers: ProviderRegistry
    /// Which calls the run makes per item (`score --adaptive` sets `.adaptive`); journaling, resuming,
    /// caching and the written files are the same under every policy.
    public var policy: CallPolicy = .full
    /// Judge lanes shared with other runs of this process (`serve`): one lane per judge configuration, so that its
    /// concurrency and rate limits hold across concurrent runs. Needs an injected ``transport``.
    var judgeRuntimes: JudgeRuntimePool?
    /// Sees each vote's votes-file line as it is journaled (`serve`'s `vote` notifications); votes reused by
    /// `--resume` are not journaled again, so not seen.
    var onJournaled: (@Sendable (String) -> Void)?

    /// Options for a run; every default leaves no trace on disk (no cache) and reads keys from the process environment.
    public init(
        cache: ResponseCache? = nil, retry: RetryPolicy = RetryPolicy(),
        environment: [String: String] = ProcessInfo.processInfo.environment, transport: (any HTTPTransport)? = nil,
        aggregate: AggregationMethod? = nil, flip: FlipPolicy? = nil, checklists: [String: [String]] = [:],
        providers: ProviderRegistry = .standard
    ) {
        self.cache = cache
        self.retry = retry
        self.environment = environment
        self.transport = transport
        self.aggregate = aggregate
        self.flip = flip
        self.checklists = checklists
        self.providers = providers
    }
}

/// A finished run: votes in plan order and one verdict per item.
public struct RunResult: Sendable {
    /// The items judged, in input order.
    public package(set) var items: [Item]
    /// One result per item, in input order.
    public package(set) var results: [ItemResult]
    /// What the run's calls did (votes, errors, cache hits, tokens, dollars).
    public package(set) var counters: RunCounters.Snapshot
    /// Wall-clock seconds the run took.
    public package(set) var wallSeconds: Double
    /// What judges' servers asked for during the run (a parameter dropped or renamed, logprobs unavailable),
    /// one line each, for the run summary.
    public package(set) var adjustments: [String] = []

    /// Every vote of the run, in plan order.
    public var votes: [Vote] { results.flatMap(\.votes) }
    /// The panel's verdict per item, in input order.
    public var verdicts: [Verdict] { results.map(\.verdict) }
}

/// Runs a panel of judges over items: every judge × item × order concurrently, bounded by each judge's
/// `concurrency`, with caching, retries, journaling and reconciliation.
///
/// ```swift
/// import JudgePanel
///
/// let panel = try Panel.load(path: "panels/local.yaml")
/// let rubric = try Rubric.load(path: "rubrics/pairwise-mtbench.yaml")
/// let runner = PanelRunner(panel: panel, rubric: rubric)  // no disk cache unless `RunOptions(cache:)` names one
/// let result = try await runner.judge(Item(id: "1", prompt: "2+2?", responseA: "4", responseB: "5"))
/// print(result.verdict.verdict?.rawValue ?? "abstained")
/// ```
public final class PanelRunner: Sendable {
    /// The judges and how their verdicts are combined.
    public let panel: Panel
    /// What the judges are asked and how their answers are read.
    public let rubric: Rubric
    /// The run's options.
    public let options: RunOptions

    private struct Started: Sendable {
        var runtimes: [JudgeRuntime]
        var servers: [LlamaServer]
        /// The run's own transport (none when one was injected).
        var transport: AsyncHTTPClientTransport?
    }

    private let started = Mutex<Started?>(nil)

    /// A runner for `panel` and `rubric`; nothing starts until the first run (or ``start()``).
    public init(panel: Panel, rubric: Rubric, options: RunOptions = RunOptions()) {
        self.panel = panel
        self.rubric = rubric
        self.options = options
    }

    package var flip: FlipPolicy { options.flip ?? panel.flip }
    package var aggregator: Aggregator {
        Aggregator(
            method: options.aggregate ?? panel.aggregate,
            weights: Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) }))
    }

    /// Starts local servers (for `llamacpp` judges), the run's HTTP client and the providers. Called by the run
    /// methods when needed; call it yourself to judge many single items without restarting servers or reconnecting,
    /// then ``shutdown()``.
    public func start() async throws {
        if started.withLock({ $0 != nil }) { return }
        // Panels built in code skip the loader's checks: an `rpm: 0` would wait forever, a negative timeout fail.
        for judge in panel.judges {
            if let p = PanelValidation.problems(judge).first {
                throw JudgePanelError.badInput("judge '\(judge.name)': \(p.message)", file: panel.source)
            }
        }
        var servers: [LlamaServer] = []
        var runtimes: [JudgeRuntime] = []
        var owned: AsyncHTTPClientTransport?
        do {
            let transport: any HTTPTransport
            if let injected = options.transport {
                transport = injected
            } else {
                let made = try RunTransport.make(judges: panel.judges, environment: options.environment)
                owned = made
                transport = made
            }
            for judge in panel.judges {
                var urls = judge.baseURLs
                if judge.provider == .llamacpp, let settings = judge.llamacpp {
                    let s = try await LlamaServer.start(
                        settings: settings, judgeName: judge.name, environment: options.environment)
                    servers.append(s)
                    urls = [s.baseURL]
                }
                let (judgeURLs, options) = (urls, self.options)
                let make = {
                    let provider = try ProviderFactory.make(
                        judge: judge, baseURLs: judgeURLs, environment: options.environment, transport: transport,
                        registry: options.providers)
                    return JudgeRuntime(config: judge, provider: provider, environment: options.environment)
                }
                if let pool = options.judgeRuntimes, options.transport != nil, judge.provider != .llamacpp {
                    runtimes.append(try pool.runtime(for: judge, make: make))
                } else {
                    runtimes.append(try make())
                }
            }
        } catch {
            for s in servers { await s.stop() }
            await RunTransport.shutdown(owned, after: error)
            throw error
        }
        let lost = started.withLock { state -> Started? in
            if state != nil { return Started(runtimes: [], servers: servers, transport: owned) }
            state = Started(runtimes: runtimes, servers: servers, transport: owned)
            return nil
        }
        if let lost {
            for s in lost.servers { await s.stop() }
            try await lost.transport?.shutdown()
        }
    }

    /// Stops local servers started by ``start()`` and shuts the run's HTTP client down (closing its connections and
    /// stopping its event-loop threads).
    public func shutdown() async throws {
        let stopping = started.withLock { state -> Started? in
            defer { state = nil }
            return state
        }
        guard let stopping else { return }
        for s in stopping.servers { await s.stop() }
        try await stopping.transport?.shutdown()
    }

    /// Runs `body` with the runner started: starts it first when it is not, and then shuts it down when `body`
    /// ends, also when it throws (the body's error wins over a failure to shut down).
    func whileStarted<T>(_ body: () async throws -> T) async throws -> T {
        let owned = try await ensureStarted()
        guard owned else { return try await body() }
        let value: T
        do {
            value = try await body()
        } catch {
            let stopping = started.withLock { state -> Started? in
                defer { state = nil }
                return state
            }
            for s in stopping?.servers ?? [] { await s.stop() }
            await RunTransport.shutdown(stopping?.transport, after: error)
            throw error
        }
        try await shutdown()
        return value
    }

    /// Judges one item with the whole panel.
    public func judge(_ item: Item) async throws -> ItemResult {
        let result = try await run(items: [item])
        return result.results[0]
    }

    /// Judges a stream of items, yielding each item's result as soon as it is complete (not in input order).
    /// Under a joint aggregation method (``/JudgePanelAggregation/Aggregator/isJoint``: `dawid-skene`) no verdict is final before the
    /// last item is judged: the results are then yielded, in input order, once the stream of items has ended.
    public func judge<S: AsyncSequence & Sendable>(items: S) -> AsyncThrowingStream<ItemResult, any Error>
    where S.Element == Item {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await self.whileStarted {
                        let counters = RunCounters()
                        let aggregator = self.aggregator
                        var held: [ItemResult] = []
                        try await self.process(
                            items: items, counters: counters, journal: nil, completed: [:]
                        ) { result in
                            if aggregator.isJoint { held.append(result) } else { continuation.yield(result) }
                        }
                        if aggregator.isJoint {
                            held.sort { $0.index < $1.index }
                            for result in aggregator.finish(held, kind: self.rubric.kind) { continuation.yield(result) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Runs the panel over all items; `counters` (when given) follows the calls as they are made.
    public func run(items: [Item], counters: RunCounters? = nil) async throws -> RunResult {
        try await run(items: items, journal: nil, counters: counters)
    }

    /// Runs the panel over all items. With a journal, every vote is appended as it finishes; `completed`
    /// votes (from a journal being resumed) are reused without calling.
    package func run(
        items: [Item], journal: VoteJournal?, completed: [String: Vote] = [:], counters: RunCounters? = nil
    ) async throws -> RunResult {
        let clock = ContinuousClock.now
        return try await whileStarted {
            let counters = counters ?? RunCounters(expected: 0)
            var results: [ItemResult?] = Array(repeating: nil, count: items.count)
            let indexed = AsyncIndexedItems(items: items)
            try await process(items: indexed, counters: counters, journal: journal, completed: completed) {
                results[$0.index] = $0
            }
            let done = aggregator.finish(results.map { $0! }, kind: rubric.kind)
            let elapsed = ContinuousClock.now - clock
            var result = RunResult(
                items: items, results: done, counters: counters.snapshot,
                wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            result.adjustments = runtimes().flatMap(\.adjustments.notes)
            return result
        }
    }

    /// Runs the panel over all items like `run(items:journal:completed:counters:)`, but hands each item's result to
    /// `onResult` in item order (as soon as it and every earlier item are done) instead of keeping them: memory stays
    /// bounded by the items in flight. Returns the wall time in seconds and what the judges' servers asked for (``RunResult/adjustments``).
    func runInOrder(
        items: [Item], journal: VoteJournal?, completed: [String: Vote], counters: RunCounters,
        onResult: (ItemResult) async throws -> Void
    ) async throws -> (wallSeconds: Double, adjustments: [String]) {
        try await runInOrder(
            stream: AsyncIndexedItems(items: items), journal: journal, completed: completed, counters: counters,
            onResult: onResult)
    }

    /// ``runInOrder(items:journal:completed:counters:onResult:)`` over items read as they are needed (an items
    /// file parsed line by line): only the window of items in flight and the reorder buffer are held.
    /// `completedFor` (score --batch) gives each item's finished votes instead of `completed`, called once per
    /// item in item order as the item enters the window.
    func runInOrder<S: AsyncSequence>(
        stream items: S, journal: VoteJournal?, completed: [String: Vote], counters: RunCounters,
        completedFor: ((Int, Item) throws -> [String: Vote])? = nil, onResult: (ItemResult) async throws -> Void
    ) async throws -> (wallSeconds: Double, adjustments: [String]) where S.Element == Item {
        let clock = ContinuousClock.now
        return try await whileStarted {
            var pending: [Int: ItemResult] = [:]
            var next = 0
            try await process(
                items: items, counters: counters, journal: journal, completed: completed, completedFor: completedFor
            ) {
                pending[$0.index] = $0
                while let ready = pending.removeValue(forKey: next) {
                    try await onResult(ready)
                    next += 1
                }
            }
            let elapsed = ContinuousClock.now - clock
            return (
                Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                runtimes().flatMap(\.adjustments.notes)
            )
        }
    }

    /// Runs `body` with the started judges (panel order) and a call executor, for runners that choose their
    /// calls themselves (``AdaptiveRunner``); starts and stops local servers when not already started.
    package func withRuntimes<T: Sendable>(
        counters: RunCounters, _ body: @Sendable ([JudgeRuntime], CallExecutor) async throws -> T
    ) async throws -> T {
        try await whileStarted {
            let executor = CallExecutor(rubric: rubric, cache: options.cache, retry: options.retry, stats: counters)
            return try await body(runtimes(), executor)
        }
    }

    private func ensureStarted() async throws -> Bool {
        if started.withLock({ $0 != nil }) { return false }
        try await start()
        return true
    }

    /// The transport this runner made for its run, while started (nil when one was injected).
    package var runTransport: AsyncHTTPClientTransport? { started.withLock { $0?.transport } }

    private func runtimes() -> [JudgeRuntime] {
        started.withLock { $0?.runtimes ?? [] }
    }

    /// The core loop: a bounded window of items in flight; each item's calls run concurrently,
    /// each judge bounded by its semaphore.
    private func process<S: AsyncSequence>(
        items: S, counters: RunCounters, journal: VoteJournal?, completed: [String: Vote],
        completedFor: ((Int, Item) throws -> [String: Vote])? = nil, onResult: (ItemResult) async throws -> Void
    ) async throws where S.Element == Item {
        let runtimes = runtimes()
        let executor = CallExecutor(rubric: rubric, cache: options.cache, retry: options.retry, stats: counters)
        let totalConcurrency = runtimes.map(\.config.concurrency).reduce(0, +)
        let callsPerItem = max(
            1, panel.judges.map { $0.samples * (rubric.kind == .pairwise && panel.swap ? 2 : 1) }.reduce(0, +))
        // A scheduled (adaptive, cascade) item makes few calls at a time: more items in flight keep judges busy.
        let window =
            options.policy == .full ? max(2, (totalConcurrency * 2) / callsPerItem + 2) : max(2, totalConcurrency)
        try await withThrowingTaskGroup(of: ItemResult.self) { group in
            var inFlight = 0
            var index = 0
            for try await item in items {
                if inFlight >= window, let r = try await group.next() {
                    inFlight -= 1
                    try await onResult(r)
                }
                let i = index
                let done = try completedFor?(i, item) ?? completed
                group.addTask {
                    try await self.judgeOne(
                        index: i, item: item, runtimes: runtimes, executor: executor, journal: journal,
                        completed: done)
                }
                inFlight += 1
                index += 1
            }
            while let r = try await group.next() { try await onResult(r) }
        }
    }

    /// The votes of `calls` of one item, in the calls' order: each taken from the resumed journal when finished
    /// there, else executed concurrently (cache, retries, journal) within its judge's bound.
    package func ask(
        _ calls: [Call], item: Item, runtimes: [JudgeRuntime], executor: CallExecutor, journal: VoteJournal?,
        completed: [String: Vote]
    ) async throws -> [Vote] {
        let checklist = options.checklists[item.id]
        var votes = [Vote?](repeating: nil, count: calls.count)
        try await withThrowingTaskGroup(of: (Int, Vote).self) { group in
            for (n, call) in calls.enumerated() {
                let rt = runtimes[call.judge]
                if let done = completed[call.key(itemID: item.id, judgeName: rt.config.name)] {
                    votes[n] = done
                    continue
                }
                group.addTask {
                    let v = try await executor.executeBounded(
                        call: call, item: item, judge: rt, checklist: checklist, journal: journal)
                    return (n, v)
                }
            }
            for try await (n, v) in group { votes[n] = v }
        }
        return votes.map { $0! }
    }

    private func judgeOne(
        index: Int, item: Item, runtimes: [JudgeRuntime], executor: CallExecutor, journal: VoteJournal?,
        completed: [String: Vote]
    ) async throws -> ItemResult {
        if let scheduled = try await scheduledVotes(
            index: index, item: item, runtimes: runtimes, executor: executor, journal: journal, completed: completed)
        {
            return itemResult(index: index, item: item, votes: scheduled.votes, aggregating: scheduled.aggregated)
        }
        let calls = Call.plan(itemIndex: index, item: item, rubric: rubric, panel: panel)
        let votes = try await ask(
            calls, item: item, runtimes: runtimes, executor: executor, journal: journal, completed: completed)
        return itemResult(index: index, item: item, votes: votes)
    }

    /// Reconciles each judge's votes and aggregates the judges (all, or the panel indices in `aggregating`).
    func itemResult(index: Int, item: Item, votes all: [Vote], aggregating: [Int]? = nil) -> ItemResult {
        var perJudge: [String: JudgeVerdict] = [:]
        var ordered: [(name: String, verdict: JudgeVerdict)] = []
        for judge in panel.judges {
            let jv = Reconcile.judge(
                all.filter { $0.judge == judge.name }, kind: rubric.kind, flip: flip,
                tieMargin: rubric.checklist?.tieMargin ?? 0.05)
            perJudge[judge.name] = jv
            ordered.append((judge.name, jv))
        }
        if let aggregating { ordered = aggregating.map { ordered[$0] } }
        let verdict = aggregator.aggregate(item: item.id, judges: ordered, kind: rubric.kind)
        return ItemResult(index: index, item: item, votes: all, judgeVerdicts: perJudge, verdict: verdict)
    }
}

/// Items as an async sequence (so arrays and streams share one loop).
struct AsyncIndexedItems: AsyncSequence, Sendable {
    package typealias Element = Item
    package let items: [Item]

    package struct AsyncIterator: AsyncIteratorProtocol {
        package var items: [Item]
        package var i = 0
        package mutating func next() async -> Item? {
            guard i < items.count else { return nil }
            defer { i += 1 }
            return items[i]
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(items: items) }
}
