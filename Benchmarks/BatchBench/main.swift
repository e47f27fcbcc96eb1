import Foundation
import JudgePanel

// Plans N items × J OpenAI judges × 2 orders × S samples calls into batch input files (50 000 requests each),
// deleting each file once written, and prints time and memory: `swift run -c release BatchBench ITEMS JUDGES SAMPLES`.
// Nothing is sent (the judges point at a closed port and no batch is created). See scripts/bench_batch.sh.

func status(_ field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
    else { return -1 }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
}

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let (n, judges, samples) = (args.count > 0 ? args[0] : 100_000, args.count > 1 ? args[1] : 10, args.count > 2 ? args[2] : 5)
var items: [Item] = []
items.reserveCapacity(n)
for i in 0..<n {
    items.append(Item(id: "i\(i)", prompt: "Question \(i)?", responseA: "Answer alpha \(i).", responseB: "Answer beta \(i)."))
}
let panel = Panel(
    judges: (0..<judges).map {
        JudgeConfig(name: "j\($0)", provider: .openai, model: "m\($0)", baseURLs: ["http://127.0.0.1:9/v1"], samples: samples)
    }, aggregate: .majority, swap: true, flip: .tie)
let rubric = try Rubric.load(path: "rubrics/pairwise-mtbench.yaml")
let job = try ScoreJob(itemsPath: "synthetic", items: items, rubric: rubric, panel: panel, options: RunOptions(cache: nil, environment: [:]))
items = []
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-batchbench-\(UUID().uuidString)").path
let rssBefore = status("VmRSS")
let start = Date()
var bytes = 0
let (requests, chunks) = try await BatchRunner.planOnly(job: job, dir: dir) { path, _, b in
    bytes += b
    try FileManager.default.removeItem(atPath: path)
}
let seconds = Date().timeIntervalSince(start)
try FileManager.default.removeItem(atPath: dir)
print("items \(n), judges \(judges), samples \(samples): \(requests) calls planned into \(chunks) batch files, \(bytes / 1_000_000) MB of JSONL")
print(String(format: "%.1f s (%.0f calls/s); RSS before planning %d MiB, peak RSS %d MiB", seconds, Double(requests) / seconds, rssBefore / 1024, status("VmHWM") / 1024))
