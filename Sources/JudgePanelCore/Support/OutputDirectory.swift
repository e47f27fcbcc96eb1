import Foundation

/// The kinds of directory judgepanel writes with `--out`, and how each proves it is one.
///
/// - `score` (also `meta` with a panel): `config.json` is a JSON object with a `fingerprint` and a `rubric`, and there
///   is no `merge.json` or `import.json` beside it; a directory holding only what a starting run leaves before its
///   config.json (`.lock`, `checklists.jsonl`) counts as one too.
/// - `merge`: `merge.json` (an object with `shards`) beside a `config.json`.
/// - `import`: `import.json`, the import's manifest (`{"kind": "import", "format": …}`), written with items.jsonl.
package enum OutputKind: String, Sendable {
    case score = "score run"
    case merge = "merged run"
    case importSet = "import"
}

/// What `--out` may be: a path that does not exist yet, an empty directory (or one holding only a `.lock`), or a
/// judgepanel directory of the same kind (and, where the kind can tell, the same run). Anything else is refused
/// before anything is written (``JudgePanelError`` usage, exit 2), naming what is there.
package enum OutputDirectory {
    /// What the check found.
    package enum Found: Sendable, Equatable {
        /// Nothing there yet.
        case absent
        /// An empty directory (or one with only judgepanel's lock file).
        case empty
        /// A directory of the asked kind.
        case same
    }

    /// The lock file a run leaves (``RunLock``): it proves nothing about the directory.
    static let lockName = ".lock"

    /// Checks `path` as an output directory of `kind`; `sameRun`, called only for a directory of that kind, says
    /// whether it holds the same run (return a reason to refuse, or nil).
    @discardableResult
    package static func check(_ path: String, kind: OutputKind, sameRun: ((URL) throws -> String?)? = nil) throws
        -> Found
    {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { return .absent }
        guard isDir.boolValue else {
            throw JudgePanelError.usage("--out \(path) is a file, not a directory: choose a new or empty directory")
        }
        let entries: [String]
        do {
            entries = try fm.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw JudgePanelError.io("cannot list --out: \(error.localizedDescription)", file: path)
        }
        let meaningful = entries.filter { $0 != lockName }
        if meaningful.isEmpty { return .empty }
        let url = URL(fileURLWithPath: path)
        let found = kindOf(url, entries: Set(meaningful))
        guard found == kind else {
            let what = found.map { "a judgepanel \($0.rawValue) directory" } ?? "not a judgepanel directory"
            throw JudgePanelError.usage(
                "--out \(path) is \(what) (it holds \(listing(meaningful))): nothing was written; "
                    + "--out must be new, empty, or a \(kind.rawValue) directory of the same run")
        }
        if let sameRun, let why = try sameRun(url) {
            throw JudgePanelError.usage(
                "--out \(path) holds another \(kind.rawValue) (\(why)): nothing was written; choose another --out")
        }
        return .same
    }

    /// The kind of the judgepanel directory at `url` (nil: not one).
    static func kindOf(_ url: URL, entries: Set<String>) -> OutputKind? {
        func json(_ name: String) -> JSONValue? {
            guard entries.contains(name),
                let data = FileManager.default.contents(atPath: url.appendingPathComponent(name).path)
            else { return nil }
            return try? JSONValue(jsonData: data)  // unreadable: not proof of anything, so not this kind
        }
        if let manifest = json("import.json"), manifest["kind"]?.stringValue == "import" { return .importSet }
        if entries.contains("import.json") { return nil }
        let config = json("config.json")
        let isRunConfig = config?["fingerprint"]?.objectValue != nil && config?["rubric"]?.objectValue != nil
        if let merge = json("merge.json"), merge["shards"]?.arrayValue != nil, isRunConfig { return .merge }
        if entries.contains("merge.json") { return nil }
        if isRunConfig { return .score }
        // A run that was stopped before its config.json: only what it writes first.
        if entries.isSubset(of: ["checklists.jsonl"]) { return .score }
        return nil
    }

    /// The first few entries, for a message.
    static func listing(_ entries: [String]) -> String {
        let shown = entries.prefix(5).map { TerminalText.sanitize($0) }
        return shown.joined(separator: ", ") + (entries.count > 5 ? " and \(entries.count - 5) more" : "")
    }
}
