import Foundation
import JudgeStats

/// Whether a call produced a usable value.
public enum VoteStatus: String, Sendable, Codable {
    /// Parsed.
    case ok
    /// The judge answered, but not readably (after one repair re-ask).
    case abstain
    /// The call failed after its last retry.
    case error
}

/// Whether a vote that asked for log-probabilities got them (the `logprobs` key of `votes.jsonl`). Open-ended, as
/// written: a value this version does not know is kept as read.
public struct LogprobAvailability: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The value as written in votes.jsonl.
    public let rawValue: String
    /// A value from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A value from its text.
    public init(stringLiteral value: String) { rawValue = value }
    /// Reads the value's text.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    /// Writes the value's text.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    /// The value's text.
    public var description: String { rawValue }

    /// The provider returned log-probabilities.
    public static let ok = LogprobAvailability(rawValue: "ok")
    /// Asked for, not offered by the provider or model.
    public static let unavailable = LogprobAvailability(rawValue: "unavailable")
}

/// Why a vote is not `ok` (the `reason` key of `votes.jsonl`). Open-ended: providers and importers may add
/// their own, but the well-known ones below are what reports count.
public struct VoteReason: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The reason as written in votes.jsonl.
    public let rawValue: String
    /// A reason from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A reason from its text.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Reads the reason's text.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    /// Writes the reason's text.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    /// The reason's text.
    public var description: String { rawValue }

    /// The model declined to answer (OpenAI `message.refusal`, Anthropic `stop_reason: refusal`, …).
    public static let refusal = VoteReason("refusal")
    /// The reply was cut at the output-token limit without a readable verdict.
    public static let length = VoteReason("length")
    /// The provider's safety filter stopped the reply (Gemini `SAFETY`, OpenAI `content_filter`, …).
    public static let contentFilter = VoteReason("content_filter")
    /// The prompt did not fit the model's context (it was cut, or the server refused it).
    public static let context = VoteReason("context")
    /// The reply held no readable verdict (after the repair re-ask).
    public static let unparsed = VoteReason("unparsed")
    /// The judge's own matches disagree.
    public static let ambiguous = VoteReason("ambiguous")
    /// A client error from the provider (HTTP 4xx other than rate limits).
    public static let http4xx = VoteReason("http_4xx")
    /// A server error from the provider after the last retry (HTTP 5xx).
    public static let http5xx = VoteReason("http_5xx")
    /// Rate limited after the last retry.
    public static let rateLimited = VoteReason("rate_limited")
    /// The account's quota is exhausted (not retried).
    public static let quota = VoteReason("quota")
    /// The call ran out of time.
    public static let timeout = VoteReason("timeout")
    /// The connection failed.
    public static let network = VoteReason("network")
    /// The provider's answer was not in its documented format.
    public static let badResponse = VoteReason("bad_response")
    /// The source file's value could not be read (importers).
    public static let unreadable = VoteReason("unreadable")
}

