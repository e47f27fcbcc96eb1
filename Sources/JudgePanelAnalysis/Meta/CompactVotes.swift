import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// One vote of a votes file in 8 bytes: the item's ordinal in the items list (−1: an item not in the list), the
/// judge's interned id, and the vote's verdict, order, status and reason packed into a byte (``Field``). The
/// accessors decode it to the vote's own types; the rules are applied by ``PairwiseSamples`` and ``VoteTally``.
package struct CompactVote: Sendable, Hashable {
    /// Index into the items list given to ``CompactVoteTable/read(path:itemIndex:workers:minRangeBytes:)``; −1 for
    /// an item not in it.
    package var item: Int32
    /// Index into ``CompactVoteTable/judges``.
    package var judge: UInt16
    /// The verdict, order, status and reason, two bits each at ``Field`` (codes ``VerdictCode``, ``OrderCode``,
    /// ``StatusCode``, ``ReasonCode``).
    package var code: UInt8
    /// ``Flags``.
    package var flags: Flags

    /// The two-bit fields of ``code``: each case's raw value is its bit offset.
    package enum Field: UInt8 {
        case verdict = 0
        case order = 2
        case status = 4
        case reason = 6

        /// The width of every field.
        package static let mask: UInt8 = 0b11
    }

    /// ``Field/verdict``: the vote's `verdict`.
    package enum VerdictCode: UInt8 {
        case none = 0
        case a, b, tie
    }
    /// ``Field/order``: the vote's `order`.
    package enum OrderCode: UInt8 {
        case none = 0
        case ab, ba
    }
    /// ``Field/status``: the vote's `status` (as `Vote.init(from:)` resolves it).
    package enum StatusCode: UInt8 {
        case ok = 0
        case abstain, error
    }
    /// ``Field/reason``: the reasons the statistics count; any other reason (or none) is `other`.
    package enum ReasonCode: UInt8 {
        case other = 0
        case refusal, length
    }

    /// What a vote carries beside its code.
    package struct Flags: OptionSet, Sendable, Hashable {
        package var rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        /// A provider answered (attempts or latency recorded).
        package static let live = Flags(rawValue: 1 << 0)
        /// The vote has a cost: the next entry of ``CompactVoteTable/costs``.
        package static let hasCost = Flags(rawValue: 1 << 1)
        /// `logprobs` is "unavailable".
        package static let logprobsUnavailable = Flags(rawValue: 1 << 2)
    }

    /// A vote from its decoded fields.
    @inline(__always)
    package init(
        item: Int32, judge: UInt16, verdict: VerdictCode, order: OrderCode, status: StatusCode, reason: ReasonCode,
        flags: Flags
    ) {
        self.item = item
        self.judge = judge
        code =
            verdict.rawValue << Field.verdict.rawValue | order.rawValue << Field.order.rawValue
            | status.rawValue << Field.status.rawValue | reason.rawValue << Field.reason.rawValue
        self.flags = flags
    }

    @inline(__always)
    package func field(_ f: Field) -> UInt8 { (code >> f.rawValue) & Field.mask }

    /// The vote's verdict.
    @inline(__always)
    package var verdict: Preference? {
        switch field(.verdict) {
        case VerdictCode.a.rawValue: return .a
        case VerdictCode.b.rawValue: return .b
        case VerdictCode.tie.rawValue: return .tie
        default: return nil
        }
    }
    /// The order the vote was shown in.
    @inline(__always)
    package var order: Order? {
        switch field(.order) {
        case OrderCode.ab.rawValue: return .ab
        case OrderCode.ba.rawValue: return .ba
        default: return nil
        }
    }
    /// The vote's status.
    @inline(__always)
    package var status: VoteStatus {
        switch field(.status) {
        case StatusCode.ok.rawValue: return .ok
        case StatusCode.abstain.rawValue: return .abstain
        default: return .error
        }
    }
    /// The model declined to answer.
    package var isRefusal: Bool { field(.reason) == ReasonCode.refusal.rawValue }
    /// The reply was cut at the output-token limit.
    package var isLengthStop: Bool { field(.reason) == ReasonCode.length.rawValue }
    package var live: Bool { flags.contains(.live) }
    package var hasCost: Bool { flags.contains(.hasCost) }
    package var logprobsUnavailable: Bool { flags.contains(.logprobsUnavailable) }
}

