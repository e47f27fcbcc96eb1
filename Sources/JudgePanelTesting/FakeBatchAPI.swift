import Foundation
import JudgePanel

/// The providers' batch APIs, spoken by ``FakeProviderServer`` when it is given one: OpenAI's Files + Batch API and
/// Anthropic's Message Batches API. Each request of a batch is answered by the server's ``FakeHandler`` exactly as
/// the same request sent live would be, unless ``fate`` says the batch service fails, expires or cancels it.
///
/// OpenAI (https://platform.openai.com/docs/api-reference/batch, https://platform.openai.com/docs/api-reference/files):
///
/// | Method | Path | |
/// | --- | --- | --- |
/// | POST | `/v1/files` | multipart/form-data with `purpose=batch` and `file` → file object |
/// | GET | `/v1/files/{id}/content` | the file's bytes (input, output or error JSONL) |
/// | POST | `/v1/batches` | `{input_file_id, endpoint, completion_window: "24h", metadata}` → batch (`validating`) |
/// | GET | `/v1/batches/{id}` | batch; each retrieve counts as a poll and advances the state |
/// | GET | `/v1/batches?limit&after` | `{object: list, data, first_id, last_id, has_more}`, newest first |
/// | POST | `/v1/batches/{id}/cancel` | `cancelling`, then `cancelled` on the next poll |
///
/// States `validating → in_progress → finalizing → completed` (or `expired` when a request expired, `failed` when
/// the input file does not validate: a line that is not JSON, lacks `custom_id`, repeats one, or names another
/// endpoint). Output lines `{id, custom_id, response: {status_code, request_id, body}, error: null}`; error-file
/// lines carry `response` with a non-200 status for failed requests, or `error: {code: batch_expired |
/// batch_cancelled, message}` for requests the batch never ran
/// (https://platform.openai.com/docs/guides/batch).
///
/// Anthropic (https://docs.anthropic.com/en/api/creating-message-batches and the pages beside it):
///
/// | Method | Path | |
/// | --- | --- | --- |
/// | POST | `/v1/messages/batches` | `{requests: [{custom_id, params}]}` → batch (`in_progress`) |
/// | GET | `/v1/messages/batches/{id}` | batch; each retrieve is a poll; `ended` with `results_url` |
/// | GET | `/v1/messages/batches?limit&after_id` | `{data, has_more, first_id, last_id}`, newest first |
/// | POST | `/v1/messages/batches/{id}/cancel` | `canceling`, then `ended` with the rest `canceled` |
/// | GET | `/v1/messages/batches/{id}/results` | JSONL `{custom_id, result: {type: succeeded \| errored \| canceled \| expired}}` |
///
/// Gemini Batch Mode (https://ai.google.dev/api/batch-api, https://ai.google.dev/gemini-api/docs/batch-api):
///
/// | Method | Path | |
/// | --- | --- | --- |
/// | POST | `/v1beta/models/{model}:batchGenerateContent` | `{batch: {display_name, input_config: {requests: {requests: [{request, metadata}]}}}}` → Operation (`BATCH_STATE_PENDING`) |
/// | GET | `/v1beta/batches/{id}` | Operation `{name, metadata: {state, displayName, batchStats}, done, response}`; each get is a poll |
/// | GET | `/v1beta/batches?pageSize&pageToken` | `{operations, nextPageToken}`, newest first |
/// | POST | `/v1beta/batches/{id}:cancel` | `{}`; the batch is `BATCH_STATE_CANCELLED` with no output |
/// | POST | `/upload/v1beta/files` | resumable upload (https://ai.google.dev/api/files, `media.upload`): `X-Goog-Upload-Protocol: resumable`, `X-Goog-Upload-Command: start`, `X-Goog-Upload-Header-Content-Length` → the session URL in `X-Goog-Upload-URL`; then `X-Goog-Upload-Command: upload, finalize`, `X-Goog-Upload-Offset: 0` to that URL → `{file: {name: "files/…", …}}` |
/// | GET | `/download/v1beta/files/{id}:download?alt=media` | a file's bytes (the `responsesFile`) |
///
/// States `BATCH_STATE_PENDING → BATCH_STATE_RUNNING → BATCH_STATE_SUCCEEDED` with `response.inlinedResponses
/// .inlinedResponses[]` (`{response, metadata}` or `{error: {code, message, status}, metadata}` for a failed request),
/// or `BATCH_STATE_EXPIRED` with no output when any request's fate is `.expire` (an expired Gemini batch returns no
/// results). A batch created from an uploaded input file (`input_config.file_name`, JSONL lines `{key, request}`;
/// https://ai.google.dev/gemini-api/docs/batch-api#input-file) answers with a `responsesFile` (JSONL `{key, response
/// | error}`), as the guide says file input does; inline requests above 20 MB are refused.
///
/// Everything is counted at the server (``counts()``): batches created, files uploaded, request lines received and,
/// per `custom_id`, how many batches carried it — the number a "never submitted twice" test checks.
///
/// ```swift
/// let batches = FakeBatchAPI(pollsPerState: 1) { customID, _ in customID.hasSuffix("7") ? .expire : .answer }
/// let server = FakeProviderServer(batchAPI: batches) { _ in .text("[[A]]") }
/// ```
public actor FakeBatchAPI {
    /// What the batch service does with one request.
    public enum LineFate: Sendable, Hashable {
        /// Runs it: the handler answers, as for a live call.
        case answer
        /// Fails it with this HTTP status and message.
        case fail(status: Int, message: String)
        /// The batch expires before it runs.
        case expire
        /// The batch is canceled before it runs.
        case cancel
    }

    /// What the server has received.
    public struct Counts: Sendable {
        /// Batches created (OpenAI, Anthropic and Gemini together).
        public var batchesCreated = 0
        /// Files uploaded (OpenAI `/v1/files`, Gemini's resumable `/upload/v1beta/files`).
        public var filesUploaded = 0
        /// Gemini batches created from an uploaded input file rather than inline requests.
        public var geminiFileBatches = 0
        /// Request lines received in created batches (OpenAI: lines of the batch's input file).
        public var requestsSubmitted = 0
        /// How many created batches carried each `custom_id`.
        public var submissionsPerCustomID: [String: Int] = [:]
        /// Batch status polls (retrieves).
        public var polls = 0
        /// Cancel requests received.
        public var cancels = 0
    }

    struct Line {
        var customID: String
        var body: Data
        var request: FakeRequest?
    }

    final class Batch {
        let id: String
        let wire: FakeWire
        let lines: [Line]
        let createdAt: Date
        let metadata: [String: String]
        let inputFileID: String?
        var state: String
        var polls = 0
        var failure: String?
        var outputFileID: String?
        var errorFileID: String?
        var results: Data?
        var counts: [String: Int] = [:]
        var cancelAt: Date?

        init(id: String, wire: FakeWire, lines: [Line], metadata: [String: String], inputFileID: String?, state: String)
        {
            self.id = id
            self.wire = wire
            self.lines = lines
            self.metadata = metadata
            self.inputFileID = inputFileID
            self.state = state
            createdAt = Date()
        }
    }

    private let fate: @Sendable (String, FakeRequest?) -> LineFate
    /// Polls a batch stays in each state before it advances.
    public let pollsPerState: Int
    private var held = false
    private var strayLine = false
    private var geminiFileOutput = false
    private var validationFailure: String?
    private var batches: [String: Batch] = [:]
    private var order: [String] = []
    private var files: [String: Data] = [:]
    /// Gemini resumable upload sessions: upload id → declared length and display name.
    private var uploadSessions: [String: (length: Int, display: String)] = [:]
    private var tally = Counts()
    private var submitted: [FakeRequest] = []
    private var nextID = 0

    /// - Parameters:
    ///   - pollsPerState: retrieves before a batch moves to its next state.
    ///   - fate: what becomes of each request (by `custom_id` and decoded request); `.answer` by default.
    public init(
        pollsPerState: Int = 1, fate: @escaping @Sendable (String, FakeRequest?) -> LineFate = { _, _ in .answer }
    ) {
        self.pollsPerState = max(1, pollsPerState)
        self.fate = fate
    }

    /// While held, batches stay `in_progress` however often they are polled.
    public func hold(_ on: Bool) { held = on }

    /// Makes Gemini batches ending from now on return their output as a `responsesFile` (JSONL `{key, response |
    /// error}` lines, downloaded from `/download/v1beta/files/{id}:download?alt=media`) instead of `inlinedResponses`.
    public func geminiResponsesFile(_ on: Bool) { geminiFileOutput = on }

    /// Adds a Message Batch of another client of the same workspace — list shows every batch of a workspace
    /// (https://docs.anthropic.com/en/api/listing-message-batches) — with `requests` requests whose custom ids are
    /// `other-{n}` (errored when run: they name no model). Not counted as created by the client under test; returns
    /// its id.
    @discardableResult
    public func addForeignAnthropicBatch(requests: Int) -> String {
        let lines = (0..<max(1, requests)).map { Line(customID: "other-\($0)", body: Data("{}".utf8)) }
        let b = Batch(
            id: newID("msgbatch_"), wire: .anthropic, lines: lines, metadata: [:], inputFileID: nil,
            state: "in_progress")
        batches[b.id] = b
        order.append(b.id)
        return b.id
    }

    /// Forgets a batch, as a provider does once it is deleted (its retrieve then answers 404).
    public func forget(_ id: String) {
        batches[id] = nil
        order.removeAll { $0 == id }
    }

    /// Adds one result line whose `custom_id` belongs to no request to every batch's results.
    public func addStrayResultLine(_ on: Bool) { strayLine = on }

    /// Makes every OpenAI batch created from now on fail validation (state `failed`, `errors.data[].message`),
    /// as a real one does when its input file is malformed; nil stops it.
    public func failValidation(_ message: String?) { validationFailure = message }

    /// Everything counted so far.
    public func counts() -> Counts { tally }

    /// Every request line of every created batch, decoded as the live endpoint would decode it.
    public func submittedRequests() -> [FakeRequest] { submitted }

    /// Batch ids in creation order.
    public func batchIDs() -> [String] { order }

    /// A batch's state now.
    public func state(of id: String) -> String? { batches[id]?.state }

    // MARK: - Routing

    /// Answers a batch-API request, or nil when the path is not one of them.
    func respond(
        method: String, path: String, query: [String: String], headers: [String: String], body: Data,
        handler: FakeHandler
    ) async -> RenderedReply? {
        let p = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var seg = p.split(separator: "/").map(String.init)
        if seg.first == "v1" { seg.removeFirst() }
        let host = headers["host"]
        if seg.count == 4, seg[0] == "download", seg[1] == "v1beta", seg[2] == "files", seg[3].hasSuffix(":download"),
            method == "GET"
        {
            // https://ai.google.dev/api/files: media download of a file's bytes (`alt=media`).
            let id = "files/" + seg[3].dropLast(":download".count)
            guard query["alt"] == "media", let data = files[id] else {
                return error(.gemini, 404, "File \(id) not found (or alt=media missing).")
            }
            return .response(status: 200, headers: ["Content-Type": "application/jsonl"], body: data)
        }
        if seg == ["upload", "v1beta", "files"], method == "POST" {
            return geminiUpload(query: query, headers: headers, body: body, host: host)
        }
        if seg.first == "v1beta" {
            return await respondGemini(
                method: method, seg: Array(seg.dropFirst()), query: query, body: body, handler: handler)
        }
        if seg.first == "files" {
            if method == "POST", seg.count == 1 { return uploadFile(headers: headers, body: body) }
            if method == "GET", seg.count == 3, seg[2] == "content" {
                guard let data = files[seg[1]] else { return notFound(.openai, "No such File object: \(seg[1])") }
                return .response(status: 200, headers: ["Content-Type": "application/jsonl"], body: data)
            }
            return nil
        }
        if seg.first == "batches" {
            switch (method, seg.count) {
            case ("POST", 1): return createOpenAI(body: body)
            case ("GET", 1):
                return list(.openai, limit: Int(query["limit"] ?? "") ?? 20, after: query["after"], host: host)
            case ("GET", 2): return await retrieve(seg[1], wire: .openai, handler: handler, host: host)
            case ("POST", 3) where seg[2] == "cancel": return cancel(seg[1], wire: .openai, host: host)
            default: return nil
            }
        }
        guard seg.count >= 2, seg[0] == "messages", seg[1] == "batches" else { return nil }
        switch (method, seg.count) {
        case ("POST", 2): return createAnthropic(body: body, host: host)
        case ("GET", 2):
            return list(.anthropic, limit: Int(query["limit"] ?? "") ?? 20, after: query["after_id"], host: host)
        case ("GET", 3): return await retrieve(seg[2], wire: .anthropic, handler: handler, host: host)
        case ("POST", 4) where seg[3] == "cancel": return cancel(seg[2], wire: .anthropic, host: host)
        case ("GET", 4) where seg[3] == "results":
            let id = seg[2]
            guard let b = batches[id], b.wire == .anthropic else { return notFound(.anthropic, "No such batch: \(id)") }
            guard let results = b.results else {
                return error(
                    .anthropic, 400, "Message Batch \(id) is still processing; results are available once it has ended."
                )
            }
            return .response(status: 200, headers: ["Content-Type": "application/binary"], body: results)
        default:
            return nil
        }
    }

    // MARK: - OpenAI

    private func newID(_ prefix: String) -> String {
        nextID += 1
        return prefix + String(format: "%06d", nextID)
    }

    private func uploadFile(headers: [String: String], body: Data) -> RenderedReply {
        guard let type = headers["content-type"], type.hasPrefix("multipart/form-data"),
            let b = type.range(of: "boundary=").map({
                String(type[$0.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            })
        else { return error(.openai, 400, "Uploads must be multipart/form-data.") }
        var fields: [String: (filename: String?, data: Data)] = [:]
        let delimiter = Data("--\(b)".utf8)
        var rest = body[...]
        while let start = rest.range(of: delimiter) {
            rest = rest[start.upperBound...]
            guard let headEnd = rest.range(of: Data("\r\n\r\n".utf8)) else { break }
            let head = String(decoding: rest[rest.startIndex..<headEnd.lowerBound], as: UTF8.self)
            let content = rest[headEnd.upperBound...]
            guard let end = content.range(of: Data("\r\n--\(b)".utf8)) else { break }
            let name = Self.attribute("name", in: head)
            if let name {
                fields[name] = (
                    Self.attribute("filename", in: head), Data(content[content.startIndex..<end.lowerBound])
                )
            }
            rest = content[end.lowerBound...].dropFirst(2)
        }
        guard let purpose = fields["purpose"].map({ String(decoding: $0.data, as: UTF8.self) }), purpose == "batch"
        else {
            return error(.openai, 400, "purpose must be 'batch' for batch input files.")
        }
        guard let file = fields["file"] else { return error(.openai, 400, "No file part in the upload.") }
        let id = newID("file-")
        files[id] = file.data
        tally.filesUploaded += 1
        let json: JSONValue = [
            "id": .string(id), "object": "file", "bytes": .int(file.data.count),
            "created_at": .int(Int(Date().timeIntervalSince1970)),
            "filename": .string(file.filename ?? "input.jsonl"), "purpose": "batch",
        ]
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: json.encoded())
    }

    private static func attribute(_ name: String, in head: String) -> String? {
        guard let r = head.range(of: "\(name)=\"") else { return nil }
        let tail = head[r.upperBound...]
        return tail.firstIndex(of: "\"").map { String(tail[..<$0]) }
    }

    private func createOpenAI(body: Data) -> RenderedReply {
        guard let json = try? JSONValue(jsonData: body), let fileID = json["input_file_id"]?.stringValue else {
            return error(.openai, 400, "input_file_id is required.")
        }
        guard json["completion_window"]?.stringValue == "24h" else {
            return error(.openai, 400, "completion_window must be '24h'.")
        }
        guard let endpoint = json["endpoint"]?.stringValue, endpoint == "/v1/chat/completions" else {
            return error(.openai, 400, "endpoint must be /v1/chat/completions here.")
        }
        guard let data = files[fileID] else { return notFound(.openai, "No such File object: \(fileID)") }
        var lines: [Line] = []
        var failure: String?
        var seen = Set<String>()
        for (n, raw) in data.split(separator: 10).enumerated() where !raw.isEmpty {
            guard let line = try? JSONValue(jsonData: Data(raw)), let id = line["custom_id"]?.stringValue,
                let body = line["body"]
            else {
                failure = "line \(n + 1): not a JSON object with custom_id and body"
                break
            }
            guard seen.insert(id).inserted else {
                failure = "line \(n + 1): duplicate custom_id \(id)"
                break
            }
            guard line["url"]?.stringValue == endpoint, line["method"]?.stringValue == "POST" else {
                failure = "line \(n + 1): url must match the batch endpoint and method must be POST"
                break
            }
            lines.append(Line(customID: id, body: body.encoded()))
        }
        if lines.count > 50_000 { failure = "more than 50000 requests" }
        if failure == nil, let forced = validationFailure { failure = forced }
        var metadata: [String: String] = [:]
        for (k, v) in json["metadata"]?.objectValue ?? [:] { metadata[k] = v.stringValue }
        let b = register(
            wire: .openai, lines: failure == nil ? lines : [], metadata: metadata, inputFileID: fileID,
            state: "validating")
        b.failure = failure
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: openAIObject(b).encoded())
    }

    private func register(
        wire: FakeWire, lines: [Line], metadata: [String: String], inputFileID: String?, state: String,
        model: String? = nil
    ) -> Batch {
        var decoded = lines
        let path =
            wire == .openai
            ? "/v1/chat/completions"
            : wire == .anthropic ? "/v1/messages" : "/v1beta/models/\(model ?? ""):generateContent"
        for i in decoded.indices {
            if case .success(let r) = FakeRequest.decode(
                wire: wire, path: path, headers: [:], query: [:],
                body: decoded[i].body, pathModel: wire == .gemini ? model : nil, index: submitted.count)
            {
                decoded[i].request = r
                submitted.append(r)
            }
            tally.submissionsPerCustomID[decoded[i].customID, default: 0] += 1
        }
        let b = Batch(
            id: wire == .gemini ? "batches/" + newID("gb") : newID(wire == .openai ? "batch_" : "msgbatch_"),
            wire: wire, lines: decoded, metadata: metadata, inputFileID: inputFileID,
            state: state)
        batches[b.id] = b
        order.append(b.id)
        tally.batchesCreated += 1
        tally.requestsSubmitted += lines.count
        return b
    }

    private func openAIObject(_ b: Batch) -> JSONValue {
        let done = b.counts["completed"] ?? 0
        let failed = b.counts["failed"] ?? 0
        var o: [String: JSONValue] = [
            "id": .string(b.id), "object": "batch", "endpoint": "/v1/chat/completions",
            "input_file_id": .string(b.inputFileID ?? ""),
            "completion_window": "24h", "status": .string(b.state),
            "created_at": .int(Int(b.createdAt.timeIntervalSince1970)),
            "output_file_id": b.outputFileID.map { .string($0) } ?? .null,
            "error_file_id": b.errorFileID.map { .string($0) } ?? .null,
            "request_counts": ["total": .int(b.lines.count), "completed": .int(done), "failed": .int(failed)],
            "metadata": .object(b.metadata.mapValues { .string($0) }),
            "errors": b.failure.map {
                ["object": "list", "data": [["code": "invalid_request", "message": .string($0), "line": .null]]]
            } ?? .null,
        ]
        if b.cancelAt != nil { o["cancelling_at"] = .int(Int(b.cancelAt!.timeIntervalSince1970)) }
        return .object(o)
    }

    // MARK: - Anthropic

    private func createAnthropic(body: Data, host: String?) -> RenderedReply {
        guard let json = try? JSONValue(jsonData: body), let requests = json["requests"]?.arrayValue, !requests.isEmpty
        else {
            return error(.anthropic, 400, "requests: field required (a non-empty list)")
        }
        guard requests.count <= 100_000 else { return error(.anthropic, 413, "at most 100000 requests per batch") }
        var lines: [Line] = []
        var seen = Set<String>()
        let pattern = try? NSRegularExpression(pattern: "^[a-zA-Z0-9_-]{1,64}$")
        for r in requests {
            guard let id = r["custom_id"]?.stringValue, let params = r["params"] else {
                return error(.anthropic, 400, "requests: each needs custom_id and params")
            }
            guard pattern?.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)) != nil else {
                return error(.anthropic, 400, "custom_id '\(id)' must match ^[a-zA-Z0-9_-]{1,64}$")
            }
            guard seen.insert(id).inserted else { return error(.anthropic, 400, "duplicate custom_id \(id)") }
            lines.append(Line(customID: id, body: params.encoded()))
        }
        let b = register(wire: .anthropic, lines: lines, metadata: [:], inputFileID: nil, state: "in_progress")
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: anthropicObject(b, host: host).encoded())
    }

    private func anthropicObject(_ b: Batch, host: String?) -> JSONValue {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let ended = b.state == "ended"
        let names = ["processing", "succeeded", "errored", "canceled", "expired"]
        var counts: [String: JSONValue] = [:]
        for n in names { counts[n] = .int(ended ? (b.counts[n] ?? 0) : (n == "processing" ? b.lines.count : 0)) }
        return [
            "id": .string(b.id), "type": "message_batch", "processing_status": .string(b.state),
            "request_counts": .object(counts), "created_at": .string(f.string(from: b.createdAt)),
            "expires_at": .string(f.string(from: b.createdAt.addingTimeInterval(86_400))),
            "ended_at": ended ? .string(f.string(from: Date())) : .null,
            "cancel_initiated_at": b.cancelAt.map { .string(f.string(from: $0)) } ?? .null, "archived_at": .null,
            "results_url": ended ? .string("http://\(host ?? "127.0.0.1")/v1/messages/batches/\(b.id)/results") : .null,
        ]
    }

    // MARK: - Gemini

    /// `/v1beta/...`: `models/{model}:batchGenerateContent`, `batches`, `batches/{id}`, `batches/{id}:cancel`
    /// (https://ai.google.dev/api/batch-api). Batch names are `batches/{id}`.
    private func respondGemini(method: String, seg: [String], query: [String: String], body: Data, handler: FakeHandler)
        async -> RenderedReply?
    {
        switch (method, seg.count) {
        case ("POST", 2) where seg[0] == "models" && seg[1].hasSuffix(":batchGenerateContent"):
            return createGemini(model: String(seg[1].dropLast(":batchGenerateContent".count)), body: body)
        case ("GET", 1) where seg[0] == "batches":
            let size = max(1, Int(query["pageSize"] ?? "") ?? 50)
            let newest = order.reversed().compactMap { batches[$0] }.filter { $0.wire == .gemini }
            let start = Int(query["pageToken"] ?? "") ?? 0
            let page = Array(newest.dropFirst(start).prefix(size))
            var json: [String: JSONValue] = ["operations": .array(page.map(geminiObject))]
            if start + page.count < newest.count { json["nextPageToken"] = .string(String(start + page.count)) }
            return .response(status: 200, headers: WireRenderer.jsonHeaders, body: JSONValue.object(json).encoded())
        case ("GET", 2) where seg[0] == "batches":
            return await retrieve("batches/" + seg[1], wire: .gemini, handler: handler, host: nil)
        case ("POST", 2) where seg[0] == "batches" && seg[1].hasSuffix(":cancel"):
            return cancel("batches/" + seg[1].dropLast(":cancel".count), wire: .gemini, host: nil)
        default:
            return nil
        }
    }

    /// The Files API's resumable upload (https://ai.google.dev/api/files, `media.upload`; the protocol's headers as
    /// the Gemini docs' shell examples send them): a `start` request opens a session and answers its URL in
    /// `X-Goog-Upload-URL`; `upload, finalize` at offset 0 with exactly the declared length stores the file.
    private func geminiUpload(query: [String: String], headers: [String: String], body: Data, host: String?)
        -> RenderedReply
    {
        let command = (headers["x-goog-upload-command"] ?? "").lowercased().split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if let session = query["upload_id"] {
            guard let open = uploadSessions[session] else {
                return error(.gemini, 404, "No upload session \(session).")
            }
            guard command.contains("upload"), command.contains("finalize") else {
                return error(.gemini, 400, "X-Goog-Upload-Command must be 'upload, finalize' here.")
            }
            guard headers["x-goog-upload-offset"] == "0" else {
                return error(.gemini, 400, "X-Goog-Upload-Offset must be 0.")
            }
            guard body.count == open.length else {
                return error(.gemini, 400, "Received \(body.count) bytes, but the session declared \(open.length).")
            }
            uploadSessions[session] = nil
            let name = "files/" + newID("upload")
            files[name] = body
            tally.filesUploaded += 1
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let file: JSONValue = [
                "name": .string(name), "displayName": .string(open.display), "mimeType": "application/jsonl",
                "sizeBytes": .string(String(body.count)), "createTime": .string(f.string(from: Date())),
                "uri": .string("http://\(host ?? "127.0.0.1")/v1beta/\(name)"), "state": "ACTIVE",
            ]
            var h = WireRenderer.jsonHeaders
            h["X-Goog-Upload-Status"] = "final"
            return .response(status: 200, headers: h, body: JSONValue.object(["file": file]).encoded())
        }
        guard headers["x-goog-upload-protocol"] == "resumable", command == ["start"] else {
            return error(
                .gemini, 400, "Uploads start with X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.")
        }
        guard let length = headers["x-goog-upload-header-content-length"].flatMap({ Int($0) }), length > 0 else {
            return error(.gemini, 400, "X-Goog-Upload-Header-Content-Length is required.")
        }
        let meta = try? JSONValue(jsonData: body)
        let display = meta?["file"]?["display_name"]?.stringValue ?? meta?["file"]?["displayName"]?.stringValue ?? ""
        let session = newID("up")
        uploadSessions[session] = (length, display)
        return .response(
            status: 200,
            headers: [
                "X-Goog-Upload-URL":
                    "http://\(host ?? "127.0.0.1")/upload/v1beta/files?upload_id=\(session)&upload_protocol=resumable",
                "X-Goog-Upload-Status": "active", "Content-Type": "text/plain",
            ], body: Data())
    }

    private func createGemini(model: String, body: Data) -> RenderedReply {
        guard let json = try? JSONValue(jsonData: body), let batch = json["batch"] else {
            return error(.gemini, 400, "batch: required")
        }
        guard let display = batch["display_name"]?.stringValue ?? batch["displayName"]?.stringValue, !display.isEmpty
        else {
            return error(.gemini, 400, "batch.display_name is required.")
        }
        let config = batch["input_config"] ?? batch["inputConfig"]
        if let fileName = config?["file_name"]?.stringValue ?? config?["fileName"]?.stringValue {
            // An uploaded JSONL input file: one `{"key", "request"}` a line.
            guard let data = files[fileName] else { return error(.gemini, 404, "File \(fileName) not found.") }
            var lines: [Line] = []
            for (n, raw) in data.split(separator: 10).enumerated() where !raw.allSatisfy({ $0 == 32 || $0 == 13 }) {
                guard let line = try? JSONValue(jsonData: Data(raw)), let request = line["request"],
                    case .object = request
                else {
                    return error(.gemini, 400, "\(fileName) line \(n + 1): a JSON object with a request is required.")
                }
                lines.append(Line(customID: line["key"]?.stringValue ?? "#\(n)", body: request.encoded()))
            }
            guard !lines.isEmpty else { return error(.gemini, 400, "\(fileName) holds no requests.") }
            let b = register(
                wire: .gemini, lines: lines, metadata: ["displayName": display, "model": "models/" + model],
                inputFileID: fileName,
                state: "BATCH_STATE_PENDING", model: model)
            tally.geminiFileBatches += 1
            return .response(status: 200, headers: WireRenderer.jsonHeaders, body: geminiObject(b).encoded())
        }
        guard let requests = config?["requests"]?["requests"]?.arrayValue, !requests.isEmpty else {
            return error(
                .gemini, 400,
                "batch.input_config.requests.requests: a non-empty list is required here (no file input in the fake).")
        }
        guard body.count <= 20 * 1000 * 1000 else {
            return error(.gemini, 400, "inline batch requests must stay under 20 MB; use a file.")
        }
        var lines: [Line] = []
        for (n, r) in requests.enumerated() {
            guard let request = r["request"], case .object = request else {
                return error(.gemini, 400, "requests[\(n)].request: a GenerateContentRequest is required.")
            }
            // metadata is free-form; a request without a key is still accepted and answered by position.
            lines.append(Line(customID: r["metadata"]?["key"]?.stringValue ?? "#\(n)", body: request.encoded()))
        }
        let b = register(
            wire: .gemini, lines: lines, metadata: ["displayName": display, "model": "models/" + model],
            inputFileID: nil,
            state: "BATCH_STATE_PENDING", model: model)
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: geminiObject(b).encoded())
    }

    /// The long-running Operation for a batch: `{name, metadata: GenerateContentBatch, done, response | error}`.
    private func geminiObject(_ b: Batch) -> JSONValue {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let ok = b.counts["successful"] ?? 0
        let failed = b.counts["failed"] ?? 0
        let ended = b.state != "BATCH_STATE_PENDING" && b.state != "BATCH_STATE_RUNNING"
        let n = b.lines.count
        var meta: [String: JSONValue] = [
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
            "name": .string(b.id),
            "model": .string(b.metadata["model"] ?? ""), "displayName": .string(b.metadata["displayName"] ?? ""),
            "createTime": .string(f.string(from: b.createdAt)), "updateTime": .string(f.string(from: Date())),
            "state": .string(b.state),
            // int64 fields: strings in proto3 JSON.
            "batchStats": [
                "requestCount": .string(String(n)), "successfulRequestCount": .string(String(ok)),
                "failedRequestCount": .string(String(failed)),
                "pendingRequestCount": .string(String(ended ? 0 : n)),
            ],
        ]
        if ended { meta["endTime"] = .string(f.string(from: Date())) }
        var op: [String: JSONValue] = ["name": .string(b.id), "metadata": .object(meta), "done": .bool(ended)]
        if b.state == "BATCH_STATE_SUCCEEDED", let file = b.outputFileID {
            op["response"] = [
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                "responsesFile": .string(file),
            ]
        } else if b.state == "BATCH_STATE_SUCCEEDED", let results = b.results {
            let items = results.split(separator: 10).compactMap { try? JSONValue(jsonData: Data($0)) }
            op["response"] = [
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                "inlinedResponses": ["inlinedResponses": .array(items)],
            ]
        }
        return .object(op)
    }

    // MARK: - Shared

    private func object(_ b: Batch, host: String?) -> JSONValue {
        b.wire == .openai ? openAIObject(b) : b.wire == .gemini ? geminiObject(b) : anthropicObject(b, host: host)
    }

    private func list(_ wire: FakeWire, limit: Int, after: String?, host: String?) -> RenderedReply {
        let newest = order.reversed().compactMap { batches[$0] }.filter { $0.wire == wire }
        var start = 0
        if let after, let i = newest.firstIndex(where: { $0.id == after }) { start = i + 1 }
        let page = Array(newest.dropFirst(start).prefix(max(1, limit)))
        var json: [String: JSONValue] = [
            "data": .array(page.map { object($0, host: host) }), "has_more": .bool(start + page.count < newest.count),
            "first_id": page.first.map { .string($0.id) } ?? .null,
            "last_id": page.last.map { .string($0.id) } ?? .null,
        ]
        if wire == .openai { json["object"] = "list" }
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: JSONValue.object(json).encoded())
    }

    private func retrieve(_ id: String, wire: FakeWire, handler: FakeHandler, host: String?) async -> RenderedReply {
        guard let b = batches[id], b.wire == wire else { return notFound(wire, "No such batch: \(id)") }
        tally.polls += 1
        b.polls += 1
        if b.polls % pollsPerState == 0 { await advance(b, handler: handler) }
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: object(b, host: host).encoded())
    }

    private func cancel(_ id: String, wire: FakeWire, host: String?) -> RenderedReply {
        guard let b = batches[id], b.wire == wire else { return notFound(wire, "No such batch: \(id)") }
        tally.cancels += 1
        let ended: Set<String> = [
            "completed", "failed", "expired", "cancelled", "ended", "BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED",
            "BATCH_STATE_CANCELLED",
            "BATCH_STATE_EXPIRED",
        ]
        guard !ended.contains(b.state) else {
            return error(wire, 400, "Batch \(id) has already ended (\(b.state)) and cannot be cancelled.")
        }
        b.cancelAt = Date()
        if wire == .gemini {
            // Gemini has no "cancelling" state: the batch is BATCH_STATE_CANCELLED, and `batches.cancel` answers `{}`.
            b.state = "BATCH_STATE_CANCELLED"
            return .response(status: 200, headers: WireRenderer.jsonHeaders, body: Data("{}".utf8))
        }
        b.state = wire == .openai ? "cancelling" : "canceling"
        return .response(status: 200, headers: WireRenderer.jsonHeaders, body: object(b, host: host).encoded())
    }

    private func advance(_ b: Batch, handler: FakeHandler) async {
        switch (b.wire, b.state) {
        case (.openai, "validating"): b.state = b.failure == nil ? "in_progress" : "failed"
        case (.openai, "in_progress"): if !held { b.state = "finalizing" }
        case (.openai, "finalizing"): await finish(b, canceled: false, handler: handler)
        case (.openai, "cancelling"): await finish(b, canceled: true, handler: handler)
        case (.anthropic, "in_progress"): if !held { await finish(b, canceled: false, handler: handler) }
        case (.anthropic, "canceling"): await finish(b, canceled: true, handler: handler)
        case (.gemini, "BATCH_STATE_PENDING"): b.state = "BATCH_STATE_RUNNING"
        case (.gemini, "BATCH_STATE_RUNNING"): if !held { await finish(b, canceled: false, handler: handler) }
        default: break
        }
    }

    /// Runs every request (or cancels the rest) and writes the results in the wire's format.
    private func finish(_ b: Batch, canceled: Bool, handler: FakeHandler) async {
        var output = Data()
        var errors = Data()
        var anyExpired = false
        for (n, line) in b.lines.enumerated() {
            var lineFate = canceled ? .cancel : fate(line.customID, line.request)
            var status = 200
            var body = Data()
            if lineFate == .answer {
                if let request = line.request,
                    case .response(let s, _, let data) = WireRenderer.render(
                        await Self.resolve(await handler(request)), for: request)
                {
                    status = s
                    body = data
                } else {
                    lineFate = .fail(status: 500, message: "The server had an error processing this request.")
                }
                if status != 200, lineFate == .answer {
                    lineFate = .fail(status: status, message: String(decoding: body, as: UTF8.self))
                }
            }
            if case .expire = lineFate { anyExpired = true }
            switch b.wire {
            case .openai:
                let rid = "req_\(b.id)_\(n)"
                let json: JSONValue
                switch lineFate {
                case .answer:
                    json = [
                        "id": .string("batch_req_\(n)"), "custom_id": .string(line.customID),
                        "response": [
                            "status_code": 200, "request_id": .string(rid),
                            "body": (try? JSONValue(jsonData: body)) ?? .null,
                        ], "error": .null,
                    ]
                    b.counts["completed", default: 0] += 1
                case .fail(let s, let m):
                    let errBody: JSONValue =
                        (try? JSONValue(jsonData: Data(m.utf8))).flatMap { $0["error"] != nil ? $0 : nil }
                        ?? ["error": ["message": .string(m), "type": "invalid_request_error", "code": .null]]
                    json = [
                        "id": .string("batch_req_\(n)"), "custom_id": .string(line.customID),
                        "response": ["status_code": .int(s), "request_id": .string(rid), "body": errBody],
                        "error": .null,
                    ]
                    b.counts["failed", default: 0] += 1
                case .expire:
                    json = [
                        "id": .string("batch_req_\(n)"), "custom_id": .string(line.customID), "response": .null,
                        "error": [
                            "code": "batch_expired",
                            "message": "This request could not be executed before the completion window expired.",
                        ],
                    ]
                    b.counts["failed", default: 0] += 1
                case .cancel:
                    json = [
                        "id": .string("batch_req_\(n)"), "custom_id": .string(line.customID), "response": .null,
                        "error": [
                            "code": "batch_cancelled",
                            "message": "This request was not executed because the batch was cancelled.",
                        ],
                    ]
                    b.counts["failed", default: 0] += 1
                }
                if lineFate == .answer {
                    output.append(json.encoded() + Data([10]))
                } else {
                    errors.append(json.encoded() + Data([10]))
                }
            case .gemini:
                // An InlinedResponse: `{response: GenerateContentResponse}` or `{error: Status}`, with the request's metadata.
                var item: [String: JSONValue] = ["metadata": ["key": .string(line.customID)]]
                switch lineFate {
                case .answer:
                    item["response"] = (try? JSONValue(jsonData: body)) ?? .null
                    b.counts["successful", default: 0] += 1
                case .fail(let st, let m):
                    item["error"] = [
                        "code": .int(st), "message": .string(m),
                        "status": .string(
                            st == 429 ? "RESOURCE_EXHAUSTED" : st >= 500 ? "INTERNAL" : "INVALID_ARGUMENT"),
                    ]
                    b.counts["failed", default: 0] += 1
                case .expire, .cancel:
                    break  // the whole batch expires or is cancelled: no output at all (below)
                }
                output.append(JSONValue.object(item).encoded() + Data([10]))
            default:
                let result: JSONValue
                switch lineFate {
                case .answer:
                    result = ["type": "succeeded", "message": (try? JSONValue(jsonData: body)) ?? .null]
                    b.counts["succeeded", default: 0] += 1
                case .fail(_, let m):
                    result = [
                        "type": "errored",
                        "error": ["type": "error", "error": ["type": "invalid_request_error", "message": .string(m)]],
                    ]
                    b.counts["errored", default: 0] += 1
                case .expire:
                    result = ["type": "expired"]
                    b.counts["expired", default: 0] += 1
                case .cancel:
                    result = ["type": "canceled"]
                    b.counts["canceled", default: 0] += 1
                }
                output.append(
                    JSONValue.object(["custom_id": .string(line.customID), "result": result]).encoded() + Data([10]))
            }
        }
        if strayLine {
            let stray: JSONValue =
                b.wire == .gemini
                ? ["metadata": ["key": "c99999999_0000000000000000"], "response": ["candidates": []]]
                : b.wire == .openai
                    ? [
                        "id": "batch_req_stray", "custom_id": "c99999999_0000000000000000",
                        "response": ["status_code": 200, "request_id": "req_stray", "body": ["choices": []]],
                        "error": .null,
                    ]
                    : ["custom_id": "c99999999_0000000000000000", "result": ["type": "expired"]]
            output.append(stray.encoded() + Data([10]))
        }
        switch b.wire {
        case .openai:
            if !output.isEmpty {
                let id = newID("file-")
                files[id] = output
                b.outputFileID = id
            }
            if !errors.isEmpty {
                let id = newID("file-")
                files[id] = errors
                b.errorFileID = id
            }
            b.state = canceled ? "cancelled" : (anyExpired ? "expired" : "completed")
        case .gemini:
            // A batch pending or running past 48 h expires with no results
            // (https://ai.google.dev/gemini-api/docs/batch-api, "Batch expiration").
            b.results = anyExpired ? nil : output
            if !anyExpired, geminiFileOutput || b.inputFileID != nil {
                // The responses file: one `{"key", "response" | "error"}` line per request, in input order.
                var file = Data()
                for raw in output.split(separator: 10) {
                    guard let item = try? JSONValue(jsonData: Data(raw)) else { continue }
                    var line: [String: JSONValue] = ["key": item["metadata"]?["key"] ?? .null]
                    if let r = item["response"] { line["response"] = r }
                    if let e = item["error"] { line["error"] = e }
                    file.append(JSONValue.object(line).encoded() + Data([10]))
                }
                let id = "files/" + newID("batchout")
                files[id] = file
                b.outputFileID = id
            }
            b.state = anyExpired ? "BATCH_STATE_EXPIRED" : "BATCH_STATE_SUCCEEDED"
        default:
            b.results = output
            b.state = "ended"
        }
    }

    private static func resolve(_ reply: FakeReply) async -> FakeReply {
        var reply = reply
        while case .delayed(_, let inner) = reply { reply = inner }
        return reply
    }

    private func notFound(_ wire: FakeWire, _ message: String) -> RenderedReply { error(wire, 404, message) }

    private func error(_ wire: FakeWire, _ status: Int, _ message: String) -> RenderedReply {
        .response(
            status: status, headers: WireRenderer.jsonHeaders,
            body: WireRenderer.error(wire: wire, status: status, message: message, retryAfter: nil).encoded())
    }
}
