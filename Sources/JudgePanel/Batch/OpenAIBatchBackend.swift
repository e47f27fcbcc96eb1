import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// OpenAI's Batch API.
///
/// - Input: a JSONL file, one `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}` per line,
///   uploaded with `POST /v1/files` (multipart/form-data, `purpose=batch`); at most 50 000 requests and 200 MB per
///   batch (https://platform.openai.com/docs/api-reference/batch/create,
///   https://platform.openai.com/docs/api-reference/files/create, https://platform.openai.com/docs/guides/batch).
/// - `POST /v1/batches {input_file_id, endpoint, completion_window: "24h", metadata}`; `GET /v1/batches/{id}`;
///   `POST /v1/batches/{id}/cancel`; `GET /v1/batches?limit=&after=` (a list whose entries carry `metadata`).
/// - States: `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`, `cancelling`,
///   `cancelled`; counts `request_counts {total, completed, failed}` (https://platform.openai.com/docs/api-reference/batch/object).
/// - Results: `GET /v1/files/{output_file_id}/content` and `{error_file_id}` — lines
///   `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error": {"code", "message"}}`
///   (https://platform.openai.com/docs/api-reference/batch/request-output). Requests left unfinished by an expired
///   or cancelled batch come back in the error file with `error.code` `batch_expired` / `batch_cancelled`.
///
/// Each line's `body` is built by ``OpenAIProvider``'s own request builder and each response `body` is read by its
/// own parser, so a batch call and a live call send and read the same bytes.
package struct OpenAIBatchBackend: BatchBackend {
    package let baseURL: URL
    package let provider: OpenAIProvider
    package let http: BatchHTTP

    package var maxRequests: Int { 50_000 }
    /// "up to 200 MB" (decimal megabytes, the stricter reading).
    package var maxBytes: Int { 200 * 1000 * 1000 }
    package var listsMetadata: Bool { true }
    package static let endpoint = "/v1/chat/completions"
    /// The batch object's `status`: `validating`, `in_progress`, `finalizing`, `cancelling` and the ends
    /// `completed`, `failed`, `expired`, `cancelled` (also read as spelled `canceled`/`canceling`).
    package static func phase(_ state: String) -> BatchState {
        switch state {
        case "completed": .ended
        case "failed": .failed
        case "expired": .expired
        case "cancelled", "canceled": .cancelled
        case "cancelling", "canceling": .cancelling
        default: .running
        }
    }

    package init(baseURL: URL, apiKey: String?, transport: any HTTPTransport, timeout: Double) {
        self.baseURL = baseURL
        provider = OpenAIProvider(baseURL: baseURL, apiKey: apiKey, transport: transport)
        var headers: [String: String] = [:]
        if let apiKey, !apiKey.isEmpty { headers["authorization"] = "Bearer \(apiKey)" }
        http = BatchHTTP(transport: transport, headers: headers, timeout: timeout)
    }

    package func url(_ path: String) -> URL { baseURL.appendingPathComponent(path) }

    package func line(customID: String, request: CompletionRequest) throws -> Data {
        let line: JSONValue = [
            "custom_id": .string(customID), "method": "POST", "url": .string(Self.endpoint),
            "body": provider.body(request),
        ]
        return try line.compactData()
    }

    package func upload(file: URL, label: String) async throws -> String? {
        guard let content = FileManager.default.contents(atPath: file.path) else {
            throw JudgePanelError.io("cannot read batch input", file: file.path)
        }
        let boundary = "judgepanel-" + UUID().uuidString
        var body = Data()
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8))
        body.append(
            Data(
                ("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(label).jsonl\"\r\n"
                    + "Content-Type: application/jsonl\r\n\r\n").utf8))
        body.append(content)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let json = try JSONValue.decodeBody(
            try await http.send(
                "POST", url("files"), body: body, contentType: "multipart/form-data; boundary=\(boundary)"))
        guard let id = json["id"]?.stringValue else { throw ProviderError.badResponse("file upload answer has no id") }
        return id
    }

    package func create(file: URL, fileID: String?, metadata: [String: String]) async throws -> BatchStatus {
        guard let fileID else { throw JudgePanelError.usage("an OpenAI batch needs an uploaded file") }
        let body: JSONValue = [
            "input_file_id": .string(fileID), "endpoint": .string(Self.endpoint), "completion_window": "24h",
            "metadata": .object(metadata.mapValues { .string($0) }),
        ]
        return try Self.status(try await http.json("POST", url("batches"), body: body))
    }

    package func retrieve(_ id: String) async throws -> BatchStatus {
        try Self.status(try await http.json("GET", url("batches/\(id)")))
    }

    package func cancel(_ id: String) async throws -> BatchStatus {
        try Self.status(try await http.json("POST", url("batches/\(id)/cancel"), body: [:]))
    }

    package func list() async throws -> [BatchStatus] {
        var out: [BatchStatus] = []
        var after: String?
        while true {
            var components = URLComponents(url: url("batches"), resolvingAgainstBaseURL: false)
            components?.queryItems =
                [URLQueryItem(name: "limit", value: "100")]
                + (after.map { [URLQueryItem(name: "after", value: $0)] } ?? [])
            guard let u = components?.url else { throw ProviderError.badResponse("bad list URL") }
            let page = try await http.json("GET", u)
            let data = page["data"]?.arrayValue ?? []
            out += try data.map(Self.status)
            guard page["has_more"]?.boolValue == true,
                let last = page["last_id"]?.stringValue ?? data.last?["id"]?.stringValue
            else { break }
            after = last
        }
        return out
    }

    package static func status(_ json: JSONValue) throws -> BatchStatus {
        guard let id = json["id"]?.stringValue, let state = json["status"]?.stringValue else {
            throw ProviderError.badResponse("batch object without id or status")
        }
        let c = json["request_counts"]
        var s = BatchStatus(
            id: id, state: state, phase: phase(state),
            counts: [
                ("total", c?["total"]?.intValue ?? 0), ("completed", c?["completed"]?.intValue ?? 0),
                ("failed", c?["failed"]?.intValue ?? 0),
            ])
        s.metadata = (json["metadata"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        s.createdAt = json["created_at"]?.doubleValue
        s.total = c?["total"]?.intValue
        s.outputFileID = json["output_file_id"]?.stringValue
        s.errorFileID = json["error_file_id"]?.stringValue
        if let errors = json["errors"]?["data"]?.arrayValue, !errors.isEmpty {
            s.failure = errors.map { e in
                (e["code"]?.stringValue.map { "\($0): " } ?? "") + (e["message"]?.stringValue ?? "")
                    + (e["line"]?.intValue.map { " (line \($0))" } ?? "")
            }.joined(separator: "; ")
        }
        return s
    }

    package func results(_ status: BatchStatus) async throws -> [BatchResultLine] {
        var out: [BatchResultLine] = []
        for fileID in [status.outputFileID, status.errorFileID].compactMap({ $0 }) {
            let data = try await http.send("GET", url("files/\(fileID)/content"))
            for raw in jsonlLines(data) {
                let json = try JSONValue.decodeBody(raw)
                guard let id = json["custom_id"]?.stringValue else {
                    throw ProviderError.badResponse("a result line without custom_id in file \(fileID)")
                }
                out.append(BatchResultLine(customID: id, outcome: try Self.outcome(json)))
            }
        }
        return out
    }

    package static func outcome(_ json: JSONValue) throws -> BatchLineOutcome {
        if let error = json["error"], !error.isNull {
            let code = error["code"]?.stringValue ?? ""
            let message = (code.isEmpty ? "" : "\(code): ") + (error["message"]?.stringValue ?? "")
            switch code {
            case "batch_expired": return .expired(message)
            case "batch_cancelled": return .canceled(message)
            default: return .failed(message)
            }
        }
        guard let response = json["response"], let body = response["body"] else {
            return .failed("result line without response or error")
        }
        let code = response["status_code"]?.intValue ?? 0
        guard (200..<300).contains(code) else {
            let message = body["error"]?["message"]?.stringValue ?? body.textValue
            return .failed("HTTP \(code): \(message)")
        }
        return .response(try body.compactData())
    }
}