/// A pairwise votes file as compact tables: judges interned in order of first appearance, one ``CompactVote`` per
/// line in file order, and the costs of the votes that have one (in file order). Memory is 8 bytes a vote plus
/// 8 per cost, never the JSON text or a `Vote` per line.
///
/// ``read(path:itemIndex:)`` covers the votes files `score` writes for pairwise rubrics: baseline votes (no probe
/// `variant`) whose `item`/`judge` are strings and which carry no `score`, `checks`, `usage`, `probs`,
/// `expected_score` or `response`. It returns nil for any other file, and for any line it does not accept exactly as
/// `VotesFile` would (not JSON, a value of an unexpected type, an escaped key or id…): the caller then reads the
/// file with the general `Vote` decoder, which accepts the same lines and reports a bad one naming file and line.
package struct CompactVoteTable: Sendable {
    /// Judge names, in order of first appearance in the file.
    package var judges: [String]
    /// One entry per non-blank line, in file order.
    package var votes: [CompactVote]
    /// `cost_usd` of every vote whose ``CompactVote/hasCost`` is set, in file order.
    package var costs: [Double]

    /// Reads `path` in parallel byte ranges (split at line boundaries, merged in file order, so the tables do not
    /// depend on thread scheduling). `itemIndex` maps an item id to its ordinal.
    ///
    /// - Returns: nil when the file holds a line outside the compact form (see the type's documentation), or cannot
    ///   be opened.
    /// - Throws: ``JudgePanelError`` when a read fails.
    /// `workers` (default: the active processor count) ranges of at least `minRangeBytes` each are read at once.
    package static func read(
        path: String, itemIndex: [String: Int32], workers: Int? = nil, minRangeBytes: Int = 4 << 20
    ) throws -> CompactVoteTable? {
        // A file that cannot be opened is left to the general reader, which names the problem.
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        let n = max(1, min(workers ?? ProcessInfo.processInfo.activeProcessorCount, size / max(1, minRangeBytes), 64))
        let bounds = (0...n).map { size / n * $0 + ($0 == n ? size % n : 0) }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var parts: [Int: Result<CompactVoteScanner.Part?, any Error>] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: n) { k in
            let r = Result {
                try CompactVoteScanner.scan(
                    fd: fd, path: path, from: bounds[k], to: bounds[k + 1], fileSize: size, itemIndex: itemIndex)
            }
            results.lock.lock()
            results.parts[k] = r
            results.lock.unlock()
        }
        var parts: [CompactVoteScanner.Part] = []
        for k in 0..<n {
            // concurrentPerform ran every iteration before returning, so each range has its result.
            guard let result = results.parts[k], let part = try result.get() else { return nil }
            parts.append(part)
        }
        results.parts = [:]
        // Merge in file order: judges by first appearance (part 0's order, then each later part's new names).
        var table = CompactVoteTable(judges: [], votes: [], costs: [])
        var global: [String: UInt16] = [:]
        table.votes.reserveCapacity(parts.reduce(0) { $0 + $1.votes.count })
        table.costs.reserveCapacity(parts.reduce(0) { $0 + $1.costs.count })
        while !parts.isEmpty {
            let part = parts.removeFirst()
            var remap: [UInt16] = []
            for name in part.judges {
                if let g = global[name] {
                    remap.append(g)
                } else {
                    guard table.judges.count < Int(UInt16.max) else { return nil }
                    let g = UInt16(table.judges.count)
                    global[name] = g
                    table.judges.append(name)
                    remap.append(g)
                }
            }
            let identity = remap.indices.allSatisfy { remap[$0] == UInt16($0) }
            if identity {
                table.votes.append(contentsOf: part.votes)
            } else {
                for var v in part.votes {
                    v.judge = remap[Int(v.judge)]
                    table.votes.append(v)
                }
            }
            table.costs.append(contentsOf: part.costs)
        }
        return table
    }
}

