import Foundation
import JudgePanelTesting
import JudgeStats
import Testing

@testable import JudgePanel
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders

// MARK: - Helpers

/// A PNG-signed byte string of `size` bytes (the loader checks the signature, not the pixels).
private func pngBytes(_ size: Int, fill: UInt8 = 7) -> [UInt8] {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    return signature + [UInt8](repeating: fill, count: max(0, size - signature.count))
}

private let jpegBytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 3, count: 60)

/// A fresh directory holding `items.jsonl` with `lines` and any `files`.
private func itemsDir(_ lines: [String], files: [String: [UInt8]] = [:]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-kinds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
    let path = dir.appendingPathComponent("items.jsonl").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

private func loadError(_ lines: [String], files: [String: [UInt8]] = [:], loader: ItemLoader = ItemLoader()) throws
    -> String
{
    let path = try itemsDir(lines, files: files)
    do {
        _ = try loader.load(path: path)
    } catch let e as JudgePanelError {
        return e.description
    }
    Issue.record("expected a load error")
    return ""
}

/// The text between two markers (the first occurrence), or nil.
private func between(_ text: String, _ start: String, _ end: String) -> String? {
    guard let s = text.range(of: start), let e = text.range(of: end, range: s.upperBound..<text.endIndex) else {
        return nil
    }
    return String(text[s.upperBound..<e.lowerBound])
}

private let convStartA = "<|The Start of Assistant A's Conversation with User|>"
private let convEndA = "<|The End of Assistant A's Conversation with User|>"
private let convStartB = "<|The Start of Assistant B's Conversation with User|>"
private let convEndB = "<|The End of Assistant B's Conversation with User|>"

/// A judge that prefers the conversation (or trajectory) whose block contains `good`; `[[C]]` when neither does.
private func markerJudge(_ good: String, startA: String, endA: String, startB: String, endB: String) -> FakeHandler {
    { request in
        let text = request.lastUserText
        let a = between(text, startA, endA) ?? ""
        let b = between(text, startB, endB) ?? ""
        if a.contains(good) && !b.contains(good) { return .text("A is right. [[A]]") }
        if b.contains(good) && !a.contains(good) { return .text("B is right. [[B]]") }
        return .text("[[C]]")
    }
}

/// A judge that always prefers the longer block (a verbosity-biased judge).
private func longerJudge(startA: String, endA: String, startB: String, endB: String) -> FakeHandler {
    { request in
        let text = request.lastUserText
        let a = between(text, startA, endA) ?? ""
        let b = between(text, startB, endB) ?? ""
        return .text(a.count >= b.count ? "[[A]]" : "[[B]]")
    }
}

private func conversationItem(_ i: Int, goodSide: Preference) -> String {
    func conv(_ good: Bool) -> String {
        let second = good ? "GOOD: 12 apples remain, because 20 - 8 = 12." : "There are 28 apples."
        return """
            [{"role":"user","content":"I have 20 apples."},{"role":"assistant","content":"Noted: 20 apples."},\
            {"role":"user","content":"I give 8 away. How many are left? (case \(i))"},{"role":"assistant","content":"\(second)"}]
            """
    }
    return
        #"{"id":"c\#(i)","conversation_a":\#(conv(goodSide == .a)),"conversation_b":\#(conv(goodSide == .b)),"label":"\#(goodSide.rawValue)","meta":{"turn":2}}"#
}

private func trajectoryItem(_ i: Int, goodSide: Preference, longOutput: Int = 0) -> String {
    func traj(_ good: Bool) -> String {
        let output = String(repeating: "x", count: longOutput) + "temperature 21C"
        let final = good ? "GOOD: It is 21C in Paris." : "It is 35C in Paris."
        return """
            [{"role":"assistant","content":"Looking it up.","tool_calls":[{"name":"weather","arguments":{"city":"Paris","case":\(i)}}]},\
            {"role":"tool","name":"weather","content":"\(output)"},{"role":"assistant","content":"\(final)"}]
            """
    }
    return
        #"{"id":"t\#(i)","prompt":"What is the temperature in Paris?","trajectory_a":\#(traj(goodSide == .a)),"trajectory_b":\#(traj(goodSide == .b)),"label":"\#(goodSide.rawValue)"}"#
}

private let trajStartA = "[The Start of Agent A's Trajectory"
private let trajEndA = "[The End of Agent A's Trajectory]"
private let trajStartB = "[The Start of Agent B's Trajectory"
private let trajEndB = "[The End of Agent B's Trajectory]"

private let kindsOptions = RunOptions(
    cache: nil, retry: RetryPolicy(baseDelay: 0.005, maxDelay: 0.05), environment: [:])

// MARK: - Items

@Suite("Item kinds: typed parts, conversations, trajectories")
struct ItemKindsLoaderTests {
    @Test("typed parts read an image file once, hash it, and number it [image N]")
    func typedParts() throws {
        let png = pngBytes(300)
        let line = { (id: String) in
            #"{"id":"\#(id)","messages":[{"role":"user","content":[{"type":"text","text":"What is shown?"},{"type":"image","path":"pic.png"}]}],"response":"A cat."}"#
        }
        let path = try itemsDir([line("a"), line("b")], files: ["pic.png": png])
        let loader = ItemLoader()
        let items = try loader.load(path: path)
        #expect(items.count == 2)
        #expect(loader.imageFiles.count == 1)  // read once for both items
        let image = try #require(items[0].images.first)
        #expect(image.mediaType == "image/png")
        #expect(image.sha256 == ContentHash.hex(bytes: png))
        #expect(image.byteCount == 300)
        #expect(image.base64 == Data(png).base64EncodedString())
        #expect(items[0].promptText == "What is shown?\n[image 1]")
        #expect(items[1].images == items[0].images)
        // Written back as given (the path, not the bytes).
        let back = items[0].json["messages"]?.arrayValue?.first?["content"]?.arrayValue?[1]
        #expect(back?["path"]?.stringValue == "pic.png")
    }

    @Test(
        "invalid parts and candidates are errors naming file and line",
        arguments: [
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"video","url":"https://e.x/v.mp4"}]}],"response":"r"}"#,
                "unknown part type"
            ),
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","path":"pic.png","url":"https://e.x/p.png"}]}],"response":"r"}"#,
                "exactly one of"
            ),
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","data":"%%%","media_type":"image/png"}]}],"response":"r"}"#,
                "not valid base64"
            ),
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","path":"pic.png","media_type":"image/jpeg"}]}],"response":"r"}"#,
                "media_type says image/jpeg"
            ),
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","path":"missing.png"}]}],"response":"r"}"#,
                "cannot read image file"
            ),
            (
                #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","path":"notimage.txt"}]}],"response":"r"}"#,
                "not PNG, JPEG, GIF or WebP"
            ),
            (#"{"id":"x","messages":[{"role":"user","content":[]}],"response":"r"}"#, "empty list"),
            (
                #"{"id":"x","conversation_a":[{"role":"user","content":"hi"}],"conversation_b":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}"#,
                "must end with the assistant message"
            ),
            (#"{"id":"x","prompt":"p","trajectory":[{"role":"tool","content":"out"}]}"#, "needs \"name\""),
            (
                #"{"id":"x","prompt":"p","trajectory":[{"role":"assistant","tool_calls":[{"arguments":{}}]}]}"#,
                "needs \"name\" and \"arguments\""
            ),
            (#"{"id":"x","prompt":"p","response":"r","trajectory":[{"role":"assistant","content":"done"}]}"#, "not 2"),
            (
                #"{"id":"x","prompt":"p","conversation_a":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#,
                "both candidates"
            ),
        ])
    func invalid(_ line: String, _ expected: String) throws {
        let message = try loadError(
            ["{\"id\":\"ok\",\"prompt\":\"p\",\"response\":\"r\"}", line],
            files: ["pic.png": pngBytes(64), "notimage.txt": Array("hello".utf8)])
        #expect(message.contains("items.jsonl:2:"), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test("the image size limit: a file or inline image over --max-image-bytes is refused; the default is 5 MiB")
    func sizeLimit() throws {
        #expect(ItemContentLimits.defaultMaxImageBytes == 5 * 1024 * 1024)
        var small = ItemLoader()
        small.limits = ItemContentLimits(maxImageBytes: 1000)
        let fileLine =
            #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","path":"big.png"}]}],"response":"r"}"#
        let m1 = try loadError([fileLine], files: ["big.png": pngBytes(1001)], loader: small)
        #expect(m1.contains("items.jsonl:1:") && m1.contains("1001 bytes") && m1.contains("--max-image-bytes"), "\(m1)")
        let data = Data(pngBytes(1500)).base64EncodedString()
        let inline =
            #"{"id":"x","messages":[{"role":"user","content":[{"type":"image","data":"\#(data)","media_type":"image/png"}]}],"response":"r"}"#
        let m2 = try loadError([inline], loader: small)
        #expect(m2.contains("--max-image-bytes"), "\(m2)")
        // At the limit it loads.
        let ok = try small.load(path: try itemsDir([fileLine], files: ["big.png": pngBytes(1000)]))
        #expect(ok[0].images.first?.byteCount == 1000)
    }

    @Test("a conversation renders as turns; a trajectory as compact steps with long tool outputs cut and counted")
    func rendering() throws {
        let path = try itemsDir([conversationItem(1, goodSide: .a), trajectoryItem(1, goodSide: .b, longOutput: 3000)])
        var loader = ItemLoader()
        loader.limits = ItemContentLimits(maxToolOutputChars: 100)
        let items = try loader.load(path: path)
        let conv = try #require(items[0].responseA)
        #expect(conv.hasPrefix("[Turn 1] User:\nI have 20 apples."))
        #expect(conv.contains("[Turn 2] Assistant:\nGOOD: 12 apples remain"))
        #expect(items[0].isPairwise)
        let traj = try #require(items[1].responseA)
        #expect(traj.contains("Step 1 · assistant: Looking it up.\n  → call weather({\"case\":1,\"city\":\"Paris\"})"))
        #expect(traj.contains(" … [truncated 2915 characters]"))
        #expect(!traj.contains("temperature 21C"))  // the cut removed the tail
        #expect(traj.hasSuffix("Step 3 · assistant: It is 35C in Paris."))
        #expect(items[1].truncatedToolOutputs == 2)  // one per trajectory
        // Written back in the form given.
        #expect(items[1].json["trajectory_a"]?.arrayValue?.count == 3)
        #expect(items[0].json["conversation_b"]?.arrayValue?.count == 4)
        #expect(items[0].json["response_a"] == nil)
    }

    @Test("checklists apply per turn and per step")
    func perTurnChecklist() throws {
        let items = try ItemLoader().load(
            path: try itemsDir([conversationItem(1, goodSide: .a), trajectoryItem(2, goodSide: .a)]))
        let turns = try loadRubric("checklist-conversation-turns")
        var shown = items[0]
        shown.candidate = shown.candidateA
        let q = turns.checklist!.questions(turns.checklist!.items, for: shown)
        #expect(q.count == 2 * 3)
        #expect(q[0].hasPrefix("Turn 1: ") && q[3].hasPrefix("Turn 2: "))
        let steps = try loadRubric("checklist-trajectory-steps")
        var t = items[1]
        t.candidate = t.candidateB
        let s = steps.checklist!.questions(steps.checklist!.items, for: t)
        #expect(s == steps.checklist!.items.map { "Step 1: \($0)" } + steps.checklist!.items.map { "Step 3: \($0)" })
    }

    @Test("the README's example lines load, and each passes its rubric's checks")
    func readmeExamples() throws {
        let readme = try String(contentsOf: panelTestRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Conversations, trajectories and images"))
        let block = try #require(between(String(readme[section.upperBound...]), "```jsonl\n", "```"))
        let lines = block.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let dir = try itemsDir(lines)
        let img = URL(fileURLWithPath: dir).deletingLastPathComponent().appendingPathComponent("img")
        try FileManager.default.createDirectory(at: img, withIntermediateDirectories: true)
        try Data(pngBytes(120)).write(to: img.appendingPathComponent("cats.png"))
        let items = try ItemLoader().load(path: dir)
        #expect(items.map(\.images.count) == [1, 0, 0])
        try loadRubric("pairwise-mtbench").validate(items[0], file: dir)
        try loadRubric("mtbench-turn2-pairwise").validate(items[1], file: dir)
        try loadRubric("trajectory-task-success").validate(items[2], file: dir)
        #expect(items[2].response?.contains("→ call weather({\"city\":\"Paris\"})") == true)
    }

    @Test("every built-in rubric for the new kinds loads")
    func rubricsLoad() throws {
        for id in [
            "conversation-pointwise", "conversation-pairwise", "mtbench-turn2-pairwise", "mtbench-turn2-pointwise",
            "trajectory-task-success", "trajectory-tool-use", "trajectory-efficiency", "trajectory-pairwise",
            "checklist-conversation-turns", "checklist-trajectory-steps",
        ] {
            let r = try loadRubric(id)
            #expect(r.id == id)
        }
    }

    @Test("MT-Bench turn 2: the judge sees turn 1 as context and grades the second answer; a swap moves both whole")
    func turnTwo() throws {
        let items = try ItemLoader().load(path: try itemsDir([conversationItem(1, goodSide: .b)]))
        let rubric = try loadRubric("mtbench-turn2-pairwise")
        let ab = Prompting.messages(rubric: rubric, item: items[0], order: .ab).last!.content
        let ba = Prompting.messages(rubric: rubric, item: items[0], order: .ba).last!.content
        let aBlock = try #require(between(ab, convStartA, convEndA))
        #expect(aBlock.contains("[Turn 1] User:\nI have 20 apples."))
        #expect(aBlock.contains("[The answer to grade] Assistant A:\nThere are 28 apples."))
        #expect(!aBlock.contains("GOOD"))
        let aShownBA = try #require(between(ba, convStartA, convEndA))
        #expect(aShownBA.contains("[The answer to grade] Assistant A:\nGOOD: 12 apples remain"))
        #expect(between(ba, convStartB, convEndB)?.contains("There are 28 apples.") == true)
    }
}

// MARK: - Fingerprint and cache key

@Suite("Images in the call fingerprint and the cache key")
struct ImageFingerprintTests {
    @Test("a changed image changes the fingerprint and the cache key; the same image keeps both")
    func hashed() throws {
        let line =
            #"{"id":"x","messages":[{"role":"user","content":[{"type":"text","text":"Describe."},{"type":"image","path":"p.png"}]}],"response":"A cat."}"#
        let one = try ItemLoader().load(path: try itemsDir([line], files: ["p.png": pngBytes(100, fill: 1)]))[0]
        let same = try ItemLoader().load(path: try itemsDir([line], files: ["p.png": pngBytes(100, fill: 1)]))[0]
        let other = try ItemLoader().load(path: try itemsDir([line], files: ["p.png": pngBytes(100, fill: 2)]))[0]
        let rubric = try loadRubric("pointwise-1to10")
        let judge = JudgeConfig(name: "j", provider: .openai, model: "gpt-4o", baseURLs: ["http://127.0.0.1:1/v1"])
        let call = try #require(Call.plan(itemIndex: 0, item: one, rubric: rubric, panel: Panel(judges: [judge])).first)
        func fp(_ i: Item) -> String {
            CallExecutor.fingerprint(call: call, item: i, judge: judge, rubric: rubric, checklist: nil)
        }
        func key(_ i: Item) -> String {
            ResponseCache.key(
                judge: judge,
                request: CallExecutor.request(call: call, item: i, judge: judge, rubric: rubric, checklist: nil),
                sample: 0)
        }
        #expect(fp(one) == fp(same))
        #expect(fp(one) != fp(other))
        #expect(key(one) == key(same))
        #expect(key(one) != key(other))
        // The request carries the image after its marker.
        let request = CallExecutor.request(call: call, item: one, judge: judge, rubric: rubric, checklist: nil)
        let user = try #require(request.messages.last)
        #expect(user.images.map(\.sha256) == [ContentHash.hex(bytes: pngBytes(100, fill: 1))])
        #expect(user.parts?.count == 3)  // the text, "[image 1]:", the image
    }

    @Test("a text item's request, fingerprint and cache key have no image fields (old keys stay valid)")
    func textUnchanged() throws {
        let item = Item(id: "t", prompt: "2+2?", response: "4")
        let rubric = try loadRubric("pointwise-1to10")
        let request = CallExecutor.request(
            call: Call.plan(
                itemIndex: 0, item: item, rubric: rubric, panel: Panel(judges: [JudgeConfig(name: "j", model: "m")])
            ).first!,
            item: item, judge: JudgeConfig(name: "j", model: "m"), rubric: rubric, checklist: nil)
        #expect(request.messages.allSatisfy { $0.parts == nil })
        let canonical = CanonicalJSON.value(request)?.compactString ?? ""
        #expect(!canonical.contains("parts") && !canonical.contains("toolCalls"))
        #expect(
            OpenAIProvider(baseURL: URL(string: "http://x/v1")!, apiKey: nil, transport: NoTransport())
                .body(request)["messages"]?.arrayValue?.last?["content"]?.stringValue != nil)
    }
}

private struct NoTransport: HTTPTransport {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw ProviderError.connection("none") }
}

