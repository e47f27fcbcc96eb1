import Foundation
import JudgePanel
import JudgePanelTesting

// PanelBench: the execution engine's throughput and the planner's memory.
//
//     swift run -c release PanelBench calls [--url http://127.0.0.1:PORT/v1]
//                                          [--calls 10000] [--concurrency 256] [--latency-ms 50]
//     swift run -c release PanelBench transport --url http://127.0.0.1:PORT/v1
//                                          [--calls 10000] [--concurrency 256]
//     swift run -c release PanelBench serve [--port 0] [--latency-ms 50]
//     swift run -c release PanelBench plan [--items 1000000]
//     swift run -c release PanelBench json [--iterations 20000] [--votes-lines 100000]
//
// `calls`: one judge at concurrency 256 over 10 000 pairwise items (swap off, no cache) against a server
// that answers after a fixed latency. Without --url the server is the in-process FakeProviderServer
// (FlyingFox), so its CPU time and memory count in the figures; with --url it is another process
// (scripts/bench_server.py). The HTTP client is the run's own AsyncHTTPClientTransport, as in `judgepanel score`.
// Ideal wall time = calls × latency / concurrency.
//
// `transport`: the HTTP client alone — `calls` POSTs of a small chat body straight through the transport,
// `concurrency` at a time, no runner, no JSON work; prints the client's CPU per call.
//
// `serve`: a loopback OpenAI-compatible server for `calls --url`: one blocking thread per keep-alive connection,
// every POST answered "[[A]]" after the latency (nanosleep, so waiting costs no CPU); prints "PORT <n>".
// Much cheaper per request than scripts/bench_server.py, so the client's cost dominates the figures.
//
// `plan`: writes an items JSONL of 1 000 000 lines to a temp file, then streams it through
// ItemLoader.forEach + Call.plan + a prompt-token estimate without keeping items; prints time and RSS.
//
// `json`: JSONValue's byte-level parser and compact writer against Foundation's JSONDecoder/JSONEncoder on a
// typical chat-completion reply and a typical request body (rubric prompt with two answers); µs per op. Then
// (JSONAlternatives.swift) OpenAI / Anthropic / Gemini reply bodies decoded by the providers' own code against
// JSONSerialization and a plain Codable decode, and a 100 000-line votes.jsonl read three ways.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func arg(_ name: String) -> String? {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count else { return nil }
    return a[i + 1]
}

func cpuSeconds() -> (user: Double, sys: Double) {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return (
        Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6,
        Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    )
}

/// A /proc/self/status field in MiB (VmHWM = peak RSS, VmRSS = current).
func procStatusMiB(_ field: String) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
        return kb / 1024
    }
    return .nan
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let rubricPath = arg("--rubric") ?? "rubrics/pairwise-mtbench.yaml"
let mode = CommandLine.arguments.dropFirst().first ?? "calls"

