import Foundation
import JudgePanel
import JudgeStats

/// What `judgepanel ui` knows of a run without holding its texts: the byte range of every item line and every vote
/// line, and per item and vote the few facts the Explore filters read. Texts are read from the files (memory-mapped)
/// when an item is opened or searched, so a run of a million votes costs a few tens of bytes a vote, not its JSON.
package final class RunIndex: @unchecked Sendable {
    /// One vote's facts: where its line is, and what the filters read.
    package struct VoteEntry: Sendable {
        package var offset: Int
        package var length: Int32
        package var judge: UInt16
        /// Index into ``RunIndex/reasons`` (0: none).
        package var reason: UInt16
        /// 0 none, 1 A, 2 B, 3 tie.
        package var verdict: UInt8
        /// 0 none, 1 AB, 2 BA.
        package var order: UInt8
        /// 0 ok, 1 abstain, 2 error.
        package var status: UInt8
    }

    /// One item's facts.
    package struct ItemEntry: Sendable {
        package var offset: Int
        package var length: Int32
        package var line: Int32
        /// The panel's verdict from verdicts.jsonl (0 none, 1 A, 2 B, 3 tie).
        package var panel: UInt8 = 0
        /// Whether the judges' reconciled verdicts differ (verdicts.jsonl `judges`).
        package var split = false
        /// Bit j: judge j flipped (verdicts.jsonl `flips`; judges past 63 are not flagged).
        package var flips: UInt64 = 0
        /// The human label (labels file majority, else the items file's label): 0 none, 1 A, 2 B, 3 tie.
        package var human: UInt8 = 0
        /// The item's line in verdicts.jsonl (offset −1: none).
        var verdictOffset = -1
        var verdictLength: Int32 = 0
        package var votes: [Int32] = []
    }

    package let dir: String
    package let itemsPath: String
    package let votesPath: String
    package let labelsPath: String
    package let items: [ItemEntry]
    package let ids: [String]
    package let idIndex: [String: Int32]
    package let judges: [String]
    package let reasons: [String]
    package let votes: [VoteEntry]
    /// `meta` scalar values per item: key → value text per item (nil where absent).
    package let meta: [String: [String?]]
    package let loader: ItemLoader
    /// The protocol recorded in config.json (`pairwise` when not recorded).
    package let protocolKind: JudgingProtocol
    private let itemsData: Data
    private let votesData: Data
    private var verdictsData = Data()

    static func code(_ p: Preference?) -> UInt8 {
        switch p {
        case .a: return 1
        case .b: return 2
        case .tie: return 3
        case nil: return 0
        }
    }

    static func preference(_ c: UInt8) -> Preference? {
        switch c {
        case 1: return .a
        case 2: return .b
        case 3: return .tie
        default: return nil
        }
    }

    /// Indexes a run directory: config.json (the items file and how it was read), votes.jsonl, verdicts.jsonl and the
    /// labels file.
    package init(dir: String, itemsPath override: String? = nil, labelsPath: String? = nil) throws {
        self.dir = dir
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw JudgePanelError.badInput("no such run directory", file: dir)
        }
        let configPath = dir + "/config.json"
        let config = try RunConfig.read(dir: dir)
        guard let itemsPath = override ?? config?.items else {
            throw JudgePanelError.usage("no items file recorded in \(configPath): pass --items")
        }
        self.itemsPath = itemsPath
        let votesPath = dir + "/votes.jsonl"
        let labelsPath = labelsPath ?? dir + "/labels.jsonl"
        self.votesPath = votesPath
        self.labelsPath = labelsPath
        let loader = ItemLoader(mapping: config?.mapping ?? ItemMapping())
        let kind = config?.rubric?.protocol.flatMap(JudgingProtocol.init(rawValue:)) ?? .pairwise
        protocolKind = kind

        // Items: one pass over the mapped file, each line parsed once for its id, label and meta.
        var items: [ItemEntry] = []
        var ids: [String] = []
        var idIndex: [String: Int32] = [:]
        var meta: [String: [String?]] = [:]
        var itemLabels: [UInt8] = []
        self.loader = loader
        let itemsData = try Self.map(itemsPath)
        self.itemsData = itemsData
        try Self.lines(itemsData) { number, offset, bytes in
            let item = try loader.parse(bytes: bytes, file: itemsPath, number: number)
            if idIndex[item.id] != nil {
                throw JudgePanelError.badInput(
                    "duplicate item id \(item.id.debugDescription)", file: itemsPath, line: number)
            }
            let i = items.count
            idIndex[item.id] = Int32(i)
            ids.append(item.id)
            items.append(ItemEntry(offset: offset, length: Int32(bytes.count), line: Int32(number)))
            var label = item.label?.preference
            if label == nil, !item.labels.isEmpty {
                label = Preference.majority(item.labels.compactMap(\.label.preference))
            }
            itemLabels.append(Self.code(label))
            for (k, v) in item.meta {
                let text: String?
                switch v {
                case .string, .number, .bool: text = v.textValue
                default: text = nil
                }
                guard let text else { continue }
                meta[k, default: [String?](repeating: nil, count: i)].append(text)
            }
            for k in meta.keys where meta[k]?.count == i { meta[k]?.append(nil) }
        }

        // Votes: their line ranges, and the facts the filters read (the compact reader when the file allows it).
        let votesData = fm.fileExists(atPath: votesPath) ? try Self.map(votesPath) : Data()
        self.votesData = votesData
        var votes: [VoteEntry] = []
        var judges: [String] = []
        var judgeIndex: [String: UInt16] = [:]
        var reasons = [""]
        var reasonIndex: [String: UInt16] = ["": 0]
        var ranges: [(Int, Int)] = []
        try Self.lines(votesData) { _, offset, bytes in ranges.append((offset, bytes.count)) }
        let compact = votesData.isEmpty ? nil : try CompactVoteTable.read(path: votesPath, itemIndex: idIndex)
        let decoder = JSONDecoder()
        func reasonID(_ r: String?) -> UInt16 {
            guard let r, !r.isEmpty else { return 0 }
            if let x = reasonIndex[r] { return x }
            let x = UInt16(min(reasons.count, Int(UInt16.max)))
            reasons.append(r)
            reasonIndex[r] = x
            return x
        }
        if let compact, compact.votes.count == ranges.count {
            judges = compact.judges
            votes.reserveCapacity(ranges.count)
            votesData.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let base = raw.bindMemory(to: UInt8.self)
                for (n, v) in compact.votes.enumerated() {
                    let (offset, length) = ranges[n]
                    // The reason's text: the compact form keeps only refusal / length.
                    let line = UnsafeBufferPointer(rebasing: base[offset..<(offset + length)])
                    let reason = Self.stringValue(of: "reason", in: line)
                    votes.append(
                        VoteEntry(
                            offset: offset, length: Int32(length), judge: v.judge, reason: reasonID(reason),
                            verdict: Self.code(v.verdict), order: v.field(.order), status: v.field(.status)))
                    if v.item >= 0 { items[Int(v.item)].votes.append(Int32(n)) }
                }
            }
        } else {
            for (n, (offset, length)) in ranges.enumerated() {
                let vote: Vote
                do { vote = try decoder.decode(Vote.self, from: votesData[offset..<(offset + length)]) } catch {
                    throw JudgePanelError.badInput(
                        "invalid vote: \(VotesFile.describe(error))", file: votesPath, line: n + 1)
                }
                let j: UInt16
                if let x = judgeIndex[vote.judge] {
                    j = x
                } else {
                    j = UInt16(judges.count)
                    judgeIndex[vote.judge] = j
                    judges.append(vote.judge)
                }
                let status: UInt8 = vote.status == .ok ? 0 : (vote.status == .abstain ? 1 : 2)
                votes.append(
                    VoteEntry(
                        offset: offset, length: Int32(length), judge: j, reason: reasonID(vote.reason?.rawValue),
                        verdict: Self.code(vote.verdict), order: vote.order == .ab ? 1 : (vote.order == .ba ? 2 : 0),
                        status: status))
                if let i = idIndex[vote.item] { items[Int(i)].votes.append(Int32(n)) }
            }
        }
        for (j, name) in judges.enumerated() { judgeIndex[name] = UInt16(j) }

        // Verdicts: the panel's verdict, splits and flips per item.
        let verdictsPath = dir + "/verdicts.jsonl"
        if fm.fileExists(atPath: verdictsPath) {
            let data = try Self.map(verdictsPath)
            verdictsData = data
            try Self.lines(data) { number, offset, bytes in
                let v: JSONValue
                do { v = try JSONValue(jsonData: Data(bytes)) } catch {
                    throw JudgePanelError.badInput("not JSON: \(error)", file: verdictsPath, line: number)
                }
                guard v["variant"] == nil || v["variant"]!.isNull else { return }
                guard let id = v["item"].map(\.textValue), let i = idIndex[id].map(Int.init) else { return }
                items[i].verdictOffset = offset
                items[i].verdictLength = Int32(bytes.count)
                items[i].panel = Self.code(v["verdict"]?.stringValue.flatMap(ItemLoader.preference))
                let js = (v["judges"]?.objectValue ?? [:]).values.compactMap { $0.isNull ? nil : $0.textValue }
                items[i].split = Set(js).count > 1
                for f in v["flips"]?.arrayValue ?? [] {
                    if let name = f.stringValue, let j = judgeIndex[name], j < 64 { items[i].flips |= 1 << UInt64(j) }
                }
            }
        }

        // Human labels: the labels file's majority per item, else the items file's own label.
        var human = itemLabels
        if fm.fileExists(atPath: labelsPath) {
            let set = try LabelsFile.read(paths: [labelsPath], pairwise: kind == .pairwise)
            for id in set.itemIDs {
                guard let i = idIndex[id].map(Int.init) else { continue }
                human[i] = Self.code(Preference.majority(set.records(for: id).compactMap(\.label.preference)))
            }
        }
        for i in items.indices { items[i].human = human[i] }

        self.items = items
        self.ids = ids
        self.idIndex = idIndex
        self.judges = judges
        self.reasons = reasons
        self.votes = votes
        self.meta = meta
    }

    /// Sets an item's human label after a label was written (the Explore view shows it at once).
    package func humanLabels(from path: String) throws -> [String: Preference?] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let set = try LabelsFile.read(paths: [path], pairwise: protocolKind == .pairwise)
        var out: [String: Preference?] = [:]
        for id in set.itemIDs { out[id] = Preference.majority(set.records(for: id).compactMap(\.label.preference)) }
        return out
    }

    /// The item at index `i`, parsed from its line.
    package func item(_ i: Int) throws -> Item {
        let e = items[i]
        return try itemsData.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            return try loader.parse(
                bytes: UnsafeBufferPointer(rebasing: b[e.offset..<(e.offset + Int(e.length))]), file: itemsPath,
                number: Int(e.line))
        }
    }

    /// The raw JSON line of vote `n`, parsed.
    package func vote(_ n: Int) throws -> JSONValue {
        let e = votes[n]
        return try JSONValue(jsonData: votesData[e.offset..<(e.offset + Int(e.length))])
    }

    /// Item `i`'s line of verdicts.jsonl, parsed (nil when it has none).
    package func verdict(_ i: Int) throws -> JSONValue? {
        let e = items[i]
        guard e.verdictOffset >= 0 else { return nil }
        return try JSONValue(jsonData: verdictsData[e.verdictOffset..<(e.verdictOffset + Int(e.verdictLength))])
    }

    /// The items whose line contains `needle` (bytes, case-sensitive), in file order: one `memmem` pass over the
    /// mapped items file, each hit mapped to its line by binary search over the line offsets.
    func itemsContaining(_ needle: [UInt8]) -> [Int] {
        guard !needle.isEmpty, !items.isEmpty else { return [] }
        return itemsData.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int] in
            guard let base = raw.baseAddress else { return [] }
            var out: [Int] = []
            var from = 0
            while from < raw.count {
                guard let at = Self.find(needle, in: raw, from: from) else { break }
                // The last item starting at or before the hit.
                var lo = 0
                var hi = items.count - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if items[mid].offset <= at { lo = mid } else { hi = mid - 1 }
                }
                let e = items[lo]
                let end = e.offset + Int(e.length)
                if at >= e.offset && at + needle.count <= end {
                    out.append(lo)
                    from = end
                } else {
                    from = at + 1
                }
            }
            return out
        }
    }

    /// The offset of the first occurrence of `needle` in `haystack` at or after `from` (`memchr` for its first byte,
    /// `memcmp` for the rest; glibc's `memmem` is not exported to Swift).
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let base = haystack.baseAddress, !needle.isEmpty else { return nil }
        var k = from
        let n = needle.count
        return needle.withUnsafeBytes { nb -> Int? in
            while k + n <= haystack.count {
                guard let p = memchr(base + k, Int32(needle[0]), haystack.count - k - n + 1) else { return nil }
                let at = base.distance(to: UnsafeRawPointer(p))
                // `needle` is not empty (its first byte was read above), so its bytes have an address.
                if let nbase = nb.baseAddress, memcmp(base + at, nbase, n) == 0 { return at }
                k = at + 1
            }
            return nil
        }
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c + 32 : c }

    /// A file's bytes, memory-mapped.
    static func map(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw JudgePanelError.badInput("cannot read: \(error.localizedDescription)", file: path)
        }
    }

    /// Calls `body` with each non-blank line's 1-based number, byte offset and bytes (without the newline).
    static func lines(_ data: Data, _ body: (Int, Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var start = 0
            var number = 0
            while start < b.count {
                number += 1
                var end = start
                if let base = b.baseAddress, let p = memchr(base + start, 0x0A, b.count - start) {
                    end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
                } else {
                    end = b.count
                }
                var e = end
                if e > start && b[e - 1] == 0x0D { e -= 1 }
                let line = UnsafeBufferPointer(rebasing: b[start..<e])
                if !ItemLoader.isBlank(line) { try body(number, start, line) }
                start = end + 1
            }
        }
    }

    /// The plain (unescaped) string value of a top-level `"key":"…"` in a compact JSON line, or nil.
    static func stringValue(of key: String, in line: UnsafeBufferPointer<UInt8>) -> String? {
        let pattern = Array("\"\(key)\":".utf8)
        let n = pattern.count
        guard line.count > n else { return nil }
        var k = 0
        while k <= line.count - n {
            if line[k] == pattern[0] {
                var m = 1
                while m < n && line[k + m] == pattern[m] { m += 1 }
                if m == n {
                    var s = k + n
                    while s < line.count && (line[s] == 0x20 || line[s] == 0x09) { s += 1 }
                    guard s < line.count, line[s] == 0x22 else { return nil }  // not a string (null, a number)
                    s += 1
                    var e = s
                    while e < line.count && line[e] != 0x22 && line[e] != 0x5C { e += 1 }
                    return String(decoding: UnsafeBufferPointer(rebasing: line[s..<e]), as: UTF8.self)
                }
            }
            k += 1
        }
        return nil
    }
}
