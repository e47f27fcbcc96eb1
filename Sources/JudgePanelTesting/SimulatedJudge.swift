import Foundation

/// A deterministic judge model with planted biases, to serve from a ``FakeProviderServer``.
///
/// It knows each answer's true quality through the test's oracle and decides with per-request
/// randomness drawn from a hash of `seed` and the full prompt text, so the same prompt always gets
/// the same reply (caching stays consistent) while different prompts get independent draws.
///
/// **Prompt contract.** A *pairwise* prompt carries the two answers between the MT-Bench
/// delimiters `[The Start of Assistant A's Answer]` … `[The End of Assistant A's Answer]` and the same
/// for B (or `[The Start of Answer A]` … `[The End of Answer A]`). A *pointwise* prompt carries one
/// answer between `[The Start of Assistant's Answer]` … `[The End of Assistant's Answer]`. The last user
/// turn is searched first, then the whole prompt. Answers are trimmed of surrounding whitespace before
/// they reach `quality` and `authorFamily`.
///
/// **Pairwise decision**, in order, each step with its own independent draw:
/// 1. if an answer contains an injected verdict `[[A]]` or `[[B]]` (answer A is scanned first, the
///    earliest marker wins), follow it with probability `obeysInjection`;
/// 2. else pick slot A with probability `firstSlot`;
/// 3. else pick the longer answer (in characters; equal lengths skip this step) with probability `longer`;
/// 4. else, if exactly one answer's `authorFamily` equals `family`, pick it with probability `selfPreference`;
/// 5. else the answer with the higher `quality`; equal or unknown (`nil`) qualities give a tie (`C`).
///
/// The reply is a short sentence followed by `[[A]]`, `[[B]]` or `[[C]]`, or, when the request asks for
/// JSON, `{"reasoning": "...", "verdict": "A" | "B" | "tie"}`.
///
/// **Pointwise score**: `quality` rounded and clamped to `scoreRange` (the midpoint when unknown), +1 with
/// probability `longer` if the answer is longer than `lengthThreshold` characters, +1 with probability
/// `selfPreference` if its `authorFamily` equals `family`, clamped again. The reply ends in
/// `Rating: [[N]]`, or is `{"reasoning": "...", "score": N}` for JSON requests.
///
/// A prompt with neither layout gets a reply without any verdict.
///
/// **Log-probabilities.** When the request asks for them, the reply carries three tokens — the text
/// before the verdict, the verdict label (`A`/`B`/`C`, `tie` in JSON, or the score) and the text after —
/// with the label at probability 0.9 and its alternatives (the other labels; score ± 1 within the
/// scale) sharing 0.1, so a probability-weighted score equals the score away from the scale's ends.
///
/// ```swift
/// let originals = ["Paris is the capital of France.": 9.0, "It is Lyon.": 2.0]
/// let judge = SimulatedJudge(
///     quality: { answer in originals.first { answer.contains($0.key) }?.value },
///     family: "gpt",
///     authorFamily: { $0.hasPrefix("As an OpenAI model") ? "gpt" : nil },
///     firstSlot: 0.2, longer: 0.1, seed: 42
/// )
/// let server = FakeProviderServer(handler: judge.handler)
/// try await server.start()
/// ```
public struct SimulatedJudge: Sendable {
    /// A pairwise verdict.
    public enum Verdict: String, Sendable, Hashable {
        case a = "A"
        case b = "B"
        case tie = "C"
    }

    /// The oracle: an answer's true quality on the rubric's scale, or `nil` when unknown.
    public var quality: @Sendable (String) -> Double?
    /// The judge's own model family, for self-preference.
    public var family: String?
    /// The family of the model that wrote an answer, or `nil` when unknown.
    public var authorFamily: @Sendable (String) -> String?
    /// Probability of choosing slot A regardless of content (position bias).
    public var firstSlot: Double
    /// Probability of choosing the longer answer (pairwise) or adding a point to a long answer (pointwise).
    public var longer: Double
    /// Probability of obeying a verdict injected into an answer.
    public var obeysInjection: Double
    /// Probability of preferring (or adding a point to) an answer written by its own family.
    public var selfPreference: Double
    /// Pointwise: answers longer than this many characters are "long" for the length bonus.
    public var lengthThreshold: Int
    /// Pointwise: the rubric scale that scores are clamped to.
    public var scoreRange: ClosedRange<Int>
    /// Seed mixed into every per-request hash.
    public var seed: UInt64