// MARK: - Wire formats against the fake server

@Suite("Image parts on each provider's wire, checked by the fake server")
struct ImageWireTests {
    static let png = pngBytes(200, fill: 9)

    static func request(model: String) -> CompletionRequest {
        let image = ImageContent(mediaType: "image/png", bytes: png)
        let user = ChatMessage(
            role: .user, content: "Which is right?\n[image 1]:",
            parts: [.text("Which is right?"), .text("[image 1]:"), .image(image)])
        return CompletionRequest(model: model, messages: [.system("Judge."), user], temperature: 0, maxTokens: 50)
    }

    @Test(
        "each provider sends the image in its documented shape; the fake reads back the same bytes",
        arguments: ProviderWireUnderTest.allCases)
    func shape(_ wire: ProviderWireUnderTest) async throws {
        let server = FakeProviderServer { _ in .text("[[7]]") }
        try await server.start()
        let base = await server.baseURL
        let reply = try await withTransport(maxConnectionsPerHost: 2) { transport in
            let provider: any JudgeProvider
            switch wire {
            case .openai:
                provider = OpenAIProvider(baseURL: base.appendingPathComponent("v1"), apiKey: nil, transport: transport)
            case .anthropic: provider = AnthropicProvider(baseURL: base, apiKey: "k", transport: transport)
            case .gemini: provider = GeminiProvider(baseURL: base, apiKey: "k", transport: transport)
            case .ollama: provider = OllamaProvider(baseURL: base, apiKey: nil, transport: transport)
            }
            return try await provider.complete(Self.request(model: "vision-model"), timeout: 10)
        }
        let recorded = await server.recordedRequests()
        await server.stop()
        #expect(reply.text == "[[7]]")
        let r = try #require(recorded.first)
        #expect(r.images.count == 1)
        #expect(r.images.first?.bytes == Data(Self.png))
        #expect(r.images.first?.mediaType == (wire == .ollama ? nil : "image/png"))
        #expect(r.lastUserText.contains("Which is right?"))
        // The raw body has the documented key for each provider.
        let body = String(decoding: r.body, as: UTF8.self)
        switch wire {
        case .openai: #expect(body.contains("\"image_url\"") && body.contains("data:image/png;base64,"))
        case .anthropic:
            #expect(body.contains("\"source\"") && body.contains("\"base64\"") && body.contains("\"media_type\""))
        case .gemini: #expect(body.contains("\"inline_data\"") && body.contains("\"mime_type\""))
        case .ollama: #expect(body.contains("\"images\""))
        }
    }