/// The byte-level line scanner behind ``CompactVoteTable``: validates each line as strict JSON (UTF-8, string
/// escapes, number grammar, nesting) and reads only the keys the compact form holds.
package enum CompactVoteScanner {
    package struct Part {
        package var judges: [String] = []
        package var votes: [CompactVote] = []
        package var costs: [Double] = []
    }

    /// Not in the compact form: the caller falls back to the general reader.
    package struct Ineligible: Error {}

    /// Scans the lines that start in `from..<to`.
    package static func scan(fd: Int32, path: String, from: Int, to: Int, fileSize: Int, itemIndex: [String: Int32])
        throws -> Part?
    {
        var part = Part()
        var state = LineState(itemIndex: itemIndex)
        let block = 4 << 20
        var capacity = block
        var buf = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buf.deallocate() }
        var have = 0  // valid bytes in buf
        var base = from > 0 ? from - 1 : 0  // file offset of buf[0]
        var lo = 0  // start of the current line in buf
        var skipFirst = from > 0  // skip through the first newline (the line belongs to the previous range)
        var eof = false
        func fill() throws {
            if lo > 0 {
                if have > lo { memmove(buf, buf + lo, have - lo) }
                have -= lo
                base += lo
                lo = 0
            }
            if have == capacity {
                capacity *= 2
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
                grown.update(from: buf, count: have)
                buf.deallocate()
                buf = grown
            }
            let want = min(capacity - have, fileSize - (base + have))
            if want <= 0 {
                eof = true
                return
            }
            let got = pread(fd, buf + have, want, off_t(base + have))
            guard got > 0 else { throw JudgePanelError.io("read failed (file changed while reading?)", file: path) }
            have += got
        }
        var scanFrom = 0
        do {
            while true {
                if base + lo >= to, !skipFirst { break }
                let hit = have > scanFrom ? memchr(buf + scanFrom, 0x0A, have - scanFrom) : nil
                if let hit {
                    let nl = buf.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if skipFirst {
                        skipFirst = false
                    } else {
                        var end = nl
                        if end > lo, buf[end - 1] == 0x0D { end -= 1 }
                        try state.line(UnsafeBufferPointer(start: buf + lo, count: end - lo), into: &part)
                    }
                    lo = nl + 1
                    scanFrom = lo
                    continue
                }
                if eof {
                    if lo < have, !skipFirst {
                        var end = have
                        if end > lo, buf[end - 1] == 0x0D { end -= 1 }
                        try state.line(UnsafeBufferPointer(start: buf + lo, count: end - lo), into: &part)
                    }
                    break
                }
                if have - lo > LineReader.defaultMaxLineBytes { return nil }
                let pending = have - lo
                try fill()
                scanFrom = pending
            }
        } catch is Ineligible {
            return nil
        }
        part.judges = state.judgeNames
        return part
    }

    /// The keys a line has shown (each may appear once).
    struct SeenKeys: OptionSet {
        package var rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }
        package static let item = SeenKeys(rawValue: 1 << 0)
        package static let judge = SeenKeys(rawValue: 1 << 1)
        package static let `protocol` = SeenKeys(rawValue: 1 << 2)
        package static let order = SeenKeys(rawValue: 1 << 3)
        package static let sample = SeenKeys(rawValue: 1 << 4)
        package static let verdict = SeenKeys(rawValue: 1 << 5)
        package static let status = SeenKeys(rawValue: 1 << 6)
        package static let reason = SeenKeys(rawValue: 1 << 7)
        package static let costUSD = SeenKeys(rawValue: 1 << 8)
        package static let latency = SeenKeys(rawValue: 1 << 9)
        package static let attempts = SeenKeys(rawValue: 1 << 10)
        package static let logprobs = SeenKeys(rawValue: 1 << 11)
    }

    /// Per-range state: interned judges and a one-entry item cache.
    struct LineState {
        package let itemIndex: [String: Int32]
        package var judgeNames: [String] = []
        var judgeBytes: [(bytes: [UInt8], id: UInt16)] = []
        var judgeLookup: [String: UInt16] = [:]
        var lastItem: [UInt8] = []
        var lastItemIndex: Int32 = -1

        package init(itemIndex: [String: Int32]) { self.itemIndex = itemIndex }

        package mutating func line(_ p: UnsafeBufferPointer<UInt8>, into part: inout Part) throws(Ineligible) {
            if p.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            var s = Cursor(p: p)
            var item: Range<Int>?
            var judge: Range<Int>?
            var verdict = CompactVote.VerdictCode.none
            var order = CompactVote.OrderCode.none
            var status: CompactVote.StatusCode?
            var reason = CompactVote.ReasonCode.other
            var flags: CompactVote.Flags = []
            var cost = 0.0
            var seen: SeenKeys = []
            func once(_ key: SeenKeys) throws(Ineligible) {
                if seen.contains(key) { throw Ineligible() }
                seen.insert(key)
            }
            s.ws()
            try s.expect(0x7B)  // {
            s.ws()
            if s.peek == 0x7D { throw Ineligible() }  // {} has no item
            while true {
                let key = try s.key()
                s.ws()
                try s.expect(0x3A)  // :
                s.ws()
                let k = UnsafeBufferPointer(rebasing: p[key])
                switch k.count {
                case 4 where Self.eq(k, "item"):
                    try once(.item)
                    item = try s.plainString()
                case 5 where Self.eq(k, "judge"):
                    try once(.judge)
                    judge = try s.plainString()
                case 8 where Self.eq(k, "protocol"):
                    try once(.protocol)
                    if !s.null() {
                        let r = try s.plainString()
                        guard Self.eq(UnsafeBufferPointer(rebasing: p[r]), "pairwise") else { throw Ineligible() }
                    }
                case 5 where Self.eq(k, "order"):
                    try once(.order)
                    if !s.null() {
                        let r = UnsafeBufferPointer(rebasing: p[try s.plainString()])
                        if Self.eq(r, "AB") {
                            order = .ab
                        } else if Self.eq(r, "BA") {
                            order = .ba
                        } else {
                            throw Ineligible()
                        }
                    }
                case 6 where Self.eq(k, "sample"):
                    try once(.sample)
                    if !s.null() { try s.integer() }
                case 7 where Self.eq(k, "verdict"):
                    try once(.verdict)
                    if !s.null() {
                        let r = UnsafeBufferPointer(rebasing: p[try s.plainString()])
                        if Self.eq(r, "A") {
                            verdict = .a
                        } else if Self.eq(r, "B") {
                            verdict = .b
                        } else if Self.eq(r, "tie") {
                            verdict = .tie
                        } else {
                            switch ItemLoader.preference(String(decoding: r, as: UTF8.self)) {
                            case .a?: verdict = .a
                            case .b?: verdict = .b
                            case .tie?: verdict = .tie
                            case nil: throw Ineligible()
                            }
                        }
                    }
                case 6 where Self.eq(k, "status"):
                    try once(.status)
                    if !s.null() {
                        let r = UnsafeBufferPointer(rebasing: p[try s.plainString()])
                        if Self.eq(r, "ok") {
                            status = .ok
                        } else if Self.eq(r, "abstain") {
                            status = .abstain
                        } else if Self.eq(r, "error") {
                            status = .error
                        } else {
                            throw Ineligible()
                        }
                    }
                case 6 where Self.eq(k, "reason"):
                    try once(.reason)
                    if !s.null() {
                        let r = UnsafeBufferPointer(rebasing: p[try s.plainString()])
                        if Self.eq(r, "refusal") { reason = .refusal } else if Self.eq(r, "length") { reason = .length }
                    }
                case 8 where Self.eq(k, "cost_usd"):
                    try once(.costUSD)
                    if !s.null() {
                        cost = try s.number()
                        flags.insert(.hasCost)
                    }
                case 10 where Self.eq(k, "latency_ms"):
                    try once(.latency)
                    if !s.null() {
                        _ = try s.number()
                        flags.insert(.live)
                    }
                case 8 where Self.eq(k, "attempts"):
                    try once(.attempts)
                    if !s.null() {
                        try s.integer()
                        flags.insert(.live)
                    }
                case 8 where Self.eq(k, "logprobs"):
                    try once(.logprobs)
                    if !s.null() {
                        let r = UnsafeBufferPointer(rebasing: p[try s.plainString()])
                        if Self.eq(r, "unavailable") { flags.insert(.logprobsUnavailable) }
                    }
                case 3 where Self.eq(k, "raw"), 5 where Self.eq(k, "error"), 11 where Self.eq(k, "fingerprint"):
                    if !s.null() { try s.skipString() }
                case 6 where Self.eq(k, "cached"), 8 where Self.eq(k, "repaired"):
                    if !s.null() { try s.bool() }
                case 5 where Self.eq(k, "usage"), 5 where Self.eq(k, "score"), 6 where Self.eq(k, "checks"),
                    5 where Self.eq(k, "probs"), 14 where Self.eq(k, "expected_score"), 7 where Self.eq(k, "variant"),
                    8 where Self.eq(k, "response"):
                    // Only absent or null in the compact form.
                    guard s.null() else { throw Ineligible() }
                default:
                    try s.skipValue(depth: 0)
                }
                s.ws()
                if s.peek == 0x2C {
                    s.i += 1
                    s.ws()
                    continue
                }
                try s.expect(0x7D)
                break
            }
            s.ws()
            guard s.i == p.count, let item, let judge else { throw Ineligible() }
            // Status as `Vote.init(from:)` resolves it: a vote without a verdict is never ok.
            var st = status ?? (verdict != .none ? .ok : .abstain)
            if st == .ok && verdict == .none { st = .abstain }
            let j = try judgeID(UnsafeBufferPointer(rebasing: p[judge]))
            let i = itemID(UnsafeBufferPointer(rebasing: p[item]))
            part.votes.append(
                CompactVote(item: i, judge: j, verdict: verdict, order: order, status: st, reason: reason, flags: flags)
            )
            if flags.contains(.hasCost) { part.costs.append(cost) }
        }

        mutating func judgeID(_ b: UnsafeBufferPointer<UInt8>) throws(Ineligible) -> UInt16 {
            for known in judgeBytes where known.bytes.count == b.count {
                if b.count == 0 || known.bytes.withUnsafeBufferPointer({ Self.same($0, b) }) { return known.id }
            }
            // Names compare as Strings (canonical equivalence), as the general reader's dictionaries do.
            let name = String(decoding: b, as: UTF8.self)
            let id: UInt16
            if let known = judgeLookup[name] {
                id = known
            } else {
                guard judgeNames.count < Int(UInt16.max) else { throw Ineligible() }
                id = UInt16(judgeNames.count)
                judgeNames.append(name)
                judgeLookup[name] = id
            }
            if judgeBytes.count < 64 { judgeBytes.append((Array(b), id)) }
            return id
        }

        package mutating func itemID(_ b: UnsafeBufferPointer<UInt8>) -> Int32 {
            if lastItem.count == b.count, b.count == 0 || lastItem.withUnsafeBufferPointer({ Self.same($0, b) }) {
                return lastItemIndex
            }
            let id = itemIndex[String(decoding: b, as: UTF8.self)] ?? -1
            lastItem.removeAll(keepingCapacity: true)
            lastItem.append(contentsOf: b)
            lastItemIndex = id
            return id
        }

        /// The bytes of `b` are `s` (ASCII, not empty).
        @inline(__always)
        package static func eq(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
            guard b.count == s.utf8CodeUnitCount, let base = b.baseAddress else { return false }
            return memcmp(base, s.utf8Start, b.count) == 0
        }

        /// Two byte ranges of the same, non-zero length hold the same bytes.
        @inline(__always)
        package static func same(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let a = x.baseAddress, let b = y.baseAddress else { return x.count == y.count && x.isEmpty }
            return memcmp(a, b, x.count) == 0
        }
    }

    /// A strict JSON cursor over one line.
    package struct Cursor {
        package let p: UnsafeBufferPointer<UInt8>
        package var i = 0

        package var peek: UInt8 { i < p.count ? p[i] : 0 }

        mutating func ws() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0A || p[i] == 0x0D { i += 1 }
        }

        package mutating func expect(_ c: UInt8) throws(Ineligible) {
            guard i < p.count, p[i] == c else { throw Ineligible() }
            i += 1
        }

        package mutating func null() -> Bool {
            guard p.count - i >= 4, p[i] == 0x6E, p[i + 1] == 0x75, p[i + 2] == 0x6C, p[i + 3] == 0x6C else {
                return false
            }
            i += 4
            return true
        }

        package mutating func literal(_ s: StaticString) throws(Ineligible) {
            let n = s.utf8CodeUnitCount
            guard p.count - i >= n, let base = p.baseAddress, memcmp(base + i, s.utf8Start, n) == 0 else {
                throw Ineligible()
            }
            i += n
        }

        package mutating func bool() throws(Ineligible) {
            if peek == 0x74 { try literal("true") } else { try literal("false") }
        }

        /// A key without escapes.
        package mutating func key() throws(Ineligible) -> Range<Int> {
            try plainString()
        }

        /// A string without escapes (its UTF-8 validated); the range of its contents.
        mutating func plainString() throws(Ineligible) -> Range<Int> {
            try expect(0x22)
            let start = i
            while i < p.count {
                let c = p[i]
                if c == 0x22 {
                    i += 1
                    return start..<(i - 1)
                }
                if c == 0x5C || c < 0x20 { throw Ineligible() }
                if c >= 0x80 { try utf8() } else { i += 1 }
            }
            throw Ineligible()
        }

        /// Any valid string (escapes checked, UTF-8 validated).
        mutating func skipString() throws(Ineligible) {
            try expect(0x22)
            while i < p.count {
                let c = p[i]
                if c == 0x22 {
                    i += 1
                    return
                }
                if c < 0x20 { throw Ineligible() }
                if c == 0x5C {
                    guard i + 1 < p.count else { throw Ineligible() }
                    switch p[i + 1] {
                    case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 2
                    case 0x75:
                        // \uXXXX outside the surrogate range (a surrogate pair goes to the general reader)
                        guard i + 5 < p.count else { throw Ineligible() }
                        var v = 0
                        for x in (i + 2)...(i + 5) {
                            let h = p[x]
                            let d: Int
                            switch h {
                            case 0x30...0x39: d = Int(h - 0x30)
                            case 0x41...0x46: d = Int(h - 0x41 + 10)
                            case 0x61...0x66: d = Int(h - 0x61 + 10)
                            default: throw Ineligible()
                            }
                            v = v << 4 | d
                        }
                        if v >= 0xD800 && v <= 0xDFFF { throw Ineligible() }
                        i += 6
                    default: throw Ineligible()
                    }
                    continue
                }
                if c >= 0x80 { try utf8() } else { i += 1 }
            }
            throw Ineligible()
        }

        /// One well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
        package mutating func utf8() throws(Ineligible) {
            let c = p[i]
            var n = 0
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: n = 1
            case 0xE0:
                n = 2
                lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: n = 2
            case 0xED:
                n = 2
                hi = 0x9F
            case 0xF0:
                n = 3
                lo = 0x90
            case 0xF1...0xF3: n = 3
            case 0xF4:
                n = 3
                hi = 0x8F
            default: throw Ineligible()
            }
            guard i + n < p.count else { throw Ineligible() }
            guard p[i + 1] >= lo, p[i + 1] <= hi else { throw Ineligible() }
            if n >= 2 { guard p[i + 2] & 0xC0 == 0x80 else { throw Ineligible() } }
            if n == 3 { guard p[i + 3] & 0xC0 == 0x80 else { throw Ineligible() } }
            i += n + 1
        }

        /// A JSON integer of at most 15 digits (what `Int` decodes without rounding).
        package mutating func integer() throws(Ineligible) {
            if peek == 0x2D { i += 1 }
            let start = i
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
            let digits = i - start
            guard digits >= 1, digits <= 15, digits == 1 || p[start] != 0x30 else { throw Ineligible() }
            if i < p.count, p[i] == 0x2E || p[i] == 0x65 || p[i] == 0x45 { throw Ineligible() }
        }

        /// A JSON number, valued exactly as `JSONDecoder` values it: both give the correctly rounded `Double` of
        /// the (validated, exponent-free) digits.
        package mutating func number() throws(Ineligible) -> Double {
            let start = i
            try skipNumber()
            guard let d = Double(Substring(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)) else {
                throw Ineligible()
            }
            return d
        }

        /// The number grammar of RFC 8259 (no exponent: a huge exponent's range check is left to the general reader).
        mutating func skipNumber() throws(Ineligible) {
            if peek == 0x2D { i += 1 }
            let start = i
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
            let digits = i - start
            guard digits >= 1, digits <= 17, digits == 1 || p[start] != 0x30 else { throw Ineligible() }
            if peek == 0x2E {
                i += 1
                let f = i
                while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
                guard i > f, i - f <= 17 else { throw Ineligible() }
            }
            if peek == 0x65 || peek == 0x45 { throw Ineligible() }
        }

        mutating func skipValue(depth: Int) throws(Ineligible) {
            guard depth < 32 else { throw Ineligible() }
            switch peek {
            case 0x22: try skipString()
            case 0x74: try literal("true")
            case 0x66: try literal("false")
            case 0x6E: try literal("null")
            case 0x2D, 0x30...0x39: try skipNumber()
            case 0x7B:
                i += 1
                ws()
                if peek == 0x7D {
                    i += 1
                    return
                }
                while true {
                    _ = try key()
                    ws()
                    try expect(0x3A)
                    ws()
                    try skipValue(depth: depth + 1)
                    ws()
                    if peek == 0x2C {
                        i += 1
                        ws()
                        continue
                    }
                    try expect(0x7D)
                    return
                }
            case 0x5B:
                i += 1
                ws()
                if peek == 0x5D {
                    i += 1
                    return
                }
                while true {
                    try skipValue(depth: depth + 1)
                    ws()
                    if peek == 0x2C {
                        i += 1
                        ws()
                        continue
                    }
                    try expect(0x5D)
                    return
                }
            default: throw Ineligible()
            }
        }
    }
}