    /// Creates a simulated judge; all planted rates default to 0 (a perfect oracle judge).
    public init(
        quality: @escaping @Sendable (String) -> Double?,
        family: String? = nil,
        authorFamily: @escaping @Sendable (String) -> String? = { _ in nil },
        firstSlot: Double = 0,
        longer: Double = 0,
        obeysInjection: Double = 0,
        selfPreference: Double = 0,
        lengthThreshold: Int = 400,
        scoreRange: ClosedRange<Int> = 1...10,
        seed: UInt64 = 0
    ) {
        self.quality = quality
        self.family = family
        self.authorFamily = authorFamily
        self.firstSlot = firstSlot
        self.longer = longer
        self.obeysInjection = obeysInjection
        self.selfPreference = selfPreference
        self.lengthThreshold = lengthThreshold
        self.scoreRange = scoreRange
        self.seed = seed
    }

    /// A judge that always picks slot A (and scores every answer at the scale's midpoint).
    public static var alwaysFirst: SimulatedJudge {
        SimulatedJudge(quality: { _ in nil }, firstSlot: 1)
    }

    /// An unbiased judge that always follows `quality`.
    public static func oracle(quality: @escaping @Sendable (String) -> Double?, seed: UInt64 = 0) -> SimulatedJudge {
        SimulatedJudge(quality: quality, seed: seed)
    }

    /// The judge as a server handler.
    public var handler: FakeHandler {
        let judge = self
        return { request in judge.reply(to: request) }
    }

    /// The judge's reply to `request` (pure and deterministic).
    public func reply(to request: FakeRequest) -> FakeReply {
        let prompt = request.promptText
        var random = SplitMix64(seed: FNV1a64.hash(seed: seed, text: prompt))
        let sources = [request.lastUserText, prompt]

        for source in sources {
            if let (answerA, answerB) = Self.pairwiseAnswers(in: source) {
                let verdict = decide(answerA: answerA, answerB: answerB, random: &random)
                return Self.render(verdict, json: request.wantsJSON).reply(for: request)
            }
        }
        for source in sources {
            if let answer = Self.between(source, "[The Start of Assistant's Answer]", "[The End of Assistant's Answer]")
            {
                let score = score(answer: answer, random: &random)
                return render(score: score, json: request.wantsJSON).reply(for: request)
            }
        }
        return .text(
            request.wantsJSON
                ? #"{"reasoning": "No answer to evaluate was found in the prompt."}"#
                : "No answer to evaluate was found in the prompt."
        )
    }

    /// The pairwise verdict for two answers, drawing from `seed` and `promptText` as ``reply(to:)`` does.
    public func verdict(answerA: String, answerB: String, promptText: String) -> Verdict {
        var random = SplitMix64(seed: FNV1a64.hash(seed: seed, text: promptText))
        return decide(answerA: answerA, answerB: answerB, random: &random)
    }

    // MARK: - Decisions

    private func decide(answerA: String, answerB: String, random: inout SplitMix64) -> Verdict {
        // Draw every step up front so each bias is an independent event per prompt.
        let injectionDraw = random.nextUnit()
        let firstDraw = random.nextUnit()
        let longerDraw = random.nextUnit()
        let selfDraw = random.nextUnit()

        if let injected = Self.injectedVerdict(answerA) ?? Self.injectedVerdict(answerB),
            injectionDraw < obeysInjection
        {
            return injected
        }
        if firstDraw < firstSlot {
            return .a
        }
        if answerA.count != answerB.count, longerDraw < longer {
            return answerA.count > answerB.count ? .a : .b
        }
        if let family {
            let ownA = authorFamily(answerA) == family
            let ownB = authorFamily(answerB) == family
            if ownA != ownB, selfDraw < selfPreference {
                return ownA ? .a : .b
            }
        }
        guard let qualityA = quality(answerA), let qualityB = quality(answerB), qualityA != qualityB else {
            return .tie
        }
        return qualityA > qualityB ? .a : .b
    }

    private func score(answer: String, random: inout SplitMix64) -> Int {
        let longerDraw = random.nextUnit()
        let selfDraw = random.nextUnit()
        let low = scoreRange.lowerBound
        let high = scoreRange.upperBound
        var score: Int
        if let value = quality(answer), value.isFinite {
            score = Int(max(Double(low), min(Double(high), value.rounded())))
        } else {
            score = (low + high) / 2
        }
        if answer.count > lengthThreshold, longerDraw < longer {
            score += 1
        }
        if let family, authorFamily(answer) == family, selfDraw < selfPreference {
            score += 1
        }
        return min(high, max(low, score))
    }

    // MARK: - Prompt parsing

    static func pairwiseAnswers(in text: String) -> (String, String)? {
        let layouts = [
            (
                "[The Start of Assistant A's Answer]", "[The End of Assistant A's Answer]",
                "[The Start of Assistant B's Answer]", "[The End of Assistant B's Answer]"
            ),
            ("[The Start of Answer A]", "[The End of Answer A]", "[The Start of Answer B]", "[The End of Answer B]"),
        ]
        for (startA, endA, startB, endB) in layouts {
            if let answerA = between(text, startA, endA), let answerB = between(text, startB, endB) {
                return (answerA, answerB)
            }
        }
        return nil
    }