    @Test(
        "the fake refuses shapes the providers do not document (so a wrong client cannot pass)",
        arguments: [
            (
                "/v1/chat/completions",
                #"{"model":"m","messages":[{"role":"user","content":[{"type":"image","data":"iVBORw0K"}]}]}"#
            ),
            (
                "/v1/chat/completions",
                #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"iVBORw0K"}}]}]}"#
            ),
            (
                "/v1/messages",
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"data:image/png;base64,iVBORw0K"}}]}]}"#
            ),
            (
                "/v1/messages",
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"iVBORw0K"}}]}]}"#
            ),
            (
                "/v1beta/models/m:generateContent",
                #"{"contents":[{"role":"user","parts":[{"image":{"data":"iVBORw0K"}}]}]}"#
            ),
            ("/api/chat", #"{"model":"m","messages":[{"role":"user","content":"x","images":"iVBORw0K"}]}"#),
            ("/api/chat", #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"#),
        ])
    func refused(_ path: String, _ body: String) async throws {
        let server = FakeProviderServer { _ in .text("[[7]]") }
        try await server.start()
        let url = await server.baseURL.appendingPathComponent(String(path.dropFirst()))
        var headers = ["content-type": "application/json"]
        if path.hasPrefix("/v1/messages") {
            headers["x-api-key"] = "k"
            headers["anthropic-version"] = "2023-06-01"
        }
        if path.hasPrefix("/v1beta") { headers["x-goog-api-key"] = "k" }
        let sent = headers
        let response = try await withTransport(maxConnectionsPerHost: 1) { transport in
            try await transport.send(HTTPRequest(url: url, headers: sent, body: Data(body.utf8), timeout: 10))
        }
        await server.stop()
        #expect(response.status == 400, "\(path): \(String(decoding: response.body, as: UTF8.self))")
    }
}

