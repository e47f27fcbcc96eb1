import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// Google's Gemini API Batch Mode (reference https://ai.google.dev/api/batch-api, also served as
/// https://ai.google.dev/api/batch-mode; guide https://ai.google.dev/gemini-api/docs/batch-api).
///
/// - Create: `POST {base}/v1beta/models/{model}:batchGenerateContent` with
///   `{"batch": {"display_name", "input_config": {"requests": {"requests": [{"request": GenerateContentRequest,
///   "metadata": {"key": …}}]}}}}` — inline requests, which the guide keeps under 20 MB for the whole create request
///   (https://ai.google.dev/gemini-api/docs/batch-api#inline-requests). A larger batch goes through an input file
///   (https://ai.google.dev/gemini-api/docs/batch-api#input-file): a JSONL file, one `{"key": …, "request":
///   GenerateContentRequest}` a line, uploaded with the Files API's resumable protocol (https://ai.google.dev/api/files,
///   `media.upload`: `POST {base}/upload/v1beta/files` with `X-Goog-Upload-Protocol: resumable`, `X-Goog-Upload-Command:
///   start`, `X-Goog-Upload-Header-Content-Length`/`-Content-Type` and `{"file": {"display_name"}}` answers the session
///   URL in the `X-Goog-Upload-URL` header; the bytes then go to that URL with `X-Goog-Upload-Command: upload, finalize`
///   and `X-Goog-Upload-Offset: 0`, answered `{"file": {"name": "files/…", …}}`), and the batch is created with
///   `"input_config": {"file_name": "files/…"}` (`InputConfig.fileName`, https://ai.google.dev/api/batch-api#InputConfig);
///   its output is then a `responsesFile`. The answer is a long-running `Operation` whose `name` is the batch's
///   resource name `batches/{batch_id}`.
/// - `GET {base}/v1beta/batches/{id}`; `POST {base}/v1beta/batches/{id}:cancel`;
///   `GET {base}/v1beta/batches?pageSize=&pageToken=` → `{operations: [...], nextPageToken}`.
/// - State: the REST reference's `BatchState` enum is `BATCH_STATE_PENDING`, `BATCH_STATE_RUNNING`,
///   `BATCH_STATE_SUCCEEDED`, `BATCH_STATE_FAILED`, `BATCH_STATE_CANCELLED`, `BATCH_STATE_EXPIRED`, while the guide's
///   SDK examples print `JOB_STATE_*` names (the SDKs rename them). The docs are ambiguous about which spelling the
///   REST wire carries for every endpoint, so both are accepted; only the suffix after the last `_STATE_` counts.
/// - The `Operation` carries the `GenerateContentBatch` in `metadata` (`state`, `displayName`, `batchStats`
///   `{requestCount, successfulRequestCount, failedRequestCount, pendingRequestCount}` — int64, so proto3 JSON may
///   send them as strings) and, once `done`, the `GenerateContentBatchOutput` in `response`; the reference also
///   shows the batch resource itself with an `output` field, so `output` is read from `response`, `metadata.output`
///   or a top-level `output`, whichever is present (ambiguous in the docs).
/// - Results: `inlinedResponses.inlinedResponses[]`, each `{response: GenerateContentResponse | error: Status,
///   metadata}`, in input order; or `responsesFile` (`files/{id}`), downloaded with
///   `GET {base}/download/v1beta/files/{id}:download?alt=media`, JSONL lines `{"key", "response" | "error"}`.
///   Each request's `metadata.key` (file: `key`) is judgepanel's `custom_id`; a response without it is an error
///   naming the batch (never dropped: the run stops and `--resume` collects the batch again).
/// - Expiry: a batch pending or running for more than 48 hours expires and returns no results (guide, "Batch
///   expiration"), so every request of an expired batch becomes an `expired` error vote.
///
/// Batches carry no free-form metadata, but `display_name` does: it is `judgepanel {run id} {chunk label}`, so a batch
/// created but not journaled is found again by listing the account's batches. Each request is built by
/// ``GeminiProvider``'s own body builder and each response read by its own parser.
package struct GeminiBatchBackend: BatchBackend {
    package let provider: GeminiProvider
    package let model: String
    package let http: BatchHTTP
    package let root: String
    /// A batch input larger than this goes through an uploaded file instead of inline requests.
    let inlineLimit: Int

    /// The guide's inline limit: 20 MB for the whole create request; room is left for the envelope.
    static let documentedInlineLimit = 20 * 1000 * 1000 - 4096

    /// The Files API takes files up to 2 GB (https://ai.google.dev/gemini-api/docs/files); judgepanel keeps a batch's
    /// input under 200 MB (as OpenAI's limit) so that one batch's input and results fit in memory while they are sent
    /// and read.
    package var maxBytes: Int { 200 * 1000 * 1000 }
    /// The docs give no request-count limit for inline batches (only bytes); this keeps one batch's result
    /// (returned inline in the operation) to a size one response can carry.
    package var maxRequests: Int { 50_000 }
    package var listsMetadata: Bool { true }

    static let displayPrefix = "judgepanel"

    package init(
        baseURL: URL, model: String, apiKey: String?, transport: any HTTPTransport, timeout: Double,
        inlineLimit: Int = GeminiBatchBackend.documentedInlineLimit
    ) {
        provider = GeminiProvider(baseURL: baseURL, apiKey: apiKey, transport: transport)
        self.model = model
        self.inlineLimit = inlineLimit
        var headers: [String: String] = [:]
        if let apiKey, !apiKey.isEmpty { headers["x-goog-api-key"] = apiKey }
        http = BatchHTTP(transport: transport, headers: headers, timeout: timeout)
        var trimmed = baseURL.absoluteString
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix("/v1beta") {
            trimmed.removeLast(7)
        } else if trimmed.hasSuffix("/v1") {
            trimmed.removeLast(3)
        }
        root = trimmed
    }

    package func url(_ suffix: String) throws -> URL {
        guard let u = URL(string: root + suffix) else { throw ProviderError.badResponse("bad URL \(root + suffix)") }
        return u
    }

    /// One `InlinedRequest`: `{"request": GenerateContentRequest, "metadata": {"key": custom_id}}`.
    package func line(customID: String, request: CompletionRequest) throws -> Data {
        let line: JSONValue = ["request": provider.body(request), "metadata": ["key": .string(customID)]]
        return try line.compactData()
    }

    /// Uploads the batch's input as a JSONL file when it is too large to send inline (returns the file's name,
    /// `files/…`); nil when the requests go inline.
    package func upload(file: URL, label: String) async throws -> String? {
        guard let content = FileManager.default.contents(atPath: file.path) else {
            throw JudgePanelError.io("cannot read batch input", file: file.path)
        }
        guard content.count > inlineLimit else { return nil }
        // The input file's lines: `{"key": custom_id, "request": GenerateContentRequest}`.
        var jsonl = Data()
        jsonl.reserveCapacity(content.count)
        for (n, raw) in jsonlLines(content).enumerated() {
            let line = try JSONValue.decodeBody(raw)
            guard let key = line["metadata"]?["key"], let request = line["request"] else {
                throw JudgePanelError.io("line \(n + 1) has no request or metadata.key", file: file.path)
            }
            jsonl.append(try JSONValue.object(["key": key, "request": request]).compactData())
            jsonl.append(10)
        }
        // Start a resumable upload session: the session URL comes back in `X-Goog-Upload-URL`.
        var start = http.headers
        start["X-Goog-Upload-Protocol"] = "resumable"
        start["X-Goog-Upload-Command"] = "start"
        start["X-Goog-Upload-Header-Content-Length"] = String(jsonl.count)
        start["X-Goog-Upload-Header-Content-Type"] = "application/jsonl"
        start["content-type"] = "application/json"
        let meta = try JSONValue.object(["file": ["display_name": .string("judgepanel \(label)")]]).compactData()
        let session = try await http.transport.send(
            HTTPRequest(
                url: try url("/upload/v1beta/files"), method: "POST", headers: start, body: meta, timeout: http.timeout)
        )
        guard (200..<300).contains(session.status) else { throw ProviderError.http(session) }
        guard let location = session.headers.first(where: { $0.key.lowercased() == "x-goog-upload-url" })?.value,
            let uploadURL = URL(string: location)
        else { throw ProviderError.badResponse("Files API upload start answered no X-Goog-Upload-URL") }
        // Send the bytes and finalize in one request.
        var finish = http.headers
        finish["X-Goog-Upload-Command"] = "upload, finalize"
        finish["X-Goog-Upload-Offset"] = "0"
        let done = try await http.transport.send(
            HTTPRequest(url: uploadURL, method: "POST", headers: finish, body: jsonl, timeout: http.timeout))
        guard (200..<300).contains(done.status) else { throw ProviderError.http(done) }
        guard let name = try JSONValue.decodeBody(done.body)["file"]?["name"]?.stringValue, name.hasPrefix("files/")
        else {
            throw ProviderError.badResponse("Files API upload answered no file.name")
        }
        return name
    }

    package func create(file: URL, fileID: String?, metadata: [String: String]) async throws -> BatchStatus {
        let display = Self.displayName(run: metadata["judgepanel_run"] ?? "", chunk: metadata["judgepanel_chunk"] ?? "")
        var body = Data(#"{"batch":{"display_name":"#.utf8)
        body.append(try JSONValue.string(display).compactData())
        if let fileID {
            // An uploaded input file (`InputConfig.fileName`).
            body.append(Data(#","input_config":{"file_name":"#.utf8))
            body.append(try JSONValue.string(fileID).compactData())
            body.append(Data("}}}".utf8))
        } else {
            guard let content = FileManager.default.contents(atPath: file.path) else {
                throw JudgePanelError.io("cannot read batch input", file: file.path)
            }
            body.append(Data(#","input_config":{"requests":{"requests":["#.utf8))
            for (n, line) in jsonlLines(content).enumerated() {
                if n > 0 { body.append(44) }
                body.append(line)
            }
            body.append(Data("]}}}}".utf8))
        }
        let name = model.hasPrefix("models/") || model.hasPrefix("tunedModels/") ? model : "models/" + model
        let escaped =
            name.addingPercentEncoding(
                withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ":?#"))) ?? name
        let json = try JSONValue.decodeBody(
            try await http.send("POST", try url("/v1beta/\(escaped):batchGenerateContent"), body: body))
        return try Self.status(json)
    }

    package static func displayName(run: String, chunk: String) -> String { "\(displayPrefix) \(run) \(chunk)" }

    package func retrieve(_ id: String) async throws -> BatchStatus {
        try Self.status(try await http.json("GET", try url("/v1beta/\(id)")))
    }

    package func cancel(_ id: String) async throws -> BatchStatus {
        // `batches.cancel` answers an empty body; the state is read back with a get.
        _ = try await http.send("POST", try url("/v1beta/\(id):cancel"), body: Data("{}".utf8))
        return try await retrieve(id)
    }

    package func list() async throws -> [BatchStatus] {
        var out: [BatchStatus] = []
        var token: String?
        while true {
            var suffix = "/v1beta/batches?pageSize=100"
            if let token, let t = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                suffix += "&pageToken=\(t)"
            }
            let page = try await http.json("GET", try url(suffix))
            out += try (page["operations"]?.arrayValue ?? page["batches"]?.arrayValue ?? []).map(Self.status)
            guard let next = page["nextPageToken"]?.stringValue, !next.isEmpty else { break }
            token = next
        }
        return out
    }

    /// An int64 in proto3 JSON: a string, or a number.
    package static func int64(_ v: JSONValue?) -> Int? {
        v?.intValue ?? v?.stringValue.flatMap { Int($0) }
    }

    /// The batch's state name after `BATCH_STATE_` / `JOB_STATE_`.
    static func stateWord(_ state: String) -> String {
        if let r = state.range(of: "_STATE_", options: .backwards) { return String(state[r.upperBound...]) }
        return state
    }

    /// `BATCH_STATE_…` / `JOB_STATE_…`: `PENDING`, `RUNNING` and the ends `SUCCEEDED`, `FAILED`, `CANCELLED`,
    /// `EXPIRED`; another word ends the batch (with results to read) when the operation is `done`.
    package static func phase(_ state: String, done: Bool) -> BatchState {
        switch stateWord(state) {
        case "SUCCEEDED": .ended
        case "FAILED": .failed
        case "CANCELLED": .cancelled
        case "EXPIRED": .expired
        case "PENDING", "RUNNING": .running
        default: done ? .ended : .running
        }
    }

    package static func status(_ json: JSONValue) throws -> BatchStatus {
        let batch = json["metadata"].flatMap { $0["state"] != nil ? $0 : nil } ?? json
        guard let name = json["name"]?.stringValue ?? batch["name"]?.stringValue,
            let state = batch["state"]?.stringValue
        else {
            throw ProviderError.badResponse("Gemini batch without name or state")
        }
        let done = json["done"]?.boolValue == true
        let stats = batch["batchStats"]
        let names = ["requestCount", "pendingRequestCount", "successfulRequestCount", "failedRequestCount"]
        var s = BatchStatus(
            id: name, state: state, phase: phase(state, done: done),
            counts: names.map { ($0, int64(stats?[$0]) ?? 0) })
        s.total = int64(stats?["requestCount"])
        if let display = batch["displayName"]?.stringValue ?? batch["display_name"]?.stringValue {
            let parts = display.split(separator: " ", maxSplits: 2).map(String.init)
            if parts.count == 3, parts[0] == displayPrefix {
                s.metadata = ["judgepanel_run": parts[1], "judgepanel_chunk": parts[2]]
            }
        }
        if let created = batch["createTime"]?.stringValue {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            s.createdAt = (f.date(from: created) ?? ISO8601DateFormatter().date(from: created))?.timeIntervalSince1970
        }
        if let error = json["error"], !error.isNull {
            s.failure =
                (error["status"]?.stringValue.map { "\($0): " } ?? "")
                + (error["message"]?.stringValue ?? error.textValue)
        }
        let output = json["response"].flatMap { $0.isNull ? nil : $0 } ?? batch["output"] ?? json["output"]
        s.resultsURL = output?["responsesFile"]?.stringValue
        return s
    }

    package func results(_ status: BatchStatus) async throws -> [BatchResultLine] {
        if let file = status.resultsURL {
            let data = try await http.send("GET", try url("/download/v1beta/\(file):download?alt=media"))
            return try jsonlLines(data).enumerated().map { n, raw in
                let json = try JSONValue.decodeBody(raw)
                guard let key = json["key"]?.stringValue else {
                    throw ProviderError.badResponse("line \(n + 1) of \(file) has no key")
                }
                return BatchResultLine(customID: key, outcome: try Self.outcome(json))
            }
        }
        // The inline output is only in the full operation: read it again (the status keeps no body).
        let json = try await http.json("GET", try url("/v1beta/\(status.id)"))
        let batch = json["metadata"].flatMap { $0["state"] != nil ? $0 : nil } ?? json
        let output = json["response"].flatMap { $0.isNull ? nil : $0 } ?? batch["output"] ?? json["output"]
        if let file = output?["responsesFile"]?.stringValue {
            var s = status
            s.resultsURL = file
            return try await results(s)
        }
        let inlined =
            output?["inlinedResponses"]?["inlinedResponses"]?.arrayValue ?? output?["inlinedResponses"]?.arrayValue
            ?? []
        return try inlined.enumerated().map { n, item in
            guard let key = item["metadata"]?["key"]?.stringValue else {
                throw ProviderError.badResponse("inlined response \(n) of \(status.id) has no metadata.key")
            }
            return BatchResultLine(customID: key, outcome: try Self.outcome(item))
        }
    }

    /// `{response}` → the `GenerateContentResponse` as a live call gets it; `{error: Status}` → a failed request.
    package static func outcome(_ item: JSONValue) throws -> BatchLineOutcome {
        if let error = item["error"], !error.isNull {
            let status = error["status"]?.stringValue ?? error["code"].map { "code \($0.textValue)" } ?? ""
            return .failed((status.isEmpty ? "" : "\(status): ") + (error["message"]?.stringValue ?? error.textValue))
        }
        guard let response = item["response"], !response.isNull else {
            return .failed("result without response or error")
        }
        return .response(try response.compactData())
    }
}
