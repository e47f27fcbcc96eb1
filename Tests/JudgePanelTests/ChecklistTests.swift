import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

/// How many numbered questions a checklist grading prompt holds.
private func checklistQuestionCount(_ text: String) -> Int {
    text.split(separator: "\n").filter { line in
        let t = line.drop { $0 == " " }
        guard let dot = t.firstIndex(of: "."), dot > t.startIndex else { return false }
        return Int(t[t.startIndex..<dot]) != nil && t[t.index(after: dot)...].hasPrefix(" ")
    }.count
}

private func isGeneration(_ r: FakeRequest) -> Bool {
    (r.system ?? r.promptText).contains("You write evaluation checklists")
}

/// A judge that writes three questions per prompt, and grades GOOD answers all YES, BAD ones YES then NOs.
private let tickJudge: FakeHandler = { r in
    if isGeneration(r) {
        return .text(
            "Here are the questions:\n1. Does the response answer the question?\n2. **Is the response concise?**\n- Is the response polite?\n3. Does the response answer the question?"
        )
    }
    let n = checklistQuestionCount(r.lastUserText)
    let good = r.lastUserText.contains("GOOD")
    return .text((1...max(n, 1)).map { "\($0). \(good || $0 == 1 ? "YES" : "NO")" }.joined(separator: "\n"))
}

private func writeLines(_ lines: [String], to url: URL) throws {
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
}

private func pairwiseItemsJSONL(_ n: Int) -> [String] {
    (0..<n).map { i in
        let aGood = i % 3 != 0
        let a = aGood ? "GOOD answer \(i)" : "BAD answer \(i)"
        let b = aGood ? "BAD answer \(i)" : "GOOD answer \(i)"
        return
            #"{"id":"p\#(i)","prompt":"Question \#(i)?","response_a":"\#(a)","response_b":"\#(b)","model_a":"m1","model_b":"m2","label":"\#(aGood ? "A" : "B")"}"#
    }
}

@Suite("Checklists: generation, grading, weights, analysis")
struct ChecklistTests {
    // MARK: generation

    @Test("questions are read from numbered, bulleted and JSON replies; trimmed, deduplicated, capped")
    func parseQuestions() {
        let numbered = ChecklistGenerator.parseQuestions(
            "Sure! Here they are:\n1. Does it rhyme?\n2) **Is it under 50 words?**\n3. Does it rhyme?\n- \"Is it about cats?\"\n",
            min: 2, max: 10)
        #expect(numbered == ["Does it rhyme?", "Is it under 50 words?", "Is it about cats?"])
        let json = ChecklistGenerator.parseQuestions(
            #"{"questions": ["Is it in French?", "Is it polite?", "Is it in French?"]}"#)
        #expect(json == ["Is it in French?", "Is it polite?"])
        let plain = ChecklistGenerator.parseQuestions("Is it short?\nIs it correct?\nThat is all.")
        #expect(plain == ["Is it short?", "Is it correct?"])
        let many = ChecklistGenerator.parseQuestions(
            (1...14).map { "\($0). Question number \($0)?" }.joined(separator: "\n"), min: 2, max: 10)
        #expect(many?.count == 10)
        #expect(ChecklistGenerator.parseQuestions("1. Only one question?", min: 2, max: 10) == nil)
        #expect(ChecklistGenerator.parseQuestions("I cannot help with that.") == nil)
    }

    @Test("generation: one call per prompt to the designated judge, cached on the second pass, existing ones reused")
    func generationLibrary() async throws {
        let server = try await startPanelFake(["writer": tickJudge, "other": tickJudge])
        let panel = await fakePanel(server, judges: ["other", "writer"])
        var rubric = try loadRubric("checklist-generated")
        rubric.checklist?.generator = "writer"
        var options = panelTestOptions
        options.cache = ResponseCache(directory: try tempDir("cl-cache"))
        let items = (0..<4).map { Item(id: "g\($0)", prompt: "Write a haiku about \($0)", response: "GOOD") }
        let gen = try ChecklistGenerator(rubric: rubric, panel: panel, options: options)
        #expect(gen.judge.name == "writer")
        let first = try await gen.generate(items: items)
        try first.requireComplete()
        #expect(first.generated == ["g0", "g1", "g2", "g3"])
        #expect(
            first.checklists["g2"] == [
                "Does the response answer the question?", "Is the response concise?", "Is the response polite?",
            ])
        let afterFirst = await server.recordedRequests()
        #expect(afterFirst.count == 4 && afterFirst.allSatisfy { $0.model == "writer" && isGeneration($0) })
        #expect(afterFirst[0].lastUserText.contains("Write a haiku about"))
        let second = try await gen.generate(items: items)
        #expect(second.httpCalls == 0 && second.cachedReplies == 4 && second.checklists == first.checklists)
        let third = try await gen.generate(items: items, existing: ["g0": ["Edited?", "By hand?"]])
        #expect(third.reused == ["g0"] && third.checklists["g0"] == ["Edited?", "By hand?"])
        #expect(await server.requestCount() == 4)
        // Saved and read back.
        let path = try tempDir("cl-save").appendingPathComponent("checklists.jsonl").path
        try ChecklistStore.save(third.checklists, order: items.map(\.id), to: path)
        #expect(try ChecklistStore.load(path: path) == third.checklists)
        await server.stop()
        var bad = rubric
        bad.checklist?.generator = "nobody"
        #expect(throws: JudgePanelError.self) { try ChecklistGenerator(rubric: bad, panel: panel, options: options) }
    }