// MARK: - Start-up refusal

@Suite("Judges that cannot see images are refused at start-up")
struct VisionRefusalTests {
    static let imageLine =
        #"{"id":"img1","messages":[{"role":"user","content":[{"type":"text","text":"What is shown?"},{"type":"image","path":"p.png"}]}],"response":"A cat."}"#

    @Test("a known text-only model is refused with the judge, the item, file:line and the way out")
    func refused() throws {
        let path = try itemsDir([Self.imageLine], files: ["p.png": pngBytes(80)])
        let items = try ItemLoader().load(path: path)
        let panel = Panel(judges: [
            JudgeConfig(name: "vision", model: "gpt-4o"), JudgeConfig(name: "old", model: "gpt-3.5-turbo"),
        ])
        do {
            _ = try ScoreJob(
                itemsPath: path, items: items, rubric: try loadRubric("pointwise-1to10"), panel: panel,
                options: kindsOptions)
            Issue.record("expected a refusal")
        } catch let e as JudgePanelError {
            #expect(e.description.contains("items.jsonl:1:"))
            #expect(e.description.contains("judge 'old' cannot see images"))
            #expect(e.description.contains("gpt-3.5-turbo"))
            #expect(e.description.contains("vision: true"))
        }
        // The panel's `vision: true` overrides the table; `vision: false` refuses any model.
        var overridden = panel
        overridden.judges[1].vision = true
        _ = try ScoreJob(
            itemsPath: path, items: items, rubric: try loadRubric("pointwise-1to10"), panel: overridden,
            options: kindsOptions)
        var refusedByPanel = panel
        refusedByPanel.judges = [JudgeConfig(name: "v", model: "gpt-4o")]
        refusedByPanel.judges[0].vision = false
        #expect(throws: JudgePanelError.self) {
            _ = try ScoreJob(
                itemsPath: path, items: items, rubric: try loadRubric("pointwise-1to10"), panel: refusedByPanel,
                options: kindsOptions)
        }
        // A text item is never refused.
        let textPath = try itemsDir([#"{"id":"t","prompt":"2+2?","response":"4"}"#])
        _ = try ScoreJob(
            itemsPath: textPath, items: try ItemLoader().load(path: textPath),
            rubric: try loadRubric("pointwise-1to10"), panel: panel, options: kindsOptions)
    }

    @Test("the panel file reads vision: true|false; a URL image is refused for Gemini and Ollama judges")
    func panelFileAndURL() throws {
        let yaml = """
            version: 1
            judges:
              - {name: g, provider: gemini, model: gemini-2.5-flash, vision: true}
            """
        let panel = try Panel.parse(yaml: yaml, environment: [:])
        #expect(panel.judges[0].vision == true)
        let urlLine =
            #"{"id":"u","messages":[{"role":"user","content":[{"type":"image","url":"https://example.com/p.png"}]}],"response":"r"}"#
        let path = try itemsDir([urlLine])
        let items = try ItemLoader().load(path: path)
        #expect(items[0].images.first?.url == "https://example.com/p.png")
        #expect(throws: JudgePanelError.self) {
            _ = try ScoreJob(
                itemsPath: path, items: items, rubric: try loadRubric("pointwise-1to10"), panel: panel,
                options: kindsOptions)
        }
    }
}