func benchCalls() async throws {
    let calls = Int(arg("--calls") ?? "") ?? 10_000
    let concurrency = Int(arg("--concurrency") ?? "") ?? 256
    let latencyMS = Int(arg("--latency-ms") ?? "") ?? 50
    var server: FakeProviderServer?
    let base: String
    if let url = arg("--url") {
        base = url
    } else {
        let s = FakeProviderServer(reply: .delayed(.milliseconds(latencyMS), .text("[[A]]")))
        try await s.start()
        server = s
        base = await s.baseURL.absoluteString + "/v1"
    }
    let rubric = try Rubric.load(path: rubricPath)
    let items = (0..<calls).map { i in
        Item(id: "b\(i)", prompt: "Question \(i)?", responseA: "Answer alpha \(i).", responseB: "Answer beta \(i).")
    }
    let judge = JudgeConfig(
        name: "bench", provider: .openai, model: "bench", baseURLs: [base], concurrency: concurrency,
        timeoutSeconds: 60, retries: 3)
    let panel = Panel(judges: [judge], aggregate: .majority, swap: false, flip: .tie)
    let options = RunOptions(
        cache: nil, retry: RetryPolicy(baseDelay: 0.05, maxDelay: 1, maxRetryAfter: 1), environment: [:])
    let runner = PanelRunner(panel: panel, rubric: rubric, options: options)
    let cpu0 = cpuSeconds()
    let start = ContinuousClock.now
    let result = try await runner.run(items: items)
    let wall = seconds(ContinuousClock.now - start)
    let cpu1 = cpuSeconds()
    let served = await server?.requestCount()
    await server?.stop()
    let ok = result.votes.filter(\.isOK).count
    let ideal = Double(calls) * Double(latencyMS) / 1000 / Double(concurrency)
    print(
        "server: \(server == nil ? "external \(base)" : "in-process FakeProviderServer (FlyingFox; its CPU counts below)"); transport: async-http-client"
    )
    print(
        String(
            format: "calls: %d (%d ok, %d HTTP, retries %d%@), concurrency %d, latency %d ms",
            calls, ok, result.counters.httpCalls, result.counters.retries, served.map { ", server saw \($0)" } ?? "",
            concurrency, latencyMS))
    print(
        String(
            format: "wall: %.2f s; ideal %.2f s; %.0f %% of ideal (ideal/wall); %.0f calls/s", wall, ideal,
            ideal / wall * 100, Double(calls) / wall))
    print(
        String(
            format: "cpu: user %.2f s + sys %.2f s = %.2f s (%.0f µs/call); peak RSS %.1f MiB",
            cpu1.user - cpu0.user, cpu1.sys - cpu0.sys, (cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys),
            ((cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys)) / Double(calls) * 1e6, procStatusMiB("VmHWM")))
}

func benchTransport() async throws {
    let calls = Int(arg("--calls") ?? "") ?? 10_000
    let concurrency = Int(arg("--concurrency") ?? "") ?? 256
    guard let base = arg("--url"), let url = URL(string: base + "/chat/completions") else {
        FileHandle.standardError.write(Data("transport needs --url http://127.0.0.1:PORT/v1\n".utf8))
        exit(2)
    }
    let transport = try AsyncHTTPClientTransport(maxConnectionsPerHost: concurrency + 4, environment: [:])
    let request = HTTPRequest(
        url: url, headers: ["Content-Type": "application/json", "Authorization": "Bearer bench"],
        body: Data(#"{"model":"bench","messages":[{"role":"user","content":"Question?"}]}"#.utf8), timeout: 60)
    let cpu0 = cpuSeconds()
    let start = ContinuousClock.now
    let ok = try await withThrowingTaskGroup(of: Int.self) { group in
        var next = 0
        var ok = 0
        for _ in 0..<min(concurrency, calls) {
            group.addTask { try await transport.send(request).status == 200 ? 1 : 0 }
            next += 1
        }
        while let r = try await group.next() {
            ok += r
            if next < calls {
                group.addTask { try await transport.send(request).status == 200 ? 1 : 0 }
                next += 1
            }
        }
        return ok
    }
    let wall = seconds(ContinuousClock.now - start)
    let cpu1 = cpuSeconds()
    try await transport.shutdown()
    let cpu = (cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys)
    print(
        String(
            format: "transport async-http-client: %d calls (%d ok), concurrency %d: wall %.2f s, %.0f calls/s", calls,
            ok, concurrency, wall, Double(calls) / wall))
    print(
        String(
            format: "cpu: user %.2f s + sys %.2f s = %.2f s (%.0f µs/call); peak RSS %.1f MiB",
            cpu1.user - cpu0.user, cpu1.sys - cpu0.sys, cpu, cpu / Double(calls) * 1e6, procStatusMiB("VmHWM")))
}

let benchReplyBody =
    #"{"id":"bench","object":"chat.completion","model":"bench","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"[[A]]"}}],"usage":{"prompt_tokens":100,"completion_tokens":3,"total_tokens":103}}"#

func serve() -> Never {
    let latencyMS = Int(arg("--latency-ms") ?? "") ?? 50
    let port = UInt16(arg("--port") ?? "") ?? 0
    let reply = Array(
        ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(benchReplyBody.utf8.count)\r\n\r\n"
            + benchReplyBody).utf8)
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) }
    }
    guard ok == 0, listen(listener, 1024) == 0 else {
        FileHandle.standardError.write(Data("serve: cannot listen on 127.0.0.1:\(port)\n".utf8))
        exit(1)
    }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
    }
    print("PORT", UInt16(bigEndian: addr.sin_port))
    fflush(nil)
    while true {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { continue }
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let thread = Thread { serveConnection(fd, reply: reply, latencyMS: latencyMS) }
        thread.stackSize = 128 * 1024
        thread.start()
    }
}

