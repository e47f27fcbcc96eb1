import Foundation
import JudgePanel

// Plans N items × J OpenAI judges × 2 orders × S samples calls into batch input files (50 000 requests each),
// deleting each file once written, and prints time and memory:
// `swift run -c release BatchBench ITEMS JUDGES SAMPLES [I/N]`.
// The items are written to a JSONL file first and the job reads them from it in passes, as `score --batch` does
// (ScoreJob's streamed initializer: nothing is held per item but its first call index and line offset); with
// I/N only shard I of N is planned (`score --batch --shard I/N`). Nothing is sent (the judges point at a closed
// port and no batch is created). See scripts/bench_batch.sh.

func status(_ field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
    else { return -1 }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
}

let rawArgs = Array(CommandLine.arguments.dropFirst())
let args = rawArgs.compactMap { Int($0) }
let (n, judges, samples) = (
    args.count > 0 ? args[0] : 100_000, args.count > 1 ? args[1] : 10, args.count > 2 ? args[2] : 5
)
let shard = try rawArgs.first { $0.contains("/") }.map(Shard.parse)
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-batchbench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }

// The items file, written in 1 MiB pieces.
let itemsPath = dir.appendingPathComponent("items.jsonl").path
FileManager.default.createFile(atPath: itemsPath, contents: nil)
let out = try FileHandle(forWritingTo: URL(fileURLWithPath: itemsPath))
var buffer = Data()
for i in 0..<n {
    buffer.append(
        contentsOf:
            #"{"id":"i\#(i)","prompt":"Question \#(i)?","response_a":"Answer alpha \#(i).","response_b":"Answer beta \#(i)."}"#
            .utf8)
    buffer.append(10)
    if buffer.count > 1 << 20 {
        try out.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
try out.write(contentsOf: buffer)
try out.close()
let panelPath = dir.appendingPathComponent("panel.yaml").path
try
    (["version: 1", "judges:"]
    + (0..<judges).map {
        "  - {name: j\($0), provider: openai, base_url: \"http://127.0.0.1:9/v1\", model: m\($0), samples: \(samples)}"
    }
    + ["aggregate: majority", "swap: true", ""]).joined(separator: "\n").write(
        toFile: panelPath, atomically: true, encoding: .utf8)

let rssBefore = status("VmRSS")
let start = Date()
// Validation pass (and, for a shard, the pass that counts its items), as `score` does before any call.
var job = try ScoreJob(
    streamingItemsPath: itemsPath, rubricPath: "rubrics/pairwise-mtbench.yaml", panelPath: panelPath,
    options: RunOptions(cache: nil, environment: [:]))
if let shard { try job.restrict(to: shard) }
let validated = Date().timeIntervalSince(start)
var bytes = 0
let (requests, chunks) = try await BatchRunner.planOnly(job: job, dir: dir.appendingPathComponent("run").path) {
    path, _, b in
    bytes += b
    try FileManager.default.removeItem(atPath: path)
}
let seconds = Date().timeIntervalSince(start)
print(
    "items \(n)\(shard.map { " (shard \($0): \(job.itemCount))" } ?? ""), judges \(judges), samples \(samples): \(requests) calls "
        + "planned into \(chunks) batch files, \(bytes / 1_000_000) MB of JSONL")
print(
    String(
        format: "%.1f s (%.0f calls/s; validation %.1f s); RSS before %d MiB, peak RSS %d MiB", seconds,
        Double(requests) / seconds,
        validated, rssBefore / 1024, status("VmHWM") / 1024))
