import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// Writes per-prompt yes/no checklists (TICK) with one judge of the panel, through the same machinery as a run:
/// response cache, rate limit, retries, and one repair re-ask when the reply holds too few readable questions.
///
/// ```swift
/// let generator = try ChecklistGenerator(rubric: rubric, panel: panel, options: options)
/// let outcome = try await generator.generate(items: items, existing: try ChecklistStore.load(path: "mine.jsonl"))
/// try outcome.requireComplete()          // throws, naming the items whose generation failed
/// options.checklists = outcome.checklists
/// ```
package struct ChecklistGenerator: Sendable {
    /// An item whose checklist could not be written.
    package struct Failure: Error, Sendable, Hashable {
        package var item: String
        package var reason: String
    }

    /// What a generation pass produced.
    package struct Outcome: Sendable {
        /// Every item's checklist: the existing ones plus the generated ones.
        package var checklists: [String: [String]]
        /// Item ids written in this pass (in item order).
        package var generated: [String]
        /// Item ids taken from `existing` (no call made).
        package var reused: [String]
        /// Items whose generation failed after one repair re-ask.
        package var failures: [Failure]
        /// HTTP requests sent (retries included); 0 when everything came from the cache or `existing`.
        package var httpCalls: Int
        /// Generation replies served from the response cache.
        package var cachedReplies: Int

        /// Throws a ``/JudgePanelCore/JudgePanelError`` listing the failed item ids, so that no run uses an empty checklist.
        package func requireComplete() throws {
            guard !failures.isEmpty else { return }
            let ids = failures.map(\.item)
            let shown = ids.prefix(20).joined(separator: ", ") + (ids.count > 20 ? ", … (\(ids.count) in all)" : "")
            let reason = failures.first.map { " — first failure: \($0.item): \($0.reason)" } ?? ""
            throw JudgePanelError.provider(
                "checklist generation failed for \(ids.count) item(s): \(shown)\(reason)")
        }
    }

    package let rubric: Rubric
    package let panel: Panel
    package let options: RunOptions
    /// The panel judge that writes the questions (`checklist.generator`, default the first judge).
    package let judge: JudgeConfig
    package var minQuestions: Int { max(1, rubric.checklist?.minQuestions ?? 2) }
    package var maxQuestions: Int { max(minQuestions, rubric.checklist?.maxQuestions ?? 10) }

    /// Throws bad input when `checklist.generator` names no judge of the panel, or the panel is empty.
    package init(rubric: Rubric, panel: Panel, options: RunOptions = RunOptions()) throws {
        self.rubric = rubric
        self.panel = panel
        self.options = options
        if let name = rubric.checklist?.generator {
            guard let j = panel.judges.first(where: { $0.name == name }) else {
                throw JudgePanelError.badInput(
                    "checklist.generator '\(name)' is not a judge of the panel (\(panel.judges.map(\.name).joined(separator: ", ")))",
                    file: rubric.source)
            }
            judge = j
        } else {
            guard let j = panel.judges.first else {
                throw JudgePanelError.badInput("the panel has no judge", file: panel.source)
            }
            judge = j
        }
    }

    // MARK: prompt and parsing

    package static let system =
        "You write evaluation checklists. Given an instruction, you write short yes/no questions that a grader answers "
        + "about a response to check whether it follows the instruction. You do not answer the instruction yourself."

    /// The generation prompt for one item.
    package static func messages(for item: Item, min: Int, max: Int) -> [ChatMessage] {
        var user = "[Instruction]\n\(item.promptText)\n"
        if let r = item.reference, !r.isEmpty { user += "\n[Reference answer]\n\(r)\n" }
        user += """

            Write between \(min) and \(max) yes/no questions that check whether a response follows the instruction above. \
            Each question must be answerable with YES or NO by reading the response alone, and a YES must mean the \
            response is better. Cover the explicit requirements first (content, format, length, constraints), then \
            implicit quality criteria.
            Reply with the questions only, one per line, numbered (1. Does the response ...?), \
            or as JSON: {"questions": ["...", "..."]}.
            """
        return [.system(system), .user(user)]
    }

    package static func repairMessage(min: Int, max: Int) -> String {
        "Your reply could not be read as a list of questions. Reply again with only \(min) to \(max) yes/no questions, "
            + "one per line, numbered 1., 2., … (or JSON {\"questions\": [...]})."
    }

    package static func schema(max: Int) -> JSONValue {
        [
            "type": "object",
            "properties": [
                "questions": ["type": "array", "items": ["type": "string"], "maxItems": .number(Double(max))]
            ],
            "required": ["questions"],
        ]
    }

    /// Reads questions from a reply: a JSON `questions` array, or numbered / bulleted lines (plain lines ending
    /// with `?` count too). Trims numbering, bullets, quotes and bold; drops duplicates (case-insensitive); keeps
    /// at most `max`. Nil when fewer than `min` questions remain.
    package static func parseQuestions(_ reply: String, min: Int = 2, max: Int = 10) -> [String]? {
        var raw: [String] = []
        if let v = AnswerParser.lastJSONObject(in: reply), let arr = v["questions"]?.arrayValue {
            raw = arr.compactMap { $0.stringValue ?? $0["question"]?.stringValue }
        } else {
            // A constant pattern (the generator's tests parse with it): it cannot fail.
            let marker = try! NSRegularExpression(
                pattern: "^\\s*(?:(?:Q(?:uestion)?\\s*)?\\d{1,2}\\s*[.):\\-]|[-*•·]|\\[\\s?\\])\\s+",
                options: [.caseInsensitive])
            for lineSub in reply.split(whereSeparator: \.isNewline) {
                let line = String(lineSub)
                let ns = line as NSString
                if let m = marker.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) {
                    raw.append(ns.substring(from: m.range.upperBound))
                } else {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.hasSuffix("?") { raw.append(t) }
                }
            }
        }
        var out: [String] = []
        var seen = Set<String>()
        for q in raw {
            var t = q.trimmingCharacters(in: .whitespacesAndNewlines)
            t = t.replacingOccurrences(of: "**", with: "")
            t = t.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`“”‘’ \t"))
            for suffix in [" (YES/NO)", " (yes/no)", " Yes/No", " YES/NO"] where t.hasSuffix(suffix) {
                t = String(t.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            }
            t = t.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            guard t.count >= 5, t.contains(where: \.isLetter) else { continue }
            let key = t.lowercased().trimmingCharacters(in: .punctuationCharacters.union(.whitespaces))
            guard !seen.contains(key) else { continue }
            seen.insert(key)
            out.append(t)
            if out.count == max { break }
        }
        return out.count >= min ? out : nil
    }

    // MARK: running

    /// Writes a checklist for every item not in `existing` (existing ones are kept as they are, no call made).
    /// Never throws for a failed item: it is listed in ``Outcome/failures`` (see ``Outcome/requireComplete()``).
    package func generate(items: [Item], existing: [String: [String]] = [:]) async throws -> Outcome {
        var checklists: [String: [String]] = [:]
        var reused: [String] = []
        var todo: [Item] = []
        var seenIDs = Set<String>()
        for item in items where !seenIDs.contains(item.id) {
            seenIDs.insert(item.id)
            if let qs = existing[item.id], !qs.isEmpty {
                checklists[item.id] = qs
                reused.append(item.id)
            } else {
                todo.append(item)
            }
        }
        let counters = RunCounters(expected: todo.count)
        guard !todo.isEmpty else {
            return Outcome(
                checklists: checklists, generated: [], reused: reused, failures: [], httpCalls: 0, cachedReplies: 0)
        }
        var server: LlamaServer?
        var urls = judge.baseURLs
        if judge.provider == .llamacpp, let settings = judge.llamacpp {
            let s = try await LlamaServer.start(
                settings: settings, judgeName: judge.name, environment: options.environment)
            server = s
            urls = [s.baseURL]
        }
        let results: [String: Result<([String], Int), Failure>]
        do {
            results = try await RunTransport.with(options.transport, judges: [judge], environment: options.environment)
            {
                transport -> [String: Result<([String], Int), Failure>] in
                let provider = try ProviderFactory.make(
                    judge: judge, baseURLs: urls, environment: options.environment, transport: transport,
                    registry: options.providers)
                let runtime = JudgeRuntime(config: judge, provider: provider, environment: options.environment)
                let executor = CallExecutor(rubric: rubric, cache: options.cache, retry: options.retry, stats: counters)
                let (lo, hi) = (minQuestions, maxQuestions)
                let limit = max(1, judge.concurrency)
                var gathered: [String: Result<([String], Int), Failure>] = [:]
                try await withThrowingTaskGroup(of: (String, Result<([String], Int), Failure>).self) { group in
                    var next = 0
                    func add() {
                        let item = todo[next]
                        next += 1
                        group.addTask {
                            (
                                item.id,
                                try await Self.one(item: item, min: lo, max: hi, judge: runtime, executor: executor)
                            )
                        }
                    }
                    while next < todo.count && next < limit { add() }
                    while let (id, r) = try await group.next() {
                        gathered[id] = r
                        if next < todo.count { add() }
                    }
                }
                return gathered
            }
        } catch {
            await server?.stop()
            throw error
        }
        await server?.stop()
        var generated: [String] = []
        var failures: [Failure] = []
        var cached = 0
        for item in todo {
            switch results[item.id] {
            case .success(let (qs, c))?:
                checklists[item.id] = qs
                generated.append(item.id)
                cached += c
            case .failure(let f)?:
                failures.append(f)
            case nil:
                failures.append(Failure(item: item.id, reason: "not generated"))
            }
        }
        return Outcome(
            checklists: checklists, generated: generated, reused: reused, failures: failures,
            httpCalls: counters.snapshot.httpCalls, cachedReplies: cached)
    }

    /// The provider's message for a failed send (a `ProviderError`, possibly wrapped with its attempt count).
    package static func describe(_ error: any Error) -> String {
        if let e = error as? ProviderError { return e.message }
        for child in Mirror(reflecting: error).children {
            if let e = child.value as? ProviderError { return e.message }
        }
        return String(describing: error)
    }

    package static func send(_ request: CompletionRequest, judge: JudgeRuntime, executor: CallExecutor) async throws
        -> CallExecutor.Sent
    {
        await judge.semaphore.wait()
        do {
            var request = request
            let r = try await executor.sendAdapting(&request, sample: 0, judge: judge)
            await judge.semaphore.signal()
            return r
        } catch {
            await judge.semaphore.signal()
            throw error
        }
    }

    /// One item: ask, parse, one repair re-ask. Returns the questions and how many replies came from the cache.
    package static func one(item: Item, min: Int, max: Int, judge: JudgeRuntime, executor: CallExecutor) async throws
        -> Result<([String], Int), Failure>
    {
        let config = judge.config
        let messages = Self.messages(for: item, min: min, max: max)
        var request = RequestBuilder.request(
            config: config, messages: messages, jsonSchema: config.structuredOutput ? schema(max: max) : nil, sample: 0,
            adjustments: judge.adjustments, maxTokensFloor: 256)
        request.topLogprobs = nil
        var cached = 0
        let first: CallExecutor.Sent
        do {
            first = try await send(request, judge: judge, executor: executor)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .failure(Failure(item: item.id, reason: describe(error)))
        }
        if first.cached { cached += 1 }
        if let qs = parseQuestions(first.response.text, min: min, max: max) { return .success((qs, cached)) }
        request.messages = ReplyOutcome.repairMessages(
            messages, firstReply: first.response.text, repair: repairMessage(min: min, max: max))
        do {
            let second = try await send(request, judge: judge, executor: executor)
            if second.cached { cached += 1 }
            if let qs = parseQuestions(second.response.text, min: min, max: max) { return .success((qs, cached)) }
            return .failure(
                Failure(item: item.id, reason: "fewer than \(min) readable questions (after one repair re-ask)"))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .failure(Failure(item: item.id, reason: "repair re-ask failed: \(describe(error))"))
        }
    }
}