extension VoteDigest {
    /// The digest of a pairwise votes file from its compact tables: the same judges, reconciled verdicts under both
    /// flip policies, vote statistics and counts as ``read(path:items:itemIndex:kind:options:keepJudges:)`` gives for
    /// the file. The tables only decode: each vote goes to ``VoteTally`` and, item by item, to ``PairwiseSamples``,
    /// the rules the line-by-line digest applies to `Vote` values. Sums of costs are taken in file order, as the
    /// line-by-line digest adds them.
    package static func compact(
        _ table: CompactVoteTable, items: ItemColumns, options: MetaAnalysis.Options, keepJudges: Set<String>?
    ) -> VoteDigest {
        let kind = JudgingProtocol.pairwise
        let labelKindIsPairwise = items.labelKind == .pairwise
        // The consensus preference per item (score and category labels count as none), as the Builder reads it.
        let labels: [Preference?] = items.consensus.indices.map(items.consensus.preference)
        let (names, slotOfTable) = slots(table, options: options, keepJudges: keepJudges)
        let slots = names.count
        var present = [Bool](repeating: false, count: slots)
        var tallies = [VoteTally](repeating: VoteTally(), count: slots)
        var digest = VoteDigest(judges: [], kind: kind, verdicts: [], verdictsOtherFlip: [], tallies: [])
        // Votes per item (kept judges, listed items) for the item-by-item pass.
        var start = [Int32](repeating: 0, count: items.count + 1)
        var costIndex = 0
        for v in table.votes {
            var cost: Double?
            if v.hasCost {
                cost = table.costs[costIndex]
                costIndex += 1
            }
            let s = slotOfTable[Int(v.judge)]
            guard s >= 0 else { continue }
            digest.allVotes += 1
            let status = v.status
            if status == .error { digest.allErrors += 1 }
            if let cost {
                digest.allCost += cost
                digest.anyCost = true
            }
            present[s] = true
            guard v.item >= 0 else {
                digest.unknownVotes += 1
                continue
            }
            digest.knownVotes += 1
            start[Int(v.item) + 1] += 1
            tallies[s].add(
                status: status, refusal: v.isRefusal, lengthStop: v.isLengthStop, live: v.live,
                logprobsUnavailable: v.logprobsUnavailable, cost: cost)
            tallies[s].addPairwise(
                order: v.order, status: status, verdict: v.verdict, label: labels[Int(v.item)],
                labelKindIsPairwise: labelKindIsPairwise)
        }
        for i in 0..<items.count { start[i + 1] += start[i] }
        var fillAt = start
        var perm = [Int32](repeating: 0, count: Int(start[items.count]))
        for (x, v) in table.votes.enumerated() where v.item >= 0 && slotOfTable[Int(v.judge)] >= 0 {
            perm[Int(fillAt[Int(v.item)])] = Int32(x)
            fillAt[Int(v.item)] += 1
        }
        fillAt = []
        let flip = options.flip
        let otherFlip: FlipPolicy = flip == .tie ? .abstain : .tie
        let empty = JudgeVerdict()
        var verdicts = [VerdictColumn](repeating: VerdictColumn(repeating: empty, count: items.count), count: slots)
        var verdictsOther = verdicts
        // Per slot, the current item's samples; the slots the item touched.
        var samples = [PairwiseSamples](repeating: PairwiseSamples(), count: slots)
        var touched: [Int] = []
        var isTouched = [Bool](repeating: false, count: slots)
        for i in 0..<items.count {
            let lo = Int(start[i])
            let hi = Int(start[i + 1])
            guard lo < hi else { continue }
            for x in lo..<hi {
                let v = table.votes[Int(perm[x])]
                let s = slotOfTable[Int(v.judge)]
                if !isTouched[s] {
                    isTouched[s] = true
                    touched.append(s)
                }
                samples[s].add(order: v.order, status: v.status, verdict: v.verdict)
            }
            for s in touched {
                let mine = samples[s]
                verdicts[s][i] = mine.verdict(flip: flip)
                verdictsOther[s][i] = mine.verdict(flip: otherFlip)
                tallies[s].addItem(mine, label: labels[i], labelKindIsPairwise: labelKindIsPairwise)
                samples[s] = PairwiseSamples()
                isTouched[s] = false
            }
            touched.removeAll(keepingCapacity: true)
        }
        let keep = (0..<slots).filter { present[$0] }
        digest.judges = keep.map { names[$0] }
        digest.verdicts = keep.map { verdicts[$0] }
        digest.verdictsOtherFlip = keep.map { verdictsOther[$0] }
        digest.tallies = keep.map { tallies[$0] }
        digest.inferredKind = .pairwise
        return digest
    }

    /// The report's judge slots for a compact table: `options.judgeOrder` first, then the table's judges in order of
    /// first appearance (kept judges only); per table judge, its slot (−1: not kept).
    private static func slots(_ table: CompactVoteTable, options: MetaAnalysis.Options, keepJudges: Set<String>?)
        -> (names: [String], slotOfTable: [Int])
    {
        var names = options.judgeOrder
        var slotOf = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var slotOfTable = [Int](repeating: -1, count: table.judges.count)
        var firstSeen = [Int](repeating: Int.max, count: table.judges.count)
        for (x, v) in table.votes.enumerated() where firstSeen[Int(v.judge)] == Int.max { firstSeen[Int(v.judge)] = x }
        for t in table.judges.indices.sorted(by: { firstSeen[$0] < firstSeen[$1] }) where firstSeen[t] != Int.max {
            let name = table.judges[t]
            if let keepJudges, !keepJudges.contains(name) { continue }
            if let s = slotOf[name] {
                slotOfTable[t] = s
            } else {
                slotOf[name] = names.count
                slotOfTable[t] = names.count
                names.append(name)
            }
        }
        return (names, slotOfTable)
    }
}