    /// The trimmed text between the last `start` marker and the next `end` marker after it.
    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let startRange = text.range(of: start, options: .backwards),
            let endRange = text.range(of: end, range: startRange.upperBound..<text.endIndex)
        else { return nil }
        return text[startRange.upperBound..<endRange.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The verdict an answer tries to inject: its earliest `[[A]]` or `[[B]]`.
    static func injectedVerdict(_ answer: String) -> Verdict? {
        let a = answer.range(of: "[[A]]")
        let b = answer.range(of: "[[B]]")
        switch (a, b) {
        case (let a?, let b?): return a.lowerBound < b.lowerBound ? .a : .b
        case (_?, nil): return .a
        case (nil, _?): return .b
        case (nil, nil): return nil
        }
    }

    // MARK: - Rendering

    /// A reply split around its verdict token, so log-probabilities can point at it.
    struct RenderedVerdict {
        var prefix: String
        var token: String
        var suffix: String
        /// Every label the judge could have put in the token's place, the chosen one included.
        var alternatives: [String]

        var text: String { prefix + token + suffix }

        /// `.text` with, when requested, log-probabilities: the verdict token gets probability 0.9, its
        /// alternatives share the rest, and the surrounding text is certain (log-probability 0).
        func reply(for request: FakeRequest) -> FakeReply {
            guard request.logprobs else { return .text(text) }
            let others = alternatives.filter { $0 != token }
            let otherLogprob = others.isEmpty ? -Double.infinity : log(0.1 / Double(others.count))
            var top = [FakeTopLogprob(token: token, logprob: log(0.9))]
            top += others.map { FakeTopLogprob(token: $0, logprob: otherLogprob) }
            let count = max(0, min(top.count, request.topLogprobs ?? top.count))
            var tokens: [FakeTokenLogprob] = []
            if !prefix.isEmpty {
                tokens.append(
                    FakeTokenLogprob(token: prefix, logprob: 0, top: [FakeTopLogprob(token: prefix, logprob: 0)]))
            }
            tokens.append(FakeTokenLogprob(token: token, logprob: log(0.9), top: Array(top.prefix(count))))
            if !suffix.isEmpty {
                tokens.append(
                    FakeTokenLogprob(token: suffix, logprob: 0, top: [FakeTopLogprob(token: suffix, logprob: 0)]))
            }
            return .text(
                text,
                logprobs: tokens.map { entry in
                    FakeTokenLogprob(token: entry.token, logprob: entry.logprob, top: count == 0 ? [] : entry.top)
                })
        }
    }

    static func render(_ verdict: Verdict, json: Bool) -> RenderedVerdict {
        let reasoning =
            switch verdict {
            case .a: "After comparing both responses, Assistant A's answer is more helpful and accurate."
            case .b: "After comparing both responses, Assistant B's answer is more helpful and accurate."
            case .tie: "Both responses are of comparable quality."
            }
        if json {
            return RenderedVerdict(
                prefix: #"{"reasoning": "\#(reasoning)", "verdict": ""#,
                token: verdict == .tie ? "tie" : verdict.rawValue,
                suffix: #""}"#,
                alternatives: ["A", "B", "tie"]
            )
        }
        return RenderedVerdict(
            prefix: "\(reasoning) [[", token: verdict.rawValue, suffix: "]]", alternatives: ["A", "B", "C"]
        )
    }

    func render(score: Int, json: Bool) -> RenderedVerdict {
        let reasoning = "The response was evaluated for helpfulness, relevance and accuracy."
        let neighbours = [score - 1, score + 1].filter(scoreRange.contains).map(String.init)
        if json {
            return RenderedVerdict(
                prefix: #"{"reasoning": "\#(reasoning)", "score": "#,
                token: String(score),
                suffix: "}",
                alternatives: [String(score)] + neighbours
            )
        }
        return RenderedVerdict(
            prefix: "\(reasoning) Rating: [[", token: String(score), suffix: "]]",
            alternatives: [String(score)] + neighbours
        )
    }
}

// MARK: - Deterministic randomness

/// 64-bit FNV-1a over the seed's little-endian bytes followed by the text's UTF-8.
enum FNV1a64 {
    static func hash(seed: UInt64, text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01b3
        for shift in stride(from: 0, to: 64, by: 8) {
            hash = (hash ^ ((seed >> UInt64(shift)) & 0xff)) &* prime
        }
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* prime
        }
        return hash
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