/// One parsed judge call: a line of `votes.jsonl`.
///
/// `verdict` is always in the dataset's orientation (a `BA` answer is mapped back).
public struct Vote: Sendable, Hashable, Codable {
    /// The item's id.
    public package(set) var item: String
    /// The judge's name.
    public package(set) var judge: String
    /// The rubric's protocol.
    public var `protocol`: JudgingProtocol
    /// Which answer was shown first (pairwise), nil for a single response.
    public package(set) var order: Order?
    /// The sample index, 0-based.
    public package(set) var sample: Int
    /// The preference read from the reply (pairwise).
    public package(set) var verdict: Preference?
    /// The score read from the reply (pointwise).
    public package(set) var score: Double?
    /// The YES/NO answer per checklist question (nil where unsure).
    public package(set) var checks: [Bool?]?
    /// Whether the vote is ok, an abstention or an error.
    public package(set) var status: VoteStatus
    /// The judge's reply as received.
    public package(set) var raw: String?
    /// Tokens the call used.
    public package(set) var usage: TokenUsage?
    /// What the call cost, from the panel's prices.
    public package(set) var costUSD: Double?
    /// Milliseconds the call took.
    public package(set) var latencyMS: Double?
    /// Whether the reply came from the response cache.
    public package(set) var cached: Bool?
    /// Why the vote is an abstention or error, in words.
    public package(set) var error: String?
    /// Why the vote is an abstention or error, as a category (set whenever `status` is not `ok`;
    /// may also flag an `ok` vote, e.g. `length` for a cut-off reply that still held a verdict).
    public package(set) var reason: VoteReason?
    /// HTTP attempts made (retries included).
    public package(set) var attempts: Int?
    /// Whether the value came from the repair re-ask.
    public package(set) var repaired: Bool?
    /// Pairwise: probabilities of A, B and tie in the dataset's orientation, read from log-probabilities.
    public package(set) var probs: [String: Double]?
    /// Pointwise: the probability-weighted expected score (G-Eval).
    public package(set) var expectedScore: Double?
    /// `ok`, `unavailable` (asked, not offered) or absent when not asked.
    public package(set) var logprobs: LogprobAvailability?
    /// A perturbation variant for probe runs (e.g. `verbosity`), absent for plain runs.
    public package(set) var variant: String?
    /// Checklist judging of a pairwise item: which response (`A` or `B`) was graded.
    public package(set) var side: Preference?
    /// The call's fingerprint: a SHA-256 of the resolved inputs that determine the answer (rendered prompt in its
    /// order, rubric's answer reading, the judge settings that change the answer). `--resume` reuses a journaled
    /// vote only when it still matches; absent in votes written elsewhere or by older versions.
    public package(set) var fingerprint: String?
    /// The model the provider reported answering (`model_version`: OpenAI/Anthropic/Ollama `model`, Gemini
    /// `modelVersion`), e.g. the snapshot an alias resolved to; absent where the provider reported none.
    public package(set) var modelVersion: String?
    /// OpenAI's `system_fingerprint` (the backend configuration), when reported.
    public package(set) var systemFingerprint: String?

    /// A vote from its parts.
    public init(
        item: String, judge: String, protocol: JudgingProtocol, order: Order? = nil, sample: Int = 0,
        verdict: Preference? = nil, score: Double? = nil, checks: [Bool?]? = nil, status: VoteStatus = .ok,
        raw: String? = nil
    ) {
        self.item = item
        self.judge = judge
        self.protocol = `protocol`
        self.order = order
        self.sample = sample
        self.verdict = verdict
        self.score = score
        self.checks = checks
        self.status = status
        self.raw = raw
    }

    package enum CodingKeys: String, CodingKey {
        case item, judge, `protocol`, order, sample, verdict, score, checks, status, raw, usage
        case costUSD = "cost_usd"
        case latencyMS = "latency_ms"
        case cached, error, reason, attempts, repaired, probs
        case expectedScore = "expected_score"
        case logprobs, variant, fingerprint
        case modelVersion = "model_version"
        case systemFingerprint = "system_fingerprint"
        case side = "response"
    }