/// Answers keep-alive requests on `fd` until the client closes it.
func serveConnection(_ fd: Int32, reply: [UInt8], latencyMS: Int) {
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    var have = 0
    var pause = timespec(tv_sec: latencyMS / 1000, tv_nsec: (latencyMS % 1000) * 1_000_000)
    while true {
        // Head up to CRLFCRLF, then Content-Length bytes of body.
        var headEnd = -1
        var scanned = 0
        while headEnd < 0 {
            if have >= 4 {
                for i in max(0, scanned - 3)..<(have - 3)
                where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    headEnd = i + 4
                    break
                }
                scanned = have
            }
            if headEnd >= 0 { break }
            if have == buffer.count { return }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, $0.count - have, 0) }
            if n <= 0 { return }
            have += n
        }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self).lowercased()
        var length = 0
        if let r = head.range(of: "content-length:") {
            length = Int(head[r.upperBound...].prefix { $0 != "\r" }.trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let total = headEnd + length
        if total > buffer.count { buffer.append(contentsOf: repeatElement(0, count: total - buffer.count)) }
        while have < total {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, $0.count - have, 0) }
            if n <= 0 { return }
            have += n
        }
        buffer.withUnsafeMutableBytes { b in
            let base = b.baseAddress!
            memmove(base, base + total, have - total)
        }
        have -= total
        nanosleep(&pause, nil)
        var sent = 0
        while sent < reply.count {
            let n = reply.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}

