import Foundation
import JudgePanel

extension ScoreCommand {
    /// `--shard` runs are merged into one run by `merge`; refuse the combinations whose outputs a merge cannot rebuild.
    func checkShardable() throws {
        if adaptive {
            throw JudgePanelError.usage("--shard cannot be combined with --adaptive (the adaptive comparison is not mergeable)")
        }
        let rubricValue = try Rubric.load(path: rubric)
        if rubricValue.kind == .checklist, rubricValue.checklist?.generate == true, checklists == nil {
            throw JudgePanelError.usage(
                "--shard with a rubric that generates checklists: generate them once first (judgepanel checklist …) and pass "
                    + "--checklists FILE, so that every shard asks the same questions")
        }
    }
}