    /// Reads a votes.jsonl line's object (unknown keys are ignored).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        item = try c.decode(FlexibleString.self, forKey: .item).value
        judge = try c.decode(FlexibleString.self, forKey: .judge).value
        order = try c.decodeIfPresent(Order.self, forKey: .order)
        sample = try c.decodeIfPresent(Int.self, forKey: .sample) ?? 0
        if let v = try c.decodeIfPresent(FlexibleString.self, forKey: .verdict) {
            guard let p = ItemLoader.preference(v.value) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .verdict, in: c, debugDescription: "verdict must be A, B or tie (got \(v.value))")
            }
            verdict = p
        }
        score = try c.decodeIfPresent(Double.self, forKey: .score)
        checks = try c.decodeIfPresent([Bool?].self, forKey: .checks)
        let proto = try c.decodeIfPresent(JudgingProtocol.self, forKey: .protocol)
        self.protocol = proto ?? (checks != nil ? .checklist : (score != nil ? .pointwise : .pairwise))
        let hasValue = verdict != nil || score != nil || checks != nil
        status = try c.decodeIfPresent(VoteStatus.self, forKey: .status) ?? (hasValue ? .ok : .abstain)
        if status == .ok && !hasValue { status = .abstain }
        raw = try c.decodeIfPresent(String.self, forKey: .raw)
        usage = try c.decodeIfPresent(TokenUsage.self, forKey: .usage)
        costUSD = try c.decodeIfPresent(Double.self, forKey: .costUSD)
        latencyMS = try c.decodeIfPresent(Double.self, forKey: .latencyMS)
        cached = try c.decodeIfPresent(Bool.self, forKey: .cached)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        reason = try c.decodeIfPresent(VoteReason.self, forKey: .reason)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts)
        repaired = try c.decodeIfPresent(Bool.self, forKey: .repaired)
        probs = try c.decodeIfPresent([String: Double].self, forKey: .probs)
        expectedScore = try c.decodeIfPresent(Double.self, forKey: .expectedScore)
        logprobs = try c.decodeIfPresent(LogprobAvailability.self, forKey: .logprobs)
        variant = try c.decodeIfPresent(String.self, forKey: .variant)
        side = try c.decodeIfPresent(Preference.self, forKey: .side)
        fingerprint = try c.decodeIfPresent(String.self, forKey: .fingerprint)
        modelVersion = try c.decodeIfPresent(String.self, forKey: .modelVersion)
        systemFingerprint = try c.decodeIfPresent(String.self, forKey: .systemFingerprint)
    }

    /// The journal key: one vote per (variant, item, judge, order, sample).
    public var key: String {
        let o = order?.rawValue ?? side.map { "resp" + $0.rawValue } ?? "-"
        return "\(variant ?? "")|\(item)|\(judge)|\(o)|\(sample)"
    }

    /// Whether the vote carries a value.
    public var isOK: Bool { status == .ok }
}

/// Decodes a string or a number as a string (ids in recorded votes are often numbers).
struct FlexibleString: Decodable {
    package let value: String
    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            value = s
        } else if let i = try? c.decode(Int.self) {
            value = String(i)
        } else if let d = try? c.decode(Decimal.self), d.isFinite {
            // Exact to 38 digits: two long numeric ids stay distinct, as in the items file.
            value = "\(d)"
        } else {
            let d = try c.decode(Double.self)
            value = d == d.rounded() ? String(Int(d)) : String(d)
        }
    }
}

/// Reads and writes votes files.
public enum VotesFile {
    /// Loads a votes file; a malformed line fails naming file and line. A truncated final line
    /// (a run killed mid-write) is skipped when `tolerateTruncatedTail` is set.
    public static func load(path: String, tolerateTruncatedTail: Bool = false) throws -> [Vote] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JudgePanelError.badInput("no such file", file: path)
        }
        let reader = try LineReader(path: path)
        var votes: [Vote] = []
        let decoder = JSONDecoder()
        var pendingError: JudgePanelError?
        while let (number, line) = try reader.next() {
            if let e = pendingError { throw e }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                votes.append(try decoder.decode(Vote.self, from: Data(line.utf8)))
            } catch {
                let e = JudgePanelError.badInput("invalid vote: \(describe(error))", file: path, line: number)
                if tolerateTruncatedTail { pendingError = e } else { throw e }
            }
        }
        return votes
    }

    package static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, _): return "missing \"\(k.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not JSON" : c.debugDescription
        default: return "\(error)"
        }
    }

    /// One compact JSON line for a vote.
    ///
    /// - Throws: ``JudgePanelError`` naming the vote (item, judge, order, sample) when it cannot be encoded,
    ///   e.g. a non-finite score: a votes file never holds an empty object in its place.
    public static func line(_ vote: Vote) throws -> String {
        try RecordEncoding.line(vote, record: vote.recordName)
    }
}
