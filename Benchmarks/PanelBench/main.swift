// PanelBench: the execution engine's throughput and the planner's memory.
//
//     swift run -c release PanelBench calls [--url http://127.0.0.1:PORT/v1] [--calls 10000] [--concurrency 256] [--latency-ms 50]
//     swift run -c release PanelBench plan [--items 1000000]
//
// `calls`: one judge at concurrency 256 over 10 000 pairwise items (swap off, no cache) against a server
// that answers after a fixed latency. Without --url the server is the in-process FakeProviderServer
// (FlyingFox), so its CPU time and memory count in the figures; with --url it is another process
// (scripts/bench_server.py). Ideal wall time = calls × latency / concurrency.
//
// `plan`: writes an items JSONL of 1 000 000 lines to a temp file, then streams it through
// ItemLoader.forEach + Call.plan + a prompt-token estimate without keeping items; prints time and RSS.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import JudgePanel
import JudgePanelTesting

func arg(_ name: String) -> String? {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count else { return nil }
    return a[i + 1]
}

func cpuSeconds() -> (user: Double, sys: Double) {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return (Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6, Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6)
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
        name: "bench", provider: .openai, model: "bench", baseURLs: [base], concurrency: concurrency, timeoutSeconds: 60, retries: 3)
    let panel = Panel(judges: [judge], aggregate: .majority, swap: false, flip: .tie)
    let options = RunOptions(cache: nil, retry: RetryPolicy(baseDelay: 0.05, maxDelay: 1, maxRetryAfter: 1), environment: [:])
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
    print("server: \(server == nil ? "external \(base)" : "in-process FakeProviderServer (FlyingFox; its CPU counts below)")")
    print(String(format: "calls: %d (%d ok, %d HTTP, retries %d%@), concurrency %d, latency %d ms",
                 calls, ok, result.counters.httpCalls, result.counters.retries, served.map { ", server saw \($0)" } ?? "", concurrency, latencyMS))
    print(String(format: "wall: %.2f s; ideal %.2f s; %.0f %% of ideal (ideal/wall); %.0f calls/s", wall, ideal, ideal / wall * 100, Double(calls) / wall))
    print(String(format: "cpu: user %.2f s + sys %.2f s = %.2f s (%.0f µs/call); peak RSS %.1f MiB",
                 cpu1.user - cpu0.user, cpu1.sys - cpu0.sys, (cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys),
                 ((cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys)) / Double(calls) * 1e6, procStatusMiB("VmHWM")))
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
        chunk += #"{"id":"i\#(i)","prompt":"Question number \#(i): explain the idea in a few sentences?","response_a":"Answer alpha \#(i): a careful explanation with some detail.","response_b":"Answer beta \#(i): a different, shorter take.","label":"A"}"#
        chunk += "\n"
        if i % 10_000 == 9_999 { out.write(Data(chunk.utf8)); chunk = "" }
    }
    out.write(Data(chunk.utf8))
    try out.close()
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let writeS = seconds(ContinuousClock.now - t0)
    let rssBefore = procStatusMiB("VmRSS")

    let rubric = try Rubric.load(path: rubricPath)
    let panel = Panel(
        judges: [JudgeConfig(name: "j1", model: "m1", baseURLs: ["http://127.0.0.1:1/v1"]), JudgeConfig(name: "j2", model: "m2", baseURLs: ["http://127.0.0.1:1/v1"])],
        aggregate: .majority, swap: true, flip: .tie)
    let cpu0 = cpuSeconds()
    let t1 = ContinuousClock.now
    var items = 0, calls = 0, tokens = 0
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
    print(String(format: "streamed %d items → %d calls, ~%d prompt tokens in %.1f s (%.0f items/s; cpu %.1f s)",
                 items, calls, tokens, planS, Double(items) / planS, (cpu1.user + cpu1.sys) - (cpu0.user + cpu0.sys)))
    print(String(format: "RSS before streaming %.1f MiB; during: %@; peak (VmHWM) %.1f MiB", rssBefore,
                 rssAt.map { String(format: "%dk→%.1f", $0.0 / 1000, $0.1) }.joined(separator: ", "), procStatusMiB("VmHWM")))
}

switch mode {
case "calls": try await benchCalls()
case "plan": try benchPlan()
default:
    FileHandle.standardError.write(Data("usage: PanelBench calls [--url URL] | plan [--items N]\n".utf8))
    exit(2)
}
