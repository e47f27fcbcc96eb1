import Foundation
import JudgePanelCore
import JudgePanelProviders
import JudgePanelTesting
import Testing

@testable import JudgePanel

/// A 64-hex-digit key (the shape of ``ResponseCache/key(judge:request:sample:)``) from a number.
private func testKey(_ i: Int, prefix: String = "") -> String {
    ContentHash.hex(bytes: Array("\(prefix)entry-\(i)".utf8))
}

@Suite("Response cache store (SQLite)")
struct ResponseStoreTests {
    @Test("a put is found at once, committed in batches into one database file, and read back by a new process")
    func putGetFlush() throws {
        let dir = try tempDir("store")
        let cache = ResponseCache(directory: dir)
        let n = ResponseCache.batchEntries * 2 + 17
        for i in 0..<n { cache.put(testKey(i), CompletionResponse(text: "reply \(i)", finishReason: "stop")) }
        for i in 0..<n { #expect(cache.get(testKey(i))?.text == "reply \(i)") }
        cache.flush()
        #expect(try cache.committedCount() == n)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.allSatisfy { $0.hasPrefix(ResponseCache.databaseFileName) }, "\(files)")
        // Another process's view (its own connections, an empty buffer) sees every entry.
        let other = ResponseCache.separateStore(directory: dir)
        for i in stride(from: 0, to: n, by: 37) {
            #expect(other.get(testKey(i)) == CompletionResponse(text: "reply \(i)", finishReason: "stop"))
        }
        #expect(other.get(testKey(n + 1)) == nil)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("the writer commits a small batch on its own, within its interval, without a flush")
    func timedCommit() async throws {
        let dir = try tempDir("store-timer")
        let cache = ResponseCache(directory: dir)
        cache.put(testKey(1), CompletionResponse(text: "one"))
        let other = ResponseCache.separateStore(directory: dir)
        var seen = false
        // Polls (no timed assertion): the entry must arrive in the database, however slow the machine.
        for _ in 0..<600 where !seen {
            try await Task.sleep(for: .milliseconds(50))
            seen = other.get(testKey(1))?.text == "one"
        }
        #expect(seen)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("stores of one directory writing at once (as separate processes would) lose no entry")
    func concurrentWriters() async throws {
        let dir = try tempDir("store-writers")
        let writers = 4
        let each = 1500
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let store = ResponseCache.separateStore(directory: dir)
                    for i in 0..<each { store.put(testKey(i, prefix: "w\(w)"), CompletionResponse(text: "\(w)/\(i)")) }
                    store.flush()
                    #expect(store.writeFailure == nil)
                }
            }
        }
        let reader = ResponseCache.separateStore(directory: dir)
        #expect(try reader.committedCount() == writers * each)
        for w in 0..<writers { #expect(reader.get(testKey(each - 1, prefix: "w\(w)"))?.text == "\(w)/\(each - 1)") }
        try? FileManager.default.removeItem(at: dir)
    }

    @Test(
        "a cache directory of the earlier layout (one JSON file per response) is read, and each entry read is migrated")
    func legacyFilesAreRead() throws {
        let dir = try tempDir("store-legacy")
        let key = testKey(7)
        let response = CompletionResponse(text: "[[B]]", usage: TokenUsage(promptTokens: 10, completionTokens: 2))
        let file = dir.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(response).write(to: file)
        let cache = ResponseCache.separateStore(directory: dir)
        #expect(cache.get(key) == response)
        #expect(cache.get(testKey(8)) == nil)
        cache.flush()
        #expect(try cache.committedKeys() == [key])
        // Once migrated, the file is no longer needed.
        try FileManager.default.removeItem(at: file)
        #expect(ResponseCache.separateStore(directory: dir).get(key) == response)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test("a cache that cannot be written says why once, and the run goes on (every call made, none cached)")
    func unwritableCache() async throws {
        let dir = try tempDir("store-unwritable")
        // A directory below a regular file can never be created (also as root).
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let cache = ResponseCache.separateStore(directory: blocker.appendingPathComponent("cache"))
        cache.put(testKey(1), CompletionResponse(text: "one"))
        cache.flush()
        #expect(cache.writeFailure != nil)
        #expect(cache.get(testKey(1)) == nil)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test(
        "score with an unwritable --cache-dir finishes, warns once on stderr and records cache_unwritable in the run facts"
    )
    func unwritableCacheInRunFacts() async throws {
        let dir = try tempDir("store-cli")
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let items = (0..<4).map {
            Item(id: "u\($0)", prompt: "Question \($0)?", responseA: "Alpha \($0)", responseB: "Beta \($0)")
        }
        let itemsPath = dir.appendingPathComponent("items.jsonl").path
        try writeItems(items, to: itemsPath)
        let server = try await startPanelFake(["m": SimulatedJudge.alwaysFirst.handler])
        let base = await server.baseURL.absoluteString + "/v1"
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try """
        version: 1
        judges:
          - {name: m, provider: openai, base_url: "\(base)", model: m}
        """.write(toFile: panelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let r = try await runJudgepanel([
            "score", itemsPath, "--rubric", "rubrics/pairwise-mtbench.yaml", "--panel", panelPath,
            "--cache-dir", blocker.appendingPathComponent("cache").path, "--out", out,
        ])
        await server.stop()
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.components(separatedBy: "cannot be written").count == 2, "said once: \(r.err)")
        let config = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: out + "/config.json")))
        #expect(config["run"]?["cache_unwritable"]?.stringValue?.contains(blocker.path) == true)
        try? FileManager.default.removeItem(at: dir)
    }
}
