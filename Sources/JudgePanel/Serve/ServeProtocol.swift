import Foundation
import JudgePanelCore
import Synchronization

/// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as `judgepanel serve --stdio` speaks it: one JSON object a
/// line each way. The standard error codes, plus one server code per CLI exit-code class: `-32000 - exit code`
/// (-32001 failed calls, -32002 bad input or usage, -32003 I/O and environment, -32004 a failed quality gate), and
/// -32800 for a request cancelled by `cancel` or `shutdown {"cancel": true}` (LSP's RequestCancelled).
package struct ServeError: Error, Sendable {
    static let parseError = -32700
    static let invalidRequest = -32600
    static let methodNotFound = -32601
    static let invalidParams = -32602
    package static let internalError = -32603
    package static let cancelled = -32800

    package var code: Int
    package var message: String
    package var data: JSONValue?

    package init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// An error of the CLI's exit-code class `exitCode` with the CLI's message: `data` carries `message`,
    /// `exit_code` and `class` (`failed`, `input`, `io`, `gate`).
    package static func cli(exitCode: Int, message raw: String) -> ServeError {
        // No piece of a secret a loaded panel names reaches the client (as for the CLI's stderr).
        let message = SecretScrubber.process.scrubPieces(raw)
        let cls: String
        switch exitCode {
        case 2: cls = "input"
        case 3: cls = "io"
        case 4: cls = "gate"
        default: cls = "failed"
        }
        return ServeError(
            code: -32000 - exitCode, message: message,
            data: ["message": .string(message), "exit_code": .number(Double(exitCode)), "class": .string(cls)])
    }

    /// A bad-input error (exit code 2) naming the parameter.
    package static func badParams(_ message: String) -> ServeError { .cli(exitCode: 2, message: message) }

    /// The exit-code class of a library error: 2 bad input or usage, 3 I/O, 130 cancelled, else 1.
    package static func from(_ error: any Error) -> ServeError {
        switch error {
        case let e as ServeError: return e
        case let e as JudgePanelError:
            switch e.code {
            case .badInput, .usage: return .cli(exitCode: 2, message: e.description)
            case .io: return .cli(exitCode: 3, message: e.description)
            case .cancelled: return .cancelledRequest
            case .provider: return .cli(exitCode: 1, message: e.description)
            }
        case is CancellationError: return .cancelledRequest
        default: return .cli(exitCode: 1, message: String(describing: error))
        }
    }

    static var cancelledRequest: ServeError {
        ServeError(
            code: cancelled, message: "cancelled",
            data: ["message": "cancelled", "exit_code": 130, "class": "cancelled"])
    }
}

/// Writes protocol lines, whole and one at a time, to one file descriptor (the process's original standard
/// output; `serve` points descriptor 1 at standard error so that nothing else can reach it).
package final class ServeOutput: Sendable {
    private let handle: Mutex<FileHandle>

    package init(fileDescriptor: Int32) {
        handle = Mutex(FileHandle(fileDescriptor: fileDescriptor, closeOnDealloc: false))
    }

    package func send(_ value: JSONValue) {
        var data = value.data
        data.append(0x0A)
        write(data)
    }

    /// Writes one whole protocol line (ending in a newline) under the lock, so lines never interleave.
    private func write(_ data: Data) {
        handle.withLock { h in
            do { try h.write(contentsOf: data) } catch {
                FileHandle.standardError.write(
                    Data("judgepanel serve: cannot write to standard output: \(error)\n".utf8))
            }
        }
    }

    package func respond(id: JSONValue, result: JSONValue) {
        send(["jsonrpc": "2.0", "id": id, "result": result])
    }

    /// An answer whose `result` is already compact JSON text (one value, no newline).
    package func respond(id: JSONValue, encodedResult: Data) {
        var data = Data("{\"jsonrpc\":\"2.0\",\"id\":".utf8)
        data.append(id.data)
        data.append(contentsOf: Array(",\"result\":".utf8))
        data.append(encodedResult)
        data.append(contentsOf: [0x7D, 0x0A])
        write(data)
    }

    package func respond(id: JSONValue, error: ServeError) {
        var e: [String: JSONValue] = ["code": .number(Double(error.code)), "message": .string(error.message)]
        if let d = error.data { e["data"] = d }
        send(["jsonrpc": "2.0", "id": id, "error": .object(e)])
    }

    package func notify(_ method: String, _ params: JSONValue) {
        send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }
}

