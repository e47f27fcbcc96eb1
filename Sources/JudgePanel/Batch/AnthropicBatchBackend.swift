import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// Anthropic's Message Batches API.
///
/// - `POST /v1/messages/batches {"requests": [{"custom_id", "params"}]}`: at most 100 000 requests or 256 MB per
///   batch; `custom_id` is 1–64 characters of `[a-zA-Z0-9_-]`
///   (https://docs.anthropic.com/en/api/creating-message-batches, https://docs.anthropic.com/en/docs/build-with-claude/batch-processing).
/// - `GET /v1/messages/batches/{id}`; `POST /v1/messages/batches/{id}/cancel`; `GET /v1/messages/batches?limit=&after_id=`
///   (https://docs.anthropic.com/en/api/retrieving-message-batches, …/canceling-message-batches, …/listing-message-batches).
/// - `processing_status`: `in_progress`, `canceling`, `ended`; `request_counts {processing, succeeded, errored,
///   canceled, expired}`; `results_url` once ended.
/// - Results (https://docs.anthropic.com/en/api/retrieving-message-batch-results): JSONL, not in request order,
///   `{"custom_id", "result": {"type": "succeeded", "message"} | {"type": "errored", "error": {"type": "error",
///   "error": {"type", "message"}}} | {"type": "canceled"} | {"type": "expired"}}`.
///
/// Message Batches carry no metadata, so a batch created but not journaled is recognised by its creation time and
/// request count (see ``BatchRunner``). `params` is built by ``AnthropicProvider``'s own request builder and each
/// `message` is read by its own parser.
package struct AnthropicBatchBackend: BatchBackend {
    package let provider: AnthropicProvider
    package let http: BatchHTTP
    package let root: String

    package var maxRequests: Int { 100_000 }
    package var maxBytes: Int { 256 * 1000 * 1000 }
    package var listsMetadata: Bool { false }

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport, timeout: Double) {
        provider = AnthropicProvider(baseURL: baseURL, apiKey: apiKey, transport: transport)
        var headers = ["anthropic-version": AnthropicProvider.apiVersion]
        if let apiKey, !apiKey.isEmpty { headers["x-api-key"] = apiKey }
        http = BatchHTTP(transport: transport, headers: headers, timeout: timeout)
        var trimmed = baseURL.absoluteString
        if trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix("/v1") { trimmed.removeLast(3) }
        root = trimmed + "/v1/messages/batches"
    }

    package func url(_ suffix: String = "") throws -> URL {
        guard let u = URL(string: root + suffix) else { throw ProviderError.badResponse("bad URL \(root + suffix)") }
        return u
    }

    package func line(customID: String, request: CompletionRequest) throws -> Data {
        let line: JSONValue = ["custom_id": .string(customID), "params": provider.body(request)]
        return try line.compactData()
    }

    package func upload(file: URL, label: String) async throws -> String? { nil }

    package func create(file: URL, fileID: String?, metadata: [String: String]) async throws -> BatchStatus {
        guard let content = FileManager.default.contents(atPath: file.path) else {
            throw JudgePanelError.io("cannot read batch input", file: file.path)
        }
        var body = Data(#"{"requests":["#.utf8)
        for (n, line) in jsonlLines(content).enumerated() {
            if n > 0 { body.append(44) }
            body.append(line)
        }
        body.append(contentsOf: Array("]}".utf8))
        return try Self.status(try JSONValue.decodeBody(try await http.send("POST", try url(), body: body)))
    }

    package func retrieve(_ id: String) async throws -> BatchStatus {
        try Self.status(try await http.json("GET", try url("/\(id)")))
    }

    package func cancel(_ id: String) async throws -> BatchStatus {
        try Self.status(try await http.json("POST", try url("/\(id)/cancel")))
    }

    package func list() async throws -> [BatchStatus] {
        var out: [BatchStatus] = []
        var after: String?
        while true {
            let page = try await http.json("GET", try url("?limit=100" + (after.map { "&after_id=\($0)" } ?? "")))
            let data = page["data"]?.arrayValue ?? []
            out += try data.map(Self.status)
            guard page["has_more"]?.boolValue == true, let last = page["last_id"]?.stringValue else { break }
            after = last
        }
        return out
    }

    /// `processing_status`: `in_progress`, `canceling` or `ended` (a canceled or expired request is told per result
    /// line; the batch itself only ends).
    package static func phase(_ state: String) -> BatchState {
        switch state {
        case "ended": .ended
        case "canceling": .cancelling
        default: .running
        }
    }

    package static func status(_ json: JSONValue) throws -> BatchStatus {
        guard let id = json["id"]?.stringValue, let state = json["processing_status"]?.stringValue else {
            throw ProviderError.badResponse("message batch without id or processing_status")
        }
        let c = json["request_counts"]
        let names = ["processing", "succeeded", "errored", "canceled", "expired"]
        var s = BatchStatus(
            id: id, state: state, phase: phase(state), counts: names.map { ($0, c?[$0]?.intValue ?? 0) })
        s.total = names.reduce(0) { $0 + (c?[$1]?.intValue ?? 0) }
        s.resultsURL = json["results_url"]?.stringValue
        if let created = json["created_at"]?.stringValue {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let plain = ISO8601DateFormatter()
            s.createdAt = (f.date(from: created) ?? plain.date(from: created))?.timeIntervalSince1970
        }
        return s
    }

    package func results(_ status: BatchStatus) async throws -> [BatchResultLine] {
        let target = try status.resultsURL.flatMap(URL.init(string:)) ?? url("/\(status.id)/results")
        let data = try await http.send("GET", target)
        return try jsonlLines(data).map { raw in
            let json = try JSONValue.decodeBody(raw)
            guard let id = json["custom_id"]?.stringValue, let result = json["result"] else {
                throw ProviderError.badResponse("a result line without custom_id or result")
            }
            return BatchResultLine(customID: id, outcome: try Self.outcome(result))
        }
    }

    package static func outcome(_ result: JSONValue) throws -> BatchLineOutcome {
        switch result["type"]?.stringValue {
        case "succeeded":
            guard let message = result["message"] else { return .failed("succeeded result without message") }
            return .response(try message.compactData())
        case "errored":
            let inner = result["error"]?["error"] ?? result["error"] ?? .null
            return .failed(
                (inner["type"]?.stringValue.map { "\($0): " } ?? "")
                    + (inner["message"]?.stringValue ?? inner.textValue))
        case "canceled": return .canceled("the batch was canceled before this request ran")
        case "expired": return .expired("the batch expired (24 h) before this request ran")
        case let other: return .failed("unknown result type \(other ?? "none")")
        }
    }
}
