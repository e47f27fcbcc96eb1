import Foundation
import JudgeStats

extension Vote {
    /// Decodes one votes-file line through ``JSONValue`` (Foundation's `JSONDecoder`, see
    /// ``JSONValue/init(jsonData:)``) instead of `Vote`'s own `init(from:)`, for lines whose keys hold exactly the
    /// types `init(from:)` reads without conversion (ids and verdicts as strings, no `usage`). Returns nil for
    /// anything else (a numeric id, a `usage` object, a value of an unexpected type, text that is not JSON), and the
    /// caller decodes that line with `Vote`'s `init(from:)`, which gives the same vote or the same error: every vote
    /// this returns equals the one `init(from:)` gives for the line.
    package static func fastDecode(_ bytes: UnsafeBufferPointer<UInt8>) -> Vote? {
        guard let base = bytes.baseAddress else { return nil }
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
        // Not JSON (or not an object) is not this path's to report: the caller's `JSONDecoder` names the error.
        guard case .object(let o)? = try? JSONValue(jsonData: data) else { return nil }
        return fastDecode(o)
    }

    package static func fastDecode(_ o: [String: JSONValue]) -> Vote? {
        /// nil: absent or null; .some(nil): wrong type (fall back).
        func string(_ k: String) -> String?? {
            switch o[k] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        func number(_ k: String) -> Double?? {
            switch o[k] {
            case nil, .null?: return .some(nil)
            case .number(let d)?: return .some(d)
            default: return nil
            }
        }
        func int(_ k: String) -> Int?? {
            switch o[k] {
            case nil, .null?: return .some(nil)
            case .number(let d)?:
                guard d == d.rounded(), abs(d) < 9e15 else { return nil }
                return .some(Int(d))
            default: return nil
            }
        }
        func bool(_ k: String) -> Bool?? {
            switch o[k] {
            case nil, .null?: return .some(nil)
            case .bool(let b)?: return .some(b)
            default: return nil
            }
        }
        guard case .string(let item)? = o["item"], case .string(let judge)? = o["judge"] else { return nil }
        if let u = o["usage"], !u.isNull { return nil }
        guard let orderText = string("order"), let sample = int("sample"), let verdictText = string("verdict"),
            let score = number("score"), let protoText = string("protocol"), let statusText = string("status"),
            let raw = string("raw"), let cost = number("cost_usd"), let latency = number("latency_ms"),
            let cached = bool("cached"), let error = string("error"), let reason = string("reason"),
            let attempts = int("attempts"), let repaired = bool("repaired"), let expected = number("expected_score"),
            let logprobs = string("logprobs"), let variant = string("variant"), let sideText = string("response"),
            let fingerprint = string("fingerprint")
        else { return nil }
        var order: Order?
        if let t = orderText {
            guard let x = Order(rawValue: t) else { return nil }
            order = x
        }
        var verdict: Preference?
        if let t = verdictText {
            guard let p = ItemLoader.preference(t) else { return nil }
            verdict = p
        }
        var checks: [Bool?]?
        switch o["checks"] {
        case nil, .null?: break
        case .array(let xs)?:
            var out: [Bool?] = []
            out.reserveCapacity(xs.count)
            for x in xs {
                switch x {
                case .null: out.append(nil)
                case .bool(let b): out.append(b)
                default: return nil
                }
            }
            checks = out
        default: return nil
        }
        var probs: [String: Double]?
        switch o["probs"] {
        case nil, .null?: break
        case .object(let ps)?:
            var out: [String: Double] = [:]
            for (k, x) in ps {
                guard case .number(let d) = x else { return nil }
                out[k] = d
            }
            probs = out
        default: return nil
        }
        var proto: JudgingProtocol?
        if let t = protoText {
            guard let p = JudgingProtocol(rawValue: t) else { return nil }
            proto = p
        }
        var status: VoteStatus?
        if let t = statusText {
            guard let s = VoteStatus(rawValue: t) else { return nil }
            status = s
        }
        var side: Preference?
        if let t = sideText {
            guard let p = Preference(rawValue: t) else { return nil }
            side = p
        }
        let resolved = proto ?? (checks != nil ? .checklist : (score != nil ? .pointwise : .pairwise))
        var v = Vote(item: item, judge: judge, protocol: resolved, order: order, sample: sample ?? 0, verdict: verdict, score: score, checks: checks)
        let hasValue = verdict != nil || score != nil || checks != nil
        v.status = status ?? (hasValue ? .ok : .abstain)
        if v.status == .ok && !hasValue { v.status = .abstain }
        v.raw = raw
        v.costUSD = cost
        v.latencyMS = latency
        v.cached = cached
        v.error = error
        v.reason = reason.map(VoteReason.init(rawValue:))
        v.attempts = attempts
        v.repaired = repaired
        v.probs = probs
        v.expectedScore = expected
        v.logprobs = logprobs
        v.variant = variant
        v.side = side
        v.fingerprint = fingerprint
        return v
    }
}

extension VotesFile {
    /// Decodes one line of a votes file: the byte-level fast path when it applies, else `JSONDecoder`; a bad line
    /// fails naming `path` and `line`.
    package static func decodeLine(_ bytes: UnsafeBufferPointer<UInt8>, decoder: JSONDecoder, path: String, line: Int) throws -> Vote {
        if let v = Vote.fastDecode(bytes) { return v }
        do {
            return try decoder.decode(Vote.self, from: Data(buffer: bytes))
        } catch {
            throw JudgePanelError.badInput("invalid vote: \(describe(error))", file: path, line: line)
        }
    }
}