/// What a method's handler may do besides returning its result: send notifications about its request.
package struct ServeContext: Sendable {
    /// The request's id.
    package let id: JSONValue
    package let output: ServeOutput

    /// `progress` for this request: `{"request", "done", "total", "errors", "cost"}`.
    package func progress(done: Int, total: Int, errors: Int, cost: Double) {
        output.notify(
            "progress",
            [
                "request": id, "done": .number(Double(done)), "total": .number(Double(total)),
                "errors": .number(Double(errors)), "cost": .number(cost),
            ])
    }

    /// `vote` for this request: `{"request", "vote"}`, the vote as its votes-file line.
    package func vote(_ vote: JSONValue) {
        output.notify("vote", ["request": id, "vote": vote])
    }
}

/// The request loop of `serve --stdio`: reads lines, runs every request as its own task (many at once), answers
/// each with its result or error, and handles `cancel` and `shutdown` itself.
package final class ServeServer: Sendable {
    package typealias Handler = @Sendable (JSONValue, ServeContext) async throws -> JSONValue
    /// A handler whose result is already the compact JSON text of `result` (``ServeScore/encoded(_:_:)``).
    package typealias EncodedHandler = @Sendable (JSONValue, ServeContext) async throws -> Data

    private struct State {
        var inFlight: [JSONValue: Task<Void, Never>] = [:]
        var cancelled: Set<JSONValue> = []
        var shuttingDown = false
    }

    private let handlers: [String: EncodedHandler]
    package let output: ServeOutput
    private let state = Mutex(State())

    package init(handlers: [String: Handler], encodedHandlers: [String: EncodedHandler] = [:], output: ServeOutput) {
        var all = encodedHandlers
        for (method, handler) in handlers {
            all[method] = { params, context in try await handler(params, context).compactData() }
        }
        self.handlers = all
        self.output = output
    }

    /// Serves the lines of `input` until `shutdown` or the end of input, then waits for the requests still in
    /// flight and returns. After `shutdown` they finish (`shutdown {"cancel": true}` cancels them); at the end of
    /// input without `shutdown` the client is gone, so they are cancelled (no call is paid for that nobody reads),
    /// as they are when the serving task is cancelled (SIGINT, SIGTERM).
    package func serve<S: AsyncSequence & Sendable>(lines input: S) async where S.Element == String {
        var shutdownID: JSONValue?
        do {
            for try await line in input {
                if let id = handle(line: line) {
                    shutdownID = id
                    break
                }
            }
        } catch {
            FileHandle.standardError.write(Data("judgepanel serve: cannot read standard input: \(error)\n".utf8))
        }
        if shutdownID == nil { cancelAll() }
        await withTaskCancellationHandler {
            await drain()
        } onCancel: {
            cancelAll()
        }
        if let shutdownID { output.respond(id: shutdownID, result: .null) }
    }

    /// Cancels every request in flight.
    func cancelAll() {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.cancelled.formUnion(s.inFlight.keys)
            return Array(s.inFlight.values)
        }
        for t in tasks { t.cancel() }
    }

    private func drain() async {
        while true {
            let next = state.withLock { $0.inFlight.first?.value }
            guard let next else { return }
            await next.value
        }
    }

    /// Handles one line; returns the id of a `shutdown` request (the loop then stops reading).
    private func handle(line raw: String) -> JSONValue? {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty { return nil }
        let message: JSONValue
        do {
            message = try JSONValue(jsonData: Data(line.utf8))
        } catch {
            output.respond(
                id: .null,
                error: ServeError(
                    code: ServeError.parseError, message: "Parse error", data: ["message": .string(error.description)]))
            return nil
        }
        guard case .object(let obj) = message else {
            output.respond(
                id: .null, error: ServeError(code: ServeError.invalidRequest, message: "Invalid Request: not an object")
            )
            return nil
        }
        let id = obj["id"]
        if let id {
            switch id {
            case .string, .number, .null: break
            default:
                output.respond(
                    id: .null,
                    error: ServeError(
                        code: ServeError.invalidRequest, message: "Invalid Request: id must be a string or number"))
                return nil
            }
        }
        guard obj["jsonrpc"] == .string("2.0"), case .string(let method)? = obj["method"] else {
            output.respond(
                id: id ?? .null,
                error: ServeError(
                    code: ServeError.invalidRequest, message: "Invalid Request: needs \"jsonrpc\": \"2.0\" and a method"
                ))
            return nil
        }
        let params = obj["params"] ?? .object([:])
        switch params {
        case .object, .array: break
        default:
            if let id {
                output.respond(
                    id: id,
                    error: ServeError(
                        code: ServeError.invalidParams, message: "Invalid params: params must be an object"))
            }
            return nil
        }
        switch method {
        case "cancel", "$/cancelRequest":
            guard let target = params["id"] else {
                if let id { output.respond(id: id, error: .badParams("cancel needs {\"id\": ID}")) }
                return nil
            }
            let task = state.withLock { s -> Task<Void, Never>? in
                guard let t = s.inFlight[target] else { return nil }
                s.cancelled.insert(target)
                return t
            }
            task?.cancel()
            if let id { output.respond(id: id, result: ["cancelled": .bool(task != nil)]) }
            return nil
        case "shutdown":
            state.withLock { $0.shuttingDown = true }
            if params["cancel"]?.boolValue == true { cancelAll() }
            return id ?? .null
        default:
            break
        }
        guard let handler = handlers[method] else {
            if let id {
                output.respond(
                    id: id, error: ServeError(code: ServeError.methodNotFound, message: "Method not found: \(method)"))
            }
            return nil
        }
        guard let id else {
            // A notification (no id) to a method with a result: nobody could read it or cancel the work, so it is
            // not run (JSON-RPC 2.0 §4.1: no answer either); said on standard error.
            FileHandle.standardError.write(
                Data("judgepanel serve: '\(method)' sent as a notification (no id): not run\n".utf8))
            _ = handler
            return nil
        }
        let output = self.output
        let duplicate = state.withLock { $0.inFlight[id] != nil }
        if duplicate {
            output.respond(
                id: id,
                error: ServeError(
                    code: ServeError.invalidRequest,
                    message: "Invalid Request: id \(id.compactString) is already in flight"))
            return nil
        }
        let gate = Gate()
        let task = Task { [self] in
            // Registered before the work starts, so a cancel that arrives at once finds the request (and a request
            // that ends at once is removed after it was added).
            while !gate.open.withLock({ $0 }) { await Task.yield() }
            let context = ServeContext(id: id, output: output)
            do {
                let result = try await handler(params, context)
                if Task.isCancelled || isCancelled(id) {
                    output.respond(id: id, error: .cancelledRequest)
                } else {
                    output.respond(id: id, encodedResult: result)
                }
            } catch {
                output.respond(id: id, error: isCancelled(id) ? .cancelledRequest : ServeError.from(error))
            }
            state.withLock { s in
                s.inFlight[id] = nil
                s.cancelled.remove(id)
            }
        }
        state.withLock { $0.inFlight[id] = task }
        gate.open.withLock { $0 = true }
        return nil
    }

    private func isCancelled(_ id: JSONValue) -> Bool { state.withLock { $0.cancelled.contains(id) } }
}

private final class Gate: Sendable {
    let open = Mutex(false)
}

/// Standard input's lines, read on a thread of their own (a blocking read never holds a task).
package func standardInputLines() -> AsyncStream<String> {
    AsyncStream { continuation in
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { continuation.yield(line) }
            continuation.finish()
        }
        thread.start()
    }
}