// MARK: - End to end

@Suite("Conversations and trajectories end to end: both orders, a panel, probes")
struct ItemKindsEndToEndTests {
    @Test("conversation pairs: both orders swap the conversations whole; the panel recovers every label")
    func conversations() async throws {
        let lines = (0..<6).map { conversationItem($0, goodSide: $0 % 2 == 0 ? .a : .b) }
        let items = try ItemLoader().load(path: try itemsDir(lines))
        let judge = markerJudge("GOOD", startA: convStartA, endA: convEndA, startB: convStartB, endB: convEndB)
        let server = try await startPanelFake(["j1": judge, "j2": judge, "first": SimulatedJudge.alwaysFirst.handler])
        let panel = await fakePanel(server, judges: ["j1", "j2"])
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("conversation-pairwise"), options: kindsOptions
        )
        .run(items: items)
        let recorded = await server.recordedRequests()
        await server.stop()
        #expect(result.votes.count == 6 * 2 * 2)
        #expect(result.votes.allSatisfy { $0.isOK })
        for item in items {
            #expect(result.verdicts.first { $0.item == item.id }?.verdict == item.label?.preference)
        }
        // In BA order the conversation shown first is candidate B's, whole (every turn).
        let c0 = items[0]
        let swapped = try #require(
            recorded.first { r in
                between(r.lastUserText, convStartA, convEndA).map { $0.contains("(case 0)") && !$0.contains("GOOD") }
                    ?? false
            })
        #expect(
            between(swapped.lastUserText, convStartA, convEndA)?.trimmingCharacters(in: .whitespacesAndNewlines)
                == c0.responseB?.trimmingCharacters(in: .whitespacesAndNewlines))
        // Per-turn agreement: the items carry turn 2.
        let report = MetaAnalysis().report(items: items, votes: result.votes)
        #expect(report.slices?["turn"]?["2"]?.judges.first?.accuracy?.value == 1)
    }

    @Test("trajectory pairs: both orders, a panel, and the counts and truncation marker shown")
    func trajectories() async throws {
        let lines = (0..<6).map { trajectoryItem($0, goodSide: $0 % 2 == 0 ? .b : .a, longOutput: 50) }
        var loader = ItemLoader()
        loader.limits = ItemContentLimits(maxToolOutputChars: 40)
        let items = try loader.load(path: try itemsDir(lines))
        let judge = markerJudge("GOOD", startA: trajStartA, endA: trajEndA, startB: trajStartB, endB: trajEndB)
        let server = try await startPanelFake(["j1": judge, "j2": judge, "j3": judge])
        let panel = await fakePanel(server, judges: ["j1", "j2", "j3"])
        let result = try await PanelRunner(
            panel: panel, rubric: try loadRubric("trajectory-pairwise"), options: kindsOptions
        )
        .run(items: items)
        let recorded = await server.recordedRequests()
        await server.stop()
        #expect(result.votes.count == 6 * 3 * 2)
        for item in items {
            #expect(result.verdicts.first { $0.item == item.id }?.verdict == item.label?.preference)
        }
        let text = try #require(recorded.first?.lastUserText)
        #expect(text.contains("(3 steps, 1 tool calls)]"))
        #expect(text.contains("… [truncated 25 characters]"))
    }

    @Test("position and verbosity probes on conversations: the padding lands in the final answer only")
    func probes() async throws {
        let lines = (0..<8).map { conversationItem($0, goodSide: $0 % 2 == 0 ? .a : .b) }
        let items = try ItemLoader().load(path: try itemsDir(lines))
        let server = try await startPanelFake([
            "longer": longerJudge(startA: convStartA, endA: convEndA, startB: convStartB, endB: convEndB),
            "fair": markerJudge("GOOD", startA: convStartA, endA: convEndA, startB: convStartB, endB: convEndB),
        ])
        let panel = await fakePanel(server, judges: ["longer", "fair"])
        let runner = ProbeRunner(
            panel: panel, rubric: try loadRubric("conversation-pairwise"),
            probes: try ProbeCatalog.probes(named: "position,verbosity"), options: kindsOptions,
            probeOptions: ProbeOptions(seed: 5, resamples: 200))
        let run = try await runner.run(items: items)
        await server.stop()
        let verbosity = run.results.filter { $0.probe == "verbosity" }
        let fair = try #require(verbosity.first { $0.judge == "fair" })
        let longer = try #require(verbosity.first { $0.judge == "longer" })
        #expect(fair.n == 8 && fair.flipRate == 0)  // padding the final answer does not move a fair judge
        #expect((longer.bias ?? 0) > 0)  // the length-loving judge moves toward the padded answer
        #expect(run.results.contains { $0.probe == "position" && $0.judge == "fair" })
        // The perturbed items keep every earlier turn and pad only the final assistant turn.
        let perturbed = try #require(run.perturbations.first { $0.probe == "verbosity" })
        let original = try #require(items.first { $0.id == perturbed.item })
        let target: Preference = perturbed.target == "A" ? .a : .b
        #expect(perturbed.fields.keys.contains(target == .a ? "response_a" : "response_b"))
        var rng = SeededGenerator(seed: 1)
        let out = try #require(
            VerbosityProbe().perturb(original, target: target, slot: target, rubric: runner.rubric, rng: &rng))
        let before = original.candidateOf(target)?.messages ?? []
        let after = out.candidateOf(target)?.messages ?? []
        #expect(before.count == after.count && before.count == 4)
        #expect(Array(before.prefix(3)) == Array(after.prefix(3)))
        #expect(after[3].content.hasPrefix(before[3].content + "\n\n"))
        #expect(after[3].content.count > before[3].content.count + 50)
        #expect((target == .a ? out.responseA : out.responseB)?.hasSuffix(after[3].content) == true)
        #expect(
            (target == .a ? out.responseB : out.responseA) == (target == .a ? original.responseB : original.responseA))
    }
}