    @Test(
        "a prompt whose questions cannot be read after one repair is an error naming the item, not an empty checklist")
    func generationFailure() async throws {
        let server = try await startPanelFake([
            "writer": { r in
                if r.lastUserText.contains("Question bad") || r.promptText.contains("Question bad") {
                    return .text("I'd rather not.")
                }
                if r.promptText.contains("Question fixed") && !r.lastUserText.contains("could not be read") {
                    return .text("Hmm.")
                }
                return .text("1. Is it right?\n2. Is it clear?")
            }
        ])
        let panel = await fakePanel(server, judges: ["writer"])
        let rubric = try loadRubric("checklist-generated")
        let items = [
            Item(id: "ok", prompt: "Question ok", response: "x"),
            Item(id: "bad", prompt: "Question bad", response: "x"),
            Item(id: "fixed", prompt: "Question fixed", response: "x"),
        ]
        let outcome = try await ChecklistGenerator(rubric: rubric, panel: panel, options: panelTestOptions).generate(
            items: items)
        await server.stop()
        #expect(outcome.generated == ["ok", "fixed"])
        #expect(outcome.failures.map(\.item) == ["bad"])
        #expect(outcome.checklists["bad"] == nil)
        do {
            try outcome.requireComplete()
            Issue.record("expected an error")
        } catch let e as JudgePanelError {
            #expect(e.message.contains("bad") && e.message.contains("1 item"))
        }
        // ScoreJob still refuses to run without a checklist for every item.
        #expect(throws: JudgePanelError.self) {
            try ScoreJob(
                itemsPath: "x", items: items, rubric: rubric, panel: panel,
                options: {
                    var o = panelTestOptions
                    o.checklists = outcome.checklists
                    return o
                }())
        }
    }

    @Test(
        "score CLI: generates, saves checklists.jsonl, reuses it with --checklists, second run makes no generation call"
    )
    func generationCLI() async throws {
        let server = try await startPanelFake(["tick": tickJudge])
        let dir = try tempDir("cl-cli")
        let base = await server.baseURL.absoluteString + "/v1"
        try "version: 1\njudges:\n  - {name: tick, provider: openai, base_url: \"\(base)\", model: tick}\nswap: true\n"
            .write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let items = dir.appendingPathComponent("items.jsonl")
        try writeLines(pairwiseItemsJSONL(6), to: items)
        let common = [
            "--rubric", "rubrics/checklist-generated.yaml", "--panel", dir.appendingPathComponent("panel.yaml").path,
            "--cache-dir", dir.appendingPathComponent("cache").path,
        ]
        let r1 = try await runJudgepanel(
            ["score", items.path, "--out", dir.appendingPathComponent("run1").path] + common)
        #expect(r1.code == 0, "\(r1.err)\(r1.out)")
        let saved = dir.appendingPathComponent("run1/checklists.jsonl").path
        let lists = try ChecklistStore.load(path: saved)
        #expect(lists.count == 6 && lists["p0"]?.count == 3)
        let gen1 = await server.recordedRequests().filter(isGeneration).count
        #expect(gen1 == 6)
        // Votes carry three answers per response side.
        let votes = try VotesFile.load(path: dir.appendingPathComponent("run1/votes.jsonl").path)
        #expect(votes.count == 12 && votes.allSatisfy { $0.checks?.count == 3 && $0.side != nil })
        // Same cache: nothing is sent again.
        let before2 = await server.requestCount()
        let r2 = try await runJudgepanel(
            ["score", items.path, "--out", dir.appendingPathComponent("run2").path] + common)
        #expect(r2.code == 0, "\(r2.err)")
        #expect(await server.requestCount() == before2)
        // Edited checklists are used as they are: no generation, the edited questions reach the judges.
        var edited = lists
        edited["p1"] = ["Is the answer GOOD?", "Is it spelled right?", "Is it kind?", "Is it brief?"]
        let editedPath = dir.appendingPathComponent("edited.jsonl").path
        try ChecklistStore.save(edited, order: (0..<6).map { "p\($0)" }, to: editedPath)
        let before3 = await server.recordedRequests().count
        let r3 = try await runJudgepanel(
            [
                "score", items.path, "--out", dir.appendingPathComponent("run3").path, "--checklists", editedPath,
                "--no-cache",
            ]
                + common.dropLast(2))
        #expect(r3.code == 0, "\(r3.err)")
        let new = await server.recordedRequests().dropFirst(before3)
        #expect(!new.isEmpty && !new.contains(where: isGeneration))
        #expect(new.contains { $0.lastUserText.contains("4. Is it brief?") })
        #expect(try ChecklistStore.load(path: dir.appendingPathComponent("run3/checklists.jsonl").path) == edited)
        // Dry run counts generation calls, sends nothing.
        let before4 = await server.requestCount()
        let r4 = try await runJudgepanel(
            ["score", items.path, "--out", dir.appendingPathComponent("run4").path, "--dry-run", "--no-cache"]
                + common.dropLast(2))
        #expect(r4.code == 0 && r4.out.contains("checklist generation: 6 calls"), "\(r4.err)\(r4.out)")
        #expect(await server.requestCount() == before4)
        await server.stop()
    }

    // MARK: grading

    @Test(
        "grading reads numbered lines and JSON; unanswered questions are UNSURE; unreadable replies are repaired, then abstain"
    )
    func grading() async throws {
        let server = try await startPanelFake([
            "lines": { _ in .text("Let me check.\n1. YES\n2: NO\nQ3 - yes\n4. UNSURE\n5. YES") },
            "json": { _ in .text(#"{"answers": ["YES", "NO", true, "UNSURE", "NO"]}"#) },
            "partial": { _ in .text("1. YES\n3. NO") },
            "repaired": { r in
                r.messages.contains { $0.role == "assistant" }
                    ? .text("1. NO\n2. NO\n3. NO\n4. NO\n5. YES") : .text("It looks fine to me.")
            },
            "mute": { _ in .text("No comment.") },
        ])
        let panel = await fakePanel(server, judges: ["lines", "json", "partial", "repaired", "mute"])
        let rubric = try loadRubric("checklist-instruction-following")
        let result = try await PanelRunner(panel: panel, rubric: rubric, options: panelTestOptions)
            .run(items: [Item(id: "x", prompt: "Say hi", response: "hi")])
        await server.stop()
        let byJudge = Dictionary(uniqueKeysWithValues: result.votes.map { ($0.judge, $0) })
        #expect(byJudge["lines"]?.checks == [true, false, true, nil, true])
        #expect(byJudge["json"]?.checks == [true, false, true, nil, false])
        #expect(byJudge["partial"]?.checks == [true, nil, false, nil, nil])
        #expect(
            byJudge["repaired"]?.checks == [false, false, false, false, true] && byJudge["repaired"]?.repaired == true)
        #expect(byJudge["mute"]?.status == .abstain && byJudge["mute"]?.checks == nil)
        let jv = result.results[0].judgeVerdicts
        #expect(jv["lines"]?.score == 0.75)
        #expect(jv["partial"]?.score == 0.5)  // UNSURE is not NO: 1 YES of 2 answered
        #expect(jv["mute"]?.abstained == true)
    }

    @Test("pairwise verdicts from checklist pass ratios with the tie margin")
    func pairwiseDerivation() {
        func vote(_ side: Preference, _ c: [Bool?]) -> Vote {
            var v = Vote(item: "i", judge: "j", protocol: .checklist, checks: c)
            v.side = side
            return v
        }
        let votes = [vote(.a, [true, true, true, false, false]), vote(.b, [true, true, false, false, false])]
        #expect(Reconcile.judge(votes, kind: .checklist, flip: .tie, tieMargin: 0.1).verdict == .a)
        #expect(Reconcile.judge(votes, kind: .checklist, flip: .tie, tieMargin: 0.2).verdict == .tie)
        #expect(
            Reconcile.judge(
                votes.reversed().map {
                    var v = $0
                    v.side = v.side == .a ? .b : .a
                    return v
                }, kind: .checklist, flip: .tie, tieMargin: 0.1
            ).verdict == .b)
        // UNSURE answers do not count against a side: 2/2 answered vs 3/5.
        let unsure = [vote(.a, [true, true, nil, nil, nil]), vote(.b, [true, true, true, false, false])]
        let r = Reconcile.judge(unsure, kind: .checklist, flip: .tie, tieMargin: 0.1)
        #expect(r.verdict == .a && abs((r.score ?? 0) - 0.4) < 1e-12)
        // One side unanswered: no verdict.
        #expect(Reconcile.judge([vote(.a, [true]), vote(.b, [nil])], kind: .checklist, flip: .tie).abstained)
    }

    @Test("meta compares checklist-derived verdicts with pairwise human labels (score, then meta --votes)")
    func metaEndToEnd() async throws {
        let server = try await startPanelFake([
            "tick": tickJudge,
            "yes": { r in
                .text((1...max(checklistQuestionCount(r.lastUserText), 1)).map { "\($0). YES" }.joined(separator: "\n"))
            },
        ])
        let dir = try tempDir("cl-meta")
        let base = await server.baseURL.absoluteString + "/v1"
        try
            "version: 1\njudges:\n  - {name: tick, provider: openai, base_url: \"\(base)\", model: tick}\n  - {name: yes, provider: openai, base_url: \"\(base)\", model: yes}\nswap: true\n"
            .write(to: dir.appendingPathComponent("panel.yaml"), atomically: true, encoding: .utf8)
        let items = dir.appendingPathComponent("items.jsonl")
        try writeLines(pairwiseItemsJSONL(12), to: items)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel(
            [
                "score", items.path, "--rubric", "rubrics/checklist-instruction-following.yaml", "--panel",
                dir.appendingPathComponent("panel.yaml").path, "--out", out, "--no-cache",
            ])
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        let m = try await runJudgepanel(["meta", items.path, "--votes", out + "/votes.jsonl", "--json"])
        #expect(m.code == 0, "\(m.err)")
        let report = try JSONValue.parse(m.out)
        #expect(report["label_kind"]?.stringValue == "pairwise")
        let judges = try #require(report["judges"]?.arrayValue)
        let tick = try #require(judges.first { $0["judge"]?.stringValue == "tick" })
        #expect(tick["accuracy"]?.doubleValue == 1)
        let yes = try #require(judges.first { $0["judge"]?.stringValue == "yes" })
        #expect(yes["accuracy"]?.doubleValue == 0)  // every pair is a tie under the margin
        #expect(yes["agreement_with_ties"] != nil)

        // The same votes feed `checklist analyze` and `checklist weights`.
        let a = try await runJudgepanel([
            "checklist", "analyze", items.path, "--votes", out + "/votes.jsonl",
            "--rubric", "rubrics/checklist-instruction-following.yaml", "--json",
        ])
        #expect(a.code == 0, "\(a.err)")
        let analysis = try JSONValue.parse(a.out)
        let qs = try #require(analysis["questions"]?.arrayValue)
        #expect(qs.count == 5)
        #expect(qs[0]["question"]?.stringValue == "Does the response address the main request of the instruction?")
        #expect(qs[0]["agreement"]?.doubleValue == 1 && qs[0]["flagged"]?.boolValue == false)
        #expect(qs[1]["agreement"]?.doubleValue == 0.5 && qs[1]["flagged"]?.boolValue == true)
        #expect(qs[1]["by_model"]?["m1"] != nil)
        let table = try await runJudgepanel(["checklist", "analyze", items.path, "--votes", out + "/votes.jsonl"])
        #expect(table.code == 0 && table.out.contains("FLAG"), "\(table.err)")
        let w = try await runJudgepanel([
            "checklist", "weights", items.path, "--votes", out + "/votes.jsonl", "--folds", "3", "--json",
        ])
        #expect(w.code == 0, "\(w.err)")
        let wj = try JSONValue.parse(w.out)
        #expect(
            wj["label_kind"]?.stringValue == "pairwise" && wj["n"]?.intValue == 12
                && wj["weights"]?.arrayValue?.count == 5)
        #expect(wj["before"]?.doubleValue == 1)
    }

    // MARK: weights

    @Test("learned weights beat the unweighted pass ratio under cross-validation when one question carries the signal")
    func weights() throws {
        var rng = SeededGenerator(seed: 7)
        var items: [Item] = []
        var votes: [Vote] = []
        for i in 0..<240 {
            let label: Preference = Bool.random(using: &rng) ? .a : .b
            items.append(Item(id: "w\(i)", prompt: "q", responseA: "a", responseB: "b", label: .pairwise(label)))
            for side in [Preference.a, .b] {
                // Question 1: YES for the better answer 90% of the time; questions 2–6: noise, often YES for the worse one.
                let better = side == label
                var c: [Bool?] = [Double.random(in: 0..<1, using: &rng) < 0.9 ? better : !better]
                for _ in 0..<5 {
                    let u = Double.random(in: 0..<1, using: &rng)
                    c.append(u < 0.1 ? nil : Double.random(in: 0..<1, using: &rng) < (better ? 0.4 : 0.6))
                }
                var v = Vote(item: "w\(i)", judge: "j", protocol: .checklist, checks: c)
                v.side = side
                votes.append(v)
            }
        }
        let w = try ChecklistWeights.learn(items: items, votes: votes, options: .init(folds: 5, seed: 3))
        #expect(w.kind == .pairwise && w.n == 240 && w.questions == 6)
        let before = try #require(w.before)
        let after = try #require(w.after)
        #expect(after > before + 0.1, "before \(before) after \(after)")
        #expect(after > 0.85)
        // The signal question gets the largest weight; the noise ones (slightly anti-correlated) small negative ones.
        #expect(w.weights[0] > 2 * (w.weights[1...].map(abs).max() ?? 0), "\(w.weights)")
        // Seeded: the same folds give the same numbers.
        #expect(try ChecklistWeights.learn(items: items, votes: votes, options: .init(folds: 5, seed: 3)) == w)
        // Ties are excluded.
        var withTie = items
        withTie[0].label = .pairwise(.tie)
        #expect(try ChecklistWeights.learn(items: withTie, votes: votes).n == 239)
    }

    @Test("score labels: ridge regression on answers, Pearson before and after")
    func scoreWeights() throws {
        var rng = SeededGenerator(seed: 11)
        var items: [Item] = []
        var votes: [Vote] = []
        for i in 0..<150 {
            let s = Double(Int.random(in: 1...5, using: &rng))
            items.append(Item(id: "s\(i)", prompt: "q", response: "r", label: .score(s)))
            var c: [Bool?] = [s >= 3]
            for _ in 0..<4 { c.append(Bool.random(using: &rng)) }
            votes.append(Vote(item: "s\(i)", judge: "j", protocol: .checklist, checks: c))
        }
        let w = try ChecklistWeights.learn(items: items, votes: votes, options: .init(folds: 5, seed: 1))
        #expect(w.kind == .score && w.metric == "pearson" && w.intercept != nil)
        #expect((w.after ?? 0) > (w.before ?? 1))
        #expect(throws: JudgePanelError.self) { try ChecklistWeights.learn(items: items, votes: []) }
    }

    // MARK: analysis

    @Test("analysis: pass rates per question and model, judge agreement and κ, inconsistent questions flagged")
    func analysis() {
        var items: [Item] = []
        var votes: [Vote] = []
        for i in 0..<20 {
            items.append(Item(id: "a\(i)", prompt: "q", response: "r", model: i % 2 == 0 ? "m1" : "m2"))
            let q1 = i % 2 == 0
            // Judge 1 and 2 agree on Q1; Q2 they disagree half of the time; Q3 mostly UNSURE.
            votes.append(
                Vote(item: "a\(i)", judge: "j1", protocol: .checklist, checks: [q1, true, i < 4 ? true : nil]))
            votes.append(Vote(item: "a\(i)", judge: "j2", protocol: .checklist, checks: [q1, i % 4 < 2, nil]))
        }
        let a = ChecklistAnalysis.analyze(items: items, votes: votes, fixed: ["First?", "Second?"])
        #expect(a.judges == ["j1", "j2"] && a.nResponses == 20)
        #expect(a.questions.map(\.question) == ["First?", "Second?", "Q3"])
        let q1 = a.questions[0]
        #expect(q1.passRate == 0.5 && q1.agreement == 1 && q1.cohenKappa == 1 && !q1.flagged)
        #expect(q1.byModel == ["m1": 1, "m2": 0])
        let q2 = a.questions[1]
        #expect(q2.agreement == 0.5 && q2.flagged && q2.passRate == 0.75)
        let q3 = a.questions[2]
        #expect(q3.flagged && q3.unsureRate == 0.9 && q3.reasons.contains { $0.contains("UNSURE") })
        #expect(a.table.contains("FLAG"))
    }
}
