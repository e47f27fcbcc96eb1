import Foundation
import JudgePanel

extension ScoreCommand {
    /// `--shard` runs are merged into one run by `merge`; refuse the combinations whose outputs a merge cannot rebuild.
    func checkShardable(_ rubricValue: Rubric) throws {
        if adaptive || cascade {
            throw JudgePanelError.usage(
                "--shard cannot be combined with --adaptive or --cascade (merge rebuilds the report from the votes, not a policy's summary)"
            )
        }
        if rubricValue.kind == .checklist, rubricValue.checklist?.generate == true, checklists == nil {
            throw JudgePanelError.usage(
                "--shard with a rubric that generates checklists: generate them once first (judgepanel checklist …) and pass "
                    + "--checklists FILE, so that every shard asks the same questions")
        }
    }
}

extension ScoreCommand {
    /// `--resume` of a run directory must keep its shard identity: a journal of shard 1/4 resumed as 2/4 (or as an
    /// unsharded run, or the other way round) is refused instead of silently dropping the other shard's votes.
    func checkShardIdentity(_ shard: Shard?) throws {
        guard resume, let config = try RunConfig.read(dir: out) else { return }
        let index = config.shard?["index"]?.intValue
        let count = config.shard?["count"]?.intValue
        let recorded = index.flatMap { i in count.map { "\(i)/\($0)" } }
        if recorded != shard?.description {
            throw JudgePanelError.usage(
                "\(out) holds " + (recorded.map { "shard \($0)" } ?? "an unsharded run") + ", not "
                    + (shard.map { "shard \($0)" } ?? "an unsharded run")
                    + ": resume it with the same --shard, or choose another --out")
        }
    }
}
