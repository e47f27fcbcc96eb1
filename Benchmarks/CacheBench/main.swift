import Foundation
import JudgePanel

// The response cache store at scale (scripts/bench_cache.sh):
//   CacheBench run N [DIR]           put N entries (as the call path does: the writer commits in batches), flush,
//                                    then look every one up in random order from a fresh store (another process's
//                                    view), and N/10 misses; prints rates, database size and the files in DIR.
//   CacheBench write DIR N PREFIX    put N entries with keys from PREFIX and flush (one process of `processes`).
//   CacheBench processes DIR P N     P processes of `write` at once into DIR; checks that none of the P × N
//                                    entries is lost.
// Each entry is a judge's reply as the OpenAI format yields it (text, usage, finish reason).

func key(_ prefix: String, _ i: Int) -> String { ContentHash.hex(bytes: Array("\(prefix)/\(i)".utf8)) }
func reply(_ i: Int) -> CompletionResponse {
    CompletionResponse(
        text: "{\"verdict\": \"\(i % 3 == 0 ? "A" : "B")\"} Answer \(i % 7) is more helpful and accurate.",
        usage: TokenUsage(promptTokens: 400 + i % 300, completionTokens: 12), finishReason: "stop")
}
func rss() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return -1 }
    return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) / 1024
}
func now() -> Double { Date().timeIntervalSince1970 }
func sizeMiB(_ dir: URL) -> (Double, Int) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    var bytes = 0
    for n in names {
        bytes +=
            ((try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(n).path)[.size]) as? Int)
            ?? 0
    }
    return (Double(bytes) / 1_048_576, names.count)
}
func fail(_ s: String) -> Never {
    FileHandle.standardError.write(Data("CacheBench: \(s)\n".utf8))
    exit(1)
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "run":
    let n = args.count > 1 ? Int(args[1]) ?? 1_000_000 : 1_000_000
    let dir =
        args.count > 2
        ? URL(fileURLWithPath: args[2])
        : FileManager.default.temporaryDirectory.appendingPathComponent("jp-cachebench-\(UUID().uuidString)")
    let cache = ResponseCache(directory: dir)
    var t = now()
    let report = max(1, n / 10)
    for i in 0..<n {
        cache.put(key("e", i), reply(i))
        if (i + 1) % report == 0 {
            print(String(format: "  put %d: %.0f entries/s so far", i + 1, Double(i + 1) / (now() - t)))
        }
    }
    let putWall = now() - t
    cache.flush()
    let insertWall = now() - t
    if let f = cache.writeFailure { fail("write failed: \(f)") }
    let (mib, files) = sizeMiB(dir)
    print(
        String(
            format: "insert: %d entries in %.1f s (%.0f entries/s committed; the put calls alone %.1f s, %.2f µs each)",
            n, insertWall, Double(n) / insertWall, putWall, putWall * 1e6 / Double(n)))
    print(
        String(
            format: "on disk: %.1f MiB in %d files (%.0f bytes an entry): %@", mib, files, mib * 1_048_576 / Double(n),
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted().joined(separator: ", ")))
    let reader = ResponseCache.separateStore(directory: dir)
    var order = Array(0..<n)
    var rng = SystemRandomNumberGenerator()
    order.shuffle(using: &rng)
    t = now()
    var found = 0
    for i in order {
        guard let r = reader.get(key("e", i)) else { fail("entry \(i) missing") }
        if r.usage?.promptTokens == 400 + i % 300 { found += 1 }
    }
    let getWall = now() - t
    guard found == n else { fail("\(n - found) entries read back wrong") }
    print(
        String(
            format: "look-up (hits, random order, fresh store): %d in %.1f s (%.0f/s, %.2f µs each)",
            n, getWall, Double(n) / getWall, getWall * 1e6 / Double(n)))
    t = now()
    let misses = max(1, n / 10)
    for i in 0..<misses where reader.get(key("miss", i)) != nil { fail("a miss was found") }
    let missWall = now() - t
    print(String(format: "look-up (misses): %d in %.1f s (%.0f/s)", misses, missWall, Double(misses) / missWall))
    print("peak RSS: \(rss()) MiB")
    if args.count <= 2 { try? FileManager.default.removeItem(at: dir) }
case "write":
    guard args.count == 4, let n = Int(args[2]) else { fail("usage: CacheBench write DIR N PREFIX") }
    let cache = ResponseCache(directory: URL(fileURLWithPath: args[1]))
    for i in 0..<n { cache.put(key(args[3], i), reply(i)) }
    cache.flush()
    if let f = cache.writeFailure { fail("write failed: \(f)") }
case "processes":
    guard args.count == 4, let p = Int(args[2]), let n = Int(args[3]) else {
        fail("usage: CacheBench processes DIR P N")
    }
    let dir = URL(fileURLWithPath: args[1])
    let t = now()
    let procs = try (0..<p).map { w -> Process in
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        proc.arguments = ["write", dir.path, "\(n)", "w\(w)"]
        try proc.run()
        return proc
    }
    for proc in procs {
        proc.waitUntilExit()
        if proc.terminationStatus != 0 { fail("a writer exited \(proc.terminationStatus)") }
    }
    let wall = now() - t
    let reader = ResponseCache.separateStore(directory: dir)
    let count = try reader.committedCount()
    var missing = 0
    for w in 0..<p { for i in 0..<n where reader.get(key("w\(w)", i)) == nil { missing += 1 } }
    print(
        String(
            format: "%d processes × %d entries into one cache at once: %.1f s, %d rows, %d missing", p, n, wall, count,
            missing))
    if count != p * n || missing != 0 { fail("entries lost") }
default:
    fail("usage: CacheBench run N [DIR] | write DIR N PREFIX | processes DIR P N")
}