func benchPlan() throws {
    let n = Int(arg("--items") ?? "") ?? 1_000_000
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("panelbench-items-\(getpid()).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Write the file in chunks (never the whole thing in memory).
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let out = FileHandle(forWritingAtPath: path)!
    let t0 = ContinuousClock.now
    var chunk = ""
    for i in 0..<n {
        chunk +=
            #"{"id":"i\#(i)","prompt":"Question number \#(i): explain the idea in a few sentences?","response_a":"Answer alpha \#(i): a careful explanation with some detail.","response_b":"Answer beta \#(i): a different, shorter take.","label":"A"}"#
        chunk += "\n"
        if i % 10_000 == 9_999 {
            out.write(Data(chunk.utf8))
            chunk = ""
        }
    }
    out.write(Data(chunk.utf8))
    try out.close()
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let writeS = seconds(ContinuousClock.now - t0)
    let rssBefore = procStatusMiB("VmRSS")

    let rubric = try Rubric.load(path: rubricPath)
    let panel = Panel(
        judges: [
            JudgeConfig(name: "j1", model: "m1", baseURLs: ["http://127.0.0.1:1/v1"]),
            JudgeConfig(name: "j2", model: "m2", baseURLs: ["http://127.0.0.1:1/v1"]),
        ],
        aggregate: .majority, swap: true, flip: .tie)
    let cpu0 = cpuSeconds()
    let t1 = ContinuousClock.now
    var items = 0
    var calls = 0
    var tokens = 0
    var rssAt: [(Int, Double)] = []
    try ItemLoader().forEach(path: path) { item in
        for call in Call.plan(itemIndex: items, item: item, rubric: rubric, panel: panel) {
            let messages = Prompting.messages(rubric: rubric, item: item, order: call.order)
            tokens += messages.reduce(0) { $0 + $1.content.utf8.count } / 4 + 8 * messages.count
            calls += 1
        }
        items += 1
        if items % (n / 4) == 0 { rssAt.append((items, procStatusMiB("VmRSS"))) }
    }
    let planS = seconds(ContinuousClock.now - t1)
    let cpu1 = cpuSeconds()
    print(String(format: "wrote %d items (%.0f MiB) in %.1f s", n, Double(size) / 1_048_576, writeS))
    print(
        String(
            format: "streamed %d items → %d calls, ~%d prompt tokens in %.1f s (%.0f items/s; cpu %.1f s)",
            items, calls, tokens, planS, Double(items) / planS, (cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys)))
    print(
        String(
            format: "RSS before streaming %.1f MiB; during: %@; peak (VmHWM) %.1f MiB", rssBefore,
            rssAt.map { String(format: "%dk→%.1f", $0.0 / 1000, $0.1) }.joined(separator: ", "), procStatusMiB("VmHWM"))
    )
}

/// µs per call of `body` over `n` calls (after a warm-up of n / 10).
func microseconds(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<max(1, n / 10) { try body() }
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<n { try body() }
    return seconds(clock.now - start) / Double(n) * 1e6
}

func benchJSON() throws {
    let n = Int(arg("--iterations") ?? "") ?? 20_000
    let reply = Data(
        #"{"id":"chatcmpl-9a8b7c6d5e4f","object":"chat.completion","created":1732350000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Response A answers the question directly and correctly, citing the relevant formula; Response B is vaguer and contains a small arithmetic slip (\"12 × 4 = 46\").\n\nVerdict: [[A]]","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":642,"completion_tokens":58,"total_tokens":700,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_0ba0d124f1"}"#
            .utf8)
    let answer = String(
        repeating: "The mitochondria is the powerhouse of the cell — it produces ATP via oxidative phosphorylation. ",
        count: 6)
    let request: JSONValue = [
        "model": "gpt-4o-mini", "temperature": 0, "max_tokens": 512, "seed": 1234,
        "messages": [
            [
                "role": "system",
                "content":
                    "You are a careful, impartial judge. Compare the two responses to the user's question and answer with [[A]], [[B]] or [[C]] for a tie.",
            ],
            [
                "role": "user",
                "content": .string(
                    "[User Question]\nExplain what mitochondria do.\n\n[The Start of Assistant A's Answer]\n\(answer)\n[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n\(answer.uppercased())\n[The End of Assistant B's Answer]"
                ),
            ],
        ],
    ]
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let decoder = JSONDecoder()
    guard try request.compactData() == encoder.encode(request),
        try JSONValue(jsonData: reply) == valueFromSerialization(JSONSerialization.jsonObject(with: reply)),
        try JSONValue(jsonData: reply) == decoder.decode(CascadeJSONValue.self, from: reply).value
    else {
        print("MISMATCH between the readers or writers")
        exit(1)
    }
    let body = try request.compactData()
    print(
        "load average: \(loadAverage()); reply \(reply.count) bytes, request body \(body.count) bytes, \(n) iterations each"
    )
    var sink = 0
    // Reading a JSONValue: the engine's `JSONValue(jsonData:)` (JSONDecoder, `init(from:)` probing string, number,
    // object, array, bool and catching only type mismatches) against the old `try?` cascade and JSONSerialization.
    for (what, data) in [("reply", reply), ("request body", body)] {
        let engine = try microseconds(n) { sink &+= try JSONValue(jsonData: data).objectValue?.count ?? 0 }
        let cascade = try microseconds(n) {
            sink &+= try decoder.decode(CascadeJSONValue.self, from: data).value.objectValue?.count ?? 0
        }
        let serialization = try microseconds(n) {
            sink &+= try valueFromSerialization(JSONSerialization.jsonObject(with: data)).objectValue?.count ?? 0
        }
        print(
            String(
                format:
                    "read %@: JSONValue(jsonData:) %.2f µs   try? cascade %.2f µs (%.1f×)   JSONSerialization + convert %.2f µs (%.1f×)",
                what, engine, cascade, cascade / engine, serialization, serialization / engine))
    }
    // Writing a request body (once per call): the compact writer against JSONEncoder.compact (same bytes).
    let foundationEncode = try microseconds(n) { sink &+= try encoder.encode(request).count }
    let writerEncode = try microseconds(n) { sink &+= try request.compactData().count }
    print(
        String(
            format: "encode request body: JSONEncoder.compact %.2f µs   compactData() %.2f µs   %.1f× faster",
            foundationEncode, writerEncode, foundationEncode / writerEncode))
    if sink == 42 { print("") }
    print("")
    try benchProviderBodies(iterations: n)
    print("")
    try benchVotesFile(lines: Int(arg("--votes-lines") ?? "") ?? 100_000)
}

/// One items file with a single line of `--mb` MiB (`--kind valid`: a pairwise item with a long prompt;
/// `error`: a bad byte at the start of the line; `late-error`: a bad byte at its end), loaded with
/// `ItemLoader`; prints the load time and peak RSS. Run each size in a fresh process (scripts/bench_lines.sh).
func benchLines() throws {
    let mib = Int(arg("--mb") ?? "") ?? 16
    let kind = arg("--kind") ?? "valid"
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("jp-lines-\(getpid()).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Written in 1 MiB pieces so that the file never sits in this process's memory.
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    let head = kind == "error" ? "x{\"id\": \"1\", \"prompt\": \"" : "{\"id\": \"1\", \"prompt\": \""
    let tail =
        kind == "late-error"
        ? "\", \"response_a\": \"a\", \"response_b\": \"b\"}x\n" : "\", \"response_a\": \"a\", \"response_b\": \"b\"}\n"
    try out.write(contentsOf: Data(head.utf8))
    let piece = Data(
        String(repeating: "The quick brown fox jumps over the lazy dog. é ", count: 1 << 20 / 48).utf8.prefix(1 << 20))
    for _ in 0..<mib { try out.write(contentsOf: piece) }
    try out.write(contentsOf: Data(tail.utf8))
    try out.close()
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let rssBefore = procStatusMiB("VmRSS")
    let start = ContinuousClock.now
    var outcome: String
    do {
        let items = try ItemLoader().load(path: path)
        outcome = "loaded \(items.count) item, prompt \(items.first?.prompt?.utf8.count ?? 0) bytes"
    } catch let e as JudgePanelError {
        outcome = "error: " + String(e.description.replacingOccurrences(of: path, with: "items.jsonl").prefix(110))
    }
    let elapsed = seconds(ContinuousClock.now - start)
    print(
        String(
            format: "%@ %4d MiB line (%d bytes): %.3f s; RSS before %.1f MiB, peak (VmHWM) %.1f MiB; %@",
            kind, mib, size, elapsed, rssBefore, procStatusMiB("VmHWM"), outcome))
}

switch mode {
case "lines": try benchLines()
case "json": try benchJSON()
case "calls": try await benchCalls()
case "transport": try await benchTransport()
case "serve": serve()
case "plan": try benchPlan()
default:
    FileHandle.standardError.write(
        Data(
            "usage: PanelBench calls [--url URL] | transport --url URL | serve [--port P] [--latency-ms L] | plan [--items N] | json [--iterations N] | lines [--mb N] [--kind valid|error|late-error]\n"
                .utf8))
    exit(2)
}
