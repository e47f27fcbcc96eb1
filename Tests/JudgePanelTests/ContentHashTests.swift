import Foundation
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

/// Hashing goes through swift-crypto; cache keys, fingerprints and shard assignments must stay the hex digests
/// the hand-written SHA-256 produced, or every existing response cache and run directory is invalidated.
@Suite("Content hashing (swift-crypto SHA-256)")
struct ContentHashTests {
    @Test("SHA-256 matches the FIPS 180-4 / NIST example vectors")
    func nistVectors() {
        #expect(ContentHash.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ContentHash.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            ContentHash.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            ContentHash.hex(bytes: [UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Padding boundaries (values from Python's hashlib).
        let boundaries = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ]
        for (n, hex) in boundaries { #expect(ContentHash.hex(String(repeating: "a", count: n)) == hex, "\(n)") }
        #expect(ContentHash.digest(Array("abc".utf8)).count == 32)
    }

    @Test("a file's SHA-256 is read in chunks and equals the NIST value for a million 'a'")
    func fileDigest() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jp-hash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.bin").path
        // 3 × 10⁶ 'a' spans three 1 MiB chunks with a partial block at each boundary.
        try Data(repeating: 0x61, count: 3_000_000).write(to: URL(fileURLWithPath: path))
        #expect(try ContentHash.hexOfFile(path) == ContentHash.hex(bytes: [UInt8](repeating: 0x61, count: 3_000_000)))
        try Data(repeating: 0x61, count: 1_000_000).write(to: URL(fileURLWithPath: path))
        #expect(try ContentHash.hexOfFile(path) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(throws: JudgePanelError.self) { try ContentHash.hexOfFile(dir.appendingPathComponent("missing").path) }
    }

    /// Keys recorded with the hand-written SHA-256 before the switch (commit 3c83bfb): a cache written by an
    /// older judgepanel must still be hit.
    @Test("response-cache keys and shard assignments are unchanged by the switch to swift-crypto")
    func cacheKeyFixture() {
        let judge = JudgeConfig(
            name: "gpt", provider: .openai, model: "gpt-4o-mini", baseURLs: ["https://api.openai.com/v1/"], seed: 7)
        let request = CompletionRequest(
            model: "gpt-4o-mini", messages: [.system("You are a judge."), .user("Which is better? é ✓")],
            temperature: 0, maxTokens: 512, seed: 7)
        #expect(
            ResponseCache.key(judge: judge, request: request, sample: 0)
                == "f8ab186031044a93b6127072dd126a45ee38dcdb437cd33eb08b57350102adde")
        #expect(
            ResponseCache.key(judge: judge, request: request, sample: 1)
                == "38d6d0329d66e2b40d6e30ad095ed9c6443009b4fd406eee48f8a3c810c9bea8")
        #expect((0..<8).map { Shard.index(of: "item-\($0)", count: 5) } == [1, 2, 0, 3, 4, 1, 1, 2])
    }

    /// The key as one JSON object written whole (the form before the judge's part was kept per judge): the kept
    /// prefix must give the same bytes for every judge setting, endpoint list and sample.
    @Test("the per-judge key prefix gives the same key as the whole object written at once")
    func cacheKeyPrefix() {
        func whole(_ judge: JudgeConfig, _ request: CompletionRequest, _ sample: Int) -> String {
            var settings: [String: JSONValue] = [:]
            if case .object(let all)? = CanonicalJSON.value(judge) {
                settings = all.filter { !ResponseCache.judgeFieldsOutsideKey.contains($0.key) }
            }
            let o: [String: JSONValue] = [
                "v": 2, "provider": .string(judge.provider.rawValue),
                "endpoints": .array(
                    judge.baseURLs.map { .string(ResponseCache.normalizedEndpoint($0)) }.sorted {
                        $0.textValue < $1.textValue
                    }),
                "judge": .object(settings), "request": CanonicalJSON.value(request) ?? .null,
                "sample": .number(Double(sample)),
            ]
            return ContentHash.hex(bytes: Array(JSONValue.object(o).data))
        }
        let judges = [
            JudgeConfig(name: "a", provider: .openai, model: "m", baseURLs: ["https://x/v1/", "http://b/"], seed: 7),
            JudgeConfig(name: "b", provider: .anthropic, model: "claude \"q\" é", baseURLs: []),
            JudgeConfig(name: "c", provider: .gemini, model: "g", baseURLs: ["https://g/"], seed: nil),
        ]
        let request = CompletionRequest(
            model: "m", messages: [.system("s"), .user("u ✓ \n \"x\"")], temperature: 0.7, maxTokens: 16, seed: 3)
        for judge in judges {
            for sample in [0, 1, 12] {
                #expect(
                    ResponseCache.key(judge: judge, request: request, sample: sample) == whole(judge, request, sample))
            }
        }
    }
}
