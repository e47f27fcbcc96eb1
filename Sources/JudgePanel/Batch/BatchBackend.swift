import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// A provider batch's state, normalised: each backend maps its provider's words to one of these, and the runner
/// decides on them alone (the provider's own word stays in ``BatchStatus/state`` for messages and the ledger).
package enum BatchState: Sendable, Hashable {
    /// Accepted and not yet finished (validating, queued, in progress, finalising), or a word not known to end it.
    case running
    /// Asked to cancel, not yet ended.
    case cancelling
    /// Ended with results to read (OpenAI `completed`, Anthropic `ended`, Gemini `SUCCEEDED`).
    case ended
    /// Ended as a whole without results (OpenAI `failed`, Gemini `FAILED`).
    case failed
    /// Ended by its time limit; calls without a result line expired.
    case expired
    /// Ended by a cancel; calls without a result line were canceled.
    case cancelled

    /// The batch will change no more (its results, if any, can be fetched).
    package var isTerminal: Bool {
        switch self {
        case .running, .cancelling: false
        case .ended, .failed, .expired, .cancelled: true
        }
    }
}

/// A provider batch as last seen: its state in the provider's own words and normalised, and its request counts.
package struct BatchStatus: Sendable {
    package var id: String
    /// The provider's state (`validating`, `in_progress`, `completed`, … or `in_progress`, `canceling`, `ended`).
    package var state: String
    /// ``state`` as the backend reads it.
    package var phase: BatchState
    /// Whether the batch will change no more (its results can be fetched).
    package var ended: Bool { phase.isTerminal }
    /// Request counts in the provider's own names, in its order.
    package var counts: [(String, Int)]
    package var metadata: [String: String] = [:]
    package var createdAt: Double?
    /// Requests in the batch, when the provider says.
    package var total: Int?
    package var outputFileID: String?
    package var errorFileID: String?
    var resultsURL: String?
    /// Why the whole batch failed (OpenAI `errors.data[].message`), when it did.
    package var failure: String?

    var countsText: String { counts.map { "\($0.0) \($0.1)" }.joined(separator: ", ") }
}

/// What became of one request of a batch.
package enum BatchLineOutcome: Sendable {
    /// The provider's response body for the request, exactly as a live call would have received it.
    case response(Data)
    case failed(String)
    case expired(String)
    case canceled(String)
}

/// One line of a batch's results, keyed by `custom_id`.
package struct BatchResultLine: Sendable {
    package var customID: String
    package var outcome: BatchLineOutcome
}

/// A provider's batch API: the line format, the documented limits, and the calls that create, watch,
/// cancel and read batches.
package protocol BatchBackend: Sendable {
    /// The most requests one batch may hold.
    var maxRequests: Int { get }
    /// The most bytes one batch's input may hold.
    var maxBytes: Int { get }
    /// One line of the input file (without newline) for a request.
    func line(customID: String, request: CompletionRequest) throws -> Data
    /// Uploads the input file when the API takes a file (returns its id), or nil.
    func upload(file: URL, label: String) async throws -> String?
    /// Creates the batch; `metadata` names the run and chunk where the API keeps metadata.
    func create(file: URL, fileID: String?, metadata: [String: String]) async throws -> BatchStatus
    func retrieve(_ id: String) async throws -> BatchStatus
    /// Every batch the account lists (newest first), for finding a batch created but not journaled.
    func list() async throws -> [BatchStatus]
    func cancel(_ id: String) async throws -> BatchStatus
    /// The results of an ended batch, every line that came back.
    func results(_ status: BatchStatus) async throws -> [BatchResultLine]
    /// Whether `list()` carries `metadata` (else a created-but-unjournaled batch is found by time and size).
    var listsMetadata: Bool { get }
}

/// Shared HTTP plumbing: JSON requests with the provider's headers, non-2xx → ``/JudgePanelProviders/ProviderError``.
package struct BatchHTTP: Sendable {
    package let transport: any HTTPTransport
    package let headers: [String: String]
    package let timeout: Double

    package func send(_ method: String, _ url: URL, body: Data? = nil, contentType: String? = "application/json")
        async throws -> Data
    {
        var h = headers
        if let contentType, body != nil { h["content-type"] = contentType }
        let response = try await transport.send(
            HTTPRequest(url: url, method: method, headers: h, body: body, timeout: timeout))
        guard (200..<300).contains(response.status) else { throw ProviderError.http(response) }
        return response.body
    }

    package func json(_ method: String, _ url: URL, body: JSONValue? = nil) async throws -> JSONValue {
        try JSONValue.decodeBody(try await send(method, url, body: body.map { try $0.compactData() }))
    }
}

/// Splits a body into lines, skipping empty ones.
func jsonlLines(_ data: Data) -> [Data] {
    data.split(separator: 10).filter { !$0.allSatisfy { $0 == 13 || $0 == 32 } }.map { Data($0) }
}

extension ProviderKind {
    /// Whether `score --batch` sends this provider's judges through its batch API.
    var supportsBatch: Bool { self == .openai || self == .anthropic || self == .gemini }
}

enum BatchBackends {
    /// The batch API of a judge, on its first base URL, with its key from `environment`.
    package static func make(
        judge: JudgeConfig, environment: [String: String], transport: any HTTPTransport, geminiInlineBytes: Int? = nil
    ) throws -> any BatchBackend {
        guard let text = judge.baseURLs.first, let base = URL(string: text) else {
            throw JudgePanelError.badInput("judge '\(judge.name)' has no base_url")
        }
        let key = judge.keyVariables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        switch judge.provider {
        case .openai:
            return OpenAIBatchBackend(
                baseURL: base, apiKey: key, transport: transport, timeout: max(judge.timeoutSeconds, 600))
        case .anthropic:
            return AnthropicBatchBackend(
                baseURL: base, apiKey: key, transport: transport, timeout: max(judge.timeoutSeconds, 600))
        case .gemini:
            return GeminiBatchBackend(
                baseURL: base, model: judge.model, apiKey: key, transport: transport,
                timeout: max(judge.timeoutSeconds, 600),
                inlineLimit: geminiInlineBytes ?? GeminiBatchBackend.documentedInlineLimit)
        default:
            throw JudgePanelError.usage(
                "judge '\(judge.name)': provider \(judge.provider.rawValue) has no batch API in judgepanel")
        }
    }
}
